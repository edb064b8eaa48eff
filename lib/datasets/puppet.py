"""``dance_clip``: a dancing 2-D puppet with exact keypoints, for Everybody Dance Now.

A skeleton of 15 joints in OpenPose's BODY_25 order (its first 15 joints, the same set as the
MPI-15 model) is driven by a smooth dance and rendered two ways:

* as a **stick figure**: each limb a line in OpenPose's colour for it, on a plain background
  (:func:`render_pose`, public because motion transfer renders one subject's poses for another);
* as the **subject**: body parts drawn as filled capsules and ellipses with clothing colours,
  cylinder shading and a shirt pattern, a head with hair, eyes and a mouth, standing on a floor
  plane seen in perspective, with a soft shadow (:func:`render_puppet`).

The dance (:func:`dance_motion`) is forward kinematics: joint angles (keyframes a beat apart,
joined by smoothstep interpolation, plus sinusoids locked to the beat) turn fixed bone lengths
into joint positions, so every bone keeps its length in body units; the lower ankle stays on the
floor. The subject walks towards and away from the camera: under perspective its on-screen size
and the image row of its feet change together, scale ``k = 1 / (1 + d (r - 1))`` for depth
``d`` in [0, 1] and a far/close distance ratio ``r``, which is what Everybody Dance Now's global
pose normalisation assumes (height linear in the ankle position).

Two subjects (:data:`SUBJECTS`, ``"tall"`` and ``"short"``) differ in body proportions, on-screen
height, position, camera (horizon and floor), clothes, hair and skin. Rendering is vectorised:
every part is a distance field evaluated for a chunk of frames at once inside the box the part
covers in that chunk; 600 frames at 128×128 take about a second on two CPU cores. The same seed
gives the same clip on any device and for any chunking.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field, replace

import torch

from lib._checks import as_tensor, check_positive_int
from lib.device import cpu_threads, resolve_device

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

_CHUNK = 48  # frames rendered at once; results do not depend on it


def _one_cpu_thread(device: torch.device):
    """Render CPU crops on one thread: the crops are small, and on a busy machine the
    synchronisation of torch's thread pool costs far more than the second core saves (measured
    on two shared cores: 0.8 s on one thread against 5–30 s on two for 600 frames at 128²)."""
    return cpu_threads(1) if device.type == "cpu" else contextlib.nullcontext()


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

    def replace(self, **changes) -> Subject:
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


# ------------------------------------------------------------------------------------ the dance
MOTION_CHANNELS = (
    "lean",  # torso lean, radians (positive: the neck moves to the image's left)
    "head",  # head tilt relative to the torso, radians
    "right_shoulder",  # arm raised sideways: 0 along the body, pi straight up
    "left_shoulder",
    "right_elbow",  # elbow flexion, 0 straight
    "left_elbow",
    "right_hip",  # leg spread sideways
    "left_hip",
    "right_knee",  # knee bent outwards
    "left_knee",
    "lateral",  # sideways position of the mid-hip, body units
    "depth",  # 0 at the closest position, 1 at the farthest
    "mouth",  # 0 closed, 1 wide open
)

# Ranges the keyframes are drawn from; the beat-locked sinusoids are added on top.
_KEY_RANGES = {
    "lean": (-0.1, 0.1),
    "head": (-0.12, 0.12),
    "shoulder": (0.25, 2.55),
    "elbow": (0.0, 1.8),
    "hip": (0.05, 0.3),
    "knee": (0.0, 0.45),
    "mouth": (0.2, 0.75),
}


@dataclass(frozen=True)
class DanceMotion:
    """Joint angles and placement over time: ``angles`` is T×C for :data:`MOTION_CHANNELS`."""

    angles: torch.Tensor
    fps: float
    seed: int
    beat_hz: float

    def __len__(self) -> int:
        return self.angles.shape[0]

    def channel(self, name: str) -> torch.Tensor:
        if name not in MOTION_CHANNELS:
            raise ValueError(f"name: unknown channel {name!r}; choose one of {MOTION_CHANNELS}")
        return self.angles[:, MOTION_CHANNELS.index(name)]

    def __getitem__(self, index) -> DanceMotion:
        if isinstance(index, int):
            index = slice(index, index + 1) if index != -1 else slice(-1, None)
        return DanceMotion(self.angles[index], self.fps, self.seed, self.beat_hz)


def dance_motion(frames: int, *, seed: int = 0, fps: float = 30.0) -> DanceMotion:
    """A smooth dance of ``frames`` frames at ``fps``, deterministic in ``seed``.

    A beat of 1.6–2.2 Hz is drawn; a key pose is drawn every two beats (uniform in each joint's
    range, the arms mirrored in about a third of them) and consecutive keys are joined by
    smoothstep interpolation ``w = 3u² − 2u³`` (continuous velocity, no jerks at the keys). On
    top: sinusoids locked to the beat (a knee bounce on every beat, arm, torso, head and hip
    sways), a sideways step ``lateral(t)`` and the distance to the camera
    ``depth(t) = (1 − cos(2π t / P + φ)) / 2`` with a period P of 5–8 s, so a clip of a few
    periods visits both the closest and the farthest position.

    Returns a :class:`DanceMotion` with float64 angles, T×13.
    """
    check_positive_int(frames, "frames")
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps: expected a positive number, got {fps!r}")
    gen = torch.Generator().manual_seed(int(seed))

    def uniform(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(*shape, generator=gen, dtype=torch.float64)

    beat_hz = float(uniform(1.6, 2.2, 1))
    key_seconds = 2.0 / beat_hz
    t = torch.arange(frames, dtype=torch.float64) / fps
    n_keys = int(math.ceil(t[-1].item() / key_seconds)) + 2

    keys = {}
    for side in ("right", "left"):
        for joint in ("shoulder", "elbow", "hip", "knee"):
            keys[f"{side}_{joint}"] = uniform(*_KEY_RANGES[joint], n_keys)
    mirror = torch.rand(n_keys, generator=gen) < 0.35
    for joint in ("shoulder", "elbow", "hip", "knee"):
        keys[f"left_{joint}"] = torch.where(mirror, keys[f"right_{joint}"], keys[f"left_{joint}"])
    for name in ("lean", "head", "mouth"):
        keys[name] = uniform(*_KEY_RANGES[name], n_keys)

    position = t / key_seconds
    index = position.floor().long().clamp(max=n_keys - 2)
    u = position - index
    w = u * u * (3 - 2 * u)

    def keyframed(name: str) -> torch.Tensor:
        k = keys[name]
        return k[index] * (1 - w) + k[index + 1] * w

    phase = uniform(0, 2 * math.pi, 8)
    beat = 2 * math.pi * beat_hz * t
    bounce = 0.5 - 0.5 * torch.cos(beat)
    channels = {
        "lean": keyframed("lean") + 0.05 * torch.sin(beat / 2 + phase[0]),
        "head": keyframed("head") + 0.08 * torch.sin(beat / 2 + phase[1]),
        "right_shoulder": keyframed("right_shoulder") + 0.15 * torch.sin(beat + phase[2]),
        "left_shoulder": keyframed("left_shoulder") + 0.15 * torch.sin(beat + phase[2] + 0.5),
        "right_elbow": keyframed("right_elbow") + 0.2 * bounce,
        "left_elbow": keyframed("left_elbow") + 0.2 * bounce,
        "right_hip": keyframed("right_hip") + 0.03 * torch.sin(beat / 2 + phase[3]),
        "left_hip": keyframed("left_hip") + 0.03 * torch.sin(beat / 2 + phase[3] + math.pi),
        "right_knee": keyframed("right_knee") + 0.22 * bounce,
        "left_knee": keyframed("left_knee") + 0.22 * bounce,
        "lateral": 0.8 * torch.sin(2 * math.pi * t / uniform(4.0, 7.0, 1) + phase[4])
        + 0.2 * torch.sin(beat / 2 + phase[5]),
        "depth": 0.5 - 0.5 * torch.cos(2 * math.pi * t / uniform(5.0, 8.0, 1) + phase[6]),
        "mouth": keyframed("mouth") + 0.2 * torch.sin(beat + phase[7]),
    }
    angles = torch.stack([channels[name] for name in MOTION_CHANNELS], dim=1)
    return DanceMotion(angles, float(fps), int(seed), beat_hz)


def _unit(theta: torch.Tensor) -> torch.Tensor:
    """Direction at angle ``theta`` from straight down, turning towards +x (image y points down)."""
    return torch.stack([torch.sin(theta), torch.cos(theta)], dim=-1)


def _placement(subject: Subject, motion: DanceMotion, size: int):
    """Per frame: pixels per body unit, image row of the floor, image column of the mid-hip."""
    depth = motion.channel("depth")
    k = 1.0 / (1.0 + depth * (subject.depth_ratio - 1.0))  # perspective: 1 close, 1/r far
    scale = subject.height * size / subject.standing_height * k
    floor_y = (subject.horizon + (subject.floor_close - subject.horizon) * k) * size
    centre_x = subject.centre_x * size + motion.channel("lateral") * subject.lateral * scale
    return scale, floor_y, centre_x


def puppet_keypoints(
    subject: str | Subject, motion: DanceMotion, size: int = 128
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact keypoints of ``subject`` dancing ``motion``, in pixels of a ``size``² image.

    Forward kinematics in body units (y down, the mid-hip at the origin): the neck is
    ``torso`` away along the leaning trunk, shoulders and hips sit ``shoulder`` / ``hip`` to
    either side of it, each arm and leg is a chain of two bones at the channel's angles, the nose
    is ``neck`` away from the neck along the tilted head. The body is then lifted so the lower
    ankle is ``ankle_height`` above the floor, scaled by the perspective scale and placed on the
    floor row and column of the frame.

    Returns ``(keypoints, scale)``: T×15×2 float32 (x = column, y = row, pixel centres at
    integers) and T float32 pixels per body unit. Bone lengths are ``scale × bone_lengths``.
    """
    subject = get_subject(subject)
    check_positive_int(size, "size", minimum=16)
    if not isinstance(motion, DanceMotion):
        raise TypeError(f"motion: expected a DanceMotion, got {type(motion).__name__}")
    c = {name: motion.channel(name) for name in MOTION_CHANNELS}
    s = subject
    lean = c["lean"]
    trunk_up = _unit(math.pi + lean)
    to_right = _unit(lean - math.pi / 2)  # towards the subject's right (the image's left)
    origin = torch.zeros_like(trunk_up)
    neck = origin + s.torso * trunk_up
    nose = neck + s.neck * _unit(math.pi + lean + c["head"])
    r_sho, l_sho = neck + s.shoulder * to_right, neck - s.shoulder * to_right
    r_hip, l_hip = origin + s.hip * to_right, origin - s.hip * to_right
    r_arm = lean - c["right_shoulder"]
    l_arm = lean + c["left_shoulder"]
    r_elb = r_sho + s.upper_arm * _unit(r_arm)
    r_wri = r_elb + s.forearm * _unit(r_arm - c["right_elbow"])
    l_elb = l_sho + s.upper_arm * _unit(l_arm)
    l_wri = l_elb + s.forearm * _unit(l_arm + c["left_elbow"])
    r_kne = r_hip + s.thigh * _unit(-c["right_hip"])
    r_ank = r_kne + s.shin * _unit(-c["right_hip"] + c["right_knee"])
    l_kne = l_hip + s.thigh * _unit(c["left_hip"])
    l_ank = l_kne + s.shin * _unit(c["left_hip"] - c["left_knee"])
    body = torch.stack(
        [nose, neck, r_sho, r_elb, r_wri, l_sho, l_elb, l_wri, origin, r_hip, r_kne, r_ank]
        + [l_hip, l_kne, l_ank],
        dim=1,
    )  # T×15×2, body units
    lowest = body[:, list(ANKLES), 1].amax(dim=1)
    body[..., 1] -= (lowest + s.ankle_height)[:, None]  # the floor at y = 0
    scale, floor_y, centre_x = _placement(s, motion, size)
    keypoints = torch.empty_like(body)
    keypoints[..., 0] = centre_x[:, None] + scale[:, None] * body[..., 0]
    keypoints[..., 1] = floor_y[:, None] + scale[:, None] * body[..., 1]
    return keypoints.float(), scale.float()


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


