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


The package: :mod:`~lib.datasets.puppet.skeleton` (joints, limbs, subjects),
:mod:`~lib.datasets.puppet.motion` (the dance), :mod:`~lib.datasets.puppet.render` (stick figures
and the subject) and :mod:`~lib.datasets.puppet.clip` (a rendered clip, a detector's errors).
"""

from __future__ import annotations

from lib.datasets.puppet.clip import DanceClip, dance_clip, noisy_keypoints
from lib.datasets.puppet.motion import MOTION_CHANNELS, DanceMotion, dance_motion, puppet_keypoints
from lib.datasets.puppet.render import render_pose, render_puppet
from lib.datasets.puppet.skeleton import (
    ANKLES,
    JOINT_COLOURS,
    JOINT_NAMES,
    JOINTS,
    LIMB_COLOURS,
    LIMB_NAMES,
    LIMBS,
    PART_NAMES,
    SUBJECTS,
    Subject,
    get_subject,
)

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
