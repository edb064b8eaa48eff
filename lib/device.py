"""Device selection shared by every part of ``lib``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return the torch device a computation should run on.

    ``"auto"`` (or ``None``) picks CUDA when it is available and the CPU otherwise; any other
    value is passed to :class:`torch.device`, and a CUDA device that is not there is refused with
    a clear message instead of failing later inside torch.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device: cannot understand {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device: {device!r} was asked for but CUDA is not available here; "
            "use device='cpu' or device='auto'"
        )
    return resolved


@contextlib.contextmanager
def cpu_threads(threads: int) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` inside the block, the caller's setting restored after
    it (so library code and tests never leave the thread count changed).

    Small CPU workloads (the course's toy networks, rendering small crops) run as fast or faster
    on one thread, and on a busy machine the synchronisation of torch's thread pool can cost far
    more than a second core saves; a training run is also reproducible only for a fixed count.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads: expected an integer ≥ 1, got {threads!r}")
    previous = torch.get_num_threads()
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
