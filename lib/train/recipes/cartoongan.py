"""Train CartoonGAN (:mod:`lib.models.cartoongan`) on procedural cartoons and photo renders.

    python -m lib.train cartoongan                       # quick run: ≤ 5 min on a CPU core
    python -m lib.train cartoongan --variant no_smooth   # an ablation
    python -m lib.train cartoongan --variant full --preset course --out data/cartoongan
    python -m lib.train cartoongan --preset paper --device cuda   # 256², the paper's networks
    torchrun --nproc_per_node 4 -m lib.train cartoongan --preset paper --device cuda

A run has the paper's two phases (§3.3) and, for the ``full`` variant, a video fine-tune:

1. **initialisation** (``init_steps``): G alone, content loss only, 10·‖φ(G(p)) − φ(p)‖₁
   (+ ``init_pixel_weight`` · pixel L1 to the photo) — G learns to reconstruct photos, so
   adversarial training starts from a sensible image (φ: ``init_content_backend``'s network
   when it is set, else the adversarial phase's);
2. **adversarial** (``steps``): per step one D update on
   L_D = mean (D(c) − 1)² + mean D(e)² + mean D(G(p))² (cartoons c, edge-smoothed cartoons e,
   photos p; least squares as in the authors' code) and one G update on
   L_G = mean (D(G(p)) − 1)² + ω·L_con + λ_col·L_col (the paper: ω = 10 with VGG19 and no
   L_col; see the Recipe for the course's values and why);
3. **temporal fine-tune** (``temporal_steps``, ``full`` only): from the trained G and D, on frame
   pairs of toy street clips with their exact flow, L_G gains λ_T · temporal_loss (the output of
   frame t against the warped output of frame t−1 over visible pixels); run twice, with
   λ_T = ``temporal_weight`` (``temporal``) and with λ_T = 0 (``temporal_control``: the same
   data and steps, so the flicker drop can be credited to the temporal term).

Variants (``--variant``): ``full``; ``no_smooth`` (no edge-smoothed negatives); ``no_content``
(ω = 0 in the adversarial phase); ``l2_content`` (L2 content loss in both phases); ``no_init``
(no initialisation phase). The ``full`` run also writes ``init_only`` (G at the end of phase 1).

Photos and cartoons are *unpaired*: each step draws a batch of each independently (a cartoon
and its edge-smoothed copy stay together). Every draw comes from a generator seeded with
``(seed, step)``, so a run resumed from its state file (``--resume``; written every
``--checkpoint-every`` steps with :func:`lib.train.loop.save_state`) continues exactly. Under
torchrun each rank draws its own batches (seed + rank) and G, D are wrapped in DDP.

The photo side (``--photos``) is ``renders``, the default: the cartoons' own procedural world
rendered as photos (:func:`lib.datasets.photo_renders`), from other scene draws than the
cartoons'; or ``crops`` of the photographs bundled with the packages. With crops the two
domains differ in content as well as in style, so D can tell them apart by content; with
renders only the style differs.

Generators go to float16 state dicts ``<out>/<name>-seed<S>.safetensors`` with
``<out>/manifest.json`` (sha256, the recipe, the command, binned losses, measurements on
held-out photos, wall and CPU time). The committed set in ``data/cartoongan`` is the ``course``
preset.

Like every recipe this stays one module, the unit ``python -m lib.train cartoongan`` runs: the
presets, the three phases and the command line share the :class:`Recipe` and its per-step
generators, and the module reads in the order a run happens.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import cast

import numpy as np
import torch

from lib._checks import check_choice, check_positive_int
from lib.datasets.base import ImageSet
from lib.datasets.cartoon import cartoons, edge_smooth, photo_renders
from lib.datasets.photos import photos
from lib.datasets.street import StreetClips, street
from lib.features.perceptual import PerceptualNet
from lib.models.cartoongan import (
    UPSAMPLING,
    CartoonDiscriminator,
    CartoonGenerator,
    colour_loss,
    content_loss,
    content_net,
    discriminator_loss,
    generator_adversarial_loss,
    temporal_loss,
)
from lib.models.cartoongan_diagnostics import training_diagnostics
from lib.models.pix2pixhd import NORMS
from lib.paths import DATA_DIR
from lib.train import arguments
from lib.train.distributed import is_main_process, rank, world_size
from lib.train.loop import (
    cpu_seconds,
    init_distributed,
    load_state,
    run_steps,
    save_state,
    unwrap,
    wrap_ddp,
)
from lib.weights import half_precision, seed_key, update_manifest, write_weights

__all__ = [
    "PRESETS",
    "RUN_VARIANTS",
    "Recipe",
    "TrainingData",
    "finetune_temporal",
    "main",
    "recipe_for",
    "train",
    "training_data",
]

DEFAULT_OUT = DATA_DIR / "cache" / "cartoongan"
EVAL_SEED = 424_242  # held-out photos for the measurements in the manifest
PHOTO_SOURCES = ("crops", "renders")  # Recipe.photo_source
CONTENT_BACKENDS = ("auto", "vgg19", "course", "layout")  # Recipe.content_backend
HISTORY_BIN = 20  # steps per point of the loss history kept in the manifest


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of a run. The defaults are the quick CPU run (``--preset quick``)."""

    size: int = 64
    batch_size: int = 4  # paper 8
    init_steps: int = 150
    steps: int = 400
    temporal_steps: int = 0
    lr_init: float = 1e-3  # the authors: 2e-4 for 10 epochs; far fewer steps here
    lr_g: float = 2e-4  # the authors use 1e-5 for many epochs; far fewer steps here
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # Content weight ω in the adversarial phase. The paper's ω = 10 balances the adversarial
    # loss against VGG19 conv4_4 distances; ω multiplies a distance whose size depends on the
    # feature network, and with the course network and L_col a larger ω keeps G at its
    # reconstruction (notebook 12's ω sweep), so the course uses ω = 1. Even so, the course
    # network puts a scene's own cartoon about as far from its photo as another scene's photo
    # (lib.evaluation.cartoongan_bars.content_style_confusion), so at ω = 1 the ideal cartoon
    # costs G more content loss than fooling D repays: this content space, not the schedule,
    # is what keeps the bars from holding.
    omega: float = 1.0
    distance: str = "l1"  # the content loss's norm: "l1" (paper) or "l2"
    # The colours the course network does not see (lib.models.cartoongan.colour_loss): pixel L1
    # to the photo in the initialisation phase, and L1 between block means of colour_pool² pixels
    # in the adversarial phase, with these weights (0: the paper's content loss alone).
    init_pixel_weight: float = 10.0
    colour_weight: float = 3.0
    colour_pool: int = 4
    smooth_negatives: bool = True
    temporal_weight: float = 30.0  # λ_T of the temporal fine-tune
    g_width: int = 16  # paper 64
    # The paper's G normalises each image (instance norm), which removes a photo's mean colour and
    # contrast after the first convolution: G then has to guess colours from content. Real photos
    # give cues (skies are blue); the procedural scenes draw their colours at random.
    g_norm: str = "none"
    g_blocks: int = 4  # paper 8
    g_upsample: str = "transposed"  # the paper's; "resize": nearest ×2 + conv (no checkerboard)
    d_width: int = 16  # paper 32
    n_cartoons: int = 512
    n_photos: int = 512
    # The photo side: "crops" of the photographs bundled with the packages, or "renders" — the
    # cartoons' own procedural world rendered as photos (lib.datasets.photo_renders), drawn from
    # other scenes than the cartoons so that training stays unpaired.
    photo_source: str = "renders"
    n_clips: int = 24
    clip_frames: int = 8
    # "auto": VGG19 conv4_4 when its weights are on disk; "layout": the scene-layout network
    content_backend: str = "course"
    # The initialisation phase's network (None: content_backend). Reconstruction needs one that
    # sees the photo's appearance; the scene-layout network is trained not to.
    init_content_backend: str | None = None


