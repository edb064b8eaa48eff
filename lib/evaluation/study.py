"""A human two-alternative forced-choice (2AFC) study: trials, the answer files, statistics.

A student sees two items side by side — a real and a generated image, or the outputs of two
models — and presses "left" or "right" for the one that looks better (more real). This module is
everything of such a study except the widget (:class:`lib.widgets.study.ForcedChoiceStudy`), so
it runs headless: in tests, in scripts that merge the answers of a class, in the notebooks.

==============================  ================================================================
:func:`make_trials`             the plan: pairs of items, sides randomised (seeded) and balanced
:func:`answer_record`           one answer as a plain dict (the schema below)
:func:`append_answer`           append one answer to a JSONL file, flushed and fsync'ed
:func:`read_answers`            one answer file; broken lines are reported and skipped
:func:`merge_answers`           many files or glob patterns, identical records deduplicated
:func:`wilson_interval`         the Wilson score interval of a proportion
:func:`preference_table`        preference rate per pair of sets, with Wilson intervals
:func:`position_bias`           how often the left item was chosen (0.5 when there is none)
:func:`human_scores`            one score per set: win share, or the rate it beat a reference
:func:`ranking_agreement`       Kendall's τ_b and the share of agreeing pairs, humans vs a metric
:func:`simulate_answers`        simulated students (Bradley–Terry choices) for a non-interactive run
:func:`example_answers`         the answers shipped in ``data/study/answers-example.jsonl``
==============================  ================================================================

An answer file holds one JSON object per line (schema version :data:`SCHEMA_VERSION`)::

    {"schema": 1, "study": "example", "student": "s01", "trial": 3, "media": "image",
     "left_set": "blur", "left_item": 17, "right_set": "real", "right_item": 5,
     "choice": "right", "time": "2024-04-01T09:00:08.731Z", "seconds": 2.412}

``trial`` is the trial's index in the study's plan; ``left_*`` / ``right_*`` name the set and
the item shown on each side (an item is an index into its set or a string id, so a study of
video clips uses the same records with ``"media": "clip"``); ``choice`` is the side pressed;
``time`` is when it was pressed (UTC, ISO 8601) and ``seconds`` how long the student looked
(optional). A record is identified by ``(study, student, trial)``.

Files are only ever appended to, one complete line per answer with ``flush`` and ``os.fsync``:
an answer that was recorded survives the kernel dying a moment later, and a line cut short by a
crash in the middle of a write is skipped with a warning (and the next answer starts on a line
of its own), so it never costs the answers before or after it.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import combinations
from numbers import Integral, Real
from pathlib import Path
from statistics import NormalDist

import numpy as np

from lib._io import atomic_write
from lib.paths import DATA_DIR

__all__ = [
    "CHOICES",
    "EXAMPLE_PATH",
    "MEDIA",
    "SCHEMA_VERSION",
    "Agreement",
    "PairPreference",
    "Rate",
    "StudyFileWarning",
    "Trial",
    "agreement_table",
    "answer_record",
    "answered_trials",
    "append_answer",
    "check_record",
    "example_answers",
    "example_trials",
    "human_scores",
    "make_trials",
    "merge_answers",
    "position_bias",
    "preference_table",
    "ranking_agreement",
    "read_answers",
    "save_answers",
    "simulate_answers",
    "wilson_interval",
    "write_example_answers",
]

#: Version of the record layout written by this module; files of a newer version are refused
#: line by line (with a warning), not misread.
SCHEMA_VERSION = 1
#: The two answers of a trial.
CHOICES: tuple[str, ...] = ("left", "right")
#: What a study shows: still images, or short clips (same records, another renderer).
MEDIA: tuple[str, ...] = ("image", "clip")
#: Where the simulated answers shipped with the course live.
EXAMPLE_PATH = DATA_DIR / "study" / "answers-example.jsonl"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_FIELDS = (
    "schema",
    "study",
    "student",
    "trial",
    "media",
    "left_set",
    "left_item",
    "right_set",
    "right_item",
    "choice",
    "time",
)
_GLOB_CHARS = re.compile(r"[*?\[]")
_SHOWN_PROBLEMS = 5  # reasons spelled out per file in a warning; the rest by line number only


class StudyFileWarning(UserWarning):
    """An answer file had lines that could not be read (they were skipped), or answers that
    contradict each other."""


# -- validation ------------------------------------------------------------------------------


def _check_id(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a string, got {type(value).__name__}")
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{name}: {value!r} is not a valid id; use 1 to 64 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit), e.g. 's01'"
        )
    return value


def _check_set_name(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a set name (a string), got {type(value).__name__}")
    if not value.strip() or any(ord(c) < 32 for c in value):
        raise ValueError(f"{name}: {value!r} is not a usable set name (empty or control chars)")
    return value


def _check_item(value, name: str) -> int | str:
    if isinstance(value, bool) or not isinstance(value, Integral | str):
        raise TypeError(
            f"{name}: an item is an index (int ≥ 0) or a string id, got {type(value).__name__}"
        )
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{name}: an item id must not be empty")
        return value
    if value < 0:
        raise ValueError(f"{name}: an item index must be ≥ 0, got {value}")
    return int(value)


def _check_int(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {value}")
    return int(value)


def _check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, Real):
        raise TypeError(f"confidence: expected a number, got {type(confidence).__name__}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence: must lie strictly between 0 and 1, got {confidence}")
    return float(confidence)


def _parse_time(value: str) -> datetime:
    # "Z" is spelled out for Python 3.10's fromisoformat.
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("has no time zone")
    return parsed


def _format_time(when: datetime) -> str:
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def check_record(record) -> dict:
    """Check that ``record`` is a valid answer of this schema; return it (unchanged).

    Raises ``TypeError`` / ``ValueError`` naming the field at fault. Fields beyond the schema's
    are allowed (a later version may add some); a newer ``schema`` version is refused.
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"an answer record is a dict, got {type(record).__name__}")
    missing = [f for f in _FIELDS if f not in record]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(map(repr, missing))}")
    schema = record["schema"]
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise ValueError(f"schema: expected a version number ≥ 1, got {schema!r}")
    if schema > SCHEMA_VERSION:
        raise ValueError(
            f"schema: version {schema} was written by a newer version of the course (this one "
            f"reads version {SCHEMA_VERSION}); update lib to read it"
        )
    _check_id(record["study"], "study")
    _check_id(record["student"], "student")
    _check_int(record["trial"], "trial")
    if record["media"] not in MEDIA:
        raise ValueError(f"media: expected one of {MEDIA}, got {record['media']!r}")
    left = _check_set_name(record["left_set"], "left_set")
    right = _check_set_name(record["right_set"], "right_set")
    if left == right:
        raise ValueError(f"left_set and right_set are both {left!r}; a trial compares two sets")
    _check_item(record["left_item"], "left_item")
    _check_item(record["right_item"], "right_item")
    if record["choice"] not in CHOICES:
        raise ValueError(f"choice: expected 'left' or 'right', got {record['choice']!r}")
    if not isinstance(record["time"], str):
        raise TypeError(f"time: expected an ISO 8601 string, got {type(record['time']).__name__}")
    try:
        _parse_time(record["time"])
    except ValueError as exc:
        raise ValueError(f"time: {record['time']!r} is not an ISO 8601 time with zone") from exc
    seconds = record.get("seconds")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, Real):
            raise TypeError(f"seconds: expected a number or null, got {type(seconds).__name__}")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds: expected a finite number ≥ 0, got {seconds!r}")
    return record


