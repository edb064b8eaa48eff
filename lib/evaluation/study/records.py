"""The answer records of a 2AFC study: the schema, its checks, and the JSONL files.

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
of its own), so it never costs the answers before or after it. Merged and simulated files are
written whole, atomically (temporary file + rename).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from numbers import Integral, Real
from pathlib import Path
from typing import TypeVar

from lib._io import atomic_write

__all__ = [
    "CHOICES",
    "MEDIA",
    "SCHEMA_VERSION",
    "StudyFileWarning",
    "answered_trials",
    "append_answer",
    "check_record",
    "merge_answers",
    "read_answers",
    "save_answers",
]

#: Version of the record layout written by this module; files of a newer version are refused
#: line by line (with a warning), not misread.
SCHEMA_VERSION = 1
#: The two answers of a trial.
CHOICES: tuple[str, ...] = ("left", "right")
#: What a study shows: still images, or short clips (same records, another renderer).
MEDIA: tuple[str, ...] = ("image", "clip")

_R = TypeVar("_R")

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


def check_record(record: _R) -> _R:
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
