"""``ReportCardExplorer``: every metric of the report card for one bench set at a time.

Pick a set of the bench (a distortion, a loss of diversity, or any extra set such as a trained
generator's samples), a level for the distortions and a metric: the panel shows the set's images,
every metric's value next to the fresh real draws' mean and range, how much worse than real each
is on the common scale of :func:`lib.evaluation.report_card.worse_than_real` (in real spreads;
positive = worse), whether the metric *detects* the set
(:func:`lib.evaluation.report_card.separation` above 1), and the chosen metric against the
distortion level.

The numbers come from a :class:`lib.evaluation.report_card.Evaluator` (the reference's features
are computed once); each (set, level) is evaluated at most once and kept, and evaluations the
notebook already made can be handed in (``precomputed``), so moving through them is instant.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from lib import bench, datasets
from lib._checks import check_choice, check_positive_int
from lib.datasets import ImageSet
from lib.device import resolve_device
from lib.evaluation.report_card import (
    Evaluation,
    Evaluator,
    Spread,
    bench_set,
    bench_set_names,
    format_value,
    metric,
    real_spread,
    separation,
    worse_than_real,
)
from lib.models import generate, load_generator
from lib.widgets._panel import Panel, figure_png, grid_png, selected

__all__ = ["ReportCardExplorer"]

_LEVELS = 5


class ReportCardExplorer(Panel):
    """An ipywidgets panel over the report card: choose a set, a level and a metric.

    Args:
        evaluator: computes every metric against its real reference.
        source: the real images the bench is made from (a fresh draw, not the reference).
        other: images of another data set for the ``"mix"`` distortion (without them ``mix``
            is not offered).
        extra: more sets to offer, ``{name: ImageSet}`` (e.g. a trained generator's samples);
            like the sets that lose diversity, they have no level.
        spread: the fresh real draws' :func:`lib.evaluation.report_card.real_spread`; without it the
            real columns and the scores stay empty.
        set_name, metric_key, level: what is selected at first.
        seed: seed of the bench sets and of the metrics' random choices.
        precomputed: evaluations already made, ``{(set name, level): Evaluation}`` (the level
            is ignored for sets without one).
        n_show: how many images of the set the grid shows.

    ``results`` holds what the panel shows as plain Python; ``widget`` is the container to
    display (the explorer displays itself as the last value of a cell); :meth:`update`
    recomputes by hand.
    """

    def __init__(
        self,
        evaluator: Evaluator,
        source: ImageSet,
        *,
        other: ImageSet | torch.Tensor | None = None,
        extra: Mapping[str, ImageSet] | None = None,
        spread: Mapping[str, Spread] | None = None,
        set_name: str = "blur",
        metric_key: str = "fid",
        level: int = 2,
        seed: int = 0,
        precomputed: Mapping[tuple[str, int], Evaluation] | None = None,
        n_show: int = 16,
    ) -> None:
        if not isinstance(evaluator, Evaluator):
            raise TypeError(f"evaluator: expected an Evaluator, got {type(evaluator).__name__}")
        if not isinstance(source, ImageSet):
            raise TypeError(f"source: expected an ImageSet, got {type(source).__name__}")
        self.evaluator = evaluator
        self.source = source
        self.other = other
        self.extra = dict(extra or {})
        for name, s in self.extra.items():
            if not isinstance(s, ImageSet):
                raise TypeError(f"extra[{name!r}]: expected an ImageSet, got {type(s).__name__}")
        self.spread = dict(spread or {})
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
        self.seed = seed
        self.n_show = check_positive_int(n_show, "n_show")
        names: tuple[str, ...] = tuple(
            k for k in bench.DEGRADATIONS if other is not None or k != "mix"
        )
        if source.labels is not None:
            names = bench_set_names(evaluator.num_classes, with_mix=other is not None)
        clash = [n for n in self.extra if n in names]
        if clash:
            raise ValueError(f"extra: the names {clash} are already bench sets; rename them")
        self.set_names = (*names, *self.extra)
        self.metric_keys = tuple(m.key for m in evaluator.metrics)
        check_choice(set_name, "set_name", self.set_names)
        check_choice(metric_key, "metric_key", self.metric_keys)
        level = self._check_level(level)

        self._evaluations: dict[tuple[str, int | None], Evaluation] = {}
        self._samples: dict[tuple[str, int | None], tuple[torch.Tensor, list | None]] = {}
        for (name, lvl), evaluation in (precomputed or {}).items():
            if name in self.set_names and isinstance(evaluation, Evaluation):
                self._evaluations[self._key(name, lvl)] = evaluation
        self.results: dict = {}
        self.error: str | None = None

        self.set_dropdown = widgets.Dropdown(
            options=list(self.set_names),
            value=set_name,
            description="set",
            style={"description_width": "initial"},
        )
        self.metric_dropdown = widgets.Dropdown(
            options=[(metric(k).label, k) for k in self.metric_keys],
            value=metric_key,
            description="metric",
            style={"description_width": "initial"},
        )
        self.level_slider = widgets.IntSlider(
            value=level,
            min=0,
            max=_LEVELS - 1,
            description="level",
            continuous_update=False,
            disabled=not self.has_level(set_name),
        )
        self.numbers = widgets.HTML()
        self.grid = widgets.Image(format="png")
        self.plot = widgets.Image(format="png")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.set_dropdown, self.level_slider, self.metric_dropdown]),
                self.grid,
                widgets.HBox([self.numbers, self.plot]),
            ]
        )
        self.set_dropdown.observe(self._on_set, names="value")
        self.level_slider.observe(self._on_change, names="value")
        self.metric_dropdown.observe(self._on_change, names="value")
        self.update()

    # -- the sets -------------------------------------------------------------------------------
    @staticmethod
    def has_level(name: str) -> bool:
        """Whether the set ``name`` depends on the level (the distortions do)."""
        return name in bench.DEGRADATIONS

    @staticmethod
    def _check_level(level) -> int:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < _LEVELS:
            raise ValueError(f"level: expected an integer 0..{_LEVELS - 1}, got {level!r}")
        return level

    def _key(self, name: str, level: int) -> tuple[str, int | None]:
        return (name, int(level) if self.has_level(name) else None)

    def image_set(self, name: str, level: int = 0) -> ImageSet:
        """The set ``name`` at ``level`` (the level is ignored for sets without one)."""
        check_choice(name, "name", self.set_names)
        if name in self.extra:
            return self.extra[name]
        return bench_set(
            self.source, name, self._check_level(level), other=self.other, seed=self.seed
        )

    def evaluation(self, name: str, level: int = 0) -> Evaluation:
        """Every metric of the set ``name`` at ``level``, computed at most once."""
        key = self._key(name, level)
        if key not in self._evaluations:
            self._evaluations[key] = self.evaluator.evaluate(
                self.image_set(name, level), seed=self.seed
            )
        return self._evaluations[key]

    def _shown(self, name: str, level: int) -> tuple[torch.Tensor, list | None]:
        key = self._key(name, level)
        if key not in self._samples:
            s = self.image_set(name, level)
            images = s.images[: self.n_show].detach().cpu()
            labels = None
            if s.labels is not None and s.class_names:
                labels = [s.class_names[int(i)] for i in s.labels[: self.n_show]]
            self._samples[key] = (images, labels)
        return self._samples[key]

    # -- the computation ------------------------------------------------------------------------
    def update(self) -> dict:
        """Recompute (when needed) for the current controls, redraw, return :attr:`results`."""
        name, level = selected(self.set_dropdown), self.level_slider.value
        key = selected(self.metric_dropdown)
        evaluation = self.evaluation(name, level)
        scores = worse_than_real(evaluation.values, self.spread) if self.spread else {}
        seps = separation(evaluation.values, self.spread) if self.spread else {}
        self.results = {
            "set": name,
            "level": level if self.has_level(name) else None,
            "metric": key,
            "value": evaluation.values[key],
            "values": dict(evaluation.values),
            "worse_than_real": scores,
            "detected": {k: (None if math.isnan(v) else bool(v > 1.0)) for k, v in seps.items()},
            "n": evaluation.n,
            "seconds": sum(evaluation.seconds.values()),
        }
        self.error = None
        images, labels = self._shown(name, level)
        self.grid.value = grid_png(images, labels)
        self.numbers.value = self._numbers_html()
        self.plot.value = self._level_png(name, key)
        return dict(self.results)

    # -- callbacks ------------------------------------------------------------------------------
    def _on_set(self, change) -> None:
        self.level_slider.disabled = not self.has_level(change["new"])
        self._guarded(self.update)

    def _on_change(self, change) -> None:
        self._guarded(self.update)

    # -- drawing --------------------------------------------------------------------------------
    def _numbers_html(self) -> str:
        r = self.results
        rows = []
        for k in self.metric_keys:
            spec = metric(k)
            value = format_value(k, r["values"].get(k, math.nan))
            if k in self.spread:
                s = self.spread[k]
                low, high = format_value(k, s.low), format_value(k, s.high)
                real = f"{format_value(k, s.mean)} ({low}–{high})"
            else:
                real = "—"
            score = r["worse_than_real"].get(k, math.nan)
            score_text = "—" if math.isnan(score) else f"{score:+.1f}"
            detected = r["detected"].get(k)
            mark = {True: "✔", False: "·", None: "—"}[detected]
            style = " style='background:#fff3c4;font-weight:bold'" if k == r["metric"] else ""
            arrow = "↓" if spec.better == "lower" else "↑"
            rows.append(
                f"<tr{style}><td>{html.escape(spec.label)} {arrow}</td><td>{value}</td>"
                f"<td>{real}</td><td>{score_text}</td>"
                f"<td style='text-align:center'>{mark}</td></tr>"
            )
        head = (
            "<tr><th>metric</th><th>this set</th><th>real: mean (range)</th>"
            "<th>worse than real</th><th>detected</th></tr>"
        )
        setting = html.escape(r["set"]) + (
            f", level {r['level']} (strength {bench.strength(r['set'], r['level']):g})"
            if r["level"] is not None
            else ""
        )
        return (
            f"<div><b>{setting}</b>"
            f"<table style='border-collapse:collapse'>{head}{''.join(rows)}</table>"
            f"<small>{r['n']} images against {len(self.evaluator.reference)} real images; ↓ lower "
            "is better, ↑ higher is better; 'worse than real' in spreads of the fresh real draws "
            f"(positive = worse); ✔ = beyond every real draw by more than their spread; "
            f"{r['seconds']:.2f} s</small></div>"
        )

    def _level_png(self, name: str, key: str) -> bytes:
        spec = metric(key)
        fig = Figure(figsize=(4.4, 2.6))
        fig.subplots_adjust(left=0.2, right=0.95, bottom=0.2, top=0.86)
        ax = fig.add_subplot()
        if key in self.spread:
            s = self.spread[key]
            ax.axhspan(s.low, s.high, color="0.85", label="real draws")
            ax.axhline(s.mean, color="0.5", lw=0.8)
        if self.has_level(name):
            points = {
                lvl: e.values[key]
                for (n, lvl), e in self._evaluations.items()
                if n == name and lvl is not None
            }
            xs = sorted(points)
            ax.plot(xs, [points[x] for x in xs], "o-", color="C0", label=name)
            ax.axvline(self.level_slider.value, color="0.6", lw=0.8)
        else:
            value = self._evaluations[self._key(name, 0)].values[key]
            ax.axhline(value, color="C3", ls="--", label=name)
        ax.set_xlim(-0.3, _LEVELS - 0.7)
        ax.set_xlabel("level")
        ax.set_ylabel(f"{spec.label} ({spec.better} is better)")
        ax.set_title(f"{spec.label}: levels seen so far", fontsize="small")
        ax.legend(fontsize=7, loc="best")
        return figure_png(fig)

    # -- display --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"ReportCardExplorer(set={self.set_dropdown.value!r}, level={self.level_slider.value}, "
            f"metric={self.metric_dropdown.value!r}, {len(self._evaluations)} evaluations kept)"
        )


def classroom_explorer(
    n_images: int = 500,
    *,
    n_held_out: int = 300,
    n_real_draws: int = 3,
    network: str = "shapes-cnn",
    seed: int = 0,
    device: str | torch.device = "auto",
) -> ReportCardExplorer:
    """The report-card explorer of notebook 09, built from scratch with smaller sets: the app a
    teacher serves to a class (``make app``).

    Shapes as the real data (a reference, a held-out labelled set for GAN-train, ``n_real_draws``
    fresh draws whose spread scales every metric), the bench degrading the first draw, the course
    DCGAN's samples as an extra set ("DCGAN"), and every metric computed when a set is first
    chosen. With the defaults it is ready in about half a minute on two CPU cores.
    """
    import warnings

    n_images = check_positive_int(n_images, "n_images", minimum=50)
    n_held_out = check_positive_int(n_held_out, "n_held_out", minimum=20)
    n_real_draws = check_positive_int(n_real_draws, "n_real_draws", minimum=2)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    device = resolve_device(device)
    reference = datasets.shapes(n_images, seed=seed + 100, device=device)
    held_out = datasets.shapes(n_held_out, seed=seed + 200, device=device)
    draws = [
        datasets.shapes(n_images, seed=seed + 1 + r, device=device) for r in range(n_real_draws)
    ]
    photos = datasets.photos(n_images, size=32, seed=seed, device=device)
    dcgan = generate(load_generator("shapes"), n_images, seed=seed, device=device)
    evaluator = Evaluator(
        reference,
        network,
        held_out=held_out,
        kid_subsets=10,
        swd_images=min(n_images, 200),
        ms_ssim_pairs=15,
        device=device,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # FID's small-N warning
        spread = real_spread([evaluator.evaluate(d, seed=r) for r, d in enumerate(draws)])
        return ReportCardExplorer(
            evaluator,
            draws[0],
            other=photos,
            extra={"DCGAN": dcgan},
            spread=spread,
            set_name="blur",
            metric_key="fid",
            level=2,
            seed=seed,
        )