def _check_records(records, name: str = "records") -> list[dict]:
    """Valid records, one per (study, student, trial): statistics would count duplicates twice."""
    if isinstance(records, Mapping | str) or not isinstance(records, Iterable):
        raise TypeError(
            f"{name}: expected a list of answer records (dicts), got {type(records).__name__}"
        )
    records = list(records)
    if not records:
        raise ValueError(f"{name}: no answers; record some first (or merge the answer files)")
    seen: set[tuple] = set()
    for i, record in enumerate(records):
        try:
            check_record(record)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}[{i}]: {exc}") from exc
        key = _key(record)
        if key in seen:
            raise ValueError(
                f"{name}: trial {key[2]} of student {key[1]!r} (study {key[0]!r}) is there more "
                "than once; read the files with merge_answers(), which keeps one answer per trial"
            )
        seen.add(key)
    return records


def _key(record: Mapping) -> tuple[str, str, int]:
    return (record["study"], record["student"], int(record["trial"]))


# -- the plan ---------------------------------------------------------------------------------


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


def _line(record: Mapping) -> bytes:
    return (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _fsync_dir(directory: Path) -> None:
    # A new file's directory entry must reach the disk too; not possible on every system.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def append_answer(path: str | os.PathLike, record: Mapping) -> Path:
    """Append one answer to the JSONL file ``path`` (created with its folder when missing).

    The record is checked first (a bad one raises and nothing is written), then written as one
    line in one ``write``, flushed and ``os.fsync``'ed before the function returns: once it
    returns, the answer is on disk even if the process is killed or the machine loses power.
    The file is never rewritten. If its last line was cut short (a writer killed mid-line), the
    new record starts on a line of its own, so the broken line stays the only casualty.
    """
    record = check_record(record)
    data = _line(record)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    # "a+b": every write goes to the end of the file (O_APPEND), and the last byte can be read.
    with open(path, "a+b") as handle:
        end = handle.seek(0, os.SEEK_END)
        if end > 0:
            handle.seek(end - 1)
            if handle.read(1) != b"\n":
                data = b"\n" + data
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        _fsync_dir(path.parent)
    return path


def read_answers(path: str | os.PathLike) -> list[dict]:
    """The valid records of one answer file, in file order.

    Lines that are not a valid record — a line cut short by a crash, text that is not JSON, a
    record with a missing or bad field, a newer schema — are skipped, and one
    :class:`StudyFileWarning` names the file and the line numbers (with the reasons). Blank
    lines are ignored. A missing file raises ``FileNotFoundError``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"answer file {path} does not exist (or is not a file)")
    data = path.read_bytes()
    lines = data.split(b"\n")
    records: list[dict] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        unfinished = number == len(lines)  # the last line has no newline after it
        try:
            record = json.loads(raw.decode("utf-8"))
            check_record(record)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = f"not valid JSON ({exc.__class__.__name__}: {exc})"
            if unfinished:
                reason = "cut short (no newline at the end; a writer was interrupted): " + reason
            problems.append((number, reason))
            continue
        except (TypeError, ValueError) as exc:
            problems.append((number, f"not a valid answer ({exc})"))
            continue
        records.append(record)
    if problems:
        shown = "; ".join(f"line {n}: {why}" for n, why in problems[:_SHOWN_PROBLEMS])
        more = ""
        if len(problems) > _SHOWN_PROBLEMS:
            rest = ", ".join(str(n) for n, _ in problems[_SHOWN_PROBLEMS:])
            more = f"; also lines {rest}"
        warnings.warn(
            f"{path}: skipped {len(problems)} unreadable line(s) of "
            f"{sum(1 for raw in lines if raw.strip())} — {shown}{more}",
            StudyFileWarning,
            stacklevel=2,
        )
    return records


def _expand_sources(sources) -> list[Path]:
    paths: list[Path] = []

    def add(source) -> None:
        if isinstance(source, str | os.PathLike):
            text = os.fspath(source)
            if _GLOB_CHARS.search(text):
                matched = sorted(glob.glob(text))
                if not matched:
                    raise FileNotFoundError(f"no answer file matches the pattern {text!r}")
                paths.extend(Path(m) for m in matched)
            else:
                if not Path(text).is_file():
                    raise FileNotFoundError(f"answer file {text} does not exist")
                paths.append(Path(text))
        elif isinstance(source, Iterable):
            for s in source:
                add(s)
        else:
            raise TypeError(
                f"sources: expected paths, glob patterns or lists of them, got "
                f"{type(source).__name__}"
            )

    add(list(sources))
    if not paths:
        raise ValueError("merge_answers: give at least one answer file or glob pattern")
    unique: dict[Path, Path] = {}
    for p in paths:
        unique.setdefault(p.resolve(), p)  # the same file named twice is read once
    return list(unique.values())


def merge_answers(
    *sources: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> list[dict]:
    """The answers of many files (paths, glob patterns such as ``"data/study/*.jsonl"``, or lists
    of them), one record per ``(study, student, trial)``, sorted by study, student and trial.

    Identical records (a file copied twice, a class's files merged into one that is merged
    again) are kept once. Two *different* answers to the same trial by the same student (the
    same id used in two kernels at once) cannot both count: the one recorded first (earliest
    ``time``) is kept and a :class:`StudyFileWarning` says how many were dropped. Broken lines
    are reported per file by :func:`read_answers`.

    With ``out``, the merged records are also written there (atomically; an existing file is
    replaced only with ``overwrite=True``).
    """
    paths = _expand_sources(sources)
    by_key: dict[tuple, dict] = {}
    seen_lines: set[str] = set()
    conflicts: list[tuple] = []
    for path in paths:
        for record in read_answers(path):
            canonical = json.dumps(record, sort_keys=True, ensure_ascii=False)
            if canonical in seen_lines:
                continue
            seen_lines.add(canonical)
            key = _key(record)
            kept = by_key.get(key)
            if kept is None:
                by_key[key] = record
                continue
            conflicts.append(key)
            if _parse_time(record["time"]) < _parse_time(kept["time"]):
                by_key[key] = record
    if conflicts:
        examples = ", ".join(f"{s}/{st} trial {t}" for s, st, t in conflicts[:5])
        warnings.warn(
            f"{len(conflicts)} answer(s) contradict an earlier answer to the same trial by the "
            f"same student (e.g. {examples}); kept the first recorded of each",
            StudyFileWarning,
            stacklevel=2,
        )
    merged = [by_key[k] for k in sorted(by_key)]
    if out is not None:
        save_answers(out, merged, overwrite=overwrite)
    return merged


def save_answers(
    path: str | os.PathLike, records: Iterable[Mapping], *, overwrite: bool = False
) -> Path:
    """Write ``records`` as a new JSONL answer file, atomically (temporary file + rename).

    For merged or simulated answers; a live study appends with :func:`append_answer` instead.
    An existing file is replaced only with ``overwrite=True``.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    records = list(records)
    for i, record in enumerate(records):
        try:
            check_record(record)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"records[{i}]: {exc}") from exc
    data = b"".join(_line(r) for r in records)
    return atomic_write(path, lambda handle: handle.write(data))


