"""A name → builder table of the feature networks, so metrics can take ``feature="name"``.

::

    from lib import features
    net = features.get("inception-fid")               # weights from the torch hub cache
    net = features.get("inception-fid", weights="random", seed=0)   # for tests only
    features.available()                              # ('inception-fid', ...)

A builder is any callable returning a :class:`~lib.features.base.FeatureExtractor`; keyword
arguments given to :func:`get` (other than ``device``) are passed to it. :func:`get` then moves
the network to the device and puts it in eval mode, so builders need not care about either.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from lib.device import resolve_device
from lib.features.base import FeatureExtractor

__all__ = ["register", "unregister", "get", "available"]

Builder = Callable[..., FeatureExtractor]

_BUILDERS: dict[str, Builder] = {}


def register(name: str, builder: Builder, *, overwrite: bool = False) -> None:
    """Make ``builder`` available as ``get(name, ...)``.

    Registering a name twice is refused unless ``overwrite=True`` (so two parts of the course
    cannot silently replace each other's network).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name: expected a non-empty string, got {name!r}")
    if not callable(builder):
        raise TypeError(
            f"builder: expected a callable returning a FeatureExtractor, got {builder!r}"
        )
    if name in _BUILDERS and not overwrite:
        raise ValueError(f"name: {name!r} is already registered; pass overwrite=True to replace it")
    _BUILDERS[name] = builder


def unregister(name: str) -> None:
    """Remove a registered name (mainly for tests that register a temporary network)."""
    if name not in _BUILDERS:
        raise ValueError(_unknown(name))
    del _BUILDERS[name]


def available() -> tuple[str, ...]:
    """The registered names, sorted."""
    return tuple(sorted(_BUILDERS))


def get(name: str, device: str | torch.device | None = "auto", **kwargs) -> FeatureExtractor:
    """Build the network registered as ``name`` on ``device``, in eval mode.

    ``device="auto"`` picks CUDA when present (see :func:`lib.device.resolve_device`); other
    keyword arguments go to the builder (e.g. ``path=`` or ``weights="random"`` for
    ``"inception-fid"``). An unknown name raises ``ValueError`` listing the known ones.
    """
    if name not in _BUILDERS:
        raise ValueError(_unknown(name))
    target = resolve_device(device)
    net = _BUILDERS[name](**kwargs)
    if not isinstance(net, nn.Module) or not hasattr(net, "num_features"):
        raise TypeError(
            f"the builder registered as {name!r} returned {type(net).__name__}, not a "
            "FeatureExtractor (an nn.Module with a num_features attribute)"
        )
    return net.to(target).eval()


def _unknown(name) -> str:
    known = ", ".join(map(repr, available())) or "none"
    return f"unknown feature network {name!r}; registered networks: {known}"
