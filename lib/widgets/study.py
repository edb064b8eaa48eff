"""``ForcedChoiceStudy``: a two-alternative forced-choice study in the notebook.

The widget shows the two items of a trial side by side (a real and a generated image, or two
models' outputs) and two buttons, "left" and "right"; a progress bar counts the answers. With
``media="clip"`` the items are short clips (N×T×C×H×W sets, :func:`clip_renderer`): both play
side by side as looping animated GIFs, started together, and a "replay" button restarts both in
step. Each press is appended at once to the student's answer file
(:func:`lib.evaluation.study.append_answer`: one JSON line, flushed and fsync'ed), so a kernel
that dies loses nothing that was answered, and a new widget on the same file continues where the
student stopped. The trials come from :func:`lib.evaluation.study.make_trials` (sides randomised
with a seed and balanced, so a preference for one side can be measured and cancels out); the
statistics live in :mod:`lib.evaluation.study`.

Keyboard: the two buttons are ordinary HTML buttons — Tab moves the focus to them, Enter or
Space presses the focused one.
"""

from __future__ import annotations

import html
import io
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch
from PIL import Image

from lib._checks import check_clips, check_images, check_positive_int
from lib.datasets import ImageSet
from lib.evaluation.study import (
    CHOICES,
    MEDIA,
    Trial,
    answer_record,
    answered_trials,
    append_answer,
    read_answers,
)
from lib.evaluation.study.plan import _check_trials
from lib.evaluation.study.records import _check_id
from lib.paths import DATA_DIR

__all__ = ["ForcedChoiceStudy", "clip_renderer", "image_renderer"]

#: A renderer turns (set name, item) into the bytes the ``widgets.Image`` shows.
Renderer = Callable[[str, "int | str"], bytes]


def _png(image: torch.Tensor, size: int) -> bytes:
    """A C×H×W float image in [0, 1] as PNG bytes, scaled up (nearest) so its long side is
    about ``size`` pixels: small course images stay crisp instead of blurred by the browser."""
    array = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    array = array.permute(1, 2, 0).numpy()
    pil = Image.fromarray(array[..., 0] if array.shape[2] == 1 else np.ascontiguousarray(array))
    h, w = array.shape[:2]
    scale = max(1, round(size / max(h, w)))
    if scale > 1:
        pil = pil.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def image_renderer(
    sets: Mapping[str, ImageSet | torch.Tensor], *, size: int = 160
) -> tuple[Renderer, dict[str, int]]:
    """A renderer for image sets (``{set name: ImageSet or N×C×H×W tensor in [0, 1]}``): item
    ``i`` of a set is its ``i``-th image, drawn as a PNG about ``size`` pixels wide. Returns the
    renderer and ``{set name: number of images}`` (to check the trials against)."""
    if not isinstance(sets, Mapping) or not sets:
        raise TypeError(
            "sets: expected a non-empty dict {set name: ImageSet or N×C×H×W tensor}, got "
            f"{type(sets).__name__}"
        )
    size = check_positive_int(size, "size", minimum=8)
    images: dict[str, torch.Tensor] = {}
    for name, value in sets.items():
        tensor = value.images if isinstance(value, ImageSet) else value
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"sets[{name!r}]: expected an ImageSet or an N×C×H×W tensor, got "
                f"{type(value).__name__}"
            )
        images[name] = check_images(tensor, f"sets[{name!r}]")

    def render(set_name: str, item) -> bytes:
        return _png(images[set_name][item], size)

    return render, {name: x.shape[0] for name, x in images.items()}


def _gif(clip: torch.Tensor, size: int, fps: float) -> bytes:
    """A T×C×H×W float clip in [0, 1] as a looping animated GIF, scaled up (nearest) so its long
    side is about ``size`` pixels. Colours are quantised per frame to 256 (exact for the course's
    small clips in practice); the bytes are deterministic."""
    array = (clip.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    array = array.permute(0, 2, 3, 1).numpy()
    h, w = array.shape[1:3]
    scale = max(1, round(size / max(h, w)))
    frames = []
    for frame in array:
        pil = Image.fromarray(frame[..., 0] if frame.shape[2] == 1 else np.ascontiguousarray(frame))
        if scale > 1:
            pil = pil.resize((w * scale, h * scale), Image.Resampling.NEAREST)
        frames.append(pil.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT))
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=max(20, round(1000 / fps)),
        loop=0,
        disposal=1,
        optimize=False,
    )
    return buffer.getvalue()


