"""One name → builder table of the feature networks, so metrics can take ``feature="name"``.

Two kinds of network share it: ``"image"`` networks (:class:`~lib.features.base.FeatureExtractor`,
N×C×H×W images) and ``"clip"`` networks (:class:`~lib.features.base.ClipFeatureExtractor`,
N×T×C×H×W clips; :func:`lib.features.video.get_clip_network`). A name belongs to one kind, and
every function takes ``kind`` (default ``"image"``)::

    from lib import features
    net = features.get("inception-fid")               # weights from the torch hub cache
    net = features.get("inception-fid", weights="random", seed=0)   # for tests only
    features.available()                              # ('inception-fid', ...)
    features.available("clip")                        # ('i3d', 'random-c3d', 'street-c3d')

A builder is any callable returning a network of its kind; keyword arguments given to :func:`get`
(other than ``device``) are passed to it. :func:`get` then moves the network to the device and
puts it in eval mode, so builders need not care about either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, overload

import torch
from torch import nn

from lib._checks import check_choice
from lib.device import resolve_device
from lib.features.base import ClipFeatureExtractor, FeatureExtractor

__all__ = ["KINDS", "register", "unregister", "get", "available"]

Builder = Callable[..., FeatureExtractor | ClipFeatureExtractor]

#: The kinds of network, and what each one's builders return.
KINDS = {"image": "a FeatureExtractor", "clip": "a ClipFeatureExtractor"}
_BUILDERS: dict[str, dict[str, Builder]] = {kind: {} for kind in KINDS}


def register(name: str, builder: Builder, *, kind: str = "image", overwrite: bool = False) -> None:
    """Make ``builder`` available as ``get(name, kind=kind, ...)``.

    Registering a name twice (in either kind) is refused unless ``overwrite=True`` (so two parts
    of the course cannot silently replace each other's network).
    """
    check_choice(kind, "kind", tuple(KINDS))
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name: expected a non-empty string, got {name!r}")
    if not callable(builder):
        raise TypeError(f"builder: expected a callable returning {KINDS[kind]}, got {builder!r}")
    taken = [k for k, table in _BUILDERS.items() if name in table]
    if taken and not overwrite:
        raise ValueError(f"name: {name!r} is already registered; pass overwrite=True to replace it")
    for other in taken:
        del _BUILDERS[other][name]
    _BUILDERS[kind][name] = builder


def unregister(name: str, *, kind: str = "image") -> None:
    """Remove a registered name (mainly for tests that register a temporary network)."""
    check_choice(kind, "kind", tuple(KINDS))
    if name not in _BUILDERS[kind]:
        raise ValueError(_unknown(name, kind))
    del _BUILDERS[kind][name]


def available(kind: str = "image") -> tuple[str, ...]:
    """The names registered for ``kind`` (``"image"`` or ``"clip"``), sorted."""
    check_choice(kind, "kind", tuple(KINDS))
    return tuple(sorted(_BUILDERS[kind]))


@overload
def get(
    name: str,
    device: str | torch.device | None = ...,
    *,
    kind: Literal["image"] = ...,
    **kwargs: Any,
) -> FeatureExtractor: ...
@overload
def get(
    name: str, device: str | torch.device | None = ..., *, kind: Literal["clip"], **kwargs: Any
) -> ClipFeatureExtractor: ...
@overload
def get(
    name: str, device: str | torch.device | None = ..., *, kind: str, **kwargs: Any
) -> FeatureExtractor | ClipFeatureExtractor: ...
def get(
    name: str, device: str | torch.device | None = "auto", *, kind: str = "image", **kwargs: Any
) -> FeatureExtractor | ClipFeatureExtractor:
    """Build the network registered as ``name`` (of ``kind``) on ``device``, in eval mode.

    ``device="auto"`` picks CUDA when present (see :func:`lib.device.resolve_device`); other
    keyword arguments go to the builder (e.g. ``path=`` or ``weights="random"`` for
    ``"inception-fid"``). An unknown name raises ``ValueError`` listing the known ones.
    """
    check_choice(kind, "kind", tuple(KINDS))
    if name not in _BUILDERS[kind]:
        raise ValueError(_unknown(name, kind))
    target = resolve_device(device)
    net = _BUILDERS[kind][name](**kwargs)
    if not isinstance(net, nn.Module) or not hasattr(net, "num_features"):
        raise TypeError(
            f"the builder registered as {name!r} returned {type(net).__name__}, not "
            f"{KINDS[kind]} (an nn.Module with a num_features attribute)"
        )
    return net.to(target).eval()


def _unknown(name, kind: str) -> str:
    known = ", ".join(map(repr, available(kind))) or "none"
    noun = "feature network" if kind == "image" else "clip network"
    return f"unknown {noun} {name!r}; registered networks: {known}"
