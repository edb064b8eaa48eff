"""``python -m lib metrics``: folders and tensor files in, metrics out, REAL features cached."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import lib.datasets as datasets
import lib.features as features
from lib import cli, metrics


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    real = datasets.shapes(120, seed=1)
    fake = datasets.shapes(100, seed=2, class_balance=[1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    real_dir = root / "real"
    real_dir.mkdir()
    real_u8 = (real.images * 255).round().byte()
    for i, image in enumerate(real_u8):
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(real_dir / f"{i:04d}.png")
    fake_u8 = (fake.images * 255).round().byte()
    np.save(root / "fake.npy", fake_u8.permute(0, 2, 3, 1).numpy())  # channels-last uint8
    torch.save(fake_u8.float() / 255, root / "fake.pt")
    return root, real_u8.float() / 255, fake_u8.float() / 255


def run(args):
    return cli.main(["metrics", *map(str, args), "--quiet", "--device", "cpu"])


def test_metrics_from_a_folder_and_a_npy_file_match_the_library(sets, tmp_path):
    root, real, fake = sets
    out = tmp_path / "result.json"
    cache = tmp_path / "cache"
    names = "fid,kid,is,mis,pr,dc,swd"
    args = [root / "real", root / "fake.npy", "--features", "shapes-cnn", "--metrics", names]
    assert run([*args, "--json", out, "--cache-dir", cache]) == 0
    report = json.loads(out.read_text())
    assert report["n_real"] == 120 and report["n_fake"] == 100
    assert set(report["metrics"]) == set(names.split(","))

    # rel=1e-6, not exact: float32 features computed with other batch sizes.
    net = features.get("shapes-cnn", device="cpu")
    real_f, fake_f = net.features(real).double(), net.features(fake).double()
    assert report["metrics"]["fid"] == pytest.approx(metrics.fid(real_f, fake_f), rel=1e-6)
    kid_mean, _ = metrics.kid(real_f, fake_f, subset_size=100)
    assert report["metrics"]["kid"]["mean"] == pytest.approx(kid_mean, rel=1e-6)
    is_mean, _ = metrics.inception_score(net.logits(fake).double(), inputs="logits")
    assert report["metrics"]["is"]["mean"] == pytest.approx(is_mean, rel=1e-6)
    # Three of ten classes kept: the fakes are good shapes but cover little of the real set.
    assert report["metrics"]["pr"]["precision"] > report["metrics"]["pr"]["recall"]

    cached = list(cache.glob("features-*.npz"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    # The .pt file holds the same fake images: same numbers, REAL features read from the cache.
    out2 = tmp_path / "again.json"
    args2 = [root / "real", root / "fake.pt", "--features", "shapes-cnn", "--metrics", "fid"]
    assert run([*args2, "--json", out2, "--cache-dir", cache]) == 0
    assert cached[0].stat().st_mtime_ns == stamp
    again = json.loads(out2.read_text())["metrics"]["fid"]
    assert again == pytest.approx(report["metrics"]["fid"], rel=1e-6)


def test_cache_key_follows_the_content(sets, tmp_path):
    root, _, _ = sets
    cache = tmp_path / "cache"
    args = ["--features", "random-cnn", "--metrics", "fid", "--cache-dir", cache]
    assert run([root / "real", root / "fake.npy", *args]) == 0
    assert run([root / "real", root / "fake.npy", "--size", "24", *args]) == 0
    assert len(list(cache.glob("features-*.npz"))) == 2  # other settings, another entry


def test_bad_inputs_give_clear_errors(sets, tmp_path, capsys):
    root, _, _ = sets
    assert run([tmp_path / "missing", root / "fake.npy", "--features", "shapes-cnn"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert run([root / "real", pickled, "--features", "shapes-cnn"]) == 2
    assert "without unpickling" in capsys.readouterr().err
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((4, 5, 8, 8), dtype=np.uint8))
    assert run([root / "real", wrong, "--features", "shapes-cnn"]) == 2
    assert "1 or 3 channels" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="unknown"):
        run([root / "real", root / "fake.npy", "--metrics", "fid,nope"])
    assert run([root / "real", root / "fake.npy", "--features", "no-such-net"]) == 2
    assert "unknown" in capsys.readouterr().err


def test_module_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "lib", "metrics", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "precision" in result.stdout and "--features" in result.stdout
