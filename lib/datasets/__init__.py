"""Offline data sets of the course, and loaders for real ones a user has on disk.

Every set comes back as an :class:`ImageSet`: float N×C×H×W images in [0, 1] with integer labels
where it has them. Nothing here downloads unless a loader is called with ``download=True``.

=================  =============================================================================
``digits``         scikit-learn's 1,797 handwritten digits, upsampled to 32×32, fixed split
``shapes``         procedural 10-class 32×32 RGB shapes, any number, settable class balance
``photos``         random crops from the photos bundled with scikit-image/scikit-learn/matplotlib
``mnist``          MNIST's original IDX files from a path
``cifar10``        CIFAR-10's python or binary batches from a path
``folder``         a folder of image files (subfolders become classes)
``cartoons``       procedural cartoons (Part II): flat colours, black outlines, cel shading;
                   ``edge_smooth`` makes CartoonGAN's edge-blurred negatives
``photo_renders``  the cartoons' scenes as photos: texture, continuous light, soft shadows,
                   lens blur, sensor noise, no outlines (same seed, same scene)
``street``         toy street videos (Part II): frames, semantic and instance maps, the exact
                   backward optical flow and occlusion mask of every frame
``dance_clip``     a dancing puppet (Part II): frames, exact OpenPose-order keypoints, stick
                   figures, face boxes, for two subjects that differ in build, place and look
=================  =============================================================================
"""

from __future__ import annotations

from typing import Any

from lib.datasets.base import ImageSet
from lib.datasets.cartoon import (
    SCENE_TYPES,
    canny,
    cartoons,
    edge_smooth,
    photo_renders,
    unpaired_batches,
    unpaired_folders,
)
from lib.datasets.digits import DIGIT_CLASSES, digits
from lib.datasets.files import CIFAR10_CLASSES, cifar10, image_folder, list_images, mnist, read_idx
from lib.datasets.photos import PHOTO_SOURCES, load_photo, photos
from lib.datasets.puppet import (
    JOINT_NAMES,
    LIMB_NAMES,
    SUBJECTS,
    DanceClip,
    dance_clip,
    noisy_keypoints,
    render_pose,
)
from lib.datasets.shapes import SHAPE_CLASSES, class_counts_for, shapes
from lib.datasets.street import STREET_CLASSES, STREET_PALETTE, StreetClips, street

LOADERS = {
    "digits": digits,
    "shapes": shapes,
    "photos": photos,
    "cartoons": cartoons,
    "photo_renders": photo_renders,
    "mnist": mnist,
    "cifar10": cifar10,
    "folder": image_folder,
}


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(LOADERS)


def load(name: str, *args: Any, **kwargs: Any) -> ImageSet:
    """Load a data set by name: ``load("shapes", 500, seed=1)``, ``load("mnist", "~/data")``.

    Arguments after the name go to the set's own function (see its docstring).
    """
    if name not in LOADERS:
        raise ValueError(f"name: unknown data set {name!r}; choose one of {available()}")
    return LOADERS[name](*args, **kwargs)


__all__ = [
    "CIFAR10_CLASSES",
    "DIGIT_CLASSES",
    "JOINT_NAMES",
    "LIMB_NAMES",
    "SUBJECTS",
    "DanceClip",
    "dance_clip",
    "noisy_keypoints",
    "render_pose",
    "LOADERS",
    "PHOTO_SOURCES",
    "SCENE_TYPES",
    "SHAPE_CLASSES",
    "STREET_CLASSES",
    "STREET_PALETTE",
    "StreetClips",
    "ImageSet",
    "available",
    "canny",
    "cartoons",
    "cifar10",
    "class_counts_for",
    "digits",
    "edge_smooth",
    "image_folder",
    "list_images",
    "load",
    "load_photo",
    "mnist",
    "photo_renders",
    "photos",
    "read_idx",
    "shapes",
    "street",
    "unpaired_batches",
    "unpaired_folders",
]
