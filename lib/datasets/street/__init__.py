"""``street``: a toy street video with exact optical flow, occlusion, labels and instances.

A side view of a street: sky, a row of buildings, a sidewalk with people walking on it and a
two-lane road with cars, seen by a camera that pans (and sways a little). Every layer is a textured
sprite (an RGBA image, procedural in scene units) placed in each frame by a known axis-aligned
affine map ``A_{l,t}`` (texel → pixel: scale and shift per axis), and every frame is rendered by
*inverse mapping*: pixel p of frame t shows, of the layers that cover it, the front one, at texel
``u = A_{l,t}⁻¹ p`` (bilinear lookup; one ``grid_sample`` per layer for all clips and frames at
once, restricted to the layer's bounding box). Because the maps are known, the ground truth is
exact:

* **backward flow** of pixel p in frame t, seen on layer l: the same texture point was at
  ``q = A_{l,t−1} A_{l,t}⁻¹ p`` in frame t−1, so ``flow(p) = q − p`` (pixels, x then y);
  warping frame t−1 with it (:func:`lib.video.warp`) gives frame t up to the texture's bilinear
  interpolation error;
* **occlusion**: p is occluded when q lies outside frame t−1 (entering the frame), when its layer
  was not visible in frame t−1 (a face of a turning car seen edge-on or from behind) or when a
  layer in front covered q in frame t−1 (the background uncovered behind a moving car). It is
  computed from the layers' shapes at q, not by comparing colours.

Frame 0 has no previous frame: its flow is zero and all of it is marked occluded (invalid).

Options show the limits of flow-based video synthesis: ``turning=True`` makes one car per clip
turn towards the camera (its side shrinks and its front appears: new appearance that no warp of
the previous frame contains), ``scaling=True`` makes it approach or recede (it grows or shrinks).
The turning car is a box seen under orthographic projection, so each face moves by an exact
affine map, and its flow is exact too.

Scene units: 1 = the frame height, x right, y down. Every random number of clip ``k`` comes from a
generator seeded with ``(seed, k)``, so clip k is the same for any ``n`` and any chunking, and the
scene does not depend on the pixel size (textures are procedural in scene units): the same seed at
64² and at 256² shows the same street.


The package: :mod:`~lib.datasets.street.layout` (classes, layout, the random draw of a clip),
:mod:`~lib.datasets.street.textures` (procedural sprites) and
:mod:`~lib.datasets.street.render` (inverse mapping, exact flow and occlusion).
"""

from __future__ import annotations

from lib.datasets.street.layout import STREET_CLASSES, STREET_PALETTE
from lib.datasets.street.render import StreetClips, street

__all__ = ["STREET_CLASSES", "STREET_PALETTE", "StreetClips", "street"]
