"""Input validation shared by the public functions of ``lib``.

Every public function checks its inputs up front and raises an error that names the argument,
says what it got and what to do, instead of returning NaN or failing deep inside torch.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import torch

#: Inputs may be torch tensors or numpy arrays.
ArrayLike = torch.Tensor | np.ndarray

#: BT.601 luma weights (R, G, B), the grey level every part of the course uses (OpenCV's and
#: PIL's RGB → grey). Not torchvision's ``rgb_to_grayscale``, whose red weight is 0.2989.
LUMA: tuple[float, float, float] = (0.299, 0.587, 0.114)

# NumPy's RandomState, which some metrics seed to match their reference libraries, takes
# seeds below 2³²; one bound for every seed keeps a seed valid for every metric.
_SEED_BOUND = 2**32

_F = TypeVar("_F", bound=Callable)
_T = TypeVar("_T")


def as_tensor(value: ArrayLike, name: str) -> torch.Tensor:
    """Accept a torch tensor or a numpy array (converted without copying where possible)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise TypeError(f"{name}: expected a torch.Tensor or numpy array, got {type(value).__name__}")


def as_real_float(value: ArrayLike, name: str) -> torch.Tensor:
    """A tensor of real numbers in a float dtype: integers become float64, half precision becomes
    float32 (too coarse to compute in), bool and complex are refused; values must be finite."""
    x = as_tensor(value, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected real numbers, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.to(torch.float64)
    elif x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    check_finite(x, name)
    return x


def check_finite(x: torch.Tensor, name: str) -> None:
    if not x.is_floating_point() or x.numel() == 0:
        return
    # One pass over the data: NaN propagates into both extremes and ±inf shows in one of them
    # (torch.isfinite(x).all() takes several passes over large feature matrices).
    lo, hi = torch.aminmax(x.detach())
    if not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"{name}: contains {bad} NaN or infinite value(s); remove or fix them first"
        )


def check_images(
    x: ArrayLike,
    name: str = "images",
    *,
    channels: Sequence[int] | None = (1, 3),
    allow_uint8: bool = False,
    min_size: int = 1,
) -> torch.Tensor:
    """Validate an N×C×H×W image batch.

    Float images must be finite and in [0, 1]; uint8 images (values 0..255) are accepted only
    where ``allow_uint8`` is set. Returns the input as a tensor (never copied or converted).
    """
    x = as_tensor(x, name)
    if x.ndim != 4:
        hint = " (add a batch dimension with x[None])" if x.ndim == 3 else ""
        raise ValueError(f"{name}: expected a 4-D N×C×H×W tensor, got shape {tuple(x.shape)}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: the batch is empty (shape {tuple(x.shape)})")
    if channels is not None and x.shape[1] not in channels:
        raise ValueError(
            f"{name}: expected {' or '.join(map(str, channels))} channel(s) in dimension 1 "
            f"(N×C×H×W), got {x.shape[1]} (shape {tuple(x.shape)}); channels-last images need "
            "x.permute(0, 3, 1, 2)"
        )
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"{name}: images must be at least {min_size}×{min_size} pixels, got "
            f"{x.shape[-2]}×{x.shape[-1]}"
        )
    if x.dtype == torch.uint8:
        if not allow_uint8:
            raise TypeError(
                f"{name}: got uint8 images but float images in [0, 1] are expected; "
                "convert with x.float() / 255"
            )
        return x
    return check_unit_range(x, name, "images")


def check_unit_range(x: torch.Tensor, name: str, what: str = "images") -> torch.Tensor:
    """``x`` when it is a float tensor whose values are finite and in [0, 1] (one min/max pass
    over the data); the errors name ``what`` (images, clips, …) and say how to rescale."""
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected float {what} in [0, 1], got dtype {x.dtype}")
    if x.numel() == 0:
        return x
    lo, hi = (float(v) for v in torch.aminmax(x.detach()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        check_finite(x, name)  # says how many values are bad
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{name}: float {what} must lie in [0, 1], got values in [{lo:.4g}, {hi:.4g}]; "
            f"{what} in [-1, 1] need (x + 1) / 2, {what} in [0, 255] need x / 255"
        )
    return x


def check_positive_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as a Python int (NumPy and 0-d integer tensors accepted, bools refused)."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {value}")
    return value


def check_seed(value: object, name: str = "seed") -> int:
    """``value`` as a Python int in [0, 2³²): NumPy and 0-d integer tensors are accepted; bools,
    floats and negative seeds are refused (the same seed must mean the same draw everywhere)."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    value = int(value)
    if not 0 <= value < _SEED_BOUND:
        raise ValueError(f"{name}: must be non-negative and below 2**32, got {value}")
    return value


def renamed_arguments(**renames: str) -> Callable[[_F], _F]:
    """Keep old keyword names of a function working for one release: ``@renamed_arguments(
    x="real")`` passes ``x=...`` on as ``real=...`` with a ``DeprecationWarning``. Positional
    calls are unaffected; giving both names is a ``TypeError``."""

    def decorate(fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{fn.__name__}: got both {old}= and {new}=; {old} is the old name "
                            f"of {new}, pass only {new}="
                        )
                    warnings.warn(
                        f"{fn.__name__}: the argument {old}= is now called {new}=; the old "
                        "name will be removed in the next release",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def check_choice(value: _T, name: str, choices: Sequence[_T]) -> _T:
    if value not in choices:
        options = ", ".join(map(repr, choices))
        raise ValueError(f"{name}: unknown value {value!r}; choose one of {options}")
    return value


def check_clips(
    clips: ArrayLike,
    name: str = "clips",
    *,
    channels: Sequence[int] | None = (1, 3),
    min_frames: int = 1,
    min_size: int = 1,
) -> torch.Tensor:
    """Validate a batch of clips: an N×T×C×H×W float tensor with values in [0, 1].

    Returns the input as a tensor (not copied). A single clip T×C×H×W needs ``clips[None]``.
    """
    x = as_tensor(clips, name)
    if x.ndim != 5:
        hint = " (one clip T×C×H×W needs clips[None])" if x.ndim == 4 else ""
        raise ValueError(f"{name}: expected an N×T×C×H×W tensor, got shape {tuple(x.shape)}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: no clips (shape {tuple(x.shape)})")
    if x.shape[1] < min_frames:
        raise ValueError(f"{name}: need at least {min_frames} frames per clip, got {x.shape[1]}")
    if channels is not None and x.shape[2] not in channels:
        raise ValueError(
            f"{name}: expected {' or '.join(map(str, channels))} channel(s) in dimension 2 "
            f"(N×T×C×H×W), got {x.shape[2]} (shape {tuple(x.shape)})"
        )
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"{name}: frames must be at least {min_size}×{min_size}, got "
            f"{x.shape[-2]}×{x.shape[-1]}"
        )
    return check_unit_range(x, name, "clips")