def clip_renderer(
    sets: Mapping[str, object], *, size: int = 160, fps: float = 8.0
) -> tuple[Renderer, dict[str, int]]:
    """A renderer for clip sets (``{set name: N×T×C×H×W tensor in [0, 1]}``, or objects with a
    ``.frames`` tensor such as :class:`lib.datasets.street.StreetClips`): item ``i`` of a set is
    its ``i``-th clip, drawn as a looping GIF about ``size`` pixels wide at ``fps`` frames per
    second. Returns the renderer and ``{set name: number of clips}``."""
    if not isinstance(sets, Mapping) or not sets:
        raise TypeError(
            "sets: expected a non-empty dict {set name: N×T×C×H×W clip tensor}, got "
            f"{type(sets).__name__}"
        )
    size = check_positive_int(size, "size", minimum=8)
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= 50:
        raise ValueError(f"fps: expected a number of frames per second in (0, 50], got {fps!r}")
    clips: dict[str, torch.Tensor] = {}
    for name, value in sets.items():
        tensor = getattr(value, "frames", value)
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"sets[{name!r}]: expected an N×T×C×H×W clip tensor, got {type(value).__name__}"
            )
        clips[name] = check_clips(tensor, f"sets[{name!r}]")

    def render(set_name: str, item) -> bytes:
        return _gif(clips[set_name][item], size, float(fps))

    return render, {name: x.shape[0] for name, x in clips.items()}


