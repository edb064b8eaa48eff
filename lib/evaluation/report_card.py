"""The report card: every metric of the course on one bench of image sets, scored on the deck's
four criteria (faithful and diverse; human-readable features; sensitive to distortions and
attacks; cheap to compute).

==============================  ================================================================
:data:`METRICS`                 what is measured: direction, what it looks at, whether a person
                                can read it (and why)
:class:`Evaluator`              every metric of one image set against a fixed real reference,
                                with the seconds each took
:func:`report_card`             :meth:`Evaluator.evaluate` over a dict of image sets
:func:`bench_set`               one set of :func:`lib.bench.bench_sets` by name, at any level
:func:`fgsm`                    an adversarial copy of a set (one signed-gradient step)
:class:`LinearProbe`            the tiny classifier behind the cheap GAN-train / GAN-test
:func:`real_spread`             a metric's seed-to-seed spread over fresh draws of real data
:func:`worse_than_real`         every metric on one scale: how much worse than real, in spreads
:func:`separation`              how far beyond every fresh real draw a set lies, in spreads
:func:`detection`               which bench sets a metric separates from real data
:func:`distortion_trend`        does a metric worsen monotonically as a distortion grows
:func:`cost_per_set`            seconds per set, measured in the run
==============================  ================================================================

The metrics are those of :mod:`lib.metrics`: IS and modified IS from a classifier's logits; FID,
KID, precision/recall and density/coverage on its features; the Laplacian-pyramid SWD on image
patches; the mean MS-SSIM of pairs of images of one class (Odena et al. 2017) as a diversity
probe; the conditional label accuracy (does the classifier see the class the image was made
for); and GAN-train / GAN-test (Shmelkov et al. 2018) with a *linear probe* on the network's
features instead of a CNN trained from scratch, which keeps them to milliseconds (the full
protocol is :func:`lib.metrics.gan_train_test`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from lib import bench
from lib._checks import check_choice, check_positive_int
from lib.bench import bench_set, bench_set_names
from lib.datasets import ImageSet
from lib.datasets.base import check_image_set
from lib.device import resolve_device
from lib.features import FeatureExtractor
from lib.features import get as get_network
from lib.metrics import (
    FrechetReference,
    density_coverage,
    inception_score,
    kid,
    modified_inception_score,
    precision_recall,
    swd,
)
from lib.metrics.classifier_tests import GanTrainTest
from lib.metrics.diversity import ms_ssim_diversity, scale_weights

__all__ = [
    "DIVERSITY_SETS",
    "FIDELITY_SETS",
    "INTERPRETABILITY",
    "METRICS",
    "Evaluation",
    "Evaluator",
    "LinearProbe",
    "MetricSpec",
    "Spread",
    "bench_set",
    "bench_set_names",
    "cost_per_set",
    "detection",
    "distortion_trend",
    "fgsm",
    "format_value",
    "metric",
    "real_spread",
    "report_card",
    "separation",
    "worse_than_real",
]

#: How readable a metric's number is, as a score for the criteria table.
INTERPRETABILITY: dict[str, float] = {"yes": 1.0, "partly": 0.5, "no": 0.0}


@dataclass(frozen=True)
class MetricSpec:
    """One column of the report card.

    ``better`` is ``"higher"`` or ``"lower"`` (the direction its authors read it in);
    ``looks_at`` says what it is meant to measure (``"fidelity"``, ``"diversity"`` or
    ``"both"``); ``needs`` what it is computed from (``"logits"``, ``"features"``, ``"pixels"``,
    ``"labels"``); ``interpretable`` is ``"yes"``, ``"partly"`` or ``"no"`` with ``reason``
    saying why; ``fmt`` formats a value for a table.
    """

    key: str
    label: str
    better: str
    looks_at: str
    needs: str
    interpretable: str
    reason: str
    fmt: str = "{:.3g}"

    @property
    def sign(self) -> float:
        """+1 when a larger value is worse (distances), −1 when a larger value is better."""
        return 1.0 if self.better == "lower" else -1.0


#: Every metric of the card, in column order.
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        key="is",
        label="IS",
        better="higher",
        looks_at="both",
        needs="logits",
        interpretable="partly",
        reason=(
            "exp(H(y) − E H(y|x)): class coverage and confidence, but only in the classifier's "
            "classes, and never compared with real images"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="mis",
        label="m-IS",
        better="higher",
        looks_at="diversity",
        needs="logits",
        interpretable="partly",
        reason=(
            "like IS, with the KL between two images' predictions of one class: readable as "
            "'how differently the classifier sees two images of a class'"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="fid",
        label="FID",
        better="lower",
        looks_at="both",
        needs="features",
        interpretable="no",
        reason=(
            "a squared distance between Gaussians in feature units: its scale depends on the "
            "network and on N, and one number mixes fidelity and diversity"
        ),
        fmt="{:.3g}",
    ),
    MetricSpec(
        key="kid",
        label="KID",
        better="lower",
        looks_at="both",
        needs="features",
        interpretable="no",
        reason=(
            "MMD² in a cubic-kernel space: unbiased (can be < 0), but in no unit a person knows"
        ),
        fmt="{:.2g}",
    ),
    MetricSpec(
        key="swd",
        label="SWD",
        better="lower",
        looks_at="both",
        needs="pixels",
        interpretable="partly",
        reason=(
            "distances between distributions of 7×7 patches at each pyramid scale: no network, "
            "per-scale numbers say 'wrong texture' or 'wrong layout', but ×10³ normalised units"
        ),
        fmt="{:.3g}",
    ),
    MetricSpec(
        key="precision",
        label="precision",
        better="higher",
        looks_at="fidelity",
        needs="features",
        interpretable="yes",
        reason="the share of generated images inside the real data's k-NN manifold",
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="recall",
        label="recall",
        better="higher",
        looks_at="diversity",
        needs="features",
        interpretable="yes",
        reason="the share of real images inside the generated images' k-NN manifold",
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="density",
        label="density",
        better="higher",
        looks_at="fidelity",
        needs="features",
        interpretable="partly",
        reason=(
            "how many real neighbourhoods hold each generated image, ≈ 1 for real data; above 1 "
            "when images crowd into dense regions, so 'higher' is not always better"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="coverage",
        label="coverage",
        better="higher",
        looks_at="diversity",
        needs="features",
        interpretable="yes",
        reason="the share of real neighbourhoods that hold at least one generated image",
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="ms_ssim",
        label="MS-SSIM",
        better="lower",
        looks_at="diversity",
        needs="pixels",
        interpretable="yes",
        reason=(
            "the mean similarity of two images of one class (1 = copies), in pixels; blind to "
            "classes that are missing"
        ),
        fmt="{:.3f}",
    ),
    MetricSpec(
        key="label_acc",
        label="label acc.",
        better="higher",
        looks_at="fidelity",
        needs="labels",
        interpretable="yes",
        reason=(
            "the share of images the course classifier assigns to the class they were made for"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="gan_train",
        label="GAN-train",
        better="higher",
        looks_at="diversity",
        needs="labels",
        interpretable="yes",
        reason=(
            "accuracy on real images of a classifier trained on the generated ones; read against "
            "real→real"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="gan_test",
        label="GAN-test",
        better="higher",
        looks_at="fidelity",
        needs="labels",
        interpretable="yes",
        reason="accuracy on the generated images of a classifier trained on real ones",
        fmt="{:.2f}",
    ),
)
_BY_KEY = {m.key: m for m in METRICS}

#: The bench sets of :func:`lib.bench.bench_sets` that lose fidelity (pixel-level damage) and
#: those that lose diversity (for a 10-class set).
FIDELITY_SETS: tuple[str, ...] = bench.DEGRADATIONS
DIVERSITY_SETS: tuple[str, ...] = ("drop 5 of 10 modes", "2 per class", "memorised (1 per class)")


def metric(key: str) -> MetricSpec:
    """The :class:`MetricSpec` of ``key`` (e.g. ``"fid"``)."""
    if not isinstance(key, str):
        raise TypeError(f"metric: expected a metric key such as 'fid', got {type(key).__name__}")
    return _BY_KEY[check_choice(key, "metric", tuple(_BY_KEY))]


def format_value(key: str, value: float) -> str:
    """``value`` of metric ``key`` formatted for a table; ``"—"`` where it is not defined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return metric(key).fmt.format(value)