PRESETS: dict[str, Recipe] = {
    "quick": Recipe(),
    "course": Recipe(init_steps=500, steps=4500, temporal_steps=100),
    "paper": Recipe(
        size=256,
        batch_size=8,
        init_steps=4000,
        steps=20000,
        temporal_steps=2000,
        lr_init=2e-4,
        lr_g=1e-5,
        omega=10.0,
        init_pixel_weight=0.0,
        colour_weight=0.0,
        g_norm="instance",
        lr_d=1e-5,
        g_width=64,
        g_blocks=8,
        d_width=32,
        n_cartoons=4000,
        n_photos=4000,
        n_clips=64,
        content_backend="auto",
    ),
}

#: What each run changes in the recipe.
RUN_VARIANTS: dict[str, dict] = {
    "full": {},
    "no_smooth": {"smooth_negatives": False},
    "no_content": {"omega": 0.0},
    "l2_content": {"distance": "l2"},
    "no_init": {"init_steps": 0},
}


def recipe_for(variant: str, preset: str = "quick", **overrides: object) -> Recipe:
    """The recipe of ``variant`` (:data:`RUN_VARIANTS`) under ``preset`` (:data:`PRESETS`),
    with ``overrides`` (recipe fields; ``None`` values are ignored) applied last."""
    check_choice(variant, "variant", tuple(RUN_VARIANTS))
    check_choice(preset, "preset", tuple(PRESETS))
    names = {f.name for f in fields(Recipe)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"overrides: unknown recipe fields {unknown}; known: {sorted(names)}")
    recipe = replace(PRESETS[preset], **RUN_VARIANTS[variant])
    recipe = replace(recipe, **{k: v for k, v in overrides.items() if v is not None})
    if variant != "full" and recipe.temporal_steps:
        recipe = replace(recipe, temporal_steps=0)  # only the full model is fine-tuned
    return _check_recipe(recipe)


