"""Device selection shared by every part of ``lib``."""

from __future__ import annotations

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
