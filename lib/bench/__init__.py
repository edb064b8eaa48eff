"""The sample bench: controlled "generators" whose failure is known, for testing the metrics.

==================  ===========================================================================
``degradations``    pixel-level degradations of a real set at five strengths (Heusel et al.,
                    2017, Fig. 1), diversity losses (dropped modes, collapse inside a class,
                    memorising), and the named bench sets built from them
``distortions``     image distortions with a continuous strength, and distortions matched to
                    one MSE (the SSIM lesson)
``clips``           manipulations of video clips (corruptions, frame order) for video metrics
``attacks``         adversarial copies of a set (:func:`~lib.bench.attacks.fgsm`): images that
                    look unchanged and move a classifier-based metric
==================  ===========================================================================

``import lib.bench as bench`` gives the degradations' names directly (``bench.degrade``,
``bench.bench_set``, …); the other modules are imported by name.
"""

from lib.bench import degradations
from lib.bench.degradations import *  # noqa: F403 - re-exported under one list, below

# The package exports exactly what the degradations module does.
__all__: list[str] = []
__all__ += degradations.__all__
