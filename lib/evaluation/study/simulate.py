"""Simulated students for running a 2AFC study without people, and the example answers
shipped with the course (``python -m lib.evaluation.study`` rewrites them)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from lib.evaluation.study.plan import Trial, _check_trials, answer_record, make_trials
from lib.evaluation.study.records import MEDIA, _check_id, _check_int, _parse_time, save_answers
from lib.evaluation.study.stats import _check_scores
from lib.paths import DATA_DIR

__all__ = [
    "EXAMPLE_PATH",
    "example_answers",
    "example_trials",
    "simulate_answers",
    "write_example_answers",
]

#: Where the simulated answers shipped with the course live.
EXAMPLE_PATH = DATA_DIR / "study" / "answers-example.jsonl"


def simulate_answers(
    trials: Sequence[Trial],
    quality: Mapping[str, float],
    *,
    students: int | Sequence[str] = 3,
    study: str = "example",
    left_bias: float = 0.0,
    media: str = "image",
    seed: int = 0,
    start: str = "2024-04-01T09:00:00.000Z",
) -> list[dict]:
    """Answers of simulated students to every trial, for running a study without people.

    Each student picks the left item with the Bradley–Terry (logistic) probability

        P(left) = 1 / (1 + exp(−(q_left − q_right + left_bias)))

    where ``quality`` gives each set's q on a logit scale (differences matter: a set 1 above
    another is preferred 73 % of the time) and ``left_bias`` is a preference for the left side
    in logits (0: none). Students are ``"s01", "s02", …`` (or the ids given); each answers the
    trials in order, taking a log-normally distributed 1–6 s per trial, starting an hour after
    the previous student at ``start``. Deterministic given ``seed``.
    """
    trials = _check_trials(trials)
    quality = _check_scores(quality, "quality")
    missing = sorted({s for t in trials for s in t.sets if s not in quality})
    if missing:
        raise ValueError(f"quality: no value for the set(s) {', '.join(map(repr, missing))}")
    if isinstance(students, Integral) and not isinstance(students, bool):
        n = _check_int(students, "students", 1)
        names = [f"s{i + 1:02d}" for i in range(n)]
    elif isinstance(students, Sequence) and not isinstance(students, str) and students:
        names = [_check_id(s, "students") for s in students]
        if len(set(names)) != len(names):
            raise ValueError("students: the ids must be distinct")
    else:
        raise TypeError("students: expected a number of students or a non-empty list of ids")
    _check_id(study, "study")
    if isinstance(left_bias, bool) or not isinstance(left_bias, Real):
        raise TypeError(f"left_bias: expected a number, got {type(left_bias).__name__}")
    if not math.isfinite(left_bias):
        raise ValueError(f"left_bias: {left_bias} is not finite")
    if media not in MEDIA:
        raise ValueError(f"media: expected one of {MEDIA}, got {media!r}")
    seed = _check_int(seed, "seed")
    try:
        t0 = _parse_time(start)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"start: {start!r} is not an ISO 8601 time with zone") from exc

    rng = np.random.default_rng(seed)
    records = []
    for s, student in enumerate(names):
        now = t0 + timedelta(hours=s)
        for trial in trials:
            logit = quality[trial.left_set] - quality[trial.right_set] + left_bias
            p_left = 1.0 / (1.0 + math.exp(-logit))
            choice = "left" if rng.random() < p_left else "right"
            seconds = round(float(np.clip(rng.lognormal(math.log(2.0), 0.4), 1.0, 6.0)), 3)
            now += timedelta(seconds=seconds)
            records.append(
                answer_record(
                    trial,
                    choice,
                    student=student,
                    study=study,
                    media=media,
                    time=now,
                    seconds=seconds,
                )
            )
    return records


#: The shipped example: the sample bench of :func:`lib.bench.bench_sets` (level 2, a labelled
#: set of 10 classes) against the real set, judged by simulated students who see image quality
#: but, looking at one image at a time, cannot see missing variety. Quality is in logits
#: relative to the real set: a set at −2 is chosen over a real image 12 % of the time.
EXAMPLE_QUALITY: dict[str, float] = {
    "real": 0.0,
    "noise": -1.2,
    "blur": -1.6,
    "swirl": -2.2,
    "rectangles": -2.6,
    "salt_pepper": -0.9,
    "drop 5 of 10 modes": 0.0,
    "2 per class": 0.0,
    "memorised (1 per class)": 0.0,
}
EXAMPLE_ITEMS = 100  # items per set: indices 0..99 (the notebook's sets must be at least this big)
EXAMPLE_PER_PAIR = 10
EXAMPLE_STUDENTS = 4
EXAMPLE_LEFT_BIAS = 0.3
EXAMPLE_SEED = 2024
EXAMPLE_STUDY = "example"


def example_trials() -> list[Trial]:
    """The plan of the shipped example: each set of :data:`EXAMPLE_QUALITY` against ``"real"``,
    :data:`EXAMPLE_PER_PAIR` trials per pair, items ``0 .. EXAMPLE_ITEMS - 1``."""
    sets = {name: EXAMPLE_ITEMS for name in EXAMPLE_QUALITY}
    pairs = [("real", name) for name in EXAMPLE_QUALITY if name != "real"]
    return make_trials(sets, pairs, per_pair=EXAMPLE_PER_PAIR, seed=EXAMPLE_SEED)


def example_answers() -> list[dict]:
    """The answers in ``data/study/answers-example.jsonl``: :data:`EXAMPLE_STUDENTS` simulated
    students (a slight preference for the left side, :data:`EXAMPLE_LEFT_BIAS` logits) answering
    :func:`example_trials`."""
    return simulate_answers(
        example_trials(),
        EXAMPLE_QUALITY,
        students=EXAMPLE_STUDENTS,
        study=EXAMPLE_STUDY,
        left_bias=EXAMPLE_LEFT_BIAS,
        seed=EXAMPLE_SEED,
    )


def write_example_answers(path: str | os.PathLike = EXAMPLE_PATH) -> Path:
    """(Re)write the shipped example answer file from :func:`example_answers` (atomically)."""
    return save_answers(path, example_answers(), overwrite=True)