def _check_recipe(recipe: Recipe) -> Recipe:
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe: expected a Recipe, got {type(recipe).__name__}")
    check_positive_int(recipe.size, "size", minimum=16)
    if recipe.size % 4:
        raise ValueError(f"size: must be a multiple of 4 (G halves it twice), got {recipe.size}")
    check_positive_int(recipe.batch_size, "batch_size")
    check_positive_int(recipe.init_steps, "init_steps", minimum=0)
    check_positive_int(recipe.steps, "steps", minimum=0)
    check_positive_int(recipe.temporal_steps, "temporal_steps", minimum=0)
    if recipe.init_steps + recipe.steps == 0:
        raise ValueError("init_steps, steps: nothing to train (both are 0)")
    check_choice(recipe.distance, "distance", ("l1", "l2"))
    check_choice(recipe.photo_source, "photo_source", PHOTO_SOURCES)
    for name in ("lr_init", "lr_g", "lr_d"):
        if not getattr(recipe, name) > 0:
            raise ValueError(f"{name}: must be positive, got {getattr(recipe, name)}")
    for name in ("omega", "temporal_weight", "init_pixel_weight", "colour_weight"):
        if not getattr(recipe, name) >= 0:
            raise ValueError(f"{name}: must be ≥ 0, got {getattr(recipe, name)}")
    check_positive_int(recipe.colour_pool, "colour_pool")
    check_choice(recipe.g_norm, "g_norm", NORMS)
    check_choice(recipe.g_upsample, "g_upsample", UPSAMPLING)
    check_choice(recipe.content_backend, "content_backend", CONTENT_BACKENDS)
    if recipe.init_content_backend is not None:
        check_choice(recipe.init_content_backend, "init_content_backend", CONTENT_BACKENDS)
    for name in ("n_cartoons", "n_photos"):
        if getattr(recipe, name) < recipe.batch_size:
            raise ValueError(f"{name}: fewer images than one batch ({recipe.batch_size})")
    if recipe.temporal_steps:
        check_positive_int(recipe.n_clips, "n_clips")
        check_positive_int(recipe.clip_frames, "clip_frames", minimum=2)
    return recipe


# ------------------------------------------------------------------------------------ data
@dataclass
class TrainingData:
    """The unpaired training sets: cartoons with their edge-smoothed copies, photos, and (for
    the temporal fine-tune) street clips with exact backward flow and occlusion."""

    cartoons: torch.Tensor
    smoothed: torch.Tensor
    photos: torch.Tensor
    clips: StreetClips | None = None


def _photo_side(recipe: Recipe, n: int, seed: int) -> torch.Tensor:
    """``n`` photos of ``recipe.photo_source`` (crops or renders) at ``recipe.size``."""
    photo_set = photo_renders if recipe.photo_source == "renders" else photos
    return photo_set(n, size=recipe.size, seed=seed).images