def answered_trials(records: Iterable[Mapping], *, student: str, study: str) -> dict[int, dict]:
    """``{trial index: record}`` of what ``student`` already answered in ``study`` (first answer
    per trial), to resume a study after a restart."""
    _check_id(student, "student")
    _check_id(study, "study")
    done: dict[int, dict] = {}
    for record in records:
        if record["student"] == student and record["study"] == study:
            done.setdefault(int(record["trial"]), dict(record))
    return done


# -- statistics -------------------------------------------------------------------------------


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a proportion: ``k`` successes in ``n`` trials.

    With p̂ = k / n and z = Φ⁻¹(1 − α/2) (z ≈ 1.96 for 95 % confidence)::

        centre = (p̂ + z² / (2n)) / (1 + z² / n)
        half   = z / (1 + z² / n) · √( p̂ (1 − p̂) / n + z² / (4 n²) )
        [low, high] = [centre − half, centre + half]

    It is the set of p for which |p̂ − p| ≤ z √(p (1 − p) / n) (Wilson 1927): unlike the Wald
    interval p̂ ± z √(p̂ (1 − p̂) / n), it stays inside [0, 1] and does not collapse to a point
    at k = 0 or k = n (0 of n gives [0, z² / (n + z²)]), which matters for the small counts of
    a classroom study (Newcombe 1998; Brown, Cai & DasGupta 2001).
    """
    k = _check_int(k, "k")
    n = _check_int(n, "n", 1)
    if k > n:
        raise ValueError(f"k: {k} successes out of n = {n} trials is impossible (k ≤ n)")
    confidence = _check_confidence(confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` answers, their share ``rate`` and its Wilson interval [low, high]."""

    n: int
    k: int
    rate: float
    low: float
    high: float


