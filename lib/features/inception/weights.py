"""The FID Inception weights: finding them on this machine, checking, converting, random.

Weights are read only from a local file (:func:`lib.weights.find_local_weights`) and never
downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from lib.features.inception.graph import _expected_shapes
from lib.weights import (
    check_name_hash,
    find_local_weights,
    hub_checkpoints_dir,
    load_state_dict,
    state_dict_problems,
)

FIDELITY_WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"
PYTORCH_FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"
# Where the files can be fetched by hand; lib itself never downloads anything.
_WEIGHTS_URLS = {
    FIDELITY_WEIGHTS_NAME: "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    + FIDELITY_WEIGHTS_NAME,
    PYTORCH_FID_WEIGHTS_NAME: "https://github.com/mseitzer/pytorch-fid/releases/download/"
    "fid_weights/" + PYTORCH_FID_WEIGHTS_NAME,
}


def weights_dir() -> Path:
    """The folder searched for the weights: ``torch.hub.get_dir()/checkpoints``.

    That is ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` by default), where
    torch-fidelity and pytorch-fid cache the same files.
    """
    return hub_checkpoints_dir()


def _how_to_get_weights() -> str:
    folder = weights_dir()
    urls = "\n".join(f"    {url}" for url in _WEIGHTS_URLS.values())
    return (
        f"Put one of these files\n    {FIDELITY_WEIGHTS_NAME}   (torch-fidelity layout)\n"
        f"    {PYTORCH_FID_WEIGHTS_NAME}        (pytorch-fid layout)\n"
        f"into the folder\n    {folder}\n"
        "(set $TORCH_HOME to use another cache folder), or pass path=... . On a machine with "
        f"internet they can be fetched from\n{urls}\n"
        f"e.g. `curl -L -o {folder}/{FIDELITY_WEIGHTS_NAME} <first URL>`; running torch-fidelity "
        "or pytorch-fid once also caches them there. lib never downloads them. For a network "
        "with meaningless random weights (tests only), use weights='random'."
    )


def find_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file to load: ``path`` if given, else the first of the two known file names
    found in :func:`weights_dir`. Raises ``FileNotFoundError`` saying where to put them."""
    return find_local_weights(
        "FID Inception",
        (FIDELITY_WEIGHTS_NAME, PYTORCH_FID_WEIGHTS_NAME),
        _how_to_get_weights(),
        path,
        folder=weights_dir(),
    )


def load_weights(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """Read, check and convert a weights file; returns ``(state_dict, sha256)``.

    - If the file name carries a hash (torch hub convention ``name-<hex>.pth``, e.g. the
      ``6726825d`` of the official files), the file's sha256 must start with it; otherwise it is
      corrupt or a partial download and a ``ValueError`` says so.
    - The file is read with ``torch.load(weights_only=True)``: tensors and plain containers only;
      a file holding any other pickled object is refused (``ValueError``), never executed.
    - Both torch-fidelity's and pytorch-fid's layouts are accepted
      (:func:`convert_pytorch_fid_state_dict`); keys and shapes are checked against the graph.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"path: no file at {path}.\n{_how_to_get_weights()}")
    digest = check_name_hash(path)
    loaded = load_state_dict(path)
    state_dict = convert_pytorch_fid_state_dict(loaded)
    _check_state_dict(state_dict, str(path))
    return state_dict, digest


# pytorch-fid's InceptionV3 wrapper keeps the layers in four nn.Sequential blocks.
_PYTORCH_FID_BLOCKS = {
    "blocks.0.0.": "Conv2d_1a_3x3.",
    "blocks.0.1.": "Conv2d_2a_3x3.",
    "blocks.0.2.": "Conv2d_2b_3x3.",
    "blocks.1.0.": "Conv2d_3b_1x1.",
    "blocks.1.1.": "Conv2d_4a_3x3.",
    "blocks.2.0.": "Mixed_5b.",
    "blocks.2.1.": "Mixed_5c.",
    "blocks.2.2.": "Mixed_5d.",
    "blocks.2.3.": "Mixed_6a.",
    "blocks.2.4.": "Mixed_6b.",
    "blocks.2.5.": "Mixed_6c.",
    "blocks.2.6.": "Mixed_6d.",
    "blocks.2.7.": "Mixed_6e.",
    "blocks.3.0.": "Mixed_7a.",
    "blocks.3.1.": "Mixed_7b.",
    "blocks.3.2.": "Mixed_7c.",
}


def convert_pytorch_fid_state_dict(
    state_dict: Mapping[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Bring a pytorch-fid state dict into this module's (= torch-fidelity's) layout.

    pytorch-fid's weights file ``pt_inception-2015-12-05-6726825d.pth`` is the state dict of its
    ``fid_inception_v3()`` network, which uses torchvision's module names — the same names as
    torch-fidelity's file, so for it this only normalises: a ``module.`` prefix (DataParallel)
    is removed and BatchNorm ``num_batches_tracked`` counters that older files lack are added.
    The state dict of pytorch-fid's ``InceptionV3`` wrapper (``blocks.2.4.branch1x1...``) is
    renamed too; it has no ``fc`` layer, so logits cannot come from such a file.
    A state dict already in this layout is returned unchanged (as a new dict).
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key.startswith("module."):
            key = key[len("module.") :]
        for old, new in _PYTORCH_FID_BLOCKS.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    for key in list(out):
        if key.endswith(".running_mean"):
            counter = key[: -len("running_mean")] + "num_batches_tracked"
            out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


def _check_state_dict(state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    problems = state_dict_problems(state_dict, _expected_shapes())
    if problems:
        raise ValueError(
            f"{source}: not the FID Inception (2015-12-05) weights: " + "; ".join(problems)
        )


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in this module's layout — MEANINGLESS for evaluation, for tests only.

    Drawn from a seeded CPU generator (the same on every machine) so that activations stay
    well-scaled and non-degenerate through the whole graph: He-normal convolutions, BatchNorm
    scales in [0.8, 1.2], shifts N(0, 0.1²), running means N(0, 0.1²) and running variances
    log-normal around 1 (so the eps and variance terms of BatchNorm are really exercised),
    fc weights N(0, 0.05²) and bias N(0, 0.1²).
    """
    generator = torch.Generator().manual_seed(int(seed))
    out: dict[str, torch.Tensor] = {}

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=generator) * std + mean

    for key, shape in _expected_shapes().items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(0, dtype=torch.long)
        elif key.endswith("conv.weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            out[key] = normal(shape, (2.0 / fan_in) ** 0.5)
        elif key.endswith("bn.weight"):
            out[key] = 0.8 + 0.4 * torch.rand(shape, generator=generator)
        elif key.endswith("bn.bias") or key.endswith("running_mean") or key == "fc.bias":
            out[key] = normal(shape, 0.1)
        elif key.endswith("running_var"):
            out[key] = torch.exp(normal(shape, 0.3))
        elif key == "fc.weight":
            out[key] = normal(shape, 0.05)
        else:  # pragma: no cover - the graph has no other kind of tensor
            raise AssertionError(f"no random initialiser for {key}")
    return out