def training_data(recipe: Recipe, seed: int = 0) -> TrainingData:
    """Cartoons (seed ``(seed, 1)``), their edge-smoothed copies (the paper's recipe: Canny,
    5×5 dilation, 5×5 Gaussian inside the band), photos (seed ``(seed, 2)``: photo crops, or
    photo renders of other scenes than the cartoons', ``recipe.photo_source``) and, when
    ``recipe.temporal_steps``, street clips (seed ``(seed, 3)``), all at ``recipe.size``."""
    # Without return_outlines, cartoons gives an ImageSet; edge_smooth gives back what it got.
    c = cast(ImageSet, cartoons(recipe.n_cartoons, size=recipe.size, seed=seed * 10 + 1)).images
    p = _photo_side(recipe, recipe.n_photos, seed * 10 + 2)
    clips = None
    if recipe.temporal_steps:
        clips = street(
            recipe.n_clips, frames=recipe.clip_frames, size=recipe.size, seed=seed * 10 + 3
        )
    return TrainingData(c, cast(torch.Tensor, edge_smooth(c)), p, clips)


def _step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    state = np.random.SeedSequence([seed + rank(), step, stream]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _draw(n: int, batch: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randperm(n, generator=gen)[:batch]


def _bin_history(history: list[dict], start: int = 0) -> dict[str, list]:
    """Means of each loss over bins of HISTORY_BIN steps (keys absent from a step are skipped)."""
    keys = sorted({k for h in history for k in h})
    out: dict[str, list] = {"step": []}
    for k in keys:
        out[k] = []
    for lo in range(0, len(history), HISTORY_BIN):
        chunk = history[lo : lo + HISTORY_BIN]
        out["step"].append(start + lo + len(chunk))
        for k in keys:
            values = [h[k] for h in chunk if k in h]
            out[k].append(round(sum(values) / len(values), 5) if values else None)
    return out


# --------------------------------------------------------------------------------- training
def _modules(recipe: Recipe, seed: int, device: torch.device):
    torch.manual_seed(seed)  # initial weights
    g = CartoonGenerator(
        recipe.g_width, recipe.g_blocks, norm=recipe.g_norm, upsample=recipe.g_upsample
    ).to(device)
    d = CartoonDiscriminator(recipe.d_width).to(device)
    betas = (recipe.beta1, recipe.beta2)
    opt_g = torch.optim.Adam(g.parameters(), lr=recipe.lr_init, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=recipe.lr_d, betas=betas)
    return g, d, opt_g, opt_d


def _set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def train(
    variant: str = "full",
    recipe: Recipe | None = None,
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
    data: TrainingData | None = None,
    state_path: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
    on_init_done: Callable[[CartoonGenerator], None] | None = None,
    show_progress: bool = True,
) -> dict:
    """Train one variant; returns ``{"generator", "discriminator", "init_generator",
    "history", "train_seconds", "content_net"}`` (networks in eval mode, on ``device``).

    ``init_generator`` is a copy of G at the end of the initialisation phase (``None`` when
    there is none or the run resumed after it). ``state_path`` + ``checkpoint_every`` save a
    resumable state (:func:`lib.train.loop.save_state`); ``resume`` continues from it.
    ``history`` is the per-step list of loss dicts (``phase`` 0 = init, 1 = adversarial).
    """
    check_choice(variant, "variant", tuple(RUN_VARIANTS))
    recipe = recipe_for(variant) if recipe is None else _check_recipe(recipe)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer ≥ 0, got {seed!r}")
    device = torch.device(device) if not isinstance(device, torch.device) else device
    data = training_data(recipe, seed) if data is None else data
    net = content_net(recipe.content_backend, device=device)
    init_backend = recipe.init_content_backend or recipe.content_backend
    init_net = net if init_backend == recipe.content_backend else content_net(init_backend, device)
    g, d, opt_g, opt_d = _modules(recipe, seed, device)
    g_run, d_run = wrap_ddp(g), wrap_ddp(d)
    start = 0
    init_copy: dict[str, CartoonGenerator] = {}
    if resume:
        if state_path is None or not Path(state_path).is_file():
            raise FileNotFoundError(f"resume: no training state at {state_path}; drop --resume")
        start, _ = load_state(
            state_path, modules={"g": g, "d": d}, optimizers={"g": opt_g, "d": opt_d}
        )
        if 0 < recipe.init_steps <= start:  # G at the end of phase 1 is one of the run's results
            init_copy["g"] = copy.deepcopy(g)
            load_state(state_path, modules={"init_g": init_copy["g"]}, restore_rng=False)
            init_copy["g"].eval()
    total = recipe.init_steps + recipe.steps
    timer = {"seconds": 0.0}

    def step_fn(step: int) -> dict:
        t0 = time.perf_counter()
        g_run.train()
        d_run.train()
        gen = _step_generator(seed, step, 0)
        p = data.photos[_draw(len(data.photos), recipe.batch_size, gen)].to(device)
        if step < recipe.init_steps:
            _set_lr(opt_g, recipe.lr_init)
            y = g_run(p)
            loss = content_loss(init_net, y, p, omega=OMEGA_INIT, distance=recipe.distance)
            if recipe.init_pixel_weight:
                loss = loss + recipe.init_pixel_weight * colour_loss(y, p, pool=1)
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
            # "content": the whole loss of the phase, 10·L_con + init_pixel_weight·pixel L1
            out = {"phase": 0.0, "content": float(loss.detach())}
        else:
            _set_lr(opt_g, recipe.lr_g)
            idx = _draw(len(data.cartoons), recipe.batch_size, gen)
            c, e = data.cartoons[idx].to(device), data.smoothed[idx].to(device)
            out = _adversarial_step(recipe, net, g_run, d_run, opt_g, opt_d, p, c, e)
            out["phase"] = 1.0
        timer["seconds"] += time.perf_counter() - t0
        if step + 1 == recipe.init_steps:
            inner = cast(CartoonGenerator, unwrap(g_run))  # g, or DDP's copy of it
            init_copy["g"] = copy.deepcopy(inner).eval()
            if on_init_done is not None:
                on_init_done(init_copy["g"])
        return out

    def on_checkpoint(done: int) -> None:
        if state_path is not None:
            saved = {"g": g_run, "d": d_run}
            if "g" in init_copy:
                saved["init_g"] = init_copy["g"]
            save_state(
                state_path,
                step=done,
                modules=saved,
                optimizers={"g": opt_g, "d": opt_d},
                extra={"variant": variant, "recipe": asdict(recipe), "seed": seed},
            )

    history = []
    if start < total:
        history = run_steps(
            step_fn,
            steps=total,
            start_step=start,
            desc=f"CartoonGAN {variant}",
            checkpoint_every=checkpoint_every,
            on_checkpoint=on_checkpoint if state_path is not None else None,
            enabled=show_progress,
        )
    return {
        "generator": unwrap(g_run).eval(),
        "discriminator": unwrap(d_run).eval(),
        "init_generator": init_copy.get("g"),
        "history": history,
        "start_step": start,
        "train_seconds": timer["seconds"],
        "content_net": net,
    }


#: ω of the initialisation phase (the content loss is the only term, so ω only sets its scale).
OMEGA_INIT = 10.0


def _adversarial_step(recipe, net, g, d, opt_g, opt_d, p, c, e, extra_g_loss=None) -> dict:
    """One D update and one G update; ``extra_g_loss(y)`` adds a term to G's loss."""
    y = g(p)
    d_smooth = d(e) if recipe.smooth_negatives else None
    loss_d, terms = discriminator_loss(d(c), d_smooth, d(y.detach()))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    adv = generator_adversarial_loss(d(y))
    loss_g = adv
    out = {"loss_d": float(loss_d.detach()), **terms, "g_adv": float(adv.detach())}
    if recipe.omega > 0:
        con = content_loss(net, y, p, omega=recipe.omega, distance=recipe.distance)
        loss_g = loss_g + con
        out["content"] = float(con.detach())
    if recipe.colour_weight:
        col = recipe.colour_weight * colour_loss(y, p, pool=recipe.colour_pool)
        loss_g = loss_g + col
        out["colour"] = float(col.detach())
    if extra_g_loss is not None:
        extra, extra_terms = extra_g_loss(y)
        loss_g = loss_g + extra
        out.update(extra_terms)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return out


def finetune_temporal(
    generator: CartoonGenerator,
    discriminator: CartoonDiscriminator,
    recipe: Recipe,
    data: TrainingData,
    *,
    weight: float,
    seed: int = 0,
    net: PerceptualNet | None = None,
    show_progress: bool = True,
) -> tuple[CartoonGenerator, list[dict]]:
    """Fine-tune copies of G and D for ``recipe.temporal_steps`` steps on street frame pairs
    (f_{t−1}, f_t) with their exact backward flow F_t and occlusion: D as in adversarial
    training (the generated side is G of both frames), G on
    mean (D(G(f)) − 1)² + ω·L_con(G(f), f) + weight · temporal_loss(G(f_t), G(f_{t−1}), F_t).
    ``weight = 0`` is the control run (same data and steps, no temporal term). Returns the
    fine-tuned G (eval mode) and the per-step losses."""
    if data.clips is None:
        raise ValueError("data: the temporal fine-tune needs street clips (recipe.temporal_steps)")
    check_positive_int(recipe.temporal_steps, "temporal_steps")
    if not weight >= 0:
        raise ValueError(f"weight: must be ≥ 0, got {weight!r}")
    device = next(generator.parameters()).device
    net = content_net(recipe.content_backend, device=device) if net is None else net
    g, d = copy.deepcopy(generator).train(), copy.deepcopy(discriminator).train()
    betas = (recipe.beta1, recipe.beta2)
    opt_g = torch.optim.Adam(g.parameters(), lr=recipe.lr_g, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=recipe.lr_d, betas=betas)
    clips = data.clips
    n, t = clips.frames.shape[:2]
    half = max(1, recipe.batch_size // 2)

    def step_fn(step: int) -> dict:
        gen = _step_generator(seed, step, 7)
        k = torch.randint(0, n, (half,), generator=gen)
        f = torch.randint(1, t, (half,), generator=gen)
        cur, prev = clips.frames[k, f].to(device), clips.frames[k, f - 1].to(device)
        flow, occ = clips.flow[k, f].to(device), clips.occlusion[k, f].to(device)
        idx = _draw(len(data.cartoons), 2 * half, gen)
        c, e = data.cartoons[idx].to(device), data.smoothed[idx].to(device)

        def extra(y):
            loss = temporal_loss(y[:half], y[half:], flow, occ)
            return weight * loss, {"temporal": float(loss.detach())}

        return _adversarial_step(
            recipe, net, g, d, opt_g, opt_d, torch.cat([cur, prev]), c, e, extra_g_loss=extra
        )

    history = run_steps(
        step_fn,
        steps=recipe.temporal_steps,
        desc=f"temporal fine-tune (λ={weight:g})",
        enabled=show_progress,
    )
    return g.eval(), history


# ------------------------------------------------------------------------------------ saving
def _save(out: Path, name: str, g: CartoonGenerator, entry: dict) -> None:
    sha = write_weights(out / f"{name}.safetensors", half_precision(g.state_dict()))
    update_manifest(out, name, {"file": f"{name}.safetensors", "sha256": sha, **entry})


def _measure(g: CartoonGenerator, recipe: Recipe, net) -> dict:
    held_out = _photo_side(recipe, 64, EVAL_SEED).to(next(g.parameters()).device)
    return {k: round(v, 4) for k, v in training_diagnostics(g, held_out, net).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.train cartoongan",
        description="Train CartoonGAN (init phase, adversarial phase, temporal fine-tune).",
    )
    parser.add_argument("--variant", default="full", choices=tuple(RUN_VARIANTS))
    parser.add_argument("--preset", default="quick", choices=tuple(PRESETS))
    count = arguments.non_negative_int
    parser.add_argument("--steps", type=count, default=None, help="adversarial steps")
    parser.add_argument("--init-steps", type=count, default=None, help="initialisation steps")
    parser.add_argument("--temporal-steps", type=count, default=None, help="fine-tune steps")
    parser.add_argument(
        "--size", type=arguments.int_at_least(16), default=None, help="image side (multiple of 4)"
    )
    parser.add_argument(
        "--batch", type=arguments.positive_int, default=None, help="batch size per process"
    )
    parser.add_argument(
        "--images",
        type=arguments.positive_int,
        default=None,
        help="cartoons and photos in the training pools (each)",
    )
    parser.add_argument(
        "--omega", type=arguments.non_negative_float, default=None, help="content weight ω"
    )
    parser.add_argument(
        "--content-net",
        choices=CONTENT_BACKENDS,
        default=None,
        help="the content loss's network: course classifier, scene-layout network, VGG19 or auto",
    )
    parser.add_argument(
        "--upsample",
        choices=UPSAMPLING,
        default=None,
        help="G's upsampling: transposed convolutions (the paper) or resize + convolution",
    )
    parser.add_argument(
        "--lr-d", type=arguments.positive_float, default=None, help="D's learning rate"
    )
    parser.add_argument(
        "--colour-weight",
        type=arguments.non_negative_float,
        default=None,
        help="λ_col of the block-colour term in the adversarial phase",
    )
    parser.add_argument(
        "--photos",
        choices=PHOTO_SOURCES,
        default=None,
        help="the photo side: crops of bundled photographs, or renders of the cartoons' world",
    )
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0)
    parser.add_argument(
        "--device", type=arguments.device, default="cpu", help="cpu, cuda, cuda:N or auto"
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for weights + manifest")
    parser.add_argument(
        "--resume", action="store_true", help="continue from <out>/<variant>-seed<S>-state.pt"
    )
    parser.add_argument("--checkpoint-every", type=arguments.non_negative_int, default=100)
    parser.add_argument(
        "--threads", type=arguments.positive_int, default=1, help="torch CPU threads"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        recipe = recipe_for(
            args.variant,
            args.preset,
            steps=args.steps,
            init_steps=args.init_steps,
            temporal_steps=args.temporal_steps,
            size=args.size,
            batch_size=args.batch,
            n_cartoons=args.images,
            n_photos=args.images,
            omega=args.omega,
            photo_source=args.photos,
            content_backend=args.content_net,
            g_upsample=args.upsample,
            lr_d=args.lr_d,
            colour_weight=args.colour_weight,
        )
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    torch.set_num_threads(args.threads)
    device = init_distributed(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m lib.train cartoongan " + " ".join(sys.argv[1:] if argv is None else argv)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    data = training_data(recipe, args.seed)
    base = {
        "generator": None,
        "recipe": asdict(recipe),
        "variant_run": args.variant,
        "seed": args.seed,
        "command": command.strip(),
        "world_size": world_size(),
        "device": str(device),
    }

    def save(name: str, g: CartoonGenerator, history: list[dict], start: int, net) -> None:
        if not is_main_process():
            return
        entry = {
            **base,
            "generator": g.config(),
            "history": _bin_history(history, start),
            "measurements": _measure(g, recipe, net),
            "wall_seconds": round(time.perf_counter() - wall0, 1),
            "cpu_seconds": round(cpu_seconds() - cpu0, 1),
        }
        key = seed_key(name, args.seed)
        _save(out, key, g, entry)
        print(
            f"wrote {out / (key + '.safetensors')}: {json.dumps(entry['measurements'])}",
            flush=True,
        )

    state_path = out / f"{seed_key(args.variant, args.seed)}-state.pt"
    result = train(
        args.variant,
        recipe,
        seed=args.seed,
        device=device,
        data=data,
        state_path=state_path,
        resume=args.resume,
        checkpoint_every=max(args.checkpoint_every, 0),
        show_progress=not args.quiet,
    )
    net, history = result["content_net"], result["history"]
    init_steps = recipe.init_steps - result["start_step"]
    if args.variant == "full" and result["init_generator"] is not None:
        save(
            "init_only",
            result["init_generator"],
            history[: max(init_steps, 0)],
            result["start_step"],
            net,
        )
    if recipe.steps or args.variant != "full":
        save(args.variant, result["generator"], history, result["start_step"], net)
    if args.variant == "full" and recipe.temporal_steps:
        for name, weight in (("temporal", recipe.temporal_weight), ("temporal_control", 0.0)):
            g, hist = finetune_temporal(
                result["generator"],
                result["discriminator"],
                recipe,
                data,
                weight=weight,
                seed=args.seed,
                net=net,
                show_progress=not args.quiet,
            )
            save(name, g, hist, 0, net)
    if is_main_process():
        print(
            f"done in {time.perf_counter() - wall0:.0f} s wall, {cpu_seconds() - cpu0:.0f} s CPU",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
