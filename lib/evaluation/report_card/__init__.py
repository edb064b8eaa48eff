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
:func:`fgsm`                    an adversarial copy of a set (:mod:`lib.bench.attacks`)
:class:`LinearProbe`            the tiny classifier behind the cheap GAN-train / GAN-test
                                (:mod:`lib.metrics.probe`)
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

The modules: :mod:`.specs` (the columns of the card), :mod:`.evaluator` (computing them) and
:mod:`.scoring` (the four criteria). Everything is importable from here:
``import lib.evaluation.report_card as rc``.
"""

from lib.bench import bench_set, bench_set_names
from lib.bench.attacks import fgsm
from lib.evaluation.report_card.evaluator import Evaluation, Evaluator, report_card
from lib.evaluation.report_card.scoring import (
    Spread,
    cost_per_set,
    detection,
    distortion_trend,
    real_spread,
    separation,
    worse_than_real,
)
from lib.evaluation.report_card.specs import (
    DIVERSITY_SETS,
    FIDELITY_SETS,
    INTERPRETABILITY,
    METRICS,
    MetricSpec,
    format_value,
    metric,
)
from lib.metrics.probe import LinearProbe

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
