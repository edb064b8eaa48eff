"""Every resumable trainer, killed mid-run and resumed, ends with the weights of an uninterrupted
run, bit for bit.

For each recipe, on tiny settings: run A goes straight to the end; run B (started beside A) is
killed with SIGKILL as soon as its first checkpoint is on disk, then run C resumes it with
``--resume``. The sha256 of every weight file listed in C's manifest must equal A's. All runs
use one thread (``--threads 1``, ``OMP_NUM_THREADS=1``): a float sum is only reproducible for a
fixed thread count.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300


def _vid2vid(folder: Path) -> tuple[list[str], Path, int]:
    args = ["vid2vid", "--size", "32", "--levels", "1", "--steps", "12", "--warmup", "4"]
    args += ["--batch", "1"]
    args += ["--clips", "4", "--clip-frames", "6", "--width", "8", "--d-width", "8"]
    args += ["--perceptual", "none", "--device", "cpu", "--threads", "1", "--no-progress"]
    args += ["--checkpoint-every", "2", "--out", str(folder / "out")]
    args += ["--state-dir", str(folder / "state")]
    return args, folder / "state" / "full-seed0-exact-single.state.pt", 16


def _dance(folder: Path) -> tuple[list[str], Path, int]:
    args = ["dance", "--steps", "8", "--face-steps", "4", "--size", "32", "--frames", "12"]
    args += ["--width", "8", "--blocks", "1", "--batch", "2", "--threads", "1"]
    args += ["--checkpoint-every", "2", "--out", str(folder / "out")]
    args += ["--state", str(folder / "run.state")]
    return args, folder / "run.state", 12


def _cartoongan(folder: Path) -> tuple[list[str], Path, int]:
    args = ["cartoongan", "--size", "32", "--batch", "2", "--init-steps", "3", "--steps", "9"]
    args += ["--images", "8", "--quiet", "--threads", "1", "--checkpoint-every", "2"]
    args += ["--out", str(folder / "out")]
    return args, folder / "out" / "full-seed0-state.pt", 12


def _dcgan(folder: Path) -> tuple[list[str], Path, int]:
    # Generators saved at steps 0, 4 and 8: a resumed run keeps the records written before.
    args = ["dcgan", "--dataset", "digits", "--steps", "8", "--batch-size", "8"]
    args += ["--checkpoints", "3", "--eval-images", "64", "--threads", "1", "--no-progress"]
    args += ["--checkpoint-every", "2", "--out", str(folder / "out")]
    return args, folder / "out" / "digits-state.pt", 8


def _clip_network(folder: Path) -> tuple[list[str], Path, int]:
    args = ["clip_network", "--steps", "6", "--batch", "2", "--pool", "2", "--threads", "1"]
    args += ["--checkpoint-every", "2", "--out", str(folder / "out")]
    return args, folder / "out" / "street-c3d-state.pt", 6


def _street_segmenter(folder: Path) -> tuple[list[str], Path, int]:
    args = ["street_segmenter", "--steps", "6", "--batch", "2", "--clips", "4"]
    args += ["--clip-frames", "2", "--eval-clips", "4", "--threads", "1"]
    args += ["--checkpoint-every", "2", "--out", str(folder / "out")]
    return args, folder / "out" / "street-segmenter-state.pt", 6


def _scene_layout(folder: Path) -> tuple[list[str], Path, int]:
    args = ["scene_layout", "--steps", "6", "--batch", "2", "--scenes", "4", "--held-out", "4"]
    args += ["--threads", "1", "--checkpoint-every", "2", "--out", str(folder / "out")]
    return args, folder / "out" / "scene-layout-state.pt", 6


def _classifiers(folder: Path) -> tuple[list[str], Path, int]:
    # 4 steps an epoch: a state every 3 steps is written mid-epoch.
    args = ["classifiers", "--only", "shapes-cnn", "--epochs", "2", "--train-images", "128"]
    args += ["--batch-size", "32", "--threads", "1", "--checkpoint-every", "3"]
    args += ["--out", str(folder / "out")]
    return args, folder / "out" / "shapes-cnn-state.pt", 8


RECIPES = {
    "vid2vid": _vid2vid,
    "dance": _dance,
    "cartoongan": _cartoongan,
    "dcgan": _dcgan,
    "clip_network": _clip_network,
    "street_segmenter": _street_segmenter,
    "scene_layout": _scene_layout,
    "classifiers": _classifiers,
}


def _start(args: list[str], folder: Path) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    log = open(folder / "log.txt", "w")  # a file, not a pipe: a full pipe would stall the run
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "lib.train", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def _finish(proc: subprocess.Popen, folder: Path) -> None:
    rc = proc.wait(timeout=TIMEOUT_S)
    assert rc == 0, (folder / "log.txt").read_text()[-3000:]


def _weights(out: Path) -> dict[str, str]:
    """Each weight file's sha256, as listed in the manifest, wherever the entry nests it (a
    DCGAN run lists one file per checkpoint): where in the manifest → digest."""
    found: dict[str, str] = {}

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "sha256" in node:
                found[where] = node["sha256"]
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(json.loads((out / "manifest.json").read_text()), "")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_killed_and_resumed_run_matches_an_uninterrupted_one(tmp_path, name):
    straight_args, _, _ = RECIPES[name](tmp_path / "straight")
    killed_args, state, total = RECIPES[name](tmp_path / "killed")
    straight = _start(straight_args, tmp_path / "straight")
    killed = _start(killed_args, tmp_path / "killed")
    deadline = time.monotonic() + TIMEOUT_S
    while not state.is_file():
        assert killed.poll() is None, (tmp_path / "killed" / "log.txt").read_text()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.01)
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    step = torch.load(state, weights_only=True)["step"]
    assert 0 < step < total  # the kill came mid-run, after a checkpoint
    resumed = _start([*killed_args, "--resume"], tmp_path / "killed")
    _finish(straight, tmp_path / "straight")
    _finish(resumed, tmp_path / "killed")
    expected = _weights(tmp_path / "straight" / "out")
    assert expected and _weights(tmp_path / "killed" / "out") == expected
