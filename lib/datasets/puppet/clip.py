"""A rendered dance clip (:func:`dance_clip`) and a pose detector's errors
(:func:`noisy_keypoints`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from lib._checks import ArrayLike, check_positive_int
from lib.datasets.puppet.motion import DanceMotion, dance_motion, puppet_keypoints
from lib.datasets.puppet.render import render_pose, render_puppet
from lib.datasets.puppet.skeleton import (
    JOINT_NAMES,
    LIMBS,
    Subject,
    _check_confidence,
    _check_keypoints,
    get_subject,
)
from lib.device import resolve_device


# ------------------------------------------------------------------------------------- the clip
@dataclass(frozen=True)
class DanceClip:
    """A rendered dance: frames, exact poses, stick figures and face boxes, frame by frame.

    ``frames`` T×3×H×W and ``stick_figures`` T×3×H×W float in [0, 1]; ``poses`` T×15×2 float
    (x, y) pixels in :data:`JOINT_NAMES` order; ``confidence`` T×15 (1 inside the image, 0 for a
    joint outside it); ``face_boxes`` T×4 (x0, y0, x1, y1) pixels; ``parts`` T×H×W uint8 labels
    of :data:`PART_NAMES`; ``scale`` T pixels per body unit; ``subject`` and ``motion`` made it.
    Indexing with an int, slice or index tensor selects frames.
    """

    frames: torch.Tensor
    poses: torch.Tensor
    confidence: torch.Tensor
    stick_figures: torch.Tensor
    face_boxes: torch.Tensor
    parts: torch.Tensor
    scale: torch.Tensor
    subject: Subject
    motion: DanceMotion
    info: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return self.frames.shape[0]

    def __getitem__(self, index) -> DanceClip:
        if isinstance(index, int):
            index = slice(index, index + 1) if index != -1 else slice(-1, None)
        motion_index = index.cpu() if isinstance(index, torch.Tensor) else index
        return DanceClip(
            self.frames[index],
            self.poses[index],
            self.confidence[index],
            self.stick_figures[index],
            self.face_boxes[index],
            self.parts[index],
            self.scale[index],
            self.subject,
            self.motion[motion_index],
            dict(self.info),
        )

    @property
    def size(self) -> int:
        return self.frames.shape[-1]


def dance_clip(
    subject: str | Subject = "tall",
    frames: int = 600,
    *,
    size: int = 128,
    seed: int = 0,
    fps: float = 30.0,
    motion: DanceMotion | None = None,
    device: str | torch.device = "cpu",
) -> DanceClip:
    """A clip of ``subject`` dancing: frames, exact keypoints, stick figures and face boxes.

    The dance is ``dance_motion(frames, seed=seed, fps=fps)`` unless ``motion`` is given — give
    the same motion to two subjects to get the ground truth of a motion transfer (the target
    subject performing the source's dance). Keypoints come from :func:`puppet_keypoints`, the
    subject's images from :func:`render_puppet`, the stick figures from :func:`render_pose`.

    Args:
        subject: ``"tall"``, ``"short"`` (see :data:`SUBJECTS`) or a :class:`Subject`.
        frames: number of frames (ignored when ``motion`` is given: its length is used).
        size: side of the square frames in pixels (any size from 16; 128 by default).
        seed: the dance's seed.
        fps: frames per second of the dance (its beat is in Hz).
        motion: a :class:`DanceMotion` to perform instead of drawing one.
        device: where to render (``"auto"`` picks CUDA when present).
    """
    subject = get_subject(subject)
    check_positive_int(size, "size", minimum=16)
    if motion is None:
        motion = dance_motion(frames, seed=seed, fps=fps)
    elif not isinstance(motion, DanceMotion):
        raise TypeError(f"motion: expected a DanceMotion or None, got {type(motion).__name__}")
    device = resolve_device(device)
    poses, scale = puppet_keypoints(subject, motion, size)
    inside = ((poses >= 0) & (poses <= size - 1)).all(dim=-1)
    confidence = inside.float()
    images, parts, face_boxes = render_puppet(
        subject, poses, size, mouth=motion.channel("mouth"), device=device
    )
    sticks = render_pose(poses, size, device=device)
    info = {
        "seed": motion.seed,
        "fps": motion.fps,
        "beat_hz": round(motion.beat_hz, 4),
        "size": size,
        "subject": subject.name,
        "joints": JOINT_NAMES,
        "limbs": LIMBS,
    }
    return DanceClip(
        frames=images,
        poses=poses.to(device),
        confidence=confidence.to(device),
        stick_figures=sticks,
        face_boxes=face_boxes,
        parts=parts,
        scale=scale.to(device),
        subject=subject,
        motion=motion,
        info=info,
    )


def noisy_keypoints(
    keypoints: ArrayLike,
    confidence: ArrayLike | None = None,
    *,
    jitter: float = 1.0,
    dropout: float = 0.05,
    outliers: float = 0.01,
    outlier_distance: float = 20.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keypoints as a pose detector might return them: jittered, some missing, a few far off.

    Every coordinate gets Gaussian noise of standard deviation ``jitter`` pixels; a joint goes
    missing with probability ``dropout`` (NaN coordinates, confidence 0); with probability
    ``outliers`` it jumps by ``outlier_distance`` pixels in a random direction (confidence kept:
    a detector is confidently wrong at times). Returns ``(keypoints, confidence)``.
    """
    kp, single = _check_keypoints(keypoints)
    conf = _check_confidence(confidence, kp)
    for name, value in (("dropout", dropout), ("outliers", outliers)):
        if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
            raise ValueError(f"{name}: expected a probability in [0, 1], got {value!r}")
    for name, value in (("jitter", jitter), ("outlier_distance", outlier_distance)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name}: expected a number >= 0 of pixels, got {value!r}")
    gen = torch.Generator().manual_seed(int(seed))
    shape = kp.shape
    noise = torch.randn(shape, generator=gen) * jitter
    drop = torch.rand(shape[:2], generator=gen) < dropout
    jump = torch.rand(shape[:2], generator=gen) < outliers
    angle = torch.rand(shape[:2], generator=gen) * 2 * math.pi
    offset = torch.stack([torch.cos(angle), torch.sin(angle)], -1) * outlier_distance
    out = kp.detach().cpu().float() + noise + offset * jump[..., None]
    out[drop] = float("nan")
    new_conf = torch.ones(shape[:2]) if conf is None else conf.detach().cpu().float().clone()
    new_conf[drop] = 0.0
    out, new_conf = out.to(kp.device), new_conf.to(kp.device)
    return (out[0], new_conf[0]) if single else (out, new_conf)
