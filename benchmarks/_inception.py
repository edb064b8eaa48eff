"""The FID Inception network of lib and of each peer, all with ONE seeded random state dict.

No real weights are on the benchmark machines and nothing is downloaded: the state dict of
``lib.features.inception.random_state_dict`` is saved once in torch-fidelity's layout and loaded
by every implementation — torch-fidelity and torchmetrics from the file, pytorch-fid and
clean-fid through their own builders with the download replaced by that state dict (the trick of
tests/features/test_inception.py). Random weights make the features meaningless as a quality
measure but exercise exactly the same arithmetic, so speed and agreement are what they would be
with the real weights.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import torch

from lib.features.inception import InceptionFID, random_state_dict

SEED = 1234


def weights_file(folder: Path) -> Path:
    """The random state dict saved as ``random-inception-<sha256 prefix>.pth`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("random-inception-*.pth"))
    if existing:
        return existing[0]
    plain = folder / "random-inception.pth"
    torch.save(random_state_dict(seed=SEED), plain)
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    named = folder / f"random-inception-{digest[:8]}.pth"
    plain.rename(named)
    return named


@contextlib.contextmanager
def _offline(module, state_dict: dict):
    """Replace ``module.load_state_dict_from_url`` with a function returning ``state_dict``."""
    original = module.load_state_dict_from_url

    def offline_load(url, *args, **kwargs):
        return {k: v.clone() for k, v in state_dict.items()}

    module.load_state_dict_from_url = offline_load
    try:
        yield
    finally:
        module.load_state_dict_from_url = original


def lib_net(path: Path, device: torch.device) -> InceptionFID:
    return InceptionFID(path).to(device)


def torch_fidelity_net(path: Path, device: torch.device):
    """torch-fidelity's extractor (uint8 input, TF1 resize, (x − 128)/128); returns 2048-d."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    net = FeatureExtractorInceptionV3(
        name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=str(path)
    )
    return net.to(device).eval()


def torchmetrics_net(path: Path, device: torch.device):
    """torchmetrics' NoTrainInceptionV3 as FrechetInceptionDistance(feature=2048) builds it."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    net = NoTrainInceptionV3(
        name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=str(path)
    )
    return net.to(device)


def pytorch_fid_net(device: torch.device):
    """pytorch-fid's InceptionV3 wrapper (pool3 block) built by its own code, offline."""
    import pytorch_fid.inception as pfi

    with _offline(pfi, random_state_dict(seed=SEED)):
        net = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    return net.to(device).eval()


def clean_fid_model_fn(device: torch.device):
    """clean-fid's own "legacy_pytorch" feature function (its copy of pytorch-fid's network),
    built by ``cleanfid.features.build_feature_extractor`` with the download replaced."""
    import cleanfid.features as cff
    import cleanfid.inception_pytorch as cip

    with _offline(cip, random_state_dict(seed=SEED)):
        return cff.build_feature_extractor("legacy_pytorch", device, use_dataparallel=False)
