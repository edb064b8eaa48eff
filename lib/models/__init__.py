"""The course's generative models.

``lib.models.dcgan``: a small class-conditional DCGAN for 32×32 images whose checkpoints along
training (committed in ``data/gan``) are the "real generator" the metrics are tested on:
:class:`ConditionalGenerator`, :class:`ConditionalDiscriminator`, :func:`generate`,
:func:`load_generator`, :func:`checkpoint_steps`. ``python -m lib.train dcgan`` retrains
them.

``lib.models.dance_pose``: Everybody Dance Now's pose pre-processing: temporal median smoothing
of keypoints that tolerates missing joints (:func:`smooth_keypoints`) and the global pose
normalisation between two subjects (:func:`fit_pose_normalisation`, :func:`normalise_poses`).

``lib.models.cartoongan``: CartoonGAN — :class:`CartoonGenerator`, :class:`CartoonDiscriminator`,
:func:`load_cartoongan` (the committed variants), :func:`cartoonize`; ``lib.models.style_transfer``:
Gatys et al.'s neural style transfer (:func:`neural_style_transfer`, :func:`gram_matrix`), the
baseline. ``python -m lib.train cartoongan`` retrains them.

``lib.models.dance``: Everybody Dance Now on the dancing puppet — :class:`DanceModel` (a
pix2pixHD generator with temporal smoothing, a pair discriminator and a face residual GAN),
:func:`load_dance_model`, :func:`transfer` (the whole motion-transfer pipeline), the keypoint
regressor for the pose distance (:func:`load_keypoint_regressor`), and the measures
:func:`crop_ssim`, :func:`pose_distance`, :func:`frame_jitter` re-exported from
:mod:`lib.metrics.dance`. ``python -m lib.train dance`` retrains them.

``lib.models.vid2vid``: vid2vid on the toy street — :class:`Vid2VidGenerator` (label maps and
the two previous frames in; hallucinated image, flow and mask out; coarse-to-fine),
:class:`ImageDiscriminator`, :class:`VideoDiscriminator`, :func:`generate_clip`, the losses
(:func:`generator_losses`, :func:`discriminator_losses`), :func:`load_vid2vid`.
``python -m lib.train vid2vid`` retrains them.

``lib.models.pix2pixhd``: the blocks the Part II models share — :class:`GlobalGenerator`,
:class:`ResidualBlock`, :class:`PatchDiscriminator`, :class:`MultiscaleDiscriminator`,
:func:`lsgan_loss`, :func:`feature_matching_loss`.
"""

from lib.models.cartoongan import (
    CartoonDiscriminator,
    CartoonGenerator,
    cartoonize,
    load_cartoongan,
)
from lib.models.dance import (
    DanceConfig,
    DanceModel,
    crop_ssim,
    frame_jitter,
    load_dance_model,
    load_keypoint_regressor,
    pose_distance,
    transfer,
)
from lib.models.dance_pose import (
    PoseNormalisation,
    fit_pose_normalisation,
    normalise_poses,
    smooth_keypoints,
)
from lib.models.dcgan import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    checkpoint_steps,
    generate,
    load_generator,
)
from lib.models.pix2pixhd import (
    GlobalGenerator,
    MultiscaleDiscriminator,
    PatchDiscriminator,
    ResidualBlock,
    feature_matching_loss,
    lsgan_loss,
)
from lib.models.style_transfer import gram_matrix, neural_style_transfer
from lib.models.vid2vid import (
    ImageDiscriminator,
    Vid2VidGenerator,
    VideoDiscriminator,
    discriminator_losses,
    generate_clip,
    generator_losses,
    load_vid2vid,
)

__all__ = [
    "ImageDiscriminator",
    "VideoDiscriminator",
    "Vid2VidGenerator",
    "discriminator_losses",
    "generate_clip",
    "generator_losses",
    "load_vid2vid",
    "CartoonDiscriminator",
    "CartoonGenerator",
    "cartoonize",
    "gram_matrix",
    "load_cartoongan",
    "neural_style_transfer",
    "DanceConfig",
    "DanceModel",
    "crop_ssim",
    "frame_jitter",
    "load_dance_model",
    "load_keypoint_regressor",
    "pose_distance",
    "transfer",
    "PoseNormalisation",
    "fit_pose_normalisation",
    "normalise_poses",
    "smooth_keypoints",
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "checkpoint_steps",
    "generate",
    "load_generator",
    "GlobalGenerator",
    "MultiscaleDiscriminator",
    "PatchDiscriminator",
    "ResidualBlock",
    "feature_matching_loss",
    "lsgan_loss",
]
