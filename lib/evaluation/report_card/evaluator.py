"""The evaluator of the report card: every metric of :data:`~.specs.METRICS` of an image set
against one real reference, timed."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch

from lib._checks import check_positive_int, check_seed
from lib.datasets import ImageSet
from lib.datasets.base import check_image_set
from lib.device import resolve_device
from lib.evaluation.report_card.specs import METRICS, MetricSpec
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
from lib.metrics.probe import LinearProbe

__all__ = ["Evaluation", "Evaluator", "report_card"]


# ----------------------------------------------------------------------------------- checks
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
        self._logits_tap: str = network.logits_tap
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
        self.real_probe: LinearProbe | None = None
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
        taps = (self.network.default_tap, self._logits_tap)
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
        seed = check_seed(seed)
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
        if self.real_probe is None:
            raise ValueError("GAN-train / GAN-test need an Evaluator built with held_out=")
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