# ---------------------------------------------------------------------------- distance fields
def _grid(size: int, device: torch.device):
    coords = torch.arange(size, device=device, dtype=torch.float32)
    return coords.view(1, 1, size), coords.view(1, size, 1)  # x (columns), y (rows)


def _segment(px, py, a, b):
    """Distance of every pixel to segment a→b (n×2 each) and the position along it in [0, 1]."""
    ax, ay = a[:, 0, None, None], a[:, 1, None, None]
    bax, bay = b[:, 0, None, None] - ax, b[:, 1, None, None] - ay
    dx, dy = px - ax, py - ay
    inv = 1.0 / (bax * bax + bay * bay).clamp(min=1e-9)
    h = ((dx * bax + dy * bay) * inv).clamp_(0, 1)
    ex, ey = dx - h * bax, dy - h * bay
    return torch.sqrt(ex * ex + ey * ey), h


def _local(px, py, centre, up):
    """Coordinates across (u, towards +x when upright) and down (v) a frame with axis ``up``."""
    dx = px - centre[:, 0, None, None]
    dy = py - centre[:, 1, None, None]
    ux, uy = up[:, 0, None, None], up[:, 1, None, None]
    return dx * -uy + dy * ux, -(dx * ux + dy * uy)


def _boxes_of_points(points: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """T×4 (x0, y0, x1, y1) around T×P×2 points grown by a per-frame radius."""
    lo = points.amin(dim=1) - radius[:, None]
    hi = points.amax(dim=1) + radius[:, None]
    return torch.cat([lo, hi], dim=1)


def _chunk_box(boxes: torch.Tensor, size: int, margin: float = 1.5):
    """Integer crop (x0, x1, y0, y1) covering all finite boxes of a chunk, or None when empty."""
    ok = torch.isfinite(boxes).all(dim=1)
    if not bool(ok.any()):
        return None
    b = boxes[ok]
    x0 = max(0, int(math.floor(float(b[:, 0].min()) - margin)))
    y0 = max(0, int(math.floor(float(b[:, 1].min()) - margin)))
    x1 = min(size, int(math.ceil(float(b[:, 2].max()) + margin)) + 1)
    y1 = min(size, int(math.ceil(float(b[:, 3].max()) + margin)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, x1, y0, y1


def _coverage(distance: torch.Tensor, antialias: bool = True) -> torch.Tensor:
    """Fraction of a pixel inside a shape from its signed distance (pixels)."""
    if antialias:
        return (0.5 - distance).clamp_(0, 1)
    return (distance <= 0).to(distance.dtype)


# --------------------------------------------------------------------------------- stick figures
def render_pose(
    keypoints,
    size: int = 128,
    *,
    confidence=None,
    limbs: tuple[tuple[int, int], ...] = LIMBS,
    colours=None,
    radius: float | None = None,
    background: float | tuple[float, float, float] = 1.0,
    antialias: bool = True,
    return_labels: bool = False,
    device: str | torch.device | None = None,
):
    """Stick figures of poses: each limb a round-capped line in its OpenPose colour.

    Limbs are painted in the order of ``limbs`` (later ones on top); a limb is skipped in a frame
    where either of its joints is missing (NaN coordinates, or ``confidence <= 0``). Limb pixels
    are anti-aliased by coverage ``clamp(0.5 + radius − d, 0, 1)`` with ``d`` the distance of
    the pixel centre to the limb's segment; with ``antialias=False`` a pixel takes the limb's
    colour exactly when ``d <= radius``.

    Args:
        keypoints: T×J×2 (or J×2) float (x, y) pixel coordinates, pixel centres at integers (as
            :func:`puppet_keypoints` returns them); J ≥ the largest joint index in ``limbs``.
        size: side of the square images.
        confidence: optional T×J (or J) confidences; joints at 0 are missing.
        limbs: pairs of joint indices (default: OpenPose's BODY_25 pairs among 15 joints).
        colours: L×3 RGB in [0, 1], one per limb (default :data:`LIMB_COLOURS`).
        radius: half the line width in pixels (default ``max(1, size / 96)``).
        background: grey level or RGB of the empty image (white by default).
        antialias: smooth edges (default) or hard ones.
        return_labels: also return a T×H×W int64 map, ``k + 1`` where limb ``k`` is on top
            (coverage > 0.5), 0 on the background.
        device: where to render (default: where the keypoints are).

    Returns T×3×size×size float images in [0, 1] (3×size×size for J×2 input), and the labels
    when asked for.
    """
    kp, single = _check_keypoints(keypoints)
    check_positive_int(size, "size", minimum=4)
    conf = _check_confidence(confidence, kp)
    limbs = tuple(tuple(int(j) for j in pair) for pair in limbs)
    if not limbs or any(len(p) != 2 for p in limbs):
        raise ValueError("limbs: expected a non-empty sequence of (joint, joint) index pairs")
    top = max(max(p) for p in limbs)
    if min(min(p) for p in limbs) < 0 or top >= kp.shape[1]:
        raise ValueError(
            f"limbs: joint indices must lie in [0, {kp.shape[1] - 1}] for keypoints with "
            f"{kp.shape[1]} joints, got a pair using joint {top}"
        )
    if colours is None:
        if len(limbs) > len(LIMB_COLOURS):
            raise ValueError(f"colours: give one colour per limb for more than {len(LIMBS)} limbs")
        colours = LIMB_COLOURS[: len(limbs)]
    colours = as_tensor(colours, "colours").float()
    if colours.shape != (len(limbs), 3) or bool((colours < 0).any() | (colours > 1).any()):
        raise ValueError(
            f"colours: expected {len(limbs)}×3 RGB values in [0, 1], got shape "
            f"{tuple(colours.shape)}"
        )
    if radius is None:
        radius = max(1.0, size / 96)
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius: expected a positive number of pixels, got {radius!r}")
    bg = torch.as_tensor(background, dtype=torch.float32).flatten()
    if bg.numel() not in (1, 3) or bool((bg < 0).any() | (bg > 1).any()):
        raise ValueError(f"background: expected a grey level or RGB in [0, 1], got {background!r}")
    device = kp.device if device is None else resolve_device(device)

    kp_cpu = kp.detach().float().cpu()
    missing = torch.isnan(kp_cpu).any(dim=-1)
    if conf is not None:
        missing |= conf.detach().cpu() <= 0
    n = kp_cpu.shape[0]
    images = torch.empty(n, 3, size, size, device=device)
    images[:] = bg.to(device).view(1, -1, 1, 1)
    labels = torch.zeros(n, size, size, dtype=torch.int64, device=device) if return_labels else None
    colours_dev = colours.to(device).view(-1, 1, 3, 1, 1)
    with _one_cpu_thread(device):
        _paint_limbs(kp_cpu, missing, limbs, colours_dev, radius, antialias, images, labels)
    images.clamp_(0, 1)
    if single:
        images = images[0]
        labels = None if labels is None else labels[0]
    return (images, labels) if return_labels else images


def _paint_limbs(kp_cpu, missing, limbs, colours, radius, antialias, images, labels) -> None:
    n, size, device = kp_cpu.shape[0], images.shape[-1], images.device
    px, py = _grid(size, device)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        for k, (ja, jb) in enumerate(limbs):
            gone = missing[start:stop, ja] | missing[start:stop, jb]
            if bool(gone.all()):
                continue
            a, b = kp_cpu[start:stop, ja], kp_cpu[start:stop, jb]
            boxes = _boxes_of_points(torch.stack([a, b], 1), torch.full((stop - start,), radius))
            boxes[gone] = float("nan")
            crop = _chunk_box(boxes, size)
            if crop is None:
                continue
            x0, x1, y0, y1 = crop
            far = torch.where(gone[:, None], torch.full_like(a, -1e6), a)
            far_b = torch.where(gone[:, None], torch.full_like(b, -1e6), b)
            d, _ = _segment(px[..., x0:x1], py[:, y0:y1], far.to(device), far_b.to(device))
            alpha = _coverage(d - radius, antialias)
            region = images[start:stop, :, y0:y1, x0:x1]
            region.lerp_(colours[k], alpha[:, None])
            if labels is not None:
                lab = labels[start:stop, y0:y1, x0:x1]
                lab[alpha > 0.5] = k + 1


# --------------------------------------------------------------------------------- the subject
def _background(subject: Subject, size: int, device: torch.device) -> torch.Tensor:
    """Wall above the horizon, a floor of boards in perspective below it, with shading."""
    px, py = _grid(size, device)
    x, y = px[0], py[0]  # 1×W, H×1
    horizon = subject.horizon * size
    wall = torch.tensor(subject.wall, device=device).view(3, 1, 1)
    floor = torch.tensor(subject.floor, device=device).view(3, 1, 1)
    # Wall: lighter towards the top, a soft vignette to the sides.
    wall_shade = 1.0 - 0.12 * (y / size) - 0.1 * ((x / size - 0.5) ** 2) * 4
    # Floor: boards converge to a vanishing point on the horizon, nearer floor is lighter.
    below = (y - horizon).clamp(min=0.5)
    across = (x - 0.5 * size) / below  # constant along each board edge
    fade = ((y - horizon) / (0.35 * size)).clamp(0, 1)  # no aliasing moiré near the horizon
    boards = 1.0 - 0.12 * fade * torch.sin(across * 5.0 * math.pi).abs() ** 8
    depth_shade = 0.72 + 0.28 * ((y - horizon) / max(size - horizon, 1.0)).clamp(0, 1)
    floor_img = floor * (boards * depth_shade)[None]
    wall_img = wall * wall_shade[None]
    is_floor = ((y - horizon) + 0.5).clamp(0, 1)[None]  # anti-aliased horizon
    image = wall_img * (1 - is_floor) + floor_img * is_floor
    skirting = (1.0 - (y - horizon).abs() / 1.2).clamp(0, 1)[None]  # a dark line at the wall
    image = image * (1 - 0.35 * skirting)
    return image.expand(3, size, size).clamp(0, 1)


@dataclass
class _Shape:
    """One part to paint: its geometry per frame and how to colour it."""

    kind: str  # "capsule", "ellipse" or "trunk"
    label: int  # index into PART_NAMES (0: background, used for the shadow)
    colour: tuple[float, float, float]
    boxes: torch.Tensor  # T×4 bounding boxes in pixels
    a: torch.Tensor | None = None  # capsule end points, ellipse centre
    b: torch.Tensor | None = None  # capsule end point, ellipse "up" axis (unit)
    r: torch.Tensor | None = None  # capsule radius, ellipse horizontal radius
    ry: torch.Tensor | None = None  # ellipse vertical radius
    extra: tuple = ()  # trunk: ((a, b, r), ...) extra capsules in the union
    shade: bool = True
    opacity: float = 1.0
    softness: float = 1.0  # edge width in pixels (the shadow is soft)
    pattern: str = "plain"
    pattern_colour: tuple[float, float, float] = (1.0, 1.0, 1.0)
    above: float | None = None  # ellipse: only the part with v < above × ry (a fringe)


def _capsule(label, colour, a, b, r, **kw) -> _Shape:
    boxes = _boxes_of_points(torch.stack([a, b], 1), r)
    return _Shape("capsule", label, colour, boxes, a=a, b=b, r=r, **kw)


def _ellipse(label, colour, centre, up, rx, ry, **kw) -> _Shape:
    reach = torch.maximum(rx, ry)
    boxes = _boxes_of_points(centre[:, None], reach)
    return _Shape("ellipse", label, colour, boxes, a=centre, b=up, r=rx, ry=ry, **kw)


def _subject_shapes(subject: Subject, kp: torch.Tensor, scale: torch.Tensor, mouth: torch.Tensor):
    """The list of parts in painting order, and the face boxes."""
    s = subject
    j = JOINTS
    P = lambda name: kp[:, j[name]]  # noqa: E731
    limb_r = s.limb_width * scale
    trunk_r = s.torso_width * scale
    head_rx = s.head * scale
    head_ry = 1.2 * head_rx
    neck, nose, mid_hip = P("neck"), P("nose"), P("mid_hip")
    up = nose - neck
    up = up / up.norm(dim=1, keepdim=True).clamp(min=1e-9)
    head_c = nose + 0.15 * head_ry[:, None] * up
    across = torch.stack([-up[:, 1], up[:, 0]], dim=1)
    shapes: list[_Shape] = []

    # Shadow on the floor under the feet.
    ankles = kp[:, list(ANKLES)]
    floor_row = ankles[..., 1].amax(dim=1) + s.ankle_height * scale
    shadow_c = torch.stack([ankles[..., 0].mean(dim=1), floor_row], dim=1)
    shadow_rx = (s.shoulder + 0.06) * scale * 1.3
    flat = torch.tensor([[0.0, -1.0]]).expand_as(shadow_c)
    shapes.append(
        _ellipse(
            0,
            (0.0, 0.0, 0.0),
            shadow_c,
            flat,
            shadow_rx,
            0.18 * shadow_rx,
            shade=False,
            opacity=0.35,
            softness=4.0,
        )
    )
    if s.hair_style == "long":
        tail = neck + (0.35 * s.torso) * scale[:, None] * (-up)
        shapes.append(
            _capsule(_PART["long_hair"], s.hair, head_c, tail, 1.05 * head_rx, shade=False)
        )

    legs_colour = s.trousers
    shin_colour = s.trousers if s.legwear == "trousers" else s.skin
    for side, label in (("right", _PART["right_leg"]), ("left", _PART["left_leg"])):
        hip, knee, ankle = P(f"{side}_hip"), P(f"{side}_knee"), P(f"{side}_ankle")
        shapes.append(_capsule(label, legs_colour, hip, knee, limb_r * 1.12))
        shapes.append(_capsule(label, shin_colour, knee, ankle, limb_r))
        out = -1.0 if side == "right" else 1.0
        toe = ankle + torch.stack([out * 1.6 * limb_r, 0.7 * limb_r], dim=1)
        heel = ankle + torch.stack([-out * 0.3 * limb_r, 0.7 * limb_r], dim=1)
        shapes.append(_capsule(label, s.shoes, heel, toe, 0.75 * limb_r))
    pelvis_r = limb_r * 1.2
    shapes.append(
        _capsule(_PART["torso"], legs_colour, P("right_hip"), P("left_hip"), pelvis_r, shade=False)
    )
    shapes.append(_capsule(_PART["torso"], s.skin, neck, nose, 0.55 * head_rx))
    trunk_boxes = _boxes_of_points(
        torch.stack([neck, mid_hip, P("right_shoulder"), P("left_shoulder")], 1),
        torch.maximum(trunk_r, limb_r * 1.3),
    )
    trunk_extra = (
        (P("right_shoulder"), P("left_shoulder"), limb_r * 1.3),
        (P("right_hip"), P("left_hip"), pelvis_r),
    )
    shapes.append(
        _Shape(
            "trunk",
            _PART["torso"],
            s.shirt,
            trunk_boxes,
            a=neck,
            b=mid_hip,
            r=trunk_r,
            extra=trunk_extra,
            pattern=s.shirt_pattern,
            pattern_colour=s.shirt_pattern_colour,
        )
    )

    # Head: hair behind, the face, a fringe, eyes and mouth.
    shapes.append(
        _ellipse(
            _PART["head"],
            s.hair,
            head_c + 0.1 * head_ry[:, None] * up,
            up,
            1.1 * head_rx,
            1.05 * head_ry,
            shade=False,
        )
    )
    shapes.append(_ellipse(_PART["head"], s.skin, head_c, up, head_rx, head_ry))
    shapes.append(
        _ellipse(_PART["head"], s.hair, head_c, up, head_rx, head_ry, shade=False, above=-0.55)
    )
    eye_r = 0.14 * head_rx
    for side in (-1.0, 1.0):
        eye = head_c + (side * 0.4 * head_rx)[:, None] * across + (0.1 * head_ry)[:, None] * up
        shapes.append(_capsule(_PART["head"], (0.1, 0.08, 0.08), eye, eye, eye_r, shade=False))
    mouth_c = head_c - (0.45 * head_ry)[:, None] * up
    mouth_ry = (0.06 + 0.14 * mouth.clamp(0, 1)) * head_ry
    shapes.append(
        _ellipse(
            _PART["head"], (0.55, 0.12, 0.15), mouth_c, up, 0.33 * head_rx, mouth_ry, shade=False
        )
    )

    # Arms in front of the body.
    sleeve = s.shirt
    forearm_colour = s.shirt if s.sleeves == "long" else s.skin
    for side, label in (("right", _PART["right_arm"]), ("left", _PART["left_arm"])):
        sho, elb, wri = P(f"{side}_shoulder"), P(f"{side}_elbow"), P(f"{side}_wrist")
        shapes.append(_capsule(label, sleeve, sho, elb, limb_r * 1.05))
        shapes.append(_capsule(label, forearm_colour, elb, wri, limb_r * 0.9))
        shapes.append(_capsule(label, s.skin, wri, wri, limb_r * 1.25))

    # Face box: the head with its hair (a rotated ellipse's axis-aligned extent) and a margin.
    rx, ry = 1.1 * head_rx, 1.05 * head_ry + 0.1 * head_ry
    cos_a, sin_a = up[:, 1].abs(), up[:, 0].abs()
    half_w = torch.sqrt((rx * cos_a) ** 2 + (ry * sin_a) ** 2) + 1.0
    half_h = torch.sqrt((rx * sin_a) ** 2 + (ry * cos_a) ** 2) + 1.0
    centre = head_c + 0.05 * head_ry[:, None] * up
    half = torch.stack([half_w, half_h], dim=1)
    face_boxes = torch.cat([centre - half, centre + half], dim=1)
    return shapes, face_boxes


def _paint(shape: _Shape, images, labels, px, py, start, stop, size, device):
    crop = _chunk_box(shape.boxes[start:stop], size, margin=1.5 + shape.softness)
    if crop is None:
        return
    x0, x1, y0, y1 = crop
    cx, cy = px[..., x0:x1], py[:, y0:y1]
    dev = lambda t: t[start:stop].to(device)  # noqa: E731
    pattern_weight = None
    if shape.kind in ("capsule", "trunk"):
        r = dev(shape.r)[:, None, None]
        d, h = _segment(cx, cy, dev(shape.a), dev(shape.b))
        rel = d / r
        distance = d - r
        for a, b, rr in shape.extra:
            d2, _ = _segment(cx, cy, dev(a), dev(b))
            distance = torch.minimum(distance, d2 - dev(rr)[:, None, None])
        if shape.pattern != "plain":
            length = (dev(shape.b) - dev(shape.a)).norm(dim=1)[:, None, None]
            along = h * length / r  # in units of the trunk's radius
            if shape.pattern == "stripes":
                pattern_weight = (torch.sin(along * 5.0) * 2.5 - 1.0).clamp(0, 1)
            else:
                u, _ = _local(cx, cy, dev(shape.a), -_normalised(dev(shape.b) - dev(shape.a)))
                dots = torch.sin(along * 4.0) * torch.sin(u / r * 4.0)
                pattern_weight = ((dots - 0.55) * 5).clamp(0, 1)
    else:
        rx, ry = dev(shape.r)[:, None, None], dev(shape.ry)[:, None, None]
        u, v = _local(cx, cy, dev(shape.a), dev(shape.b))
        # First-order distance to an ellipse, k0 (k0 - 1) / k1: exact on the boundary and close
        # to it, where anti-aliasing needs it.
        rel = torch.sqrt((u / rx) ** 2 + (v / ry) ** 2)
        k1 = torch.sqrt((u / (rx * rx)) ** 2 + (v / (ry * ry)) ** 2).clamp_(min=1e-9)
        distance = torch.where(rel < 1e-3, -torch.minimum(rx, ry), rel * (rel - 1) / k1)
        if shape.above is not None:
            distance = torch.maximum(distance, v - shape.above * ry)
    alpha = (0.5 - distance / shape.softness).clamp_(0, 1)
    colour = torch.tensor(shape.colour, device=device).view(1, 3, 1, 1)
    if shape.shade:
        shade = 0.7 + 0.3 * torch.sqrt((1 - rel * rel).clamp_(min=0))
        colour = colour * shade[:, None]
    if pattern_weight is not None:
        other = torch.tensor(shape.pattern_colour, device=device).view(1, 3, 1, 1)
        if shape.shade:
            other = other * shade[:, None]
        colour = torch.lerp(colour, other, pattern_weight[:, None])
    if shape.opacity != 1.0:
        alpha = alpha * shape.opacity
    region = images[start:stop, :, y0:y1, x0:x1]
    region.lerp_(colour.expand_as(region) if colour.shape[0] == 1 else colour, alpha[:, None])
    if shape.label > 0:
        lab = labels[start:stop, y0:y1, x0:x1]
        lab[alpha > 0.5] = shape.label


def _normalised(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True).clamp(min=1e-9)


def render_puppet(
    subject: str | Subject,
    keypoints,
    size: int = 128,
    *,
    mouth=None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render ``subject`` in the poses ``keypoints`` (T×15×2 pixels, all joints present).

    The size of the body's parts follows the keypoints: pixels per body unit is the ratio of
    the summed bone lengths in the keypoints to the subject's (exact for the subject's own
    keypoints; for another subject's poses the look is stretched onto them, which is what motion
    transfer does). Parts are painted back to front: shadow, long hair, legs and shoes, pelvis,
    neck, the shirt (trunk with a pattern in trunk coordinates, so it moves with the body),
    the head (hair, face, fringe, eyes, mouth) and the arms.

    Args:
        subject: a name in :data:`SUBJECTS` or a :class:`Subject`.
        keypoints: T×15×2 (or 15×2) float pixel coordinates in :data:`JOINT_NAMES` order.
        size: side of the square images.
        mouth: optional T mouth opening in [0, 1] (default 0.3).
        device: where to render (default: where the keypoints are).

    Returns ``(frames, parts, face_boxes)``: T×3×H×W float images in [0, 1], T×H×W uint8 part
    labels (:data:`PART_NAMES`), T×4 float face boxes (x0, y0, x1, y1) in pixels enclosing the
    head and its hair.
    """
    subject = get_subject(subject)
    kp, single = _check_keypoints(keypoints, joints=len(JOINT_NAMES))
    check_positive_int(size, "size", minimum=16)
    kp = kp[:, : len(JOINT_NAMES)]
    if bool(torch.isnan(kp).any()):
        raise ValueError(
            "keypoints: the puppet needs every joint in every frame; fill missing joints first "
            "(lib.models.dance_pose.smooth_keypoints fills gaps from neighbouring frames)"
        )
    device = kp.device if device is None else resolve_device(device)
    kp_cpu = kp.detach().float().cpu()
    n = kp_cpu.shape[0]
    if mouth is None:
        mouth_t = torch.full((n,), 0.3)
    else:
        mouth_t = as_tensor(mouth, "mouth").float().flatten().cpu()
        if mouth_t.numel() != n or not bool(torch.isfinite(mouth_t).all()):
            raise ValueError(f"mouth: expected {n} finite values (one per frame)")
    lengths = torch.stack([(kp_cpu[:, b] - kp_cpu[:, a]).norm(dim=1) for a, b in LIMBS], dim=1)
    scale = lengths.sum(dim=1) / float(subject.bone_lengths.sum())
    if bool((scale <= 1e-6).any()):
        raise ValueError("keypoints: a frame has all joints on one point; cannot size the body")
    shapes, face_boxes = _subject_shapes(subject, kp_cpu, scale, mouth_t)

    background = _background(subject, size, device)
    images = torch.empty(n, 3, size, size, device=device)
    parts = torch.zeros(n, size, size, dtype=torch.uint8, device=device)
    px, py = _grid(size, device)
    with _one_cpu_thread(device):
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            images[start:stop] = background
            for shape in shapes:
                _paint(shape, images, parts, px, py, start, stop, size, device)
    images.clamp_(0, 1)
    face_boxes = face_boxes.to(device)
    if single:
        return images[0], parts[0], face_boxes[0]
    return images, parts, face_boxes


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
    keypoints,
    confidence=None,
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


__all__ = [
    "ANKLES",
    "JOINTS",
    "JOINT_COLOURS",
    "JOINT_NAMES",
    "LIMBS",
    "LIMB_COLOURS",
    "LIMB_NAMES",
    "MOTION_CHANNELS",
    "PART_NAMES",
    "SUBJECTS",
    "DanceClip",
    "DanceMotion",
    "Subject",
    "dance_clip",
    "dance_motion",
    "get_subject",
    "noisy_keypoints",
    "puppet_keypoints",
    "render_pose",
    "render_puppet",
]
