"""File helpers shared by ``lib``: checksums, atomic writes, and weights loading that never
unpickles arbitrary objects."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(
    path: str | os.PathLike, write: Callable[[object], None], *, mode: str = "wb"
) -> Path:
    """Write a file through ``write(handle)`` into a temporary file beside ``path``, then rename
    it over ``path``: readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; these are ordinary course files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a PyTorch state dict with ``torch.load(weights_only=True)``.

    A file holding pickled objects other than tensors and plain containers is refused with a
    ``ValueError`` (its code never runs); so is a corrupt file or one that holds no state dict.
    A ``{"state_dict": ...}`` wrapper is unwrapped.
    """
    path = Path(path)
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path}: refused to load — it contains pickled objects other than tensors, and "
            f"loading it could run arbitrary code (torch.load(weights_only=True) said: "
            f"{str(exc).splitlines()[0]})"
        ) from exc
    except Exception as exc:  # a truncated zip, a random file, ...: all mean "not weights"
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise ValueError(
            f"{path}: cannot be read as a PyTorch weights file ({type(exc).__name__}: "
            f"{first_line}); it is corrupt or not a state dict"
        ) from exc
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
    ):
        raise ValueError(
            f"{path}: expected a state dict (a mapping of names to tensors), got "
            f"{type(loaded).__name__}"
        )
    return dict(loaded)


# torch.hub's convention: "name-<hex>.ext", the hex being a prefix of the file's sha256.
HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


def hub_checkpoints_dir() -> Path:
    """``torch.hub.get_dir()/checkpoints``: where torch.hub (and the peer tools) cache weights.

    That is ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` by default).
    """
    return Path(torch.hub.get_dir()) / "checkpoints"


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