# ----------------------------------------------------------------------------------- checks
def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed: must be non-negative, got {seed}")
    return int(seed)


def _check_set(value, name: str) -> ImageSet:
    return check_image_set(value, name)


def _check_labels(s: ImageSet, num_classes: int, name: str) -> torch.Tensor | None:
    if s.labels is None:
        return None
    labels = s.labels
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"{name}.labels: expected integer class labels, got dtype {labels.dtype}")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"{name}.labels: must lie in 0..{num_classes - 1} (the classes of the reference), "
            f"got {int(labels.min())}..{int(labels.max())}"
        )
    return labels.long()


def fgsm(network: FeatureExtractor, image_set: ImageSet, epsilon: float = 2 / 255) -> ImageSet:
    """An adversarial copy of ``image_set``: one fast-gradient-sign step (Goodfellow et al. 2015)

        x_adv = clip(x + ε · sign(∇_x CE(logits(x), y)), 0, 1),

    against ``network``'s classifier head, with y the set's labels (its predicted classes when
    it has none). Every pixel moves by at most ε (2/255: two grey levels); the labels are kept.
    """
    image_set = _check_set(image_set, "image_set")
    if not isinstance(network, FeatureExtractor) or network.logits_tap is None:
        raise TypeError("network: expected a lib.features classifier (with a logits tap)")
    if isinstance(epsilon, bool) or not isinstance(epsilon, Real):
        raise TypeError(f"epsilon: expected a number, got {type(epsilon).__name__}")
    if not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"epsilon: must lie in [0, 1] (image units), got {epsilon}")
    device = network.device
    labels = image_set.labels
    if labels is None:
        labels = network.logits(image_set.images).argmax(1)
    was_training = network.training
    network.eval()
    out = []
    try:
        for start in range(0, len(image_set), 256):
            x = image_set.images[start : start + 256].to(device).float().requires_grad_(True)
            y = labels[start : start + 256].to(device).long()
            logits = network._run(x, (network.logits_tap,))[network.logits_tap]
            (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x)
            out.append((x + float(epsilon) * grad.sign()).clamp(0, 1).detach())
    finally:
        network.train(was_training)
    images = torch.cat(out).to(device=image_set.images.device, dtype=image_set.images.dtype)
    info = {"source": image_set.name, "attack": "fgsm", "epsilon": float(epsilon)}
    return ImageSet(images, image_set.labels, image_set.class_names, f"{image_set.name} fgsm", info)


