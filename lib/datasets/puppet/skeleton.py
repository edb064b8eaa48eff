"""The puppet's body: 15 joints in OpenPose's BODY_25 order, its limbs and their colours, the
body parts, the two subjects (proportions, placement, camera, clothes) and keypoint validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch

from lib._checks import as_tensor

# --------------------------------------------------------------------------------- the skeleton
JOINT_NAMES = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "mid_hip",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
)
JOINTS = {name: i for i, name in enumerate(JOINT_NAMES)}
ANKLES = (JOINTS["right_ankle"], JOINTS["left_ankle"])

# OpenPose's BODY_25 render pairs restricted to these joints, in OpenPose's order.
LIMBS = (
    (1, 8),
    (1, 2),
    (1, 5),
    (2, 3),
    (3, 4),
    (5, 6),
    (6, 7),
    (8, 9),
    (9, 10),
    (10, 11),
    (8, 12),
    (12, 13),
    (13, 14),
    (1, 0),
)
LIMB_NAMES = tuple(f"{JOINT_NAMES[a]}-{JOINT_NAMES[b]}" for a, b in LIMBS)

# OpenPose's BODY_25 keypoint colours (RGB); a limb is drawn in the colour of its second joint,
# as OpenPose's renderer does. The 14 limb colours are all different.
JOINT_COLOURS = (
    torch.tensor(
        [
            [255, 0, 85],
            [255, 0, 0],
            [255, 85, 0],
            [255, 170, 0],
            [255, 255, 0],
            [170, 255, 0],
            [85, 255, 0],
            [0, 255, 0],
            [255, 0, 0],
            [0, 255, 85],
            [0, 255, 170],
            [0, 255, 255],
            [0, 170, 255],
            [0, 85, 255],
            [0, 0, 255],
        ],
        dtype=torch.float32,
    )
    / 255.0
)
LIMB_COLOURS = torch.stack([JOINT_COLOURS[b] for _, b in LIMBS])

# Labels of the subject's part map (``DanceClip.parts``).
PART_NAMES = (
    "background",
    "head",
    "torso",
    "right_arm",
    "left_arm",
    "right_leg",
    "left_leg",
    "long_hair",
)
_PART = {name: i for i, name in enumerate(PART_NAMES)}


# ---------------------------------------------------------------------------------- subjects
@dataclass(frozen=True)
class Subject:
    """A puppet's body, its place in the picture and its look.

    Body lengths are in body units (only their ratios matter: the standing height, floor to the
    top of the head, is scaled to ``height`` × image side at the closest position). Placement is
    in fractions of the image side. Colours are RGB in [0, 1].
    """

    name: str
    # body (bone lengths, half widths, radii)
    torso: float  # mid-hip to neck
    neck: float  # neck to nose
    shoulder: float  # neck to each shoulder
    hip: float  # mid-hip to each hip
    upper_arm: float
    forearm: float
    thigh: float
    shin: float
    head: float  # horizontal radius of the head; the vertical one is 1.2× that
    ankle_height: float  # ankle joint above the floor
    limb_width: float  # radius of arms and legs
    torso_width: float  # radius of the trunk
    # placement
    height: float  # standing height at the closest position, fraction of the image side
    centre_x: float  # horizontal position of the mid-hip, fraction of the image side
    floor_close: float  # image row of the floor under the feet at the closest position
    horizon: float  # image row of the horizon (where the floor meets the wall)
    depth_ratio: float  # farthest / closest distance to the camera (> 1)
    lateral: float  # amplitude of the sideways steps, body units
    # look
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    shirt: tuple[float, float, float]
    shirt_pattern_colour: tuple[float, float, float]
    trousers: tuple[float, float, float]
    shoes: tuple[float, float, float]
    wall: tuple[float, float, float]
    floor: tuple[float, float, float]
    shirt_pattern: str = "stripes"  # "stripes", "dots" or "plain"
    sleeves: str = "short"  # "short" or "long"
    legwear: str = "trousers"  # "trousers" or "shorts"
    hair_style: str = "short"  # "short" or "long"

    @property
    def standing_height(self) -> float:
        """Floor to the top of the head, in body units, when standing straight."""
        head_ry = 1.2 * self.head
        return (
            self.ankle_height
            + self.shin
            + self.thigh
            + self.torso
            + self.neck
            + 0.15 * head_ry  # the head's centre sits above the nose
            + head_ry
        )

    @property
    def bone_lengths(self) -> torch.Tensor:
        """Length of each of :data:`LIMBS` in body units."""
        per_limb = {
            (1, 8): self.torso,
            (1, 2): self.shoulder,
            (1, 5): self.shoulder,
            (2, 3): self.upper_arm,
            (3, 4): self.forearm,
            (5, 6): self.upper_arm,
            (6, 7): self.forearm,
            (8, 9): self.hip,
            (9, 10): self.thigh,
            (10, 11): self.shin,
            (8, 12): self.hip,
            (12, 13): self.thigh,
            (13, 14): self.shin,
            (1, 0): self.neck,
        }
        return torch.tensor([per_limb[limb] for limb in LIMBS], dtype=torch.float64)

    def describe(self) -> dict:
        """The subject as a plain dict (for ``info`` and for printing)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def replace(self, **changes: Any) -> Subject:
        """A copy with some fields changed, validated."""
        return _validate_subject(replace(self, **changes))


