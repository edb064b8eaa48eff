"""`lib`: the library behind the course "Evaluating GANs and Generating Animation".

Subpackages, top to bottom (a module imports only from the layers below its own; CONTRIBUTING.md
says what goes where, and ``make lint`` checks it):

- ``lib.widgets``     ipywidgets explorers (metric vs corruption, SSIM maps, report card, study)
- ``lib.viz``         the course plotting theme, image grids, clips as animations, ``save_fig``
- ``lib.evaluation``  the report card and the human two-alternative study
- ``lib.bench``       controlled "generators": degradations, distortions, clip manipulations,
  attacks
- ``lib.train``       the resumable training loop and every trainer (``python -m lib.train NAME``)
- ``lib.models``      DCGAN, pix2pixHD blocks, vid2vid, Everybody Dance Now, CartoonGAN
- ``lib.metrics``     IS/m-IS, FID, KID/MMD, SWD, SSIM, precision/recall, classifier tests,
  video, cartoon and dance measures
- ``lib.features``    feature networks behind one interface and one registry
- ``lib.datasets``    offline data sets and loaders for real ones (MNIST, CIFAR-10, folders)
- ``lib.video``       backward warping and optical-flow estimation
- ``lib.weights``     weight files (safetensors) with sha256 manifests
- ground: ``lib._checks`` (validators, type aliases), ``lib._io`` (atomic writes, hashes),
  ``lib.device``, ``lib.paths``, ``lib.env``; ``python -m lib`` is ``lib.cli``
"""

from lib.device import resolve_device

__version__ = "0.1.0"

__all__ = ["resolve_device", "__version__"]
