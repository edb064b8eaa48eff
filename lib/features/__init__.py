"""Feature networks the metrics look through, behind one interface and one registry.

- :class:`FeatureExtractor` (``lib.features.base``): ``.features(images)`` → N×D,
  ``.logits(images)``, ``.extract(images, taps)``, ``.num_features``, ``.describe()``.
- :func:`register` / :func:`get` / :func:`available` (``lib.features.registry``): networks by
  name, e.g. ``get("shapes-cnn")``; clip networks are the ``kind="clip"`` entries of the same
  registry (``available("clip")``, :func:`lib.features.video.get_clip_network`).

Registered networks:

==================  ============================================================================
``digits-cnn``      the course CNN trained on ``digits`` (96-d features, 10 classes)
``shapes-cnn``      the course CNN trained on ``shapes`` (96-d features, 10 classes)
``random-cnn``      the same CNN with random weights: the "no training" baseline
``inception-fid``   the TF 2015-12-05 FID Inception port; weights from a local file only
``vgg19``           torchvision's VGG19 (fc7 features, ImageNet logits); weights from a local file
==================  ============================================================================

The segmentation score of generated street video (:func:`lib.metrics.segmentation_score`) looks
through :class:`StreetSegmenter` (``lib.features.segmentation``), a small U-Net trained on real
toy street frames: :func:`load_street_segmenter` loads the committed weights. It gives a class per
pixel, not a feature vector, so it is not in the registry.

Perceptual losses (vid2vid, Everybody Dance Now, CartoonGAN) use :func:`perceptual_net`: VGG19
layers when its weights file is on disk, otherwise the stages of a course network. CartoonGAN's
content loss on the cartoon world can also look through :class:`SceneLayoutNet`
(``lib.features.scene_layout``; ``perceptual_net(backend="layout")``), trained to tell which shape
covers each pixel from a scene's cartoon and its photo-like rendering alike:
:func:`load_scene_layout_net` loads the committed weights.
"""

from functools import partial

from lib.features.base import FeatureExtractor
from lib.features.classifiers import CourseCNN, load_course_classifier, random_cnn
from lib.features.inception import InceptionFID
from lib.features.perceptual import (
    CoursePerceptual,
    LayoutPerceptual,
    PerceptualNet,
    VGG19Features,
    VGG19Perceptual,
    perceptual_loss,
    perceptual_net,
)
from lib.features.registry import available, get, register, unregister
from lib.features.scene_layout import SceneLayoutNet, load_scene_layout_net
from lib.features.segmentation import StreetSegmenter, load_street_segmenter
from lib.features.video import get_clip_network  # registers the clip networks

register("inception-fid", InceptionFID)
register("digits-cnn", partial(load_course_classifier, "digits-cnn"))
register("shapes-cnn", partial(load_course_classifier, "shapes-cnn"))
register("random-cnn", random_cnn)
register("vgg19", VGG19Features)

__all__ = [
    "CourseCNN",
    "CoursePerceptual",
    "LayoutPerceptual",
    "SceneLayoutNet",
    "load_scene_layout_net",
    "PerceptualNet",
    "VGG19Features",
    "VGG19Perceptual",
    "perceptual_loss",
    "perceptual_net",
    "FeatureExtractor",
    "InceptionFID",
    "StreetSegmenter",
    "available",
    "get",
    "get_clip_network",
    "load_course_classifier",
    "load_street_segmenter",
    "random_cnn",
    "register",
    "unregister",
]
