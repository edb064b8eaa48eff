"""Progress bars that do not flood notebook or log output."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lib.train.distributed import is_main_process

if TYPE_CHECKING:
    from tqdm.auto import tqdm

MIN_INTERVAL_S = 1.0


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    enabled: bool = True,
    unit: str = "it",
    mininterval: float = MIN_INTERVAL_S,
) -> tqdm[Any]:
    """A ``tqdm.auto`` bar (a widget in Jupyter, text elsewhere) refreshed at most once per
    ``mininterval`` seconds (at least 1 s), written to stderr.

    It is disabled when ``enabled`` is false and on every process but rank 0 of a
    ``torch.distributed`` run, so that N processes do not draw N bars. Use it like ``tqdm``:
    ``for step in progress(range(n), desc="train"): ...`` or as a context manager with
    ``total=`` and ``bar.update()``; ``bar.set_postfix(loss=...)`` shows running numbers.
    """
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not (enabled and is_main_process()),
        mininterval=max(float(mininterval), MIN_INTERVAL_S),
        file=sys.stderr,
        dynamic_ncols=True,
    )
