"""Perceptual feature taps and the perceptual loss of vid2vid, Everybody Dance Now and CartoonGAN.

A perceptual loss compares two images through the intermediate feature maps of a frozen
network instead of pixel by pixel (Wang et al. 2018, pix2pixHD and vid2vid; Chen et al. 2018,
CartoonGAN):

- **vid2vid** and **Everybody Dance Now** (pix2pixHD's VGG loss, weight 10):
  Σ_l w_l · mean |φ_l(x) − φ_l(y)| over VGG19's relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 with
  w = 1/32, 1/16, 1/8, 1/4, 1 (:data:`VID2VID_LAYER_WEIGHTS`, the default here);
- **CartoonGAN** content loss: ω · ‖φ(G(p)) − φ(p)‖₁ with ω = 10 and φ = VGG19 **conv4_4 before
  its ReLU**: ``10 * perceptual_loss(perceptual_net(["conv4_4"]), G(p), p)``.

Two backends give the same interface (:class:`PerceptualNet`: ``net(images)`` →
``{layer: N×C×h×w}``, differentiable with respect to the images, parameters frozen, always in
eval mode):

- ``"vgg19"`` (:class:`VGG19Perceptual`): torchvision's ``vgg19`` architecture with the
  ImageNet weights read from a local file only — ``vgg19-dcbb9e9d.pth`` in
  ``torch.hub.get_dir()/checkpoints`` (where torchvision caches it) or an explicit ``path=``; the
  file name's sha256 prefix is checked and it is read with ``torch.load(weights_only=True)``.
  Layers use the standard VGG names (``conv3_2``, ``relu3_2``, ``pool3``, ...;
  :data:`VGG19_LAYERS` maps them to indices of torchvision's ``features``). Input: float
  [0, 1], N×C×H×W with C = 3 (grey C = 1 repeated to RGB), normalised with the ImageNet
  mean/std, not resized. The network is cut after the deepest layer asked for.
- ``"course"`` (:class:`CoursePerceptual`): a course classifier (default the trained
  ``shapes-cnn``; see :mod:`lib.features.classifiers`). Its layers are ``stage1`` … ``stage4``,
  each stage's output after its ReLU and **before** the 2×2 max-pool (32, 16, 8 and 4 px on a
  side, 24/48/96/96 channels), and ``stage1_pre`` … ``stage4_pre``, the same maps before the ReLU
  (the analogue of CartoonGAN's pre-ReLU conv4_4). Input goes through ``CourseCNN.prepare``:
  channels matched (grey repeated to RGB for shapes-cnn), resized to 32×32 with antialiased
  bilinear interpolation, ``x − 0.5`` — so detail finer than the 32×32 scale is invisible to it.

- ``"layout"`` (:class:`LayoutPerceptual`): the course network ``scene-layout``
  (:mod:`lib.features.scene_layout`), trained to tell which shape of a cartoon-world scene covers
  each pixel from both its cartoon and its photo-like rendering, so its features carry the
  scene's layout and little of the style: the course's content network for CartoonGAN. Layers
  ``stage1`` … ``stage3`` (full, ½ and ¼ resolution; 16/32/64 channels); RGB only, ``2x − 1``,
  not resized. Chosen only by name (``backend="layout"``).

:func:`perceptual_net` picks the backend: ``"auto"`` uses VGG19 when its weights file is on disk
and otherwise the course network, with a ``UserWarning``; ``net.backend`` and ``net.describe()``
say which one it is, so a notebook can print it. :func:`perceptual_loss` computes the loss.

:class:`VGG19Features` is the same VGG19 as a :class:`~lib.features.base.FeatureExtractor`
(taps: spatial means of relu1_1 … relu5_1, ``fc7`` and the 1000 ImageNet ``logits``), for the
metrics and the "which feature network" experiments; it needs the complete weights file.

Nothing is downloaded; a missing file raises ``FileNotFoundError`` saying where to put it.
"""

from lib.features.perceptual.loss import perceptual_loss, perceptual_net
from lib.features.perceptual.nets import (
    COURSE_LAYER_WEIGHTS,
    COURSE_LAYERS,
    SCENE_LAYOUT_LAYERS,
    VID2VID_LAYER_WEIGHTS,
    CoursePerceptual,
    LayoutPerceptual,
    PerceptualNet,
    VGG19Perceptual,
)
from lib.features.perceptual.vgg19 import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGG19_LAYERS,
    VGG19_WEIGHTS_NAME,
    VGG19_WEIGHTS_URL,
    find_vgg19_weights,
    load_vgg19_weights,
    vgg19_weights_dir,
)
from lib.features.perceptual.vgg19_features import VGG19Features

__all__ = [
    "PerceptualNet",
    "VGG19Perceptual",
    "CoursePerceptual",
    "LayoutPerceptual",
    "VGG19Features",
    "perceptual_net",
    "perceptual_loss",
    "find_vgg19_weights",
    "load_vgg19_weights",
    "vgg19_weights_dir",
    "VGG19_WEIGHTS_NAME",
    "VGG19_WEIGHTS_URL",
    "VGG19_LAYERS",
    "VID2VID_LAYER_WEIGHTS",
    "COURSE_LAYERS",
    "COURSE_LAYER_WEIGHTS",
    "SCENE_LAYOUT_LAYERS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]
