"""The shared pix2pixHD blocks: shapes, gradients, loss values on constructed inputs."""

import pytest
import torch

from lib.models.pix2pixhd import (
    GlobalGenerator,
    MultiscaleDiscriminator,
    PatchDiscriminator,
    ResidualBlock,
    feature_matching_loss,
    lsgan_loss,
)


def test_global_generator_shapes_range_and_gradients():
    torch.manual_seed(0)
    gen = GlobalGenerator(5, 3, width=8, downsamples=2, blocks=2)
    x = torch.randn(2, 5, 32, 24, requires_grad=True)
    features = gen.encode(x)
    assert features.shape == (2, gen.bottleneck_channels, 8, 6) and gen.bottleneck_channels == 32
    y = gen.decode(features)
    assert y.shape == (2, 3, 32, 24)
    assert float(y.detach().abs().max()) <= 1.0
    y.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert all(p.grad is not None for p in gen.parameters())


def test_global_generator_refuses_bad_input():
    gen = GlobalGenerator(3, width=4, downsamples=2, blocks=1)
    with pytest.raises(ValueError, match="multiples of 4"):
        gen(torch.zeros(1, 3, 30, 32))
    with pytest.raises(ValueError, match="expected 3 channels"):
        gen(torch.zeros(1, 4, 32, 32))
    with pytest.raises(TypeError, match="float N×C×H×W"):
        gen(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="norm"):
        GlobalGenerator(3, norm="layer")


def test_residual_block_is_identity_plus_residual():
    block = ResidualBlock(4, norm="none")
    for p in block.body[-2].parameters():
        torch.nn.init.zeros_(p)
    x = torch.randn(1, 4, 8, 8)
    assert torch.equal(block(x), x)


def test_patch_discriminator_maps_and_receptive_field():
    disc = PatchDiscriminator(4, width=8, layers=3)
    maps = disc(torch.randn(2, 4, 64, 64))
    assert len(maps) == 5
    assert maps[-1].shape[:2] == (2, 1)
    # a score depends on a bounded patch: perturbing a far corner leaves the opposite one alone
    # (without InstanceNorm, whose statistics are global)
    disc = PatchDiscriminator(4, width=8, layers=3, norm="none")
    x = torch.randn(1, 4, 128, 128)
    y = x.clone()
    y[..., -4:, -4:] += 10
    assert torch.equal(disc(x)[-1][..., :2, :2], disc(y)[-1][..., :2, :2])


def test_multiscale_discriminator_scales():
    disc = MultiscaleDiscriminator(3, scales=3, width=4, layers=2)
    out = disc(torch.randn(1, 3, 64, 64))
    assert len(out) == 3
    sizes = [o[-1].shape[-1] for o in out]
    assert sizes[0] > sizes[1] > sizes[2]


def test_lsgan_loss_values():
    scores = [[torch.zeros(1), torch.full((2, 1, 3, 3), 1.0)], [torch.full((2, 1, 2, 2), 0.5)]]
    assert float(lsgan_loss(scores, True)) == pytest.approx((0 + 0.25) / 2)
    assert float(lsgan_loss(scores, False)) == pytest.approx((1 + 0.25) / 2)
    assert float(lsgan_loss(torch.ones(4), True)) == 0
    with pytest.raises(TypeError, match="True or False"):
        lsgan_loss(scores, 1)
    with pytest.raises(TypeError, match="discriminator's output"):
        lsgan_loss("scores", True)


def test_feature_matching_weights_and_detach():
    real = [[torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(1)]]
    fake = [[torch.ones(2, 3, requires_grad=True), torch.full((2, 3), 2.0), torch.zeros(1)]]
    # two intermediate maps → weight 4 / 2 per map; one scale
    assert feature_matching_loss(fake, real).item() == pytest.approx(2 * 1 + 2 * 2)
    real_leaf = torch.zeros(2, 3, requires_grad=True)
    loss = feature_matching_loss([[fake[0][0], torch.zeros(1)]], [[real_leaf, torch.zeros(1)]])
    loss.backward()
    assert real_leaf.grad is None and fake[0][0].grad is not None
    with pytest.raises(ValueError, match="differ"):
        feature_matching_loss(fake, [real[0][:2]])
