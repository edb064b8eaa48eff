"""Weights that users bring themselves: pretrained checkpoints in the torch hub cache folder.

The FID Inception port, torchvision's VGG19 and pytorch-i3d's I3D are too large to commit, and
the course never downloads anything. Their files are looked for in
``torch.hub.get_dir()/checkpoints`` (where torch.hub, torchvision, torch-fidelity and pytorch-fid
cache them) or at a path the user gives, by :func:`find_local_weights`, which says where to put
the file when it is missing. torch hub names a file ``name-<hex>.ext``, the hex being a prefix
of its sha256 (:func:`check_name_hash` checks it). These files are PyTorch pickles, read with
``torch.load(weights_only=True)`` (:func:`lib._io.load_state_dict`): tensors and plain
containers only, never arbitrary objects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from lib._io import load_state_dict, sha256_file

__all__ = [
    "HASH_IN_NAME",
    "check_name_hash",
    "find_local_weights",
    "hub_checkpoints_dir",
    "load_state_dict",
    "state_dict_problems",
]

# torch.hub's convention: "name-<hex>.ext", the hex being a prefix of the file's sha256.
HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


def hub_checkpoints_dir() -> Path:
    """``torch.hub.get_dir()/checkpoints``: where torch.hub (and the peer tools) cache weights.

    That is ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` by default).
    """
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_local_weights(
    what: str,
    names: Sequence[str],
    how_to_get: str,
    path: str | os.PathLike | None = None,
    *,
    hashed_stem: str | None = None,
    folder: str | os.PathLike | None = None,
) -> Path:
    """The weights file of the network ``what`` (e.g. ``"VGG19"``), found on this machine only.

    ``path`` if given (it must exist). Otherwise the first of ``names`` present in ``folder``
    (default :func:`hub_checkpoints_dir`); with ``hashed_stem``, then any other
    ``<hashed_stem>-<sha256 prefix>.pth`` there (same network, torch hub naming; the first in
    sorted order). A missing file raises ``FileNotFoundError`` naming the file(s), the folder,
    and ``how_to_get`` (where to put it, where to fetch it by hand: nothing is downloaded).
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise FileNotFoundError(f"path: no {what} weights file at {candidate}.\n{how_to_get}")
        return candidate
    folder = hub_checkpoints_dir() if folder is None else Path(folder)
    for name in names:
        if (folder / name).is_file():
            return folder / name
    if hashed_stem is not None:
        others = sorted(
            p
            for p in folder.glob(f"{hashed_stem}-*.pth")
            if p.is_file() and HASH_IN_NAME.fullmatch(p.name[len(hashed_stem) :])
        )
        if others:
            return others[0]
    raise FileNotFoundError(
        f"The {what} weights are not on this machine (looked for {' and '.join(names)} in "
        f"{folder}).\n{how_to_get}"
    )


def check_name_hash(path: str | os.PathLike) -> str:
    """The file's sha256, after checking it against the hash prefix its name carries, if any.

    A file named by torch.hub's convention (``vgg19-dcbb9e9d.pth``) must have a sha256 starting
    with that hex; otherwise it is corrupt, a partial download or a different file, and a
    ``ValueError`` says so. A name without such a suffix is not checked.
    """
    path = Path(path)
    digest = sha256_file(path)
    match = HASH_IN_NAME.search(path.name)
    if match and not digest.startswith(match.group(1)):
        raise ValueError(
            f"{path}: checksum mismatch — its sha256 is {digest[:16]}…, but the file name says it "
            f"starts with {match.group(1)}. The file is corrupt, a partial download or a different "
            "file; delete it and put a fresh copy there."
        )
    return digest


def state_dict_problems(
    state_dict: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Size],
    required: list[str] | None = None,
) -> list[str]:
    """What keeps ``state_dict`` from loading into a network with parameter shapes ``expected``:
    missing keys (of ``required``, default all), unexpected keys and wrong shapes, as short
    phrases for an error message (empty when it fits)."""
    required = list(expected) if required is None else required
    missing = [k for k in required if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    wrong = [
        f"{k}: {tuple(v.shape)} instead of {tuple(expected[k])}"
        for k, v in state_dict.items()
        if k in expected and v.shape != expected[k]
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s), e.g. {', '.join(missing[:4])}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s), e.g. {', '.join(unexpected[:4])}")
    if wrong:
        problems.append(f"{len(wrong)} wrong shape(s), e.g. {'; '.join(wrong[:3])}")
    return problems
