"""``MetricExplorer``: move a slider, watch IS, FID and KID respond.

The explorer holds a *reference* set (the real images FID compares against) and a *generator
source* (a second draw of the same data standing in for a perfect generator). A manipulation
from :mod:`lib.bench` turns the source into a worse "generator": a degradation of some strength
(noise, blur, swirl, rectangles, salt-and-pepper, replacing some images by another set's),
dropped classes, collapsed variety within each class, or one memorised image per class. Each
update looks at the result through one feature network and reports

- IS = exp(E_x KL(p(y|x) ‖ p(y))) from the network's logits (Salimans et al. 2016, §4), mean ±
  std over ``splits`` splits of the shuffled set;
- FID = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r^½ Σ_g Σ_r^½)^½) on the network's features
  (Heusel et al. 2017, eq. 6), against a :class:`~lib.metrics.FrechetReference` factored once;
- optionally KID, the unbiased MMD² with the cubic polynomial kernel averaged over random
  subsets (Bińkowski et al. 2018, §4).

The reference's features, logits and Fréchet factorisation are computed once at construction,
so an update only runs the network on the generated images (a few hundred, well under a second
on a laptop CPU).
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from typing import cast

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from lib import bench
from lib._checks import check_choice, check_images, check_positive_int
from lib.datasets import ImageSet
from lib.device import resolve_device
from lib.features import FeatureExtractor
from lib.features import get as get_network
from lib.metrics import FrechetReference, inception_score
from lib.metrics import kid as kernel_inception_distance
from lib.widgets._panel import Panel, figure_png, grid_png, selected

__all__ = ["MANIPULATIONS", "MetricExplorer"]

#: Everything the dropdown can offer: the degradations of :mod:`lib.bench`, then the three
#: ways of losing variety.
MANIPULATIONS: tuple[str, ...] = (
    *bench.DEGRADATIONS,
    "drop modes",
    "collapse within class",
    "memorise",
)
_NEEDS_LABELS = ("drop modes", "collapse within class")
# A fixed shuffle before the IS splits: manipulated sets may come back ordered by class, and
# contiguous splits of a class-sorted set would each see one class (IS ≈ 1 per split).
_IS_SHUFFLE_SEED = 2020
_KID_SUBSETS = 20
_KID_SUBSET_SIZE = 100
_MAX_SEED = 2**31 - 1
_CACHE_SIZE = 64  # settings whose numbers and shown samples are kept


def _check_image_set(value, name: str, max_images: int, *, min_images: int = 2) -> ImageSet:
    """The first ``max_images`` images of an ImageSet, validated (only those are used)."""
    if not isinstance(value, ImageSet):
        raise TypeError(
            f"{name}: expected a lib.datasets.ImageSet, got {type(value).__name__}; wrap a tensor "
            "of images as ImageSet(images, labels)"
        )
    value = value[:max_images]
    check_images(value.images, f"{name}.images")
    if len(value) < min_images:
        raise ValueError(f"{name}: needs at least {min_images} images, got {len(value)}")
    return value


def _check_int(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {value}")
    return value


class MetricExplorer(Panel):
    """An ipywidgets panel: pick a manipulation, move its slider, read IS / FID / KID.

    Args:
        real: the reference set (what FID and KID compare against; its IS is shown for scale).
        source: the "generator source", a second draw of the real data that the manipulations
            degrade. ``drop modes`` and ``collapse within class`` need its labels.
        network: a :mod:`lib.features` name (default ``"shapes-cnn"``) or a
            :class:`~lib.features.FeatureExtractor`; it must have a classifier head (IS needs
            logits).
        other: images of another data set for the ``mix`` degradation, which replaces a
            fraction of the generated images by them (an ImageSet or an N×C×H×W tensor, any
            size; resized by :func:`lib.bench.degrade`); without it ``mix`` is not offered.
        manipulation: the one selected at first (see :data:`MANIPULATIONS`).
        value: the slider's first value (default: the clean end of the manipulation's range).
        seed: seed of the manipulation's randomness (shown as an editable box).
        max_images: ``real``, ``source`` and ``other`` are cut to their first ``max_images``
            images so that an update stays fast.
        n_show: how many generated images the grid shows.
        splits: IS splits (each split needs a few dozen images to mean anything).
        kid: also compute KID (20 subsets of up to 100 images; cheap).
        device: where a network given by name runs (``"auto"``: CUDA when present).

    The slider means, for each manipulation:

    - a degradation: its level, 0 (clean) to ``len(bench.LEVELS[kind]) - 1``;
    - ``drop modes``: how many classes are kept (the first k classes present in the source,
      :func:`lib.bench.drop_modes`); the top of the range is the source itself;
    - ``collapse within class``: how many distinct images each class keeps
      (:func:`lib.bench.collapse_within_class`), up to the largest class, where the generated
      set is the source reshuffled;
    - ``memorise``: nothing to set, one image per class repeated (:func:`lib.bench.memorise`).

    Every manipulation acts on ``source`` and keeps its size.

    Changing the dropdown, the slider or the seed recomputes once (``observe`` callbacks);
    :meth:`update` recomputes by hand. ``results`` holds the last numbers as plain Python,
    ``history`` the numbers seen so far per manipulation (for the small plot), and ``widget``
    is the container to display (the explorer displays itself as the last value of a cell).
    """

    def __init__(
        self,
        real: ImageSet,
        source: ImageSet,
        network: str | FeatureExtractor = "shapes-cnn",
        *,
        other: ImageSet | torch.Tensor | None = None,
        manipulation: str = "blur",
        value: int | None = None,
        seed: int = 0,
        max_images: int = 500,
        n_show: int = 16,
        splits: int = 10,
        kid: bool = True,
        device: str | torch.device = "auto",
    ) -> None:
        max_images = check_positive_int(max_images, "max_images", minimum=2)
        self.real = _check_image_set(real, "real", max_images)
        self.source = _check_image_set(source, "source", max_images)
        self.n_show = check_positive_int(n_show, "n_show")
        self.splits = check_positive_int(splits, "splits")
        if self.splits > len(self.source):
            raise ValueError(
                f"splits: {self.splits} splits of {len(self.source)} generated images leave "
                f"empty splits; pass splits ≤ {len(self.source)} (or use more images)"
            )
        if not isinstance(kid, bool):
            raise TypeError(f"kid: expected True or False, got {type(kid).__name__}")
        self.with_kid = kid
        seed = _check_int(seed, "seed")
        if seed > _MAX_SEED:
            raise ValueError(f"seed: must be at most {_MAX_SEED}, got {seed}")
        self.other = self._check_other(other, max_images)
        self.network = self._resolve_network(network, device)

        self.options = tuple(
            m
            for m in MANIPULATIONS
            if not (m == "mix" and self.other is None)
            and not (m in _NEEDS_LABELS and self.source.labels is None)
        )
        if manipulation == "mix" and self.other is None:
            raise ValueError(
                "manipulation: 'mix' needs other=, images of another data set to put among "
                "the generated ones"
            )
        if manipulation in _NEEDS_LABELS and self.source.labels is None:
            raise ValueError(f"manipulation: {manipulation!r} needs a source set with labels")
        check_choice(manipulation, "manipulation", self.options)
        spec = self.slider_spec(manipulation)
        value = self._check_value(manipulation, spec["clean"] if value is None else value)

        # The reference is fixed: look at it once.
        taps = self._taps()
        out = self.network.extract(self.real.images, taps)
        self.real_features = out[taps[0]]
        self.real_logits = out[taps[1]]
        self.reference = FrechetReference.from_features(self.real_features)
        self.real_is = inception_score(
            self.real_logits,
            min(self.splits, len(self.real)),
            inputs="logits",
            shuffle=True,
            seed=_IS_SHUFFLE_SEED,
        )

        self.results: dict = {}
        self.history: dict[str, dict[int, dict]] = {}
        self.samples: torch.Tensor | None = None
        self._cache: dict[tuple[str, int, int], tuple[dict, torch.Tensor, list | None]] = {}
        self.error: str | None = None
        self._quiet = False  # set while the explorer itself moves its controls

        self.dropdown = widgets.Dropdown(
            options=list(self.options),
            value=manipulation,
            description="manipulation",
            style={"description_width": "initial"},
        )
        self.slider = widgets.IntSlider(
            value=value,
            min=spec["min"],
            max=spec["max"],
            description=spec["description"],
            disabled=spec["disabled"],
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.seed = widgets.BoundedIntText(
            value=seed, min=0, max=_MAX_SEED, description="seed", layout={"width": "9em"}
        )
        self.numbers = widgets.HTML()
        self.grid = widgets.Image(format="png")
        self.plot = widgets.Image(format="png")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.dropdown, self.slider, self.seed]),
                self.grid,
                widgets.HBox([self.numbers, self.plot]),
            ]
        )
        self.dropdown.observe(self._on_manipulation, names="value")
        self.slider.observe(self._on_value, names="value")
        self.seed.observe(self._on_seed, names="value")
        self.update()

    # -- set-up ---------------------------------------------------------------------------------
    def _check_other(self, other, max_images: int) -> torch.Tensor | None:
        if other is None:
            return None
        images = other.images if isinstance(other, ImageSet) else other
        if not isinstance(images, torch.Tensor):
            raise TypeError(
                f"other: expected an ImageSet or an N×C×H×W tensor, got {type(other).__name__}"
            )
        # Any size and 1 or 3 channels: lib.bench.degrade resizes and converts them.
        return check_images(images[:max_images], "other")

    @staticmethod
    def _resolve_network(network, device) -> FeatureExtractor:
        if isinstance(network, str):
            net = get_network(network, device=resolve_device(device))
        elif isinstance(network, FeatureExtractor):
            net = network.eval()
        else:
            raise TypeError(
                f"network: expected a lib.features name such as 'shapes-cnn' or a "
                f"FeatureExtractor, got {type(network).__name__}"
            )
        if net.logits_tap is None or net.num_classes is None:
            raise ValueError(
                f"network: {net.name!r} has no classifier head, and the Inception Score needs "
                "logits; use a classifier such as 'shapes-cnn' or 'digits-cnn'"
            )
        return net

    def slider_spec(self, manipulation: str) -> dict:
        """What the slider means for ``manipulation``: description, min, max, clean value."""
        check_choice(manipulation, "manipulation", self.options)
        if manipulation in bench.DEGRADATIONS:
            top = len(bench.LEVELS[manipulation]) - 1
            return dict(description="level", min=0, max=top, clean=0, disabled=False)
        if manipulation == "drop modes":
            k = len(self._classes())
            return dict(description="modes kept", min=1, max=k, clean=k, disabled=False)
        if manipulation == "collapse within class":
            most = int(torch.bincount(self._source_labels().cpu()).max())
            return dict(
                description="distinct per class", min=1, max=most, clean=most, disabled=False
            )
        return dict(description="(no setting)", min=0, max=0, clean=0, disabled=True)

    def _check_value(self, manipulation: str, value) -> int:
        spec = self.slider_spec(manipulation)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"value: expected an integer, got {type(value).__name__}")
        if not spec["min"] <= value <= spec["max"]:
            raise ValueError(
                f"value: {value} is out of range for {manipulation!r} "
                f"({spec['description']} {spec['min']}..{spec['max']})"
            )
        return value

    def _classes(self) -> list[int]:
        return torch.unique(self._source_labels().cpu()).tolist()

    def _source_labels(self) -> torch.Tensor:
        # Only the manipulations of _NEEDS_LABELS ask, and they are offered for labelled sources.
        return cast(torch.Tensor, self.source.labels)

    def _taps(self) -> tuple[str, str]:
        # _resolve_network refuses a network without logits.
        return self.network.default_tap, cast(str, self.network.logits_tap)

    # -- the computation -----------------------------------------------------------------------
    def generate(self, manipulation: str, value: int, seed: int = 0) -> ImageSet:
        """The manipulated "generator output" for one dropdown / slider / seed setting."""
        value = self._check_value(manipulation, value)
        seed = _check_int(seed, "seed")
        src, n = self.source, len(self.source)
        if manipulation in bench.DEGRADATIONS:
            other = self.other if manipulation == "mix" else None
            images = bench.degrade(src.images, manipulation, value, seed=seed, other=other)
            # Mixed-in images are not of the source's classes, so the labels no longer hold.
            labels = None if manipulation == "mix" else src.labels
            return ImageSet(images, labels, src.class_names, f"{src.name} {manipulation}")
        if manipulation == "drop modes":
            return bench.drop_modes(src, self._classes()[:value], n, seed=seed)
        if manipulation == "collapse within class":
            return bench.collapse_within_class(src, value, n, seed=seed)
        return bench.memorise(src, n, seed=seed)

    def compute(self, manipulation: str, value: int, seed: int = 0) -> tuple[dict, ImageSet]:
        """Numbers for one setting, without touching the widgets: ``(results, generated set)``."""
        start = time.perf_counter()
        fake = self.generate(manipulation, value, seed)
        taps = self._taps()
        out = self.network.extract(fake.images, taps)
        features, logits = out[taps[0]], out[taps[1]]
        is_mean, is_std = inception_score(
            logits, self.splits, inputs="logits", shuffle=True, seed=_IS_SHUFFLE_SEED
        )
        results = {
            "manipulation": manipulation,
            "parameter": self.slider_spec(manipulation)["description"],
            "value": value,
            "strength": (
                float(bench.LEVELS[manipulation][value])
                if manipulation in bench.DEGRADATIONS
                else None
            ),
            "seed": seed,
            "n_real": len(self.real),
            "n_generated": len(fake),
            "network": self.network.name,
            "is": is_mean,
            "is_std": is_std,
            "real_is": self.real_is[0],
            "real_is_std": self.real_is[1],
            "fid": self.reference.fid(features),
        }
        if self.with_kid:
            m = min(_KID_SUBSET_SIZE, len(self.real), len(fake))
            results["kid"], results["kid_std"] = kernel_inception_distance(
                self.real_features, features, subsets=_KID_SUBSETS, subset_size=m, seed=seed
            )
        results["seconds"] = time.perf_counter() - start
        return results, fake

    def update(self) -> dict:
        """Recompute for the current controls, redraw, and return :attr:`results`.

        Results are deterministic given (manipulation, value, seed), so the last settings are
        kept and moving the slider back to one redraws without recomputing.
        """
        manipulation, value = selected(self.dropdown), self.slider.value
        results, samples, labels = self._cached(manipulation, value, self.seed.value)
        self.results = dict(results)
        self.error = None
        self.samples = samples
        self.grid.value = grid_png(samples, labels)
        self.plot.value = self._history_png(manipulation)
        self.numbers.value = self._numbers_html(results)
        return dict(results)

    def sweep(
        self, manipulation: str, values: Iterable[int] | None = None, seed: int | None = None
    ) -> list[dict]:
        """Results over the slider's whole range (or ``values``), for a table or a static figure.

        The widgets are left as they are; with the current seed the numbers also go into
        :attr:`history` (and so into the plot at the next update).
        """
        spec = self.slider_spec(manipulation)
        values = range(spec["min"], spec["max"] + 1) if values is None else values
        seed = self.seed.value if seed is None else seed
        return [dict(self._cached(manipulation, value, seed)[0]) for value in values]

    def _cached(self, manipulation: str, value: int, seed: int):
        """(results, shown samples, their labels) for one setting, computed at most once."""
        key = (manipulation, value, seed)
        if key not in self._cache:
            results, fake = self.compute(manipulation, value, seed)
            samples = fake.images[: self.n_show].detach().cpu()
            labels = None
            if fake.labels is not None and fake.class_names:
                labels = [fake.class_names[int(i)] for i in fake.labels[: self.n_show]]
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (results, samples, labels)
        results, samples, labels = self._cache[key]
        if seed == self.seed.value:
            self.history.setdefault(manipulation, {})[value] = {
                k: results[k] for k in ("is", "is_std", "fid", "kid") if k in results
            }
        return results, samples, labels

    # -- callbacks -----------------------------------------------------------------------------
    def _on_manipulation(self, change) -> None:
        if self._quiet:
            return
        spec = self.slider_spec(change["new"])
        self._quiet = True
        try:
            # Held so min/max/value are validated together (a new min may exceed the old max);
            # the slider's own notifications fire on exit while _quiet is still set.
            with self.slider.hold_trait_notifications():
                self.slider.min = spec["min"]
                self.slider.max = spec["max"]
                self.slider.value = spec["clean"]
                self.slider.description = spec["description"]
                self.slider.disabled = spec["disabled"]
        finally:
            self._quiet = False
        self._guarded(self.update)

    def _on_value(self, change) -> None:
        if not self._quiet:
            self._guarded(self.update)

    def _on_seed(self, change) -> None:
        if self._quiet:
            return
        self.history.clear()  # the curves belong to one seed
        self._guarded(self.update)

    # -- drawing -------------------------------------------------------------------------------
    def _history_png(self, manipulation: str) -> bytes:
        points = self.history.get(manipulation, {})
        xs = sorted(points)
        fig = Figure(figsize=(4.2, 2.4))
        # Fixed margins: a layout engine would re-measure every label at each redraw.
        fig.subplots_adjust(left=0.16, right=0.84, bottom=0.2, top=0.88)
        ax = fig.add_subplot()
        ax.plot(xs, [points[x]["fid"] for x in xs], "o-", color="C0", label="FID")
        ax.set_xlabel(self.slider_spec(manipulation)["description"])
        ax.set_ylabel("FID", color="C0")
        twin = ax.twinx()
        twin.plot(xs, [points[x]["is"] for x in xs], "s--", color="C1", label="IS")
        twin.set_ylabel("IS", color="C1")
        twin.grid(False)
        if self.slider.value in points:
            ax.axvline(self.slider.value, color="0.6", lw=0.8)
        ax.set_title(f"{manipulation}: points seen so far", fontsize="small")
        return figure_png(fig)

    def _numbers_html(self, r: dict) -> str:
        rows = [
            ("IS", f"{r['is']:.3f} ± {r['is_std']:.3f}"),
            ("IS of the real set", f"{r['real_is']:.3f} ± {r['real_is_std']:.3f}"),
            ("FID", f"{r['fid']:.3f}"),
        ]
        if "kid" in r:
            rows.append(("KID", f"{r['kid']:.4f} ± {r['kid_std']:.4f}"))
        setting = f"{r['parameter']} = {r['value']}"
        if r["strength"] is not None:
            setting += f" (strength {r['strength']:g})"
        cells = "".join(
            f"<tr><td style='padding-right:1em'>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows
        )
        return (
            f"<div><b>{html.escape(r['manipulation'])}</b>, {html.escape(setting)}<br>"
            f"<table>{cells}</table>"
            f"<small>{r['n_generated']} generated vs {r['n_real']} real images through "
            f"{html.escape(r['network'])}; {r['seconds']:.2f} s</small></div>"
        )

    # -- display -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"MetricExplorer({self.dropdown.value!r}, {self.slider.description}="
            f"{self.slider.value}, real={len(self.real)}, generated={len(self.source)}, "
            f"network={self.network.name!r})"
        )
