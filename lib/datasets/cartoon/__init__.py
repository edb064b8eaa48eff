"""Data for CartoonGAN (Part II): procedural cartoons, the same scenes as photos, edge-smoothed
cartoons, unpaired batches.

CartoonGAN (Chen, Lai & Liu, CVPR 2018) learns photo → cartoon from *unpaired* sets: cartoon
images, photos, and the cartoons with their edges blurred (the negatives that teach the
discriminator what a clear edge is, §3.2). This package gives all three offline:

* :func:`cartoons` (:mod:`~lib.datasets.cartoon.scenes`, drawn with
  :mod:`~lib.datasets.cartoon.canvas`): procedural cartoon scenes (countryside, village, forest,
  still life) with what the paper calls the marks of a cartoon: flat colours, clean black
  outlines of a set width, little texture and simple cel shading (two or three tones per shape).
  Every shape is a signed distance field evaluated on the whole batch at once; fills, outlines
  and shading bands are all read off the distance field, anti-aliased over one pixel. Scenes live
  in unit coordinates, so the same seed gives the same scene at any size; image ``k`` depends
  only on ``(seed, k)``.
* :func:`photo_renders` (same modules): the same scenes drawn as photographs, image for image:
  no outlines, textured surfaces (fractal noise with a scale per material), continuous shading
  from the scene's light, soft cast shadows, haze, lens blur and sensor noise. Unlike the
  bundled photos they show the cartoons' world, so photos and cartoons differ in style only;
  the pairing (same ``seed``, same ``k``) is for evaluating a translation, not for training;
  :func:`scene_layouts` gives both styles' region map (which shape covers each pixel).
* :func:`edge_smooth` (:mod:`~lib.datasets.cartoon.edges`): the paper's recipe for the
  negatives, with OpenCV as the reference code uses it: Canny edges (:func:`canny`), dilated
  (:func:`edge_band`), and a Gaussian blur (:func:`gaussian_blur`) pasted in only inside the
  band.
* The other photo side is :func:`lib.datasets.photos` (crops of real photographs, other content);
  :func:`unpaired_batches` draws independent
  batches of the two sides, and :func:`unpaired_folders` loads a user's own cartoon frames and
  photos from two folders (through :func:`lib.datasets.image_folder`).

The marks of a cartoon are measured in :mod:`lib.metrics.cartoon` (edge sharpness, texture
energy, colour count), so cartoons, photos and generated images can be compared in numbers.
"""

from __future__ import annotations

from lib.datasets.cartoon.edges import (
    BLUR_SIZE,
    CANNY_THRESHOLDS,
    DILATE_SIZE,
    canny,
    edge_band,
    edge_smooth,
    gaussian_blur,
    opencv_gaussian_kernel,
)
from lib.datasets.cartoon.scenes import SCENE_TYPES, cartoons, photo_renders, scene_layouts
from lib.datasets.cartoon.unpaired import unpaired_batches, unpaired_folders

__all__ = [
    "BLUR_SIZE",
    "CANNY_THRESHOLDS",
    "DILATE_SIZE",
    "SCENE_TYPES",
    "canny",
    "cartoons",
    "edge_band",
    "edge_smooth",
    "gaussian_blur",
    "opencv_gaussian_kernel",
    "photo_renders",
    "scene_layouts",
    "unpaired_batches",
    "unpaired_folders",
]
