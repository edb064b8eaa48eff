"""Checkpoints that are written atomically, listed in a checksummed manifest, and loaded
without unpickling anything.

A checkpoint folder holds weight files (a state dict in the safetensors format, ``NAME`` +
:data:`WEIGHTS_SUFFIX`) and ``manifest.json``, a JSON object the training code fills with one
entry per run (what was trained, how, and each file's sha256). :func:`write_weights` and
:func:`update_manifest` replace files atomically (temp file + rename), so a reader sees the old
version or the new one; :func:`read_weights` checks the sha256 before loading.

safetensors (``safetensors.torch.save`` / ``load``) is a header of names, dtypes and shapes
followed by the raw tensor bytes: reading it runs no code at all, unlike a pickle, so a corrupt
or replaced file can only be refused (``ValueError`` saying what to do), never executed. Files
that users bring themselves (the hub checkpoints of :mod:`lib.weights.hub`) stay PyTorch
pickles and are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from lib._io import atomic_write, sha256_file

MANIFEST = "manifest.json"
#: The file name ending of every committed weights file.
WEIGHTS_SUFFIX = ".safetensors"


def weights_file(name: str) -> str:
    """The file name of the committed weights ``name``: ``name`` + :data:`WEIGHTS_SUFFIX`."""
    return f"{name}{WEIGHTS_SUFFIX}"


def half_precision(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict with float32/float64 tensors stored as float16 (halves the file; integer
    buffers such as BatchNorm's ``num_batches_tracked`` are kept as they are).

    Values beyond float16's range (±65504) would become infinite, so they raise ``ValueError``.
    """
    out = {}
    for key, value in state_dict.items():
        if value.is_floating_point() and value.dtype != torch.float16:
            if bool((value.abs() > torch.finfo(torch.float16).max).any()):
                raise ValueError(f"state_dict[{key!r}]: values exceed the float16 range")
            value = value.to(torch.float16)
        out[key] = value.detach().cpu().contiguous()
    return out


def write_weights(path: str | os.PathLike, state_dict: Mapping[str, torch.Tensor]) -> str:
    """Save a state dict (tensors only) to ``path`` in the safetensors format, atomically;
    returns the file's sha256.

    Tensors that share memory (tied weights) are stored once each, as copies: safetensors keeps
    no aliasing, and a state dict loads by name, so the copies load the same.
    """
    tensors, seen = {}, set()
    for key, value in state_dict.items():
        value = value.detach().cpu().contiguous()
        if value.numel() and value.untyped_storage().data_ptr() in seen:
            value = value.clone()
        seen.add(value.untyped_storage().data_ptr())
        tensors[key] = value
    data = safetensors_save(tensors)
    path = atomic_write(path, lambda handle: handle.write(data))
    return sha256_file(path)


def read_weights(
    path: str | os.PathLike, *, sha256: str | None, how_to_fix: str = ""
) -> dict[str, torch.Tensor]:
    """Load a state dict after checking the file's sha256 against ``sha256``.

    The file is read with ``safetensors.torch.load``, which parses a header and copies bytes:
    nothing in it is executed. A missing file raises ``FileNotFoundError``; a checksum mismatch
    or a file that is not safetensors (corrupt, a pickle, ...) raises ``ValueError``.
    ``how_to_fix`` is appended to the messages (e.g. the command that regenerates the file).
    """
    path = Path(path)
    hint = f"; {how_to_fix}" if how_to_fix else ""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint file is missing{hint}")
    if sha256 is not None:
        digest = sha256_file(path)
        if digest != sha256:
            raise ValueError(
                f"{path}: checksum mismatch (sha256 {digest[:16]}…, the manifest says "
                f"{sha256[:16]}…); the file is corrupt or was replaced{hint}"
            )
    try:
        return safetensors_load(path.read_bytes())
    except SafetensorError as exc:
        raise ValueError(
            f"{path}: cannot be read as a safetensors weights file ({exc}); it is corrupt or in "
            f"another format (a pickle is never loaded){hint}"
        ) from exc


def read_manifest(folder: str | os.PathLike, *, how_to_fix: str = "") -> dict:
    """The folder's ``manifest.json`` as a dict (``FileNotFoundError`` when it is missing,
    ``ValueError`` when it is not a JSON object)."""
    path = Path(folder) / MANIFEST
    hint = f"; {how_to_fix}" if how_to_fix else ""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint manifest is missing{hint}")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}){hint}") from exc
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(manifest).__name__}{hint}")
    return manifest


def manifest_entry(folder: str | os.PathLike, key: str, *, how_to_fix: str = "") -> dict:
    """``manifest[key]`` of the folder's ``manifest.json``; ``FileNotFoundError`` naming the keys
    it has (and ``how_to_fix``) when there is no such entry."""
    manifest = read_manifest(folder, how_to_fix=how_to_fix)
    if key not in manifest:
        hint = f"; {how_to_fix}" if how_to_fix else ""
        raise FileNotFoundError(
            f"{Path(folder) / MANIFEST} has no entry {key!r} (it has "
            f"{sorted(manifest) or 'none'}){hint}"
        )
    return manifest[key]


def load_committed(
    folder: str | os.PathLike, key: str, *, how_to_fix: str = ""
) -> tuple[dict, dict[str, torch.Tensor]]:
    """A committed model: its manifest entry ``key`` and the weights file the entry names
    (``entry["file"]``, checked against ``entry["sha256"]``), floating tensors as float32 (the
    files store float16)."""
    entry = manifest_entry(folder, key, how_to_fix=how_to_fix)
    state = read_weights(
        Path(folder) / entry["file"], sha256=entry["sha256"], how_to_fix=how_to_fix
    )
    return entry, {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def seed_key(name: str, seed: int) -> str:
    """The manifest entry of a model trained with one seed: ``"<name>-seed<seed>"``."""
    return f"{name}-seed{seed}"


def manifest_seeds(folder: str | os.PathLike, name: str) -> list[int]:
    """The seeds S with an entry ``"<name>-seed<S>"`` (:func:`seed_key`) in the folder's
    manifest, sorted; empty when there is none or no manifest."""
    path = Path(folder) / MANIFEST
    keys = read_manifest(folder) if path.is_file() else {}
    prefix = seed_key(name, 0)[:-1]
    return sorted(
        int(k[len(prefix) :]) for k in keys if k.startswith(prefix) and k[len(prefix) :].isdigit()
    )


def update_manifest(folder: str | os.PathLike, key: str, entry: dict) -> Path:
    """Set ``manifest[key] = entry`` in the folder's ``manifest.json`` (created when missing),
    keeping the other keys, and rewrite it atomically with sorted top-level keys."""
    path = Path(folder) / MANIFEST
    manifest = read_manifest(folder) if path.is_file() else {}
    manifest[key] = entry
    text = json.dumps(dict(sorted(manifest.items())), indent=2) + "\n"
    return atomic_write(path, lambda handle: handle.write(text), mode="w")
