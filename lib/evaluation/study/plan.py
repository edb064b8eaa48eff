"""The plan of a 2AFC study: its trials (which item of which set on each side) and the
record of one answer to a trial."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import combinations
from numbers import Integral, Real

import numpy as np

from lib.evaluation.study.records import (
    SCHEMA_VERSION,
    _check_int,
    _check_item,
    _check_set_name,
    _format_time,
    check_record,
)

__all__ = ["Trial", "answer_record", "make_trials"]


@dataclass(frozen=True)
class Trial:
    """One trial of a study: which item of which set is shown on each side.

    ``index`` is the trial's number in the plan (what an answer record's ``trial`` refers to).
    Items are indices into their set (or string ids, e.g. clip names).
    """

    index: int
    left_set: str
    left_item: int | str
    right_set: str
    right_item: int | str

    def __post_init__(self) -> None:
        # Normalised (numpy integers become int) so that the records serialise as JSON.
        object.__setattr__(self, "index", _check_int(self.index, "Trial.index"))
        _check_set_name(self.left_set, "Trial.left_set")
        _check_set_name(self.right_set, "Trial.right_set")
        if self.left_set == self.right_set:
            raise ValueError(f"Trial: both sides show the set {self.left_set!r}")
        object.__setattr__(self, "left_item", _check_item(self.left_item, "Trial.left_item"))
        object.__setattr__(self, "right_item", _check_item(self.right_item, "Trial.right_item"))

    @property
    def sets(self) -> tuple[str, str]:
        return (self.left_set, self.right_set)

    def matches(self, record: Mapping) -> bool:
        """Whether ``record`` answers this trial (same index, same items on the same sides)."""
        return (
            int(record["trial"]) == self.index
            and record["left_set"] == self.left_set
            and record["left_item"] == self.left_item
            and record["right_set"] == self.right_set
            and record["right_item"] == self.right_item
        )

    def describe(self) -> str:
        return (
            f"trial {self.index}: {self.left_set}[{self.left_item}] left | "
            f"{self.right_set}[{self.right_item}] right"
        )


def _items_of(sets, name: str = "sets") -> dict[str, list]:
    if not isinstance(sets, Mapping) or not sets:
        raise TypeError(
            f"{name}: expected a non-empty dict {{set name: number of items or list of item "
            f"ids}}, got {type(sets).__name__}"
        )
    items: dict[str, list] = {}
    for set_name, value in sets.items():
        _check_set_name(set_name, f"{name} key")
        if isinstance(value, Integral) and not isinstance(value, bool):
            items[set_name] = list(range(_check_int(value, f"{name}[{set_name!r}]", 1)))
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if not value:
                raise ValueError(f"{name}[{set_name!r}]: the list of items is empty")
            items[set_name] = [_check_item(v, f"{name}[{set_name!r}] item") for v in value]
        else:
            raise TypeError(
                f"{name}[{set_name!r}]: expected a number of items or a list of item ids, got "
                f"{type(value).__name__}"
            )
    return items


def _check_pairs(pairs, names: Sequence[str]) -> list[tuple[str, str]]:
    if pairs is None:
        if len(names) < 2:
            raise ValueError("sets: a study compares at least two sets")
        return list(combinations(names, 2))
    if isinstance(pairs, str) or not isinstance(pairs, Iterable):
        raise TypeError(f"pairs: expected a list of (set, set) pairs, got {type(pairs).__name__}")
    out: list[tuple[str, str]] = []
    for pair in pairs:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"pairs: each pair is two set names, got {pair!r}")
        a, b = pair
        for s in (a, b):
            if s not in names:
                raise ValueError(f"pairs: {s!r} is not one of the sets ({', '.join(names)})")
        if a == b:
            raise ValueError(f"pairs: ({a!r}, {b!r}) compares a set with itself")
        if (a, b) in out or (b, a) in out:
            raise ValueError(f"pairs: ({a!r}, {b!r}) is listed twice")
        out.append((a, b))
    if not out:
        raise ValueError("pairs: the list of pairs is empty")
    return out


def make_trials(
    sets: Mapping[str, int | Sequence[int | str]],
    pairs: Iterable[tuple[str, str]] | None = None,
    *,
    per_pair: int,
    seed: int,
) -> list[Trial]:
    """The plan of a study: ``per_pair`` trials for each pair of sets, in a random order.

    Args:
        sets: ``{set name: number of items}`` (items ``0 .. n-1``) or ``{set name: [item ids]}``.
        pairs: the pairs of sets to compare, e.g. ``[("real", "blur"), ("real", "noise")]`` for
            real-vs-generated trials; default: every pair of ``sets``.
        per_pair: trials per pair.
        seed: seed of all the randomness (items, sides, order); same seed, same plan.

    Sides are randomised *and balanced*: of each pair's trials, ``per_pair // 2`` show the
    first set on the left and as many on the right (a coin decides the odd one), in a random
    order. A side preference of the students then cancels out of the preference rates and can
    itself be measured (:func:`position_bias`). Items are drawn from each set without
    replacement, starting a fresh random permutation when a set runs out, so every item is shown
    about equally often. The trials are shuffled and numbered ``0 .. N-1`` in that order.
    """
    items = _items_of(sets)
    pair_list = _check_pairs(pairs, list(items))
    per_pair = _check_int(per_pair, "per_pair", 1)
    seed = _check_int(seed, "seed")
    rng = np.random.default_rng(seed)

    queues: dict[str, list] = {name: [] for name in items}

    def draw(name: str):
        if not queues[name]:
            queues[name] = [items[name][i] for i in rng.permutation(len(items[name]))]
        return queues[name].pop()

    drafts = []
    for a, b in pair_list:
        a_left = [True] * (per_pair // 2) + [False] * (per_pair // 2)
        if per_pair % 2:
            a_left.append(bool(rng.integers(2)))
        a_left = [a_left[i] for i in rng.permutation(per_pair)]
        for first_left in a_left:
            item_a, item_b = draw(a), draw(b)
            if first_left:
                drafts.append((a, item_a, b, item_b))
            else:
                drafts.append((b, item_b, a, item_a))
    order = rng.permutation(len(drafts))
    return [Trial(i, *drafts[j]) for i, j in enumerate(order)]


def _check_trials(trials) -> list[Trial]:
    if isinstance(trials, Trial) or not isinstance(trials, Iterable):
        raise TypeError(f"trials: expected a list of Trial, got {type(trials).__name__}")
    trials = list(trials)
    if not trials:
        raise ValueError("trials: the plan is empty; make one with make_trials()")
    seen = set()
    for t in trials:
        if not isinstance(t, Trial):
            raise TypeError(f"trials: expected Trial objects, got {type(t).__name__}")
        if t.index in seen:
            raise ValueError(f"trials: index {t.index} is used twice")
        seen.add(t.index)
    return trials


# -- records and files ------------------------------------------------------------------------


def answer_record(
    trial: Trial,
    choice: str,
    *,
    student: str,
    study: str,
    media: str = "image",
    time: datetime | str | None = None,
    seconds: float | None = None,
) -> dict:
    """The record of ``student`` answering ``choice`` (``"left"``/``"right"``) to ``trial``.

    ``time`` defaults to now (UTC); ``seconds`` (how long the trial was looked at) is rounded to
    milliseconds.
    """
    if not isinstance(trial, Trial):
        raise TypeError(f"trial: expected a Trial, got {type(trial).__name__}")
    if time is None:
        time = datetime.now(timezone.utc)
    if isinstance(time, datetime):
        if time.tzinfo is None:
            raise ValueError("time: give an aware datetime (e.g. datetime.now(timezone.utc))")
        time = _format_time(time)
    if seconds is not None and isinstance(seconds, Real) and not isinstance(seconds, bool):
        seconds = round(float(seconds), 3)
    record = {
        "schema": SCHEMA_VERSION,
        "study": study,
        "student": student,
        "trial": trial.index,
        "media": media,
        "left_set": trial.left_set,
        "left_item": trial.left_item,
        "right_set": trial.right_set,
        "right_item": trial.right_item,
        "choice": choice,
        "time": time,
        "seconds": seconds,
    }
    return check_record(record)
