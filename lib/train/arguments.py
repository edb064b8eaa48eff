"""Argument types shared by the trainers' command lines.

Each is an ``argparse`` ``type=`` function: a bad value ends the command with argparse's one-line
``error: argument --NAME: …`` (exit status 2) instead of a traceback from deep inside a run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from lib.device import resolve_device


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An integer ≥ ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value:g}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number ≥ 0."""
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {value:g}")
    return value


def device(text: str) -> str:
    """A device :func:`lib.device.resolve_device` accepts here (``auto``, ``cpu``, ``cuda``,
    ``cuda:N``); kept as text so that ``auto`` is resolved where the run starts."""
    try:
        resolved = resolve_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("device: ")) from None
    if resolved.type == "cuda" and resolved.index is not None:
        if resolved.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text!r}: there are {torch.cuda.device_count()} CUDA device(s) here"
            )
    return text
