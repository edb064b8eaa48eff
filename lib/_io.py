"""File helpers shared by ``lib``: checksums, atomic writes, and reading a PyTorch state dict
without unpickling arbitrary objects. Weight files and their manifests are :mod:`lib.weights`."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import torch


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO[Any]], object], *, mode: str = "wb"
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
