"""The committed trained vid2vid generators (``data/vid2vid``, float16, sha256 checked)."""

from __future__ import annotations

import os
from pathlib import Path

from lib._checks import check_choice
from lib.models.vid2vid.networks import Vid2VidGenerator
from lib.paths import DATA_DIR
from lib.weights import load_committed

VARIANTS = ("full", "no_warp", "no_video_d")
VID2VID_DIR = DATA_DIR / "vid2vid"
RETRAIN = "python -m lib.train vid2vid --variant {variant} --out data/vid2vid"


def load_vid2vid(
    variant: str = "full", *, folder: str | os.PathLike | None = None
) -> Vid2VidGenerator:
    """A committed trained generator (eval mode, CPU, float32): ``"full"``, ``"no_warp"`` (no
    flow warping) or ``"no_video_d"`` (trained without the video discriminator).

    The sha256 is checked against ``manifest.json`` and the file read with
    safetensors (no pickle); errors say how to regenerate it. ``generator.info`` holds the
    manifest entry (training command, steps, losses, timings).
    """
    check_choice(variant, "variant", VARIANTS)
    folder = VID2VID_DIR if folder is None else Path(folder)
    how = f"retrain with `{RETRAIN.format(variant=variant)}`"
    entry, state = load_committed(folder, variant, how_to_fix=how)
    net = Vid2VidGenerator.from_config(entry["generator"])
    net.load_state_dict(state)
    net.variant = variant
    net.info = dict(entry)
    return net.eval()