# ------------------------------------------------------------------------ the tiny classifier
class LinearProbe:
    """A linear classifier fitted in closed form: the tiny classifier of the cheap GAN-train /
    GAN-test.

    With z = (x − m) / s (m, s the training features' mean and standard deviation, per
    column) and Y the N×C one-hot labels, the least-squares (ridge) fit

        W = (ZᵀZ + λ N I)⁻¹ Zᵀ (Y − ȳ),    b = ȳ,

    predicts the class argmax_c (W z + b)_c. One symmetric linear solve in float64: no
    iterations, no seed, milliseconds. Shmelkov et al. (2018) train a full CNN on the images;
    a linear classifier on a fixed network's features is their test with the representation
    held fixed (:func:`lib.metrics.gan_train_test` trains the CNN).
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        num_classes: int,
        *,
        l2: float = 1e-3,
    ) -> None:
        x = _check_matrix(features, "features")
        num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        if isinstance(l2, bool) or not isinstance(l2, Real) or not 0 < float(l2) < math.inf:
            raise ValueError(f"l2: expected a positive number, got {l2!r}")
        y = torch.as_tensor(labels).to(x.device)
        if y.shape != (x.shape[0],) or y.dtype.is_floating_point or y.dtype == torch.bool:
            raise ValueError(
                f"labels: expected {x.shape[0]} integer labels, got shape {tuple(y.shape)} and "
                f"dtype {y.dtype}"
            )
        y = y.long()
        if int(y.min()) < 0 or int(y.max()) >= num_classes:
            raise ValueError(f"labels: must lie in 0..{num_classes - 1}")
        n, d = x.shape
        self.num_classes = num_classes
        self.mean = x.mean(0)
        self.scale = x.std(0, correction=0).clamp_min(1e-8)
        z = (x - self.mean) / self.scale
        onehot = F.one_hot(y, num_classes).double()
        self.bias = onehot.mean(0)
        gram = z.T @ z + float(l2) * n * torch.eye(d, dtype=z.dtype, device=z.device)
        self.weight = torch.linalg.solve(gram, z.T @ (onehot - self.bias))

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """The predicted class of every row of ``features``."""
        x = _check_matrix(features, "features")
        if x.shape[1] != self.weight.shape[0]:
            raise ValueError(f"features: expected {self.weight.shape[0]} columns, got {x.shape[1]}")
        z = (x.to(self.mean.device) - self.mean) / self.scale
        return (z @ self.weight + self.bias).argmax(1)

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        """Share of rows whose predicted class is the label."""
        predicted = self.predict(features)
        return float((predicted == torch.as_tensor(labels).to(predicted.device)).double().mean())


def _check_matrix(value, name: str) -> torch.Tensor:
    x = torch.as_tensor(value)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{name}: expected an N×D matrix, got shape {tuple(x.shape)}")
    if not x.is_floating_point() or not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name}: expected finite floating-point values")
    return x.detach().double()


# ---------------------------------------------------------------------------- the evaluator
class Evaluation(NamedTuple):
    """What :meth:`Evaluator.evaluate` returns: ``values`` ``{metric key: value}`` (NaN where a
    metric is not defined for the set, e.g. label accuracy without labels) and ``seconds``
    ``{metric key: wall time}`` plus ``"features"``, the shared network pass; ``n`` images."""

    values: dict[str, float]
    seconds: dict[str, float]
    n: int


class Evaluator:
    """Every metric of :data:`METRICS` of an image set against one real reference set.

    Args:
        reference: the real images every set is compared with (labelled for GAN-test).
        network: a :mod:`lib.features` classifier (name or module); its logits give IS, m-IS
            and the label accuracy, its default tap the features of FID, KID, precision/recall,
            density/coverage and the GAN-train / GAN-test probes.
        held_out: labelled real images never compared with anything — the test set of
            GAN-train (without it GAN-train and GAN-test are left out).
        splits: IS splits (of the set, shuffled with the evaluation's seed).
        kid_subsets, kid_subset_size: KID's random subsets (size capped at the sets' sizes).
        swd_images, swd_patches, swd_repeats, swd_projections: SWD on the first
            ``swd_images`` images of each set, ``swd_patches`` 7×7 patches per image and level,
            ``swd_repeats`` × ``swd_projections`` directions (the protocol: 16,384 images,
            128 patches, 4 × 128).
        k_pr, k_dc: neighbourhood sizes of precision/recall (3) and density/coverage (5).
        ms_ssim_pairs: pairs of images per class for the MS-SSIM diversity (three scales and a
            7-px window, for 32-px images).
        device: where the network and the statistics run.

    The reference's features, logits, Fréchet factorisation and GAN-test probe are computed
    once, at construction.
    """

    def __init__(
        self,
        reference: ImageSet,
        network: str | FeatureExtractor = "shapes-cnn",
        *,
        held_out: ImageSet | None = None,
        splits: int = 10,
        kid_subsets: int = 20,
        kid_subset_size: int = 500,
        swd_images: int = 250,
        swd_patches: int = 32,
        swd_repeats: int = 1,
        swd_projections: int = 128,
        k_pr: int = 3,
        k_dc: int = 5,
        ms_ssim_pairs: int = 30,
        device: str | torch.device = "auto",
    ) -> None:
        self.reference = _check_set(reference, "reference")
        self.device = resolve_device(device)
        if isinstance(network, str):
            network = get_network(network, device=self.device)
        if not isinstance(network, FeatureExtractor):
            raise TypeError(
                f"network: expected a lib.features name or FeatureExtractor, got "
                f"{type(network).__name__}"
            )
        if network.logits_tap is None or network.num_classes is None:
            raise ValueError(f"network: {network.name!r} has no classifier head (IS needs one)")
        self.network = network.eval()
        self.num_classes = int(network.num_classes)
        self.splits = check_positive_int(splits, "splits")
        self.kid_subsets = check_positive_int(kid_subsets, "kid_subsets")
        self.kid_subset_size = check_positive_int(kid_subset_size, "kid_subset_size", minimum=2)
        self.swd_images = check_positive_int(swd_images, "swd_images", minimum=2)
        self.swd_patches = check_positive_int(swd_patches, "swd_patches")
        self.swd_repeats = check_positive_int(swd_repeats, "swd_repeats")
        self.swd_projections = check_positive_int(swd_projections, "swd_projections")
        self.k_pr = check_positive_int(k_pr, "k_pr")
        self.k_dc = check_positive_int(k_dc, "k_dc")
        self.ms_ssim_pairs = check_positive_int(ms_ssim_pairs, "ms_ssim_pairs")
        if len(self.reference) <= max(self.k_pr, self.k_dc, self.splits):
            raise ValueError(
                f"reference: {len(self.reference)} images are too few for k = "
                f"{max(self.k_pr, self.k_dc)} neighbours and {self.splits} splits"
            )
        ref_labels = _check_labels(self.reference, self.num_classes, "reference")

        self.reference_features, self.reference_logits = self._look(self.reference.images)
        self.frechet = FrechetReference.from_features(self.reference_features)
        self.held_out = None
        self.real_probe = None
        self.real_to_real = math.nan
        if held_out is not None:
            held_out = _check_set(held_out, "held_out")
            held_labels = _check_labels(held_out, self.num_classes, "held_out")
            if held_labels is None or ref_labels is None:
                raise ValueError(
                    "held_out: GAN-train / GAN-test need labelled reference and held-out sets"
                )
            self.held_out = held_out
            self.held_out_features, _ = self._look(held_out.images)
            self.held_out_labels = held_labels.to(self.held_out_features.device)
            self.real_probe = LinearProbe(
                self.reference_features,
                ref_labels.to(self.reference_features.device),
                self.num_classes,
            )
            self.real_to_real = self.real_probe.accuracy(
                self.held_out_features, self.held_out_labels
            )

    @property
    def metrics(self) -> tuple[MetricSpec, ...]:
        """The metrics this evaluator computes (GAN-train / GAN-test need ``held_out``)."""
        skip = () if self.held_out is not None else ("gan_train", "gan_test")
        return tuple(m for m in METRICS if m.key not in skip)

    def _look(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        taps = (self.network.default_tap, self.network.logits_tap)
        out = self.network.extract(images, taps)
        return out[taps[0]].double(), out[taps[1]].double()

    def evaluate(self, image_set: ImageSet, *, seed: int = 0) -> Evaluation:
        """Every metric of ``image_set`` against the reference, and the seconds each took.

        ``seed`` sets every random choice of the metrics (IS's shuffle before the splits, KID's
        subsets, SWD's patches and directions, the MS-SSIM pairs), so a fresh draw of real data
        evaluated with another seed shows the whole seed-to-seed spread. Label-based metrics
        are NaN for a set without labels; MS-SSIM pairs are then drawn within the classes the
        network predicts.
        """
        s = _check_set(image_set, "image_set")
        seed = _check_seed(seed)
        if s.images.shape[1:] != self.reference.images.shape[1:]:
            raise ValueError(
                f"image_set: images are {tuple(s.images.shape[1:])}, the reference's are "
                f"{tuple(self.reference.images.shape[1:])}"
            )
        n = len(s)
        if n <= max(self.k_pr, self.splits) or n < 4:
            raise ValueError(
                f"image_set: {n} images are too few for k = {self.k_pr} neighbours and "
                f"{self.splits} IS splits"
            )
        labels = _check_labels(s, self.num_classes, "image_set")
        values: dict[str, float] = {}
        seconds: dict[str, float] = {}
        nan = math.nan

        def timed(keys: Sequence[str], fn):
            start = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - start
            for k in keys:
                seconds[k] = elapsed
            return result

        feats, logits = timed(("features",), lambda: self._look(s.images))
        ref = self.reference_features
        values["is"] = timed(
            ("is",),
            lambda: inception_score(
                logits, min(self.splits, n), inputs="logits", shuffle=True, seed=seed
            )[0],
        )
        values["mis"] = timed(
            ("mis",), lambda: modified_inception_score(logits, inputs="logits")[0]
        )
        values["fid"] = timed(("fid",), lambda: self.frechet.fid(feats))
        m = min(self.kid_subset_size, len(ref), n)
        values["kid"] = timed(
            ("kid",), lambda: kid(ref, feats, subsets=self.kid_subsets, subset_size=m, seed=seed)[0]
        )
        values["swd"] = timed(
            ("swd",),
            lambda: (
                swd(
                    self.reference.images[: self.swd_images].to(s.images.device),
                    s.images[: self.swd_images],
                    n_patches=self.swd_patches,
                    n_repeats=self.swd_repeats,
                    n_projections=self.swd_projections,
                    seed=seed,
                ).mean
            ),
        )
        values["precision"], values["recall"] = timed(
            ("precision", "recall"), lambda: precision_recall(ref, feats, k=self.k_pr)
        )
        values["density"], values["coverage"] = timed(
            ("density", "coverage"), lambda: density_coverage(ref, feats, k=self.k_dc)
        )
        pair_labels = labels if labels is not None else logits.argmax(1)
        values["ms_ssim"] = timed(
            ("ms_ssim",),
            lambda: (
                ms_ssim_diversity(
                    s.images,
                    pair_labels.cpu(),
                    n_pairs=self.ms_ssim_pairs,
                    seed=seed,
                    weights=scale_weights(3),
                    win_size=7,
                ).mean
            ),
        )
        if labels is None:
            values["label_acc"] = nan
        else:
            values["label_acc"] = timed(
                ("label_acc",),
                lambda: float((logits.argmax(1) == labels.to(logits.device)).double().mean()),
            )
        if self.held_out is not None:
            if labels is None:
                values["gan_train"] = values["gan_test"] = nan
            else:
                values["gan_train"], values["gan_test"] = timed(
                    ("gan_train", "gan_test"), lambda: self._gan_train_test(feats, labels)
                )
        return Evaluation(values, seconds, n)

    def _gan_train_test(self, feats: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        labels = labels.to(feats.device)
        probe = LinearProbe(feats, labels, self.num_classes)
        gan_train = probe.accuracy(self.held_out_features, self.held_out_labels)
        gan_test = self.real_probe.accuracy(feats, labels)
        return gan_train, gan_test

    def gan_train_test(self, image_set: ImageSet) -> GanTrainTest:
        """GAN-train, GAN-test and real→real with the linear probes (labelled sets only)."""
        s = _check_set(image_set, "image_set")
        if self.held_out is None:
            raise ValueError("GAN-train / GAN-test need an Evaluator built with held_out=")
        labels = _check_labels(s, self.num_classes, "image_set")
        if labels is None:
            raise ValueError("image_set: GAN-train / GAN-test need labelled images")
        feats, _ = self._look(s.images)
        return GanTrainTest(*self._gan_train_test(feats, labels), self.real_to_real)

    def __repr__(self) -> str:
        return (
            f"Evaluator(reference={len(self.reference)} images, network={self.network.name!r}, "
            f"{len(self.metrics)} metrics)"
        )


def report_card(
    sets: Mapping[str, ImageSet], evaluator: Evaluator, *, seed: int = 0
) -> dict[str, Evaluation]:
    """Every metric on every set: ``{set name: evaluator.evaluate(set, seed=seed)}``."""
    if not isinstance(evaluator, Evaluator):
        raise TypeError(f"evaluator: expected an Evaluator, got {type(evaluator).__name__}")
    if not isinstance(sets, Mapping) or not sets:
        raise TypeError("sets: expected a non-empty dict {name: ImageSet}")
    return {name: evaluator.evaluate(s, seed=seed) for name, s in sets.items()}


# -------------------------------------------------------------------------------- scoring
def _values(item) -> Mapping[str, float]:
    return item.values if isinstance(item, Evaluation) else item


@dataclass(frozen=True)
class Spread:
    """A metric over fresh draws of real data: their ``mean``, ``low`` and ``high`` values and
    the ``spread`` = high − low (the seed-to-seed range), from ``n`` draws."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def spread(self) -> float:
        return self.high - self.low


def real_spread(draws: Sequence[Evaluation | Mapping[str, float]]) -> dict[str, Spread]:
    """Mean and range of every metric over evaluations of fresh draws of *real* data (each with
    its own data seed and metric seed): the scale on which a bench set must differ to count."""
    if isinstance(draws, Mapping) or not isinstance(draws, Sequence) or len(draws) < 2:
        raise ValueError("draws: need a list of at least two evaluations of fresh real draws")
    rows = [_values(d) for d in draws]
    out = {}
    for key in rows[0]:
        v = np.array([float(r[key]) for r in rows], dtype=float)
        if np.isnan(v).any():
            continue
        out[key] = Spread(float(v.mean()), float(v.min()), float(v.max()), len(v))
    return out


def worse_than_real(
    values: Evaluation | Mapping[str, float], spread: Mapping[str, Spread]
) -> dict[str, float]:
    """Every metric on one scale: how much worse than real data a set is, in real spreads.

        score = sign · (value − mean_real) / spread_real,

    sign = +1 for metrics where lower is better (distances), −1 where higher is better, so a
    positive score always means "worse than real" and 1 means "worse by the whole seed-to-seed
    range of the fresh draws". A spread of 0 is replaced by 10⁻⁹·(1 + |mean|). NaN where the
    metric is not defined for the set.
    """
    values = _values(values)
    out = {}
    for key, value in values.items():
        if key not in spread or key not in _BY_KEY:
            continue
        s = spread[key]
        width = s.spread if s.spread > 0 else 1e-9 * (1 + abs(s.mean))
        out[key] = _BY_KEY[key].sign * (float(value) - s.mean) / width
    return out


def separation(
    values: Evaluation | Mapping[str, float], spread: Mapping[str, Spread]
) -> dict[str, float]:
    """How far a set lies beyond *every* fresh draw of real data, in real spreads.

        separation = sign · (value − worst_real) / spread_real,

    with worst_real the fresh draw that scored worst (the highest value of a distance, the
    lowest of a score) and sign as in :func:`worse_than_real`. Above 1: the set is worse than
    the worst real draw by more than the real draws differ among themselves — the metric
    *detects* it. NaN where the metric is not defined for the set.
    """
    values = _values(values)
    out = {}
    for key, value in values.items():
        if key not in spread or key not in _BY_KEY:
            continue
        s, sign = spread[key], _BY_KEY[key].sign
        worst = s.high if sign > 0 else s.low
        width = s.spread if s.spread > 0 else 1e-9 * (1 + abs(s.mean))
        out[key] = sign * (float(value) - worst) / width
    return out


def detection(
    separations: Mapping[str, Mapping[str, float]],
    sets: Iterable[str],
    *,
    threshold: float = 1.0,
) -> dict[str, tuple[int, int]]:
    """For each metric, how many of ``sets`` it separates from real data: ``{metric: (detected,
    defined)}``. ``separations`` is ``{set: separation(...)}``; a set is detected when its
    :func:`separation` exceeds ``threshold`` (default 1) and ``defined`` counts the sets where
    the metric has a value."""
    if isinstance(threshold, bool) or not isinstance(threshold, Real):
        raise TypeError(f"threshold: expected a number, got {type(threshold).__name__}")
    names = list(sets)
    missing = [s for s in names if s not in separations]
    if missing:
        raise ValueError(f"sets: no separations for {', '.join(map(repr, missing))}")
    keys = [m.key for m in METRICS if any(m.key in separations[s] for s in names)]
    out = {}
    for key in keys:
        vals = [separations[s].get(key, math.nan) for s in names]
        defined = [v for v in vals if not math.isnan(v)]
        out[key] = (sum(v > threshold for v in defined), len(defined))
    return out


def distortion_trend(
    series: Sequence[Evaluation | Mapping[str, float]],
) -> dict[str, tuple[float, bool]]:
    """Does each metric get worse as a distortion grows? ``series`` holds the evaluations of
    one distortion at levels 0, 1, 2, … (level 0: undistorted). For every metric defined at all
    levels, returns ``(tau, monotone)``: Kendall's τ between the level and the "worse" value
    w = sign · value (1: worse at every higher level), and whether w rises strictly at every
    step."""
    rows = [_values(r) for r in series]
    if len(rows) < 2:
        raise ValueError("series: need evaluations at two or more levels")
    out = {}
    for m in METRICS:
        if not all(m.key in r for r in rows):
            continue
        w = np.array([m.sign * float(r[m.key]) for r in rows])
        if np.isnan(w).any():
            continue
        pairs = [(i, j) for i in range(len(w)) for j in range(i + 1, len(w))]
        concordant = sum(w[j] > w[i] for i, j in pairs)
        discordant = sum(w[j] < w[i] for i, j in pairs)
        tau = (concordant - discordant) / len(pairs)
        out[m.key] = (float(tau), bool(np.all(np.diff(w) > 0)))
    return out


def cost_per_set(
    evaluations: Iterable[Evaluation], *, include_features: bool = True
) -> dict[str, float]:
    """Mean wall time per set of every metric over ``evaluations``; with ``include_features``
    the network pass is added to the metrics that need the network (see :attr:`MetricSpec.needs`:
    all but SWD and MS-SSIM)."""
    evaluations = list(evaluations)
    if not evaluations or not all(isinstance(e, Evaluation) for e in evaluations):
        raise TypeError("evaluations: expected a non-empty list of Evaluation")
    out = {}
    for m in METRICS:
        times = [
            e.seconds[m.key]
            + (e.seconds["features"] if include_features and m.needs != "pixels" else 0.0)
            for e in evaluations
            if m.key in e.seconds
        ]
        if times:
            out[m.key] = float(np.mean(times))
    return out