def _rate(k: int, n: int, confidence: float) -> Rate:
    low, high = wilson_interval(k, n, confidence)
    return Rate(n, k, k / n, low, high)


@dataclass(frozen=True)
class PairPreference:
    """How often people preferred set ``a`` over set ``b``: ``wins`` of ``n`` answers, the rate
    and its Wilson interval. A rate of 0.5 means the two could not be told apart; an interval
    that excludes 0.5 is a preference at the chosen confidence."""

    a: str
    b: str
    n: int
    wins: int
    rate: float
    low: float
    high: float
    a_left: int  # trials with a shown on the left (about n / 2 in a balanced plan)


def _chosen(record: Mapping) -> str:
    return record["left_set"] if record["choice"] == "left" else record["right_set"]


def _order_key(order: Sequence[str] | None):
    position = {} if order is None else {name: i for i, name in enumerate(order)}
    return lambda name: (position.get(name, len(position)), name)


def preference_table(
    records: Iterable[Mapping],
    *,
    order: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> list[PairPreference]:
    """Preference rate per pair of sets compared in ``records``, with Wilson intervals.

    For the pair (a, b), rate = (answers choosing a) / (answers to trials showing a and b),
    whichever side each was on; its interval is :func:`wilson_interval` at ``confidence``.
    ``order`` decides which set of a pair is ``a`` (the earlier one; sets not listed come after,
    alphabetically) and the order of the rows — e.g. ``order=["real"]`` makes every row read
    "how often was real preferred". Records must be one per trial (:func:`merge_answers`).
    """
    records = _check_records(records)
    confidence = _check_confidence(confidence)
    if order is not None and (isinstance(order, str) or not isinstance(order, Sequence)):
        raise TypeError(f"order: expected a list of set names, got {type(order).__name__}")
    key = _order_key(order)
    counts: dict[tuple[str, str], list[int]] = {}
    for r in records:
        a, b = sorted((r["left_set"], r["right_set"]), key=key)
        c = counts.setdefault((a, b), [0, 0, 0])  # n, wins of a, a on the left
        c[0] += 1
        c[1] += _chosen(r) == a
        c[2] += r["left_set"] == a
    rows = []
    for a, b in sorted(counts, key=lambda ab: (key(ab[0]), key(ab[1]))):
        n, wins, a_left = counts[(a, b)]
        low, high = wilson_interval(wins, n, confidence)
        rows.append(PairPreference(a, b, n, wins, wins / n, low, high, a_left))
    return rows


def position_bias(
    records: Iterable[Mapping], *, by_student: bool = False, confidence: float = 0.95
) -> Rate | dict[str, Rate]:
    """How often the *left* item was chosen, with its Wilson interval.

    Without a side preference the rate is 0.5 whatever the items, because the plan puts each
    set on the left in half of its trials (:func:`make_trials`). ``by_student=True`` gives
    ``{student: Rate}`` (a student who always presses the same button stands out).
    """
    records = _check_records(records)
    confidence = _check_confidence(confidence)
    if not by_student:
        left = sum(r["choice"] == "left" for r in records)
        return _rate(left, len(records), confidence)
    per: dict[str, list[int]] = {}
    for r in records:
        c = per.setdefault(r["student"], [0, 0])
        c[0] += r["choice"] == "left"
        c[1] += 1
    return {s: _rate(k, n, confidence) for s, (k, n) in sorted(per.items())}


def human_scores(records: Iterable[Mapping], *, against: str | None = None) -> dict[str, float]:
    """One score per set from the answers; higher means people preferred it.

    - ``against=None``: the *win share*, (answers choosing the set) / (answers to trials
      showing it). Comparable between sets when each met the same opponents equally often (a
      plan of every pair, or every set against one reference).
    - ``against="real"``: for each set compared with ``"real"``, the rate at which it was
      chosen over the real item — the share of people it fooled (0.5: indistinguishable from
      real). ``against`` itself gets no score.
    """
    records = _check_records(records)
    if against is not None:
        _check_set_name(against, "against")
        shown = {r["left_set"] for r in records} | {r["right_set"] for r in records}
        if against not in shown:
            raise ValueError(
                f"against: no trial shows the set {against!r} (sets: {', '.join(sorted(shown))})"
            )
    wins: dict[str, int] = {}
    seen: dict[str, int] = {}
    for r in records:
        pair = (r["left_set"], r["right_set"])
        if against is not None and against not in pair:
            continue
        for s in pair:
            if s == against:
                continue
            seen[s] = seen.get(s, 0) + 1
            wins[s] = wins.get(s, 0) + (_chosen(r) == s)
    return {s: wins[s] / seen[s] for s in sorted(seen)}


@dataclass(frozen=True)
class Agreement:
    """How a metric's ranking of sets agrees with people's.

    ``tau`` is Kendall's τ_b (1: same order, −1: reversed, ≈ 0: unrelated); ``agree`` the share
    of agreeing pairs among the pairs both rankings order (``concordant / (concordant +
    discordant)``); ``tied`` counts the pairs tied in either ranking; ``n_sets`` the sets
    compared.
    """

    tau: float
    agree: float
    concordant: int
    discordant: int
    tied: int
    n_sets: int


def _check_scores(values, name: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{name}: expected a dict {{set name: value}}, got {type(values).__name__}")
    out = {}
    for s, v in values.items():
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{name}[{s!r}]: expected a number, got {type(v).__name__}")
        if not math.isfinite(v):
            raise ValueError(f"{name}[{s!r}]: {v} is not finite")
        out[s] = float(v)
    return out


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def ranking_agreement(
    human: Mapping[str, float], metric: Mapping[str, float], *, lower_is_better: bool
) -> Agreement:
    """Compare the order people put the sets in with a metric's order.

    ``human``: ``{set: score}``, higher = preferred (e.g. :func:`human_scores`); ``metric``:
    ``{set: value}`` for at least the same sets (others are ignored); ``lower_is_better``: True
    for distances such as FID or KID, False for scores such as IS. With the metric turned into
    a goodness g (−value when lower is better), every pair of sets (i, j) is concordant when
    sign(h_i − h_j) = sign(g_i − g_j) ≠ 0, discordant when the signs are opposite, tied when
    either is 0. With C concordant, D discordant, n₀ = n(n − 1)/2 pairs and T_h, T_g the pairs
    tied in each ranking, Kendall's

        τ_b = (C − D) / √((n₀ − T_h)(n₀ − T_g)),     agree = C / (C + D).
    """
    human = _check_scores(human, "human")
    metric = _check_scores(metric, "metric")
    if not isinstance(lower_is_better, bool):
        raise TypeError(
            f"lower_is_better: expected True or False, got {type(lower_is_better).__name__}"
        )
    if len(human) < 2:
        raise ValueError(f"human: a ranking needs at least two sets, got {len(human)}")
    missing = [s for s in human if s not in metric]
    if missing:
        raise ValueError(f"metric: no value for the set(s) {', '.join(map(repr, missing))}")
    names = list(human)
    sign = -1.0 if lower_is_better else 1.0
    c = d = tied_h = tied_g = tied = 0
    for i, j in combinations(names, 2):
        dh = _sign(human[i] - human[j])
        dg = _sign(sign * (metric[i] - metric[j]))
        tied_h += dh == 0
        tied_g += dg == 0
        if dh == 0 or dg == 0:
            tied += 1
        elif dh == dg:
            c += 1
        else:
            d += 1
    n0 = len(names) * (len(names) - 1) // 2
    if tied_h == n0:
        raise ValueError("human: every set has the same score; there is no ranking to compare")
    if tied_g == n0:
        raise ValueError("metric: every set has the same value; there is no ranking to compare")
    if c + d == 0:
        raise ValueError("no pair of sets is ordered by both rankings (every pair has a tie)")
    tau = (c - d) / math.sqrt((n0 - tied_h) * (n0 - tied_g))
    return Agreement(tau, c / (c + d), c, d, tied, len(names))


def agreement_table(
    human: Mapping[str, float],
    metrics: Mapping[str, Mapping[str, float]],
    lower_is_better: Mapping[str, bool],
) -> dict[str, Agreement]:
    """:func:`ranking_agreement` for several metrics: ``metrics = {"FID": {set: value}, ...}``
    and ``lower_is_better = {"FID": True, "IS": False, ...}`` (one flag per metric)."""
    if not isinstance(metrics, Mapping) or not metrics:
        raise TypeError("metrics: expected a non-empty dict {metric name: {set name: value}}")
    if not isinstance(lower_is_better, Mapping):
        raise TypeError(
            "lower_is_better: expected a dict {metric name: True/False}, got "
            f"{type(lower_is_better).__name__}"
        )
    missing = [m for m in metrics if m not in lower_is_better]
    if missing:
        raise ValueError(
            f"lower_is_better: no flag for {', '.join(map(repr, missing))}; say True for "
            "distances (FID, KID) and False for scores (IS)"
        )
    out = {}
    for name, values in metrics.items():
        try:
            out[name] = ranking_agreement(human, values, lower_is_better=lower_is_better[name])
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from exc
    return out


# -- simulated students -----------------------------------------------------------------------


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


if __name__ == "__main__":  # python -m lib.evaluation.study regenerates the example file
    print(write_example_answers())
