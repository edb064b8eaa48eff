"""Training-step throughput of the Part II models at 256² (GPU section; lib only, no peers).

One step = generator forward, discriminator loss on real and generated images (LSGAN), the
discriminator's update, then the generator's adversarial + L1 loss and its update — the shape
of every Part II training loop, with the models at the sizes the course builds. On the CPU a
full run skips this comparison (the course trains these models at 64² there); ``--size tiny``
runs one step of each at 32² so the code path is checked anywhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks._common import Config
from benchmarks._timing import interleaved, summary

NAME = "training"


def _scores(outputs) -> list[torch.Tensor]:
    """The last map of each scale of a (multi-scale) PatchGAN, or the tensor itself."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [scale[-1] if isinstance(scale, (list, tuple)) else scale for scale in outputs]


def _lsgan(outputs, real: bool) -> torch.Tensor:
    return sum(F.mse_loss(s, torch.full_like(s, float(real))) for s in _scores(outputs))


def _step_fn(g, d, g_in, d_real, d_fake, target, device):
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step():
        fake = g_in()
        opt_d.zero_grad(set_to_none=True)
        loss_d = _lsgan(d_fake(fake.detach()), False) + _lsgan(d_real(), True)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_g = _lsgan(d_fake(fake), True) + F.l1_loss(fake, target)
        loss_g.backward()
        opt_g.step()
        return float(loss_g.detach())

    return step


def _models(size: int, batch: int, device: torch.device, seed: int) -> dict:
    from lib.models.cartoongan import CartoonDiscriminator, CartoonGenerator
    from lib.models.dance import DanceConfig, DanceGenerator, pair_discriminator
    from lib.models.vid2vid import ImageDiscriminator, Vid2VidGenerator

    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=gen).to(device)

    steps = {}
    # CartoonGAN: photo → cartoon; D sees cartoons and generated images.
    g = CartoonGenerator().to(device)
    d = CartoonDiscriminator().to(device)
    photos, cartoons = rand(batch, 3, size, size), rand(batch, 3, size, size)
    steps["CartoonGAN"] = _step_fn(g, d, lambda: g(photos), lambda: d(cartoons), d, photos, device)
    # Everybody Dance Now: (pose, previous frame) → frame; D on (s_t, s_t+1, x_t, x_t+1).
    cfg = DanceConfig(size=size)
    gd = DanceGenerator(cfg).to(device)
    dd = pair_discriminator(cfg).to(device)
    pose, pose_next, prev, frame = (rand(batch, 3, size, size) for _ in range(4))
    steps["Everybody Dance Now"] = _step_fn(
        gd,
        dd,
        lambda: gd(pose_next, prev),
        lambda: dd(torch.cat([pose, pose_next, prev, frame], 1)),
        lambda fake: dd(torch.cat([pose, pose_next, prev, fake], 1)),
        frame,
        device,
    )
    # vid2vid: label history + previous frames → frame; the image discriminator D_I.
    gv = Vid2VidGenerator().to(device)
    dv = ImageDiscriminator().to(device)
    labels = torch.randint(0, gv.num_classes, (batch, gv.history + 1, size, size), generator=gen)
    labels = labels.to(device)
    previous = rand(batch, gv.history, 3, size, size)
    target = rand(batch, 3, size, size)
    steps["vid2vid"] = _step_fn(
        gv,
        dv,
        lambda: gv(labels, previous, True)["image"],
        lambda: dv(labels[:, -1], target),
        lambda fake: dv(labels[:, -1], fake),
        target,
        device,
    )
    return steps


def run(cfg: Config) -> dict:
    out = {
        "name": NAME,
        "title": "Part II training steps at 256², images/s (lib only)",
        "setup": {},
        "lib": None,
        "impls": {},
        "peers": [],
        "targets": [],
    }
    if not cfg.cuda and not cfg.tiny:
        out["skipped"] = "GPU section: runs with --device cuda (and in --size tiny dry runs)"
        return out
    size, batch = (32, 2) if cfg.tiny else (256, 8)
    torch.manual_seed(cfg.seed)
    steps = _models(size, batch, cfg.device, cfg.seed)
    reps = 1 if cfg.tiny else cfg.reps
    times, _ = interleaved(steps, reps, device=cfg.device)
    out["title"] = f"Part II training steps at {size}², batch {batch} (lib only)"
    out["setup"] = {"size": size, "batch": batch}
    for name, seconds in times.items():
        entry = summary(seconds)
        entry["per_s"] = batch / entry["median_s"]
        out["impls"][name] = entry
    out["unit_label"] = "images/s"
    return out
