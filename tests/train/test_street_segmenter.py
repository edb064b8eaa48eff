"""The segmentation network's trainer: a tiny run writes a loadable float16 file and a manifest
entry; its data (disjoint groups of real clips, held-out seed), augmentation and blur; bad
arguments end with one ``error:`` line."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from lib.datasets.street import STREET_CLASSES, street
from lib.features.segmentation import load_street_segmenter
from lib.train.recipes.street_segmenter import (
    GROUPS,
    HELD_OUT_SEED,
    TRAIN_SEED,
    augment,
    blur,
    class_weights,
    main,
    render_frames,
)


def test_a_tiny_run_writes_a_loadable_file_and_its_manifest_entry(tmp_path, one_thread):
    argv = ["--steps", "2", "--batch", "2", "--clips", "4", "--clip-frames", "2"]
    argv += ["--eval-clips", "4", "--out", str(tmp_path)]
    assert main(argv) == 0
    entry = json.loads((tmp_path / "manifest.json").read_text())["street-segmenter"]
    assert entry["command"] == "python -m lib.train street_segmenter " + " ".join(argv)
    assert entry["seed"] == TRAIN_SEED and entry["steps"] == 2 and entry["dtype"] == "float16"
    assert entry["train_seconds"] >= 0 and entry["cpu_seconds"] >= 0 and entry["torch"]
    held_out = entry["held_out"]
    assert held_out["seed"] == HELD_OUT_SEED
    for scores in (held_out["clean"], held_out["blur_1px"]):
        assert set(scores["iou"]) == set(STREET_CLASSES)
        assert 0 <= scores["pixel_accuracy"] <= 1
    stored = load_file(tmp_path / "street-segmenter.safetensors")
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.float16}
    net = load_street_segmenter(folder=tmp_path)
    assert net.predict(torch.rand(1, 3, 64, 64)).shape == (1, 64, 64)
    assert not (tmp_path / "street-segmenter-state.pt").exists()  # finished: nothing to resume


@pytest.mark.parametrize(
    "argv",
    [
        ["--steps", "0"],
        ["--seed", str(HELD_OUT_SEED)],
        ["--seed", "-1"],
        ["--clips", "2"],
        ["--lr", "0"],
        ["--threads", "0"],
        ["--batch", "x"],
        ["--checkpoint-every", "-1"],
    ],
)
def test_bad_arguments_end_with_one_error_line(argv, capsys):
    from lib.train.__main__ import main as train_main

    with pytest.raises(SystemExit) as stop:
        train_main(["street_segmenter", *argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m lib.train street_segmenter: error: "), err
    assert not any("Traceback" in line for line in err)


def test_the_groups_are_disjoint_clips_of_one_seed_with_their_options():
    images, labels = render_frames(8, 2, seed=TRAIN_SEED)
    assert images.shape == (16, 3, 64, 64) and labels.shape == (16, 64, 64)
    assert images.dtype == labels.dtype == torch.uint8 and int(labels.max()) < len(STREET_CLASSES)
    # Group 1 (camera speed 2) holds clips 2 and 3 of the seed, not clips 0 and 1 again.
    speed, turning = GROUPS[1]
    expected = street(4, frames=2, seed=TRAIN_SEED, camera_speed=speed, turning=turning)[2:]
    assert torch.equal(labels[4:8], expected.labels.flatten(0, 1).to(torch.uint8))
    held_out, _ = render_frames(8, 2, seed=HELD_OUT_SEED)
    assert not torch.equal(held_out, images)


def test_augmentation_is_seeded_in_range_and_flips_labels_with_frames():
    images, labels = render_frames(4, 2, seed=TRAIN_SEED)
    x, y = augment(images, labels, torch.Generator().manual_seed(0))
    x2, y2 = augment(images, labels, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    original = images.float() / 255
    flipped = 0
    for i in range(len(x)):
        kept = (x[i] - original[i]).abs().mean() < (x[i] - original[i].flip(-1)).abs().mean()
        assert torch.equal(y[i], labels[i].long() if kept else labels[i].long().flip(-1))
        flipped += not kept
    assert 0 < flipped < len(x)


def test_blur_matches_torchvision_and_leaves_sigma_zero_alone():
    from torchvision.transforms.functional import gaussian_blur

    x = torch.rand(3, 3, 20, 24, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(blur(x, 0.0), x)
    ours = blur(x, 1.0)  # radius 3
    assert torch.allclose(ours, gaussian_blur(x, [7, 7], [1.0, 1.0]), atol=1e-6)
    sigmas = torch.tensor([0.0, 0.5, 1.2])
    each = blur(x, sigmas)
    for i, s in enumerate(sigmas.tolist()):
        k = 2 * 4 + 1  # radius ⌈3 · 1.2⌉ = 4 for the whole batch
        assert torch.allclose(each[i], gaussian_blur(x[i], [k, k], [max(s, 1e-3)] * 2), atol=1e-6)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(blur(flat, 1.2), flat)


def test_class_weights_balance_the_pixel_shares():
    labels = torch.tensor([0] * 64 + [1] * 16 + [2] * 4 + [3] * 16)
    w = class_weights(labels)
    share = torch.bincount(labels, minlength=6).float() / len(labels)
    assert float((share * w).sum()) == pytest.approx(1.0)
    assert float(w[2] / w[0]) == pytest.approx(4.0)  # 16× rarer → 4× the weight
    assert float(w[4]) == float(w[5]) == float(w[:4].max())  # absent classes
