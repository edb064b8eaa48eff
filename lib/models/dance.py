"""Everybody Dance Now (Chan et al. 2019): pose → target subject, frame by frame and in pairs.

The pipeline on the course's dancing puppet (:mod:`lib.datasets.puppet`):

1. **Pose**: keypoints of the source dancer per frame (OpenPose in the paper; the puppet's exact
   keypoints here, or :func:`~lib.datasets.puppet.noisy_keypoints` for a detector's errors),
   median-smoothed over 7 frames (:func:`lib.models.dance_pose.smooth_keypoints`).
2. **Global pose normalisation** onto the target's floor and height
   (:func:`lib.models.dance_pose.fit_pose_normalisation`).
3. **Stick figure**: the normalised pose drawn with OpenPose's limb colours
   (:func:`~lib.datasets.puppet.render_pose`); missing joints drop their limbs.
4. **Generator** :class:`DanceGenerator`, pix2pixHD's global generator
   (:class:`lib.models.pix2pixhd.GlobalGenerator`) with **temporal smoothing**: the previous
   generated frame is an input, ``x̂_t = G(s_t, 0)`` and ``x̂_{t+1} = G(s_{t+1}, x̂_t)`` during
   training, gradients flowing through both calls; at test time every frame is conditioned on
   the one generated before it. The **discriminator on consecutive pairs** sees
   ``(s_t, s_{t+1}, x_t, x_{t+1})`` stacked along channels (12 channels).
5. **Face GAN** :class:`FaceResidual`: a small generator looks at the face crop of the stick
   figure and of the generated frame and outputs a **residual** added to that crop; its own
   PatchGAN judges ``(stick-figure crop, face crop)``.

Losses (:data:`LOSS_WEIGHTS`, the paper's): LSGAN 1, discriminator feature matching 10,
perceptual (VGG in the paper) 10 — for the body on both frames of the pair, for the face on the
crop. The course adds an L1 pixel term with pix2pix's weight 100 (``l1`` in
:data:`LOSS_WEIGHTS`; 0 gives the paper's objective): the CPU budget allows about a thousand
steps, the offline perceptual network (the course classifier, which sees images at 32×32) is
blind to fine detail, and without it the short runs cover the picture in adversarial speckle.

Evaluation as in the paper: SSIM on body and face crops (:func:`crop_ssim`), and the **pose
distance** between the pose that was asked for and the keypoints a regressor recovers from the
output (:class:`KeypointRegressor`, a small heat-map network trained on puppet renders — the
stand-in for running OpenPose on the results). Temporal stability: :func:`frame_jitter`. The
measures live in :mod:`lib.metrics.dance` and are re-exported here.

Trained weights (float16) live in ``data/dance/`` with a manifest; :func:`load_dance_model` and
:func:`load_keypoint_regressor` check each file's sha256 and say how to retrain
(``python -m lib.train dance``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import ArrayLike, as_tensor, check_choice, check_positive_int
from lib.datasets.puppet import JOINTS, render_pose
from lib.metrics.dance import body_boxes, crop_ssim, frame_jitter, pose_distance
from lib.models.dance_pose import fit_pose_normalisation, smooth_keypoints
from lib.models.pix2pixhd import GlobalGenerator, MultiscaleDiscriminator, PatchDiscriminator
from lib.paths import DATA_DIR
from lib.weights import load_committed

DANCE_DIR = DATA_DIR / "dance"
RETRAIN = "python -m lib.train dance --variant {variant}"
# Trained motion-transfer models; the "no face GAN" ablation is "full" with the face GAN off.
VARIANTS = ("full", "no_temporal")

# The paper's weights (pix2pixHD's): adversarial 1, feature matching 10, VGG 10; l1 is the
# course's addition, pix2pix's λ = 100 (0 gives the paper's objective).
LOSS_WEIGHTS = {"gan": 1.0, "feature_matching": 10.0, "perceptual": 10.0, "l1": 100.0}

NOSE = JOINTS["nose"]
NECK = JOINTS["neck"]


# ------------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class DanceConfig:
    """Sizes of the networks of one motion-transfer model.

    ``size``: side of the square frames; ``temporal``: the generator takes the previous frame
    (Everybody Dance Now's temporal smoothing) or not (per-frame pix2pixHD, the ablation);
    ``width``/``downsamples``/``blocks``: the global generator (the paper: 64/4/9 at 512²);
    ``d_*``: the multi-scale PatchGAN; ``face_crop``: side of the face crop in pixels;
    ``face_width``/``face_blocks``: the face residual generator; its PatchGAN has
    ``face_d_layers`` layers.
    """

    size: int = 64
    temporal: bool = True
    width: int = 16
    downsamples: int = 2
    blocks: int = 4
    d_width: int = 16
    d_layers: int = 3
    d_scales: int = 2
    face_crop: int = 16
    face_width: int = 16
    face_blocks: int = 2
    face_d_width: int = 16
    face_d_layers: int = 2

    def __post_init__(self) -> None:
        for name in ("size", "width", "d_width", "d_layers", "d_scales", "face_crop"):
            check_positive_int(getattr(self, name), f"config.{name}")
        for name in ("face_width", "face_d_width", "face_d_layers"):
            check_positive_int(getattr(self, name), f"config.{name}")
        check_positive_int(self.downsamples, "config.downsamples", minimum=0)
        check_positive_int(self.blocks, "config.blocks", minimum=0)
        check_positive_int(self.face_blocks, "config.face_blocks", minimum=0)
        if self.size % 2**self.downsamples:
            raise ValueError(
                f"config.size: {self.size} is not a multiple of 2**downsamples = "
                f"{2**self.downsamples}"
            )
        if self.face_crop % 4 or self.face_crop > self.size:
            raise ValueError(
                f"config.face_crop: expected a multiple of 4 no larger than size={self.size}, "
                f"got {self.face_crop}"
            )
        if not isinstance(self.temporal, bool):
            raise TypeError(f"config.temporal: expected True or False, got {self.temporal!r}")

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------ input checks
def _check_frames(x, name: str, size: int | None = None, *, single_ok: bool = False):
    """T×3×H×W float images in [0, 1] (or 3×H×W when ``single_ok``)."""
    if not isinstance(x, torch.Tensor):
        x = as_tensor(x, name)
    if single_ok and x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name}: expected N×3×H×W RGB images, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected float images in [0, 1], got dtype {x.dtype}")
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        raise ValueError(
            f"{name}: the model works on {size}×{size} frames, got "
            f"{x.shape[-2]}×{x.shape[-1]}; render the stick figures at size={size}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name}: no frames")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return x


# --------------------------------------------------------------------------------- generators
class DanceGenerator(nn.Module):
    """The body generator: stick figure (and previous frame) → frame, all in [0, 1].

    ``G(s_t, x_{t−1}) = (GlobalGenerator([2 s_t − 1, 2 x_{t−1} − 1]) + 1) / 2``: the stick
    figure and the previous frame are stacked along channels (6 input channels); a missing
    previous frame (the first frame) is the zero image of the network's [−1, 1] input space,
    the paper's ``G(x_t, 0)``. Without temporal smoothing the input is the stick figure alone.
    """

    def __init__(self, config: DanceConfig) -> None:
        super().__init__()
        self.config = config
        channels = 6 if config.temporal else 3
        self.net = GlobalGenerator(
            channels, 3, config.width, config.downsamples, config.blocks, norm="instance"
        )

    def forward(self, pose: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        pose = _check_frames(pose, "pose", self.config.size)
        x = 2 * pose - 1
        if self.config.temporal:
            if previous is None:
                prev = torch.zeros_like(x)
            else:
                previous = _check_frames(previous, "previous", self.config.size)
                if previous.shape[0] != pose.shape[0]:
                    raise ValueError(
                        f"previous: {previous.shape[0]} frames for {pose.shape[0]} poses"
                    )
                prev = 2 * previous - 1
            x = torch.cat([x, prev], dim=1)
        elif previous is not None:
            raise ValueError(
                "previous: this generator was built without temporal smoothing "
                "(config.temporal=False) and takes the pose alone"
            )
        return (self.net(x) + 1) / 2


def _last_conv(module: nn.Module) -> nn.Conv2d:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)][-1]


class FaceResidual(nn.Module):
    """The face GAN's generator: ``r = F(s_face, x̂_face)``, a residual in [−1, 1] added to the
    generated face crop, ``face = clamp(x̂_face + r, 0, 1)``.

    A small :class:`~lib.models.pix2pixhd.GlobalGenerator` on the 6-channel stack of the
    stick-figure crop and the generated crop (both mapped to [−1, 1]). Its last convolution
    starts at zero, so the untrained face GAN leaves the face as the body generator made it.
    """

    def __init__(self, config: DanceConfig) -> None:
        super().__init__()
        self.config = config
        self.net = GlobalGenerator(6, 3, config.face_width, 2, config.face_blocks, "instance")
        last = _last_conv(self.net)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(cast(torch.Tensor, last.bias))  # Conv2d has a bias by default

    def forward(self, pose_crop: torch.Tensor, face_crop: torch.Tensor) -> torch.Tensor:
        c = self.config.face_crop
        pose_crop = _check_frames(pose_crop, "pose_crop", c)
        face_crop = _check_frames(face_crop, "face_crop", c)
        return self.net(torch.cat([2 * pose_crop - 1, 2 * face_crop - 1], dim=1))


def pair_discriminator(config: DanceConfig) -> MultiscaleDiscriminator:
    """The body discriminator: multi-scale PatchGAN on ``(s_t, s_{t+1}, x_t, x_{t+1})``
    (12 channels) with temporal smoothing, on ``(s_t, x_t)`` (6 channels) without."""
    channels = 12 if config.temporal else 6
    return MultiscaleDiscriminator(
        channels, config.d_scales, config.d_width, config.d_layers, norm="instance"
    )


def face_discriminator(config: DanceConfig) -> PatchDiscriminator:
    """The face GAN's own PatchGAN on ``(stick-figure crop, face crop)`` (6 channels)."""
    return PatchDiscriminator(6, config.face_d_width, config.face_d_layers, norm="instance")


# ---------------------------------------------------------------------------------- face crops
def face_corners(keypoints: ArrayLike, size: int, crop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-left corners of the ``crop``² face windows, from the poses.

    The window is centred on the nose keypoint, ``crop / 8`` above it (the puppet's head sits
    above its nose), rounded to whole pixels and shifted to lie inside the ``size``² image. A
    frame whose nose is missing (NaN) uses the neck moved up by ``crop / 2``; with neither, the
    frame has no face window.

    Returns ``(corners, valid)``: T×2 int64 (x0, y0) and a T bool mask of frames with a window.
    """
    kp = as_tensor(keypoints, "keypoints")
    if kp.ndim != 3 or kp.shape[-1] != 2 or kp.shape[1] <= max(NOSE, NECK):
        raise ValueError(
            f"keypoints: expected T×J×2 (x, y) pixels in the puppet's joint order, got "
            f"{tuple(kp.shape)}"
        )
    check_positive_int(size, "size")
    check_positive_int(crop, "crop")
    if crop > size:
        raise ValueError(f"crop: a {crop}-pixel window does not fit a {size}-pixel image")
    kp = kp.detach().float().cpu()
    nose, neck = kp[:, NOSE], kp[:, NECK]
    centre = nose - torch.tensor([0.0, crop / 8])
    fallback = neck - torch.tensor([0.0, crop / 2])
    nose_ok = ~torch.isnan(nose).any(-1)
    neck_ok = ~torch.isnan(neck).any(-1)
    centre = torch.where(nose_ok[:, None], centre, fallback)
    valid = nose_ok | neck_ok
    centre = torch.nan_to_num(centre, nan=size / 2)
    corners = torch.round(centre - (crop - 1) / 2).long().clamp(0, size - crop)
    return corners, valid


def crop_windows(images: torch.Tensor, corners: torch.Tensor, crop: int) -> torch.Tensor:
    """``images[n, :, y0:y0+crop, x0:x0+crop]`` for each frame (differentiable)."""
    if corners.shape != (images.shape[0], 2):
        raise ValueError(
            f"corners: expected {images.shape[0]}×2 (x0, y0), got {tuple(corners.shape)}"
        )
    return torch.stack(
        [
            img[:, int(y) : int(y) + crop, int(x) : int(x) + crop]
            for img, (x, y) in zip(images, corners.tolist(), strict=True)
        ]
    )


def paste_windows(
    images: torch.Tensor,
    windows: torch.Tensor,
    corners: torch.Tensor,
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """The images with each frame's window replaced by ``windows`` (differentiable; frames with
    ``valid`` false are left as they are)."""
    h, w = images.shape[-2:]
    c = windows.shape[-1]
    out = []
    for k, (img, win, (x, y)) in enumerate(zip(images, windows, corners.tolist(), strict=True)):
        if valid is not None and not bool(valid[k]):
            out.append(img)
            continue
        pad = (x, w - x - c, y, h - y - c)
        mask = F.pad(torch.ones_like(win[:1]), pad)
        out.append(img * (1 - mask) + F.pad(win, pad))
    return torch.stack(out)


# ------------------------------------------------------------------------------- whole model
class DanceModel(nn.Module):
    """A trained motion-transfer model: body generator + face residual GAN.

    :meth:`generate` turns a sequence of stick figures (T×3×H×W in [0, 1]) and the poses they
    were drawn from (T×J×2, for the face windows) into frames, with or without the face GAN.
    """

    # Set by the loader on a committed network; declared so that they are plain attributes.
    info: dict[str, Any]
    source: str

    def __init__(self, config: DanceConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = DanceGenerator(config)
        self.face = FaceResidual(config)

    def apply_face(
        self, frames: torch.Tensor, sticks: torch.Tensor, keypoints: ArrayLike
    ) -> torch.Tensor:
        """Add the face GAN's residual to each frame's face window."""
        c = self.config.face_crop
        corners, valid = face_corners(keypoints, self.config.size, c)
        face = crop_windows(frames, corners, c)
        pose = crop_windows(sticks, corners, c)
        improved = (face + self.face(pose, face)).clamp(0, 1)
        return paste_windows(frames, improved, corners, valid)

    @torch.no_grad()
    def generate(
        self,
        sticks: torch.Tensor,
        keypoints: ArrayLike | None = None,
        *,
        face: bool = True,
        chunk: int = 64,
    ) -> torch.Tensor:
        """Frames for a sequence of stick figures.

        With temporal smoothing the frames are generated one after another,
        ``x̂_0 = G(s_0, 0)``, ``x̂_t = G(s_t, x̂_{t−1})`` (the first frame of the sequence gets the
        zero image); without, all at once in chunks. ``face=True`` adds the face GAN's residual
        (``keypoints`` T×J×2 are then needed to place the face windows).
        """
        sticks = _check_frames(sticks, "sticks", self.config.size)
        if face and keypoints is None:
            raise ValueError("keypoints: the face GAN needs the poses to find the faces")
        if keypoints is not None:
            kp = as_tensor(keypoints, "keypoints")
            if kp.shape[0] != sticks.shape[0]:
                raise ValueError(
                    f"keypoints: {kp.shape[0]} frames of poses for {sticks.shape[0]} stick figures"
                )
        check_positive_int(chunk, "chunk")
        device = next(self.parameters()).device
        sticks = sticks.to(device)
        was_training = self.training
        self.eval()
        try:
            if self.config.temporal:
                frames, previous = [], None
                for t in range(sticks.shape[0]):
                    previous = self.generator(sticks[t : t + 1], previous)
                    frames.append(previous)
                out = torch.cat(frames)
            else:
                out = torch.cat(
                    [self.generator(sticks[i : i + chunk]) for i in range(0, len(sticks), chunk)]
                )
            if face and keypoints is not None:  # checked above: face needs keypoints
                out = self.apply_face(out, sticks, keypoints)
        finally:
            self.train(was_training)
        return out


# -------------------------------------------------------------------------- keypoint regressor
class KeypointRegressor(nn.Module):
    """A small heat-map network that reads the puppet's 15 keypoints off an image.

    Convolutions (one stride-2) to ``size/2`` resolution, dilated 3×3 convolutions (dilation 1,
    2, 4, 8) for a wide view, a 1×1 convolution to one heat map per joint, and a **soft-argmax**:
    ``k_j = Σ_p softmax(h_j)(p) · p`` with ``p`` the pixel-centre coordinates of the heat map
    cell in the image's pixels. Differentiable, sub-pixel, trained with an L1 loss on the
    coordinates (``lib.train.recipes.dance --variant keypoints``). It stands in for OpenPose in the
    paper's pose-distance evaluation.
    """

    # Set by the loader on a committed network; declared so that they are plain attributes.
    info: dict[str, Any]
    coords: torch.Tensor  # registered as a buffer

    def __init__(self, size: int = 64, width: int = 48, joints: int = 15) -> None:
        super().__init__()
        self.size = check_positive_int(size, "size", minimum=8)
        if size % 2:
            raise ValueError(f"size: expected an even number of pixels, got {size}")
        self.width = check_positive_int(width, "width")
        self.joints = check_positive_int(joints, "joints")

        def block(c_in, c_out, stride=1, dilation=1):
            return [
                nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]

        layers = block(3, width // 2) + block(width // 2, width, stride=2)
        for d in (1, 2, 4, 8, 1):
            layers += block(width, width, dilation=d)
        layers.append(nn.Conv2d(width, joints, 1))
        self.body = nn.Sequential(*layers)
        half = size // 2
        coords = torch.arange(half, dtype=torch.float32) * 2 + 0.5  # cell centres, image pixels
        self.register_buffer("coords", coords, persistent=False)

    def heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        images = _check_frames(images, "images", self.size, single_ok=True)
        return self.body(images - 0.5)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """N×J×2 (x, y) pixel coordinates."""
        h = self.heatmaps(images)
        n, j, hh, ww = h.shape
        p = torch.softmax(h.flatten(2), dim=-1).view(n, j, hh, ww)
        x = (p.sum(dim=2) * self.coords[:ww]).sum(-1)
        y = (p.sum(dim=3) * self.coords[:hh]).sum(-1)
        return torch.stack([x, y], dim=-1)

    @torch.no_grad()
    def predict(self, images: ArrayLike, chunk: int = 128) -> torch.Tensor:
        """Keypoints of many images (eval mode, in chunks), on the CPU."""
        images = _check_frames(images, "images", self.size, single_ok=True)
        was = self.training
        self.eval()
        device = next(self.parameters()).device
        try:
            out = [
                self(images[i : i + chunk].to(device)).cpu() for i in range(0, len(images), chunk)
            ]
        finally:
            self.train(was)
        return torch.cat(out)


def face_boxes_of(corners: torch.Tensor, crop: int) -> torch.Tensor:
    """Face windows (T×2 corners from :func:`face_corners`) as T×4 inclusive boxes."""
    return torch.cat([corners, corners + crop - 1], dim=1)


# --------------------------------------------------------------------------------- the pipeline
def stick_figures(
    keypoints: ArrayLike, size: int, confidence: ArrayLike | None = None
) -> torch.Tensor:
    """Stick figures of (normalised) poses for the generator; limbs with a missing joint (NaN or
    confidence 0) are not drawn (:func:`~lib.datasets.puppet.render_pose`)."""
    return render_pose(keypoints, size, confidence=confidence)


@dataclass(frozen=True)
class Transfer:
    """The result of :func:`transfer`: the source poses after smoothing (``smoothed``) and after
    normalisation into the target's picture (``poses``, T×J×2), their stick figures
    (``sticks``) and the generated frames (``frames``, T×3×H×W in [0, 1])."""

    smoothed: torch.Tensor
    poses: torch.Tensor
    sticks: torch.Tensor
    frames: torch.Tensor


def transfer(
    model: DanceModel,
    source_keypoints: ArrayLike,
    target_keypoints: ArrayLike,
    *,
    source_confidence: ArrayLike | None = None,
    window: int = 7,
    face: bool = True,
) -> Transfer:
    """Everybody Dance Now end to end: the source's dance performed by the model's target.

    1. ``smoothed = smooth_keypoints(source, window=window)`` — the temporal median (7 frames in
       the paper; ``window=1`` skips it), which also fills joints missing in some frames from
       their neighbours;
    2. ``poses = fit_pose_normalisation(smoothed, target)(smoothed)`` — the global pose
       normalisation fitted on the source clip and on the target's (training) keypoints;
    3. stick figures of ``poses``; a joint still missing (NaN: absent in a whole window) drops
       the limbs that use it, and a frame without nose and neck keeps the body generator's face;
    4. ``model.generate`` frame after frame (temporal smoothing) and the face GAN.

    Missing joints are NaN in ``source_keypoints`` or have ``source_confidence`` 0. Raises
    ``ValueError`` when no frame shows an ankle (the floor cannot be found).
    """
    if not isinstance(model, DanceModel):
        raise TypeError(f"model: expected a DanceModel, got {type(model).__name__}")
    smoothed = smooth_keypoints(source_keypoints, source_confidence, window=window)
    norm = fit_pose_normalisation(smoothed, target_keypoints)
    poses = norm(smoothed).float()
    sticks = stick_figures(poses, model.config.size)
    frames = model.generate(sticks, poses, face=face)
    return Transfer(smoothed.float(), poses, sticks, frames)


# ---------------------------------------------------------------------------------- checkpoints
def _load(folder: Path, key: str, variant: str) -> tuple[dict, dict]:
    how = f"restore it from the repository or retrain with `{RETRAIN.format(variant=variant)}`"
    return load_committed(folder, key, how_to_fix=how)


def load_dance_model(
    variant: str = "full", *, folder: str | os.PathLike | None = None
) -> DanceModel:
    """The committed motion-transfer model ``variant`` (``"full"``: temporal smoothing + face
    GAN; ``"no_temporal"``: per-frame generator, the temporal ablation), float32, eval mode,
    CPU. ``model.info`` is its manifest entry (recipe, losses, wall time)."""
    check_choice(variant, "variant", VARIANTS)
    folder = DANCE_DIR if folder is None else Path(folder)
    entry, state = _load(folder, variant, variant)
    model = DanceModel(DanceConfig(**entry["config"]))
    model.load_state_dict(state)
    model.info = dict(entry)
    model.source = f"{entry['file']} (sha256 {entry['sha256'][:12]}…)"
    return model.eval()


def load_keypoint_regressor(*, folder: str | os.PathLike | None = None) -> KeypointRegressor:
    """The committed :class:`KeypointRegressor` (eval mode, CPU); ``.info`` is its manifest entry
    (training recipe and its error on held-out renders)."""
    folder = DANCE_DIR if folder is None else Path(folder)
    entry, state = _load(folder, "keypoints", "keypoints")
    net = KeypointRegressor(**entry["config"])
    net.load_state_dict(state)
    net.info = dict(entry)
    return net.eval()


def count_parameters(module: nn.Module) -> int:
    """The number of parameters of a network."""
    return sum(p.numel() for p in module.parameters())


__all__ = [
    "DANCE_DIR",
    "LOSS_WEIGHTS",
    "VARIANTS",
    "DanceConfig",
    "DanceGenerator",
    "DanceModel",
    "FaceResidual",
    "KeypointRegressor",
    "body_boxes",
    "count_parameters",
    "crop_ssim",
    "crop_windows",
    "face_boxes_of",
    "face_corners",
    "face_discriminator",
    "frame_jitter",
    "load_dance_model",
    "load_keypoint_regressor",
    "pair_discriminator",
    "paste_windows",
    "pose_distance",
    "stick_figures",
    "transfer",
    "Transfer",
]
