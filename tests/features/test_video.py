"""Clip networks: the committed street-c3d (checksum, float16, what it learned), its trainer (a few
steps into a temporary folder and back), the random baseline, and the I3D port's plumbing with
random weights (pytorch-i3d parameter names, local files only, clear errors)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from lib.features.i3d import I3D_WEIGHT_NAMES, InceptionI3D, find_i3d_weights
from lib.features.video import (
    C3D_CLASSES,
    VIDEO_FEATURES_DIR,
    StreetC3D,
    check_clips,
    get_clip_network,
    load_street_c3d,
    random_c3d,
)


def test_check_clips_messages():
    with pytest.raises(ValueError, match=r"clips\[None\]"):
        check_clips(torch.rand(4, 3, 8, 8))
    with pytest.raises(ValueError, match="channel"):
        check_clips(torch.rand(1, 4, 2, 8, 8))
    with pytest.raises(TypeError, match="float"):
        check_clips(torch.zeros(1, 4, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        check_clips(torch.rand(1, 4, 3, 8, 8) * 2 - 1)
    with pytest.raises(ValueError, match="NaN"):
        check_clips(torch.full((1, 4, 3, 8, 8), float("nan")))
    with pytest.raises(ValueError, match="at least 4 frames"):
        StreetC3D().features(torch.rand(1, 3, 3, 64, 64))


def test_the_committed_network_loads_checked_and_knows_the_motion():
    manifest = json.loads((VIDEO_FEATURES_DIR / "manifest.json").read_text())
    entry = manifest["street-c3d"]
    assert entry["dtype"] == "float16" and len(entry["sha256"]) == 64
    assert entry["test_accuracy"] > 3 * entry["chance"]  # step × direction, 6 classes
    stored = load_file(VIDEO_FEATURES_DIR / "street-c3d.safetensors")
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.float16}
    net = load_street_c3d()
    assert "sha256" in net.describe() and "64-d" in net.describe()
    from lib.train.recipes.clip_network import accuracy, render_pool

    pool = render_pool(12, seed=4242)
    assert accuracy(net, pool, seed=0, batches=2) > 0.4  # chance 1/6; held-out 0.54
    x = pool[:3, :8].float() / 255
    assert net.features(x).shape == (3, 64) and net.logits(x).shape == (3, len(C3D_CLASSES))
    assert torch.allclose(net.features(x), net.features(x, batch_size=1), atol=1e-5)
    grey = x.mean(2, keepdim=True)
    assert net.features(grey).shape == (3, 64)
    small = torch.nn.functional.interpolate(x.flatten(0, 1), size=(32, 32)).view(3, 8, 3, 32, 32)
    assert net.features(small).shape == (3, 64)  # resized to 64×64


def test_a_replaced_weights_file_is_refused_with_the_retrain_command(tmp_path):
    folder = tmp_path / "video_features"
    shutil.copytree(VIDEO_FEATURES_DIR, folder)
    assert load_street_c3d(folder=folder).num_features == 64
    save_file({"x": torch.zeros(1)}, folder / "street-c3d.safetensors")
    with pytest.raises(ValueError, match="checksum mismatch.*lib.train clip_network"):
        load_street_c3d(folder=folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="lib.train clip_network"):
        load_street_c3d(folder=folder)


def test_the_trainer_runs_saves_float16_and_reloads(tmp_path):
    from lib.train.recipes.clip_network import main

    assert main(["--steps", "2", "--batch", "4", "--pool", "3", "--out", str(tmp_path)]) == 0
    entry = json.loads((tmp_path / "manifest.json").read_text())["street-c3d"]
    assert entry["steps"] == 2 and entry["cpu_seconds"] >= 0
    net = load_street_c3d(folder=tmp_path)
    assert net.features(torch.rand(2, 8, 3, 64, 64)).shape == (2, 64)


def test_random_baseline_is_seeded_and_registered():
    a, b = random_c3d(seed=3, calibration_clips=4), random_c3d(seed=3, calibration_clips=4)
    x = torch.rand(2, 8, 3, 64, 64)
    assert torch.equal(a.features(x), b.features(x))
    assert "random" in a.describe()
    with pytest.raises(ValueError, match="name"):
        get_clip_network("c3d-imagenet")


def test_i3d_has_pytorch_i3d_names_and_loads_only_checked_local_files(
    tmp_path, monkeypatch, one_thread
):
    net = InceptionI3D(weights="random", frame_size=32)
    keys = net.state_dict()
    for key in (
        "Conv3d_1a_7x7.conv3d.weight",
        "Conv3d_2c_3x3.bn.running_var",
        "Mixed_3b.b1b.conv3d.weight",
        "Mixed_5c.b3b.bn.bias",
        "logits.conv3d.bias",
    ):
        assert key in keys
    assert tuple(keys["Conv3d_1a_7x7.conv3d.weight"].shape) == (64, 3, 7, 7, 7)
    assert tuple(keys["logits.conv3d.weight"].shape) == (400, 1024, 1, 1, 1)
    x = torch.rand(1, 8, 3, 32, 32)
    assert net.features(x).shape == (1, 1024) and net.logits(x).shape == (1, 400)
    # A file with these keys loads and gives the same features.
    path = tmp_path / "rgb_imagenet.pt"
    torch.save(net.state_dict(), path)
    same = InceptionI3D(path, frame_size=32)
    assert torch.allclose(same.features(x), net.features(x), atol=1e-5)
    assert "rgb_imagenet.pt" in same.describe()
    # Found by name in the hub folder; never downloaded.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="never downloads"):
        find_i3d_weights()
    hub = tmp_path / "home" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    shutil.copy(path, hub / I3D_WEIGHT_NAMES[0])
    assert find_i3d_weights() == hub / I3D_WEIGHT_NAMES[0]
    # Wrong keys, a wrong hash in the name, pickled code: refused with a reason.
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not pytorch-i3d"):
        InceptionI3D(tmp_path / "other.pt")
    shutil.copy(path, tmp_path / "i3d-00000000.pt")
    with pytest.raises(ValueError):
        InceptionI3D(tmp_path / "i3d-00000000.pt")
    with pytest.raises(FileNotFoundError, match="no I3D weights file"):
        InceptionI3D(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="random"):
        InceptionI3D(path, weights="random")