class ForcedChoiceStudy:
    """A two-alternative forced-choice study: two items, "left" or "right", one file of answers.

    Args:
        trials: the plan, from :func:`lib.evaluation.study.make_trials` (the same seed must be
            used when the study is resumed: the recorded trials are checked against it).
        sets: ``{set name: ImageSet or N×C×H×W tensor}`` for an image study (item i is image
            i); with ``media="clip"``, ``{set name: N×T×C×H×W tensor}`` (item i is clip i, shown
            as a looping GIF, :func:`clip_renderer`); or a renderer
            ``render(set_name, item) -> bytes`` (give ``image_format`` to match its bytes).
        student: the student's id (letters, digits, ``_.-``), written into every answer.
        study: the study's id; answers are keyed by (study, student, trial).
        path: the answer file (JSONL, appended to); default
            ``data/study/answers-<study>-<student>.jsonl``.
        question: what the student is asked.
        media / image_format: what the items are (``"image"``/``"clip"``) and the format of the
            renderer's bytes (clip sets are always ``"gif"``).
        size: about how many pixels wide an image or clip is drawn (sets, not renderers).
        fps: frames per second of clips drawn from clip sets.

    When ``path`` already holds answers of this student to this study, they are read (broken
    lines are skipped with a warning), checked against ``trials`` (a different plan raises
    ``ValueError``) and those trials are skipped: the study resumes at the first unanswered
    one. :meth:`answer` (what the buttons call) appends the answer to the file *before* the
    widget moves on; if writing fails, the error is shown in the panel, ``error`` holds it and
    the trial stays open.
    """

    def __init__(
        self,
        trials: Sequence[Trial],
        sets: Mapping[str, ImageSet | torch.Tensor] | Renderer,
        *,
        student: str,
        study: str = "study",
        path: str | Path | None = None,
        question: str | None = None,
        media: str = "image",
        image_format: str = "png",
        size: int = 160,
        fps: float = 8.0,
    ) -> None:
        self.trials = _check_trials(trials)
        self.student = _check_id(student, "student")
        self.study = _check_id(study, "study")
        if media not in MEDIA:
            raise ValueError(f"media: expected one of {MEDIA}, got {media!r}")
        self.media = media
        if question is None:
            question = f"Which {'clip' if media == 'clip' else 'image'} looks more real?"
        if not isinstance(question, str):
            raise TypeError(f"question: expected a string, got {type(question).__name__}")
        self.question = question
        if callable(sets) and not isinstance(sets, Mapping):
            self.render: Renderer = sets
        elif media == "clip":
            self.render, sizes = clip_renderer(sets, size=size, fps=fps)
            image_format = "gif"
            self._check_items(sizes)
        else:
            self.render, sizes = image_renderer(sets, size=size)
            self._check_items(sizes)
        self.path = (
            DATA_DIR / "study" / f"answers-{self.study}-{self.student}.jsonl"
            if path is None
            else Path(path)
        )
        self.answered: dict[int, dict] = self._resume()
        self.error: str | None = None
        self._shown_at = time.monotonic()

        self.left_image = widgets.Image(format=image_format, layout={"margin": "4px"})
        self.right_image = widgets.Image(format=image_format, layout={"margin": "4px"})
        self.left_button = widgets.Button(
            description="left",
            icon="arrow-left",
            tooltip="the left one (Tab to focus, Enter or Space to press)",
            layout={"width": "10em"},
        )
        self.right_button = widgets.Button(
            description="right",
            icon="arrow-right",
            tooltip="the right one (Tab to focus, Enter or Space to press)",
            layout={"width": "10em"},
        )
        self.left_button.on_click(lambda _: self._guarded(self.answer, "left"))
        self.right_button.on_click(lambda _: self._guarded(self.answer, "right"))
        self.progress = widgets.IntProgress(
            value=len(self.answered), min=0, max=len(self.trials), description="progress"
        )
        self.counter = widgets.Label()
        self.prompt = widgets.HTML(f"<b>{html.escape(question)}</b>")
        # Clips: restart both animations together (a browser restarts a GIF when its bytes are
        # set again), so the student can compare them in step as often as needed.
        self.replay_button = widgets.Button(
            description="replay",
            icon="repeat",
            tooltip="play both clips again from the start",
            layout={"width": "8em"},
        )
        self.replay_button.on_click(lambda _: self._guarded(self.replay))
        self.status = widgets.HTML()
        column = {"align_items": "center"}
        self.widget = widgets.VBox(
            [
                self.prompt,
                widgets.HBox(
                    [
                        widgets.VBox([self.left_image, self.left_button], layout=column),
                        widgets.VBox([self.right_image, self.right_button], layout=column),
                    ]
                ),
                widgets.HBox(
                    [self.progress, self.counter]
                    + ([self.replay_button] if media == "clip" else [])
                ),
                self.status,
            ]
        )
        self._show()

    # -- set-up ---------------------------------------------------------------------------------
    def _check_items(self, sizes: Mapping[str, int]) -> None:
        for t in self.trials:
            for side, set_name, item in (
                ("left", t.left_set, t.left_item),
                ("right", t.right_set, t.right_item),
            ):
                if set_name not in sizes:
                    raise ValueError(
                        f"trials: trial {t.index} shows the set {set_name!r} on the {side}, "
                        f"which is not among sets ({', '.join(map(repr, sizes))})"
                    )
                if not isinstance(item, int) or not 0 <= item < sizes[set_name]:
                    raise ValueError(
                        f"trials: trial {t.index} shows item {item!r} of {set_name!r}, but that "
                        f"set has {'clips' if self.media == 'clip' else 'images'} "
                        f"0..{sizes[set_name] - 1}"
                    )

    def _resume(self) -> dict[int, dict]:
        if not self.path.exists():
            return {}
        done = answered_trials(read_answers(self.path), student=self.student, study=self.study)
        plan = {t.index: t for t in self.trials}
        for index, record in done.items():
            trial = plan.get(index)
            if trial is None or not trial.matches(record):
                recorded = (
                    f"{record['left_set']}[{record['left_item']}] left | "
                    f"{record['right_set']}[{record['right_item']}] right"
                )
                expected = "no such trial" if trial is None else trial.describe()
                raise ValueError(
                    f"{self.path}: student {self.student!r} answered trial {index} of study "
                    f"{self.study!r} as {recorded}, but this plan has {expected}. The trials "
                    "changed (another seed, sets or per_pair?); use the plan the answers were "
                    "recorded with, or another study id or file"
                )
        return done

    # -- answering ------------------------------------------------------------------------------
    @property
    def current(self) -> Trial | None:
        """The trial on screen (None when every trial is answered)."""
        for t in self.trials:
            if t.index not in self.answered:
                return t
        return None

    @property
    def done(self) -> bool:
        return len(self.answered) == len(self.trials)

    @property
    def records(self) -> list[dict]:
        """This student's answers to this study, in trial order."""
        return [self.answered[t.index] for t in self.trials if t.index in self.answered]

    def answer(self, choice: str) -> dict:
        """Record ``choice`` (``"left"`` or ``"right"``) for the current trial and show the next.

        The answer is on disk when this returns; returns its record.
        """
        if choice not in CHOICES:
            raise ValueError(f"choice: expected 'left' or 'right', got {choice!r}")
        trial = self.current
        if trial is None:
            raise RuntimeError(f"all {len(self.trials)} trials are answered; the study is over")
        record = answer_record(
            trial,
            choice,
            student=self.student,
            study=self.study,
            media=self.media,
            seconds=time.monotonic() - self._shown_at,
        )
        append_answer(self.path, record)  # first on disk, then counted
        self.answered[trial.index] = record
        self.error = None
        self._show()
        return record

    def replay(self) -> None:
        """Show the current pair again from its first frame (does not record anything)."""
        trial = self.current
        if trial is None:
            return
        left = self.render(trial.left_set, trial.left_item)
        right = self.render(trial.right_set, trial.right_item)
        # Assigning equal bytes is no change to a traitlet; clear first so both reload.
        self.left_image.value = self.right_image.value = b""
        self.left_image.value, self.right_image.value = left, right

    def _guarded(self, fn, *args) -> None:
        # ipywidgets swallows exceptions raised in click handlers: show them in the panel.
        try:
            fn(*args)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = (
                "<span style='color:#b00'>could not record the answer: "
                f"{html.escape(self.error)}</span>"
            )
            raise

    # -- drawing --------------------------------------------------------------------------------
    def _show(self) -> None:
        n, k = len(self.trials), len(self.answered)
        self.progress.value = k
        self.counter.value = f"{k} of {n} answered"
        trial = self.current
        if trial is None:
            self.left_button.disabled = self.right_button.disabled = True
            self.replay_button.disabled = True
            self.left_image.value = self.right_image.value = b""
            self.status.value = (
                f"All {n} trials answered — thank you! The answers are in "
                f"<code>{html.escape(self.path.name)}</code>."
            )
            return
        self.left_image.value = self.render(trial.left_set, trial.left_item)
        self.right_image.value = self.render(trial.right_set, trial.right_item)
        self.left_button.disabled = self.right_button.disabled = False
        self.replay_button.disabled = False
        self.status.value = ""
        self._shown_at = time.monotonic()

    # -- display --------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (
            f"ForcedChoiceStudy(study={self.study!r}, student={self.student!r}, "
            f"{len(self.answered)} of {len(self.trials)} answered, path={self.path.name!r})"
        )
