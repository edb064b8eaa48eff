"""Every metric of the course: device-agnostic, batched, validated, with its formula and paper in
the docstring.

======================================  =========================================================
Inception Score, modified IS            :func:`inception_score`, :func:`is_entropy_terms`,
                                        :func:`modified_inception_score`
Curves: discrete Fréchet, DTW           :func:`discrete_frechet`, :func:`dtw`
Fréchet distance / FID                  :class:`FeatureStats` (streaming, mergeable, float64),
                                        :func:`frechet_distance`, :class:`FrechetReference`,
                                        :func:`fid`, :func:`fid_infinity`
MMD / KID                               :func:`mmd2`, :func:`kid`, kernels
Sliced Wasserstein / SWD                :func:`sliced_wasserstein`, :func:`swd`,
                                        :func:`laplacian_pyramid`
SSIM / MS-SSIM                          :func:`ssim`, :func:`ms_ssim`
Precision/recall, density/coverage      :func:`precision_recall`, :func:`density_coverage`
GAN-train / GAN-test                    :func:`gan_train_test`
Video                                   :func:`per_frame_fid`, :func:`per_frame_kid`,
                                        :func:`video_frechet_distance`, :func:`warping_error`,
                                        :func:`estimate_flow` (OpenCV DIS),
                                        :func:`flicker_statistics`, :func:`pose_distance`,
                                        :func:`video_metrics`
Everybody Dance Now                     :func:`crop_ssim`, :func:`body_boxes`,
                                        :func:`frame_jitter` (and :func:`pose_distance`)
Segmentation score (pix2pixHD,          :func:`segmentation_score` (the course segmenter on
vid2vid)                                generated frames), :func:`segmentation_scores`,
                                        :func:`segmentation_confusion`,
                                        :func:`scores_from_confusion`
======================================  =========================================================

Metrics that look at images through a network take features from :mod:`lib.features`.
"""

from lib.metrics.classifier_tests import GanTrainTest, gan_train_test
from lib.metrics.curves import CurveMatch, discrete_frechet, dtw
from lib.metrics.dance import body_boxes, crop_ssim, frame_jitter
from lib.metrics.frechet import (
    FeatureStats,
    FIDInfinityResult,
    FrechetReference,
    fid,
    fid_infinity,
    frechet_distance,
)
from lib.metrics.inception_score import (
    EntropyTerms,
    inception_score,
    is_entropy_terms,
    modified_inception_score,
    modified_inception_score_groups,
)
from lib.metrics.kernel import kid, mmd2, polynomial_kernel, rbf_kernel
from lib.metrics.precision_recall import (
    DensityCoverage,
    PrecisionRecall,
    density_coverage,
    knn_radii,
    precision_recall,
)
from lib.metrics.segmentation import (
    scores_from_confusion,
    segmentation_confusion,
    segmentation_score,
    segmentation_scores,
)
from lib.metrics.sliced_wasserstein import (
    SWDResult,
    laplacian_pyramid,
    random_projections,
    reconstruct_laplacian_pyramid,
    sliced_wasserstein,
    swd,
    wasserstein_1d,
)
from lib.metrics.ssim import MS_SSIM_WEIGHTS, SSIMOutput, gaussian_window, ms_ssim, ssim
from lib.metrics.video import (
    FlickerStats,
    blur_matched,
    clip_features,
    estimate_flow,
    estimated_warping_error,
    flicker_statistics,
    per_frame_fid,
    per_frame_kid,
    pose_distance,
    sharpness,
    video_frechet_distance,
    video_metrics,
    warping_error,
)

__all__ = [
    "MS_SSIM_WEIGHTS",
    "CurveMatch",
    "discrete_frechet",
    "dtw",
    "DensityCoverage",
    "EntropyTerms",
    "FIDInfinityResult",
    "FeatureStats",
    "FrechetReference",
    "GanTrainTest",
    "PrecisionRecall",
    "SSIMOutput",
    "SWDResult",
    "density_coverage",
    "fid",
    "fid_infinity",
    "frechet_distance",
    "gan_train_test",
    "gaussian_window",
    "inception_score",
    "is_entropy_terms",
    "kid",
    "knn_radii",
    "laplacian_pyramid",
    "mmd2",
    "modified_inception_score",
    "modified_inception_score_groups",
    "ms_ssim",
    "polynomial_kernel",
    "precision_recall",
    "random_projections",
    "rbf_kernel",
    "reconstruct_laplacian_pyramid",
    "sliced_wasserstein",
    "ssim",
    "swd",
    "wasserstein_1d",
    "per_frame_fid",
    "per_frame_kid",
    "video_frechet_distance",
    "clip_features",
    "warping_error",
    "blur_matched",
    "sharpness",
    "estimate_flow",
    "estimated_warping_error",
    "flicker_statistics",
    "FlickerStats",
    "pose_distance",
    "video_metrics",
    "body_boxes",
    "crop_ssim",
    "frame_jitter",
    "scores_from_confusion",
    "segmentation_confusion",
    "segmentation_score",
    "segmentation_scores",
]
