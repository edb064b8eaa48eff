"""The dance: keyframed joint angles (smoothstep between beats plus beat-locked sinusoids) turned
into joint positions by forward kinematics, with the subject walking in depth under perspective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lib._checks import check_positive_int
from lib.datasets.puppet.skeleton import ANKLES, Subject, get_subject

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
