"""The course segmentation network: shapes and input checks, the committed street-segmenter
(checksum, float16, the quality its manifest records, on fresh held-out frames, clean and
blurred) and clear errors for a replaced or missing file."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from lib.datasets.street import STREET_CLASSES
from lib.features import StreetSegmenter, load_street_segmenter
from lib.features.segmentation import SEGMENTATION_DIR, STREET_SEGMENTER
from lib.train.recipes.street_segmenter import EVAL_BLUR, HELD_OUT_SEED, held_out_scores


def _entry() -> dict:
    return json.loads((SEGMENTATION_DIR / "manifest.json").read_text())[STREET_SEGMENTER]


def test_logits_and_predictions_have_the_frame_shape(one_thread):
    net = StreetSegmenter().eval()
    assert 100_000 <= sum(p.numel() for p in net.parameters()) <= 300_000
    x = torch.rand(2, 3, 64, 96)
    assert net(x).shape == (2, len(STREET_CLASSES), 64, 96)
    assert net(torch.rand(1, 3, 8, 16)).shape == (1, 6, 8, 16)
    ids = net.predict(x, batch_size=1)
    assert ids.shape == (2, 64, 96) and ids.dtype == torch.int64
    assert torch.equal(ids, net(x).argmax(1))  # at the training height: no resizing
    assert torch.equal(ids, net.predict(x))  # batch size does not matter
    # Any size: resized to 64 pixels high and back.
    for size in ((50, 70), (128, 128), (32, 64)):
        out = net.predict(torch.rand(3, 3, *size))
        assert out.shape == (3, *size) and int(out.min()) >= 0 and int(out.max()) < 6


def test_predict_restores_the_training_mode_and_runs_without_gradients():
    net = StreetSegmenter().train()
    out = net.predict(torch.rand(1, 3, 16, 16))
    assert net.training and not out.requires_grad


def test_bad_inputs_and_settings_are_refused():
    net = StreetSegmenter()
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.rand(1, 3, 60, 64))
    with pytest.raises(ValueError, match="channel"):
        net.predict(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        net.predict(torch.rand(1, 3, 64, 64) * 2 - 1)
    with pytest.raises(ValueError, match="4-D"):
        net.predict(torch.rand(3, 64, 64))
    with pytest.raises(ValueError, match="widths"):
        StreetSegmenter((8, 16, 32))
    with pytest.raises(ValueError, match="size"):
        StreetSegmenter(size=60)


def test_predict_runs_where_the_network_is(device):
    net = StreetSegmenter().to(device)
    out = net.predict(torch.rand(2, 3, 64, 64))  # frames on the CPU are moved there
    assert out.device.type == torch.device(device).type


def test_the_committed_network_loads_checked_and_float16():
    entry = _entry()
    assert entry["dtype"] == "float16" and len(entry["sha256"]) == 64
    assert entry["file"] == "street-segmenter.safetensors" and entry["seed"] != HELD_OUT_SEED
    for key in ("command", "steps", "train_seconds", "cpu_seconds", "torch"):
        assert key in entry
    stored = load_file(SEGMENTATION_DIR / entry["file"])
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.float16}
    net = load_street_segmenter()
    assert not net.training and entry["sha256"][:12] in net.describe()
    assert sum(p.numel() for p in net.parameters()) == entry["parameters"]


def test_the_committed_network_reaches_its_bars_on_fresh_held_out_frames(one_thread):
    entry, net = _entry(), load_street_segmenter()
    recorded = entry["held_out"]["clean"]
    # The bars the network was trained to: on the manifest's 32 held-out clips...
    assert recorded["pixel_accuracy"] >= 0.97
    assert recorded["iou"]["car"] >= 0.85 and recorded["iou"]["person"] >= 0.6
    # ... and, a little looser for a sample of 8 clips, on frames rendered here.
    clean = held_out_scores(net, clips=8)
    assert clean["pixel_accuracy"] >= 0.96
    assert clean["iou"]["car"] >= 0.8 and clean["iou"]["person"] >= 0.5
    assert clean["mean_iou"] >= recorded["mean_iou"] - 0.05


def test_blurred_frames_still_score_well(one_thread):
    net = load_street_segmenter()
    recorded = _entry()["held_out"][f"blur_{EVAL_BLUR:g}px"]
    assert recorded["pixel_accuracy"] >= 0.95
    blurred = held_out_scores(net, clips=8, sigma=EVAL_BLUR)
    assert blurred["pixel_accuracy"] >= 0.95 and blurred["iou"]["car"] >= 0.75
    # Heavier blur than the network was trained on erases the people first.
    heavy = held_out_scores(net, clips=8, sigma=3.0)
    assert heavy["iou"]["person"] < blurred["iou"]["person"]


def test_a_replaced_weights_file_is_refused_with_the_retrain_command(tmp_path):
    folder = tmp_path / "segmentation"
    shutil.copytree(SEGMENTATION_DIR, folder)
    assert load_street_segmenter(folder=folder).num_classes == 6
    save_file({"x": torch.zeros(1)}, folder / "street-segmenter.safetensors")
    with pytest.raises(ValueError, match="checksum mismatch.*lib.train street_segmenter"):
        load_street_segmenter(folder=folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="lib.train street_segmenter"):
        load_street_segmenter(folder=folder)
