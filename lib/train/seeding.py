"""Seeding and deterministic execution for training runs."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> torch.Generator:
    """Seed Python's ``random``, NumPy and torch (CPU and every CUDA device) with ``seed``.

    With ``deterministic`` (the default), ``torch.use_deterministic_algorithms(True)`` is switched
    on and cuDNN autotuning off, so a rerun with the same torch build, device and thread count
    reproduces a training run bit for bit; ``CUBLAS_WORKSPACE_CONFIG`` is set (when unset) because
    deterministic cuBLAS needs it. Returns a CPU ``torch.Generator`` seeded with ``seed``, for
    code that draws its random numbers explicitly (the course's convention).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed: expected an integer in [0, 2**63), got {seed}")
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)  # noqa: NPY002 - the legacy global state is what we seed
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool = True) -> Iterator[None]:
    """``torch.use_deterministic_algorithms(enabled)`` inside the block, the previous setting
    restored after it (so a library call does not change the caller's global state)."""
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    previous_benchmark = torch.backends.cudnn.benchmark
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(enabled)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)
        torch.backends.cudnn.benchmark = previous_benchmark
