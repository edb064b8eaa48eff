"""`lib`: the library behind the course "Evaluating GANs and Generating Animation".

Subpackages (imports flow downwards only):

- ``lib.datasets``  offline data sets and loaders for real ones (MNIST, CIFAR-10, image folders)
- ``lib.viz``       the course plotting theme, image grids, clips as animations, ``save_fig``
- ``tools.notebooks`` the course's notebook tooling (discovery, parameters, execution, checks)
"""

__version__ = "0.1.0"

from lib.device import resolve_device  # noqa: E402

__all__ = ["resolve_device", "__version__"]