SUBJECTS: dict[str, Subject] = {
    "tall": Subject(
        name="tall",
        torso=0.29,
        neck=0.085,
        shoulder=0.105,
        hip=0.065,
        upper_arm=0.17,
        forearm=0.16,
        thigh=0.245,
        shin=0.235,
        head=0.062,
        ankle_height=0.045,
        limb_width=0.03,
        torso_width=0.075,
        height=0.64,
        centre_x=0.44,
        floor_close=0.95,
        horizon=0.4,
        depth_ratio=1.35,
        lateral=0.2,
        skin=(0.93, 0.76, 0.63),
        hair=(0.28, 0.17, 0.09),
        shirt=(0.82, 0.18, 0.2),
        shirt_pattern_colour=(0.96, 0.92, 0.86),
        trousers=(0.18, 0.27, 0.55),
        shoes=(0.14, 0.13, 0.13),
        wall=(0.88, 0.84, 0.74),
        floor=(0.62, 0.45, 0.3),
        shirt_pattern="stripes",
        sleeves="short",
        legwear="trousers",
        hair_style="short",
    ),
    "short": Subject(
        name="short",
        torso=0.3,
        neck=0.07,
        shoulder=0.115,
        hip=0.085,
        upper_arm=0.155,
        forearm=0.14,
        thigh=0.21,
        shin=0.2,
        head=0.085,
        ankle_height=0.045,
        limb_width=0.038,
        torso_width=0.095,
        height=0.5,
        centre_x=0.57,
        floor_close=0.86,
        horizon=0.52,
        depth_ratio=1.35,
        lateral=0.25,
        skin=(0.55, 0.37, 0.25),
        hair=(0.07, 0.05, 0.05),
        shirt=(0.16, 0.6, 0.45),
        shirt_pattern_colour=(0.97, 0.93, 0.55),
        trousers=(0.46, 0.24, 0.56),
        shoes=(0.92, 0.92, 0.94),
        wall=(0.7, 0.78, 0.86),
        floor=(0.48, 0.48, 0.53),
        shirt_pattern="dots",
        sleeves="long",
        legwear="shorts",
        hair_style="long",
    ),
}


def _validate_subject(s: Subject) -> Subject:
    lengths = (
        "torso neck shoulder hip upper_arm forearm thigh shin head ankle_height limb_width "
        "torso_width height"
    ).split()
    for name in lengths:
        value = getattr(s, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"subject.{name}: expected a positive number, got {value!r}")
    for name in ("centre_x", "floor_close", "horizon"):
        value = getattr(s, name)
        if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
            raise ValueError(f"subject.{name}: expected a fraction in [0, 1], got {value!r}")
    if not s.horizon < s.floor_close:
        raise ValueError(
            f"subject: the horizon ({s.horizon}) must lie above the floor under the feet "
            f"(floor_close={s.floor_close})"
        )
    if not (isinstance(s.depth_ratio, int | float) and s.depth_ratio >= 1.0):
        raise ValueError(f"subject.depth_ratio: expected a number >= 1, got {s.depth_ratio!r}")
    if not (isinstance(s.lateral, int | float) and s.lateral >= 0):
        raise ValueError(f"subject.lateral: expected a number >= 0, got {s.lateral!r}")
    for name in ("skin", "hair", "shirt", "shirt_pattern_colour", "trousers", "shoes", "wall"):
        value = getattr(s, name)
        if len(value) != 3 or not all(0.0 <= float(c) <= 1.0 for c in value):
            raise ValueError(f"subject.{name}: expected an RGB triple in [0, 1], got {value!r}")
    choices = {
        "shirt_pattern": ("stripes", "dots", "plain"),
        "sleeves": ("short", "long"),
        "legwear": ("trousers", "shorts"),
        "hair_style": ("short", "long"),
    }
    for name, options in choices.items():
        if getattr(s, name) not in options:
            raise ValueError(f"subject.{name}: got {getattr(s, name)!r}; choose one of {options}")
    return s


def get_subject(subject: str | Subject) -> Subject:
    """A :class:`Subject` from its name in :data:`SUBJECTS` (or the subject itself, validated)."""
    if isinstance(subject, Subject):
        return _validate_subject(subject)
    if isinstance(subject, str) and subject in SUBJECTS:
        return SUBJECTS[subject]
    raise ValueError(
        f"subject: unknown subject {subject!r}; choose one of {sorted(SUBJECTS)} or pass a Subject"
    )


# ---------------------------------------------------------------------------------- validation
def _check_keypoints(keypoints, name: str = "keypoints", joints: int | None = None):
    """T×J×2 (or J×2) float keypoints; NaN marks a missing joint, infinities are refused."""
    x = as_tensor(keypoints, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected real coordinates, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.float()
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(
            f"{name}: expected a T×J×2 (or J×2) tensor of (x, y) pixel coordinates, got shape "
            f"{tuple(keypoints.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name}: no frames (shape {tuple(keypoints.shape)})")
    if joints is not None and x.shape[1] < joints:
        raise ValueError(f"{name}: expected at least {joints} joints, got {x.shape[1]}")
    if bool(torch.isinf(x).any()):
        raise ValueError(f"{name}: contains infinite values; mark missing joints with NaN instead")
    return x, single


def _check_confidence(confidence, keypoints: torch.Tensor, name: str = "confidence"):
    if confidence is None:
        return None
    c = as_tensor(confidence, name)
    if c.ndim == 1:
        c = c[None]
    if tuple(c.shape) != tuple(keypoints.shape[:2]):
        raise ValueError(
            f"{name}: expected shape {tuple(keypoints.shape[:2])} (frames × joints) to match the "
            f"keypoints, got {tuple(c.shape)}"
        )
    if not c.is_floating_point():
        c = c.float()
    if bool(torch.isnan(c).any()) or bool((c < 0).any()):
        raise ValueError(f"{name}: values must be >= 0 and not NaN (0 marks a missing joint)")
    return c.to(keypoints.device)
