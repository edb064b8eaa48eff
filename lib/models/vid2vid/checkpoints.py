"""The committed trained vid2vid generators (``data/vid2vid``, float16, sha256 checked)."""

from __future__ import annotations

import os
from pathlib import Path

from lib._checks import check_choice, check_seed
from lib.models.vid2vid.networks import Vid2VidGenerator
from lib.paths import DATA_DIR
from lib.weights import load_committed, manifest_seeds, seed_key

VARIANTS = ("full", "copy", "no_warp", "no_video_d")
VID2VID_DIR = DATA_DIR / "vid2vid"
RETRAIN = "python -m lib.train vid2vid --variant {variant} --seed {seed} --out data/vid2vid"


def manifest_key(variant: str, seed: int) -> str:
    """The manifest entry of one committed generator: ``"<variant>-seed<seed>"``."""
    return seed_key(variant, seed)


def committed_seeds(variant: str, *, folder: str | os.PathLike | None = None) -> list[int]:
    """The seeds with a committed generator of ``variant`` (sorted)."""
    check_choice(variant, "variant", VARIANTS)
    folder = VID2VID_DIR if folder is None else Path(folder)
    seeds = manifest_seeds(folder, variant)
    if not seeds:
        raise FileNotFoundError(
            f"no committed vid2vid generator '{variant}' in {folder}; train one with "
            f"`{RETRAIN.format(variant=variant, seed=0)}`"
        )
    return seeds


def load_vid2vid(
    variant: str = "full", *, seed: int = 0, folder: str | os.PathLike | None = None
) -> Vid2VidGenerator:
    """A committed trained generator (eval mode, CPU, float32): ``"full"``, ``"copy"`` (the
    zero-flow copy control), ``"no_warp"`` (no flow warping) or ``"no_video_d"`` (trained
    without the video discriminator), trained with ``seed`` (:func:`committed_seeds`).

    The sha256 is checked against ``manifest.json`` and the file read with
    safetensors (no pickle); errors say how to regenerate it. ``generator.info`` holds the
    manifest entry (training command, steps, losses, timings).
    """
    check_choice(variant, "variant", VARIANTS)
    folder = VID2VID_DIR if folder is None else Path(folder)
    check_seed(seed)
    how = f"retrain with `{RETRAIN.format(variant=variant, seed=seed)}`"
    entry, state = load_committed(folder, manifest_key(variant, seed), how_to_fix=how)
    net = Vid2VidGenerator.from_config(entry["generator"])
    net.load_state_dict(state)
    net.variant = variant
    net.seed = seed
    net.info = dict(entry)
    return net.eval()
