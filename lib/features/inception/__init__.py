"""The FID Inception network: a port of TensorFlow's 2015-12-05 Inception graph.

FID, KID, precision/recall and the Inception Score are defined through ONE particular network,
the Inception graph TensorFlow published on 2015-12-05 (``inception-2015-12-05.tgz``), and not
through torchvision's ``inception_v3``. This port differs from torchvision's network exactly where
the TF graph does:

- its own weights, a **1008**-way classifier, no auxiliary classifier;
- the pooling branches of Mixed_5b–5d, Mixed_6b–6e and Mixed_7b **average** with
  ``count_include_pad=False`` (TF does not count padded zeros);
- the pooling branch of Mixed_7c is a 3×3 **max** pool;
- the input is normalised as ``(x − 128) / 128`` on [0, 255] values.

Preprocessing (one fixed pipeline, :meth:`InceptionFID.preprocess`):

1. uint8 images are taken as they are (0..255); float images in [0, 1] are multiplied by 255
   (not rounded, so they keep their sub-level precision); grey images are repeated to RGB;
2. resized to 299×299 with **TensorFlow 1.x bilinear resizing** (``tf.image.resize_bilinear``
   with ``align_corners=False``, i.e. source coordinate = destination index × in/out, no
   half-pixel offset, no antialiasing) — the resize torch-fidelity reproduces and the original
   TF FID/IS code applied. It is NOT ``F.interpolate(mode="bilinear")`` (half-pixel centres),
   which pytorch-fid uses, nor clean-fid's PIL bicubic. Images already 299×299 are not resampled;
3. ``(x − 128) / 128``.

Feature taps: ``"64"``, ``"192"``, ``"768"`` (spatial means of intermediate maps), ``"2048"``
(pool3, used by FID/KID/precision-recall), ``"logits_unbiased"`` (pool3 · Wᵀ without the bias,
used by the Inception Score as in the original TF code) and ``"logits"`` (with the bias).

Weights are read only from a local file and never downloaded. Module names follow
torch-fidelity's layout, so ``weights-inception-2015-12-05-6726825d.pth`` loads directly;
pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` uses torchvision's names, which are the
same, and :func:`convert_pytorch_fid_state_dict` also maps the state dict of pytorch-fid's
``InceptionV3`` wrapper (``blocks.N.M...``) into this layout.
"""

# benchmarks/ and the tests run other tools under the same TF32 setting as this network.
from lib.features.inception.graph import _full_fp32_on_cuda as _full_fp32_on_cuda
from lib.features.inception.network import INPUT_SIZE, TAP_DIMS, InceptionFID
from lib.features.inception.resize import tf1_bilinear_resize
from lib.features.inception.weights import (
    FIDELITY_WEIGHTS_NAME,
    PYTORCH_FID_WEIGHTS_NAME,
    WEIGHTS_SHA256_PREFIX,
    convert_pytorch_fid_state_dict,
    find_weights,
    load_weights,
    random_state_dict,
    weights_dir,
)

__all__ = [
    "InceptionFID",
    "FIDELITY_WEIGHTS_NAME",
    "PYTORCH_FID_WEIGHTS_NAME",
    "WEIGHTS_SHA256_PREFIX",
    "weights_dir",
    "find_weights",
    "load_weights",
    "convert_pytorch_fid_state_dict",
    "random_state_dict",
    "tf1_bilinear_resize",
    "INPUT_SIZE",
    "TAP_DIMS",
]
