"""The training skeleton: resumable state, the step loop, DDP wrapping on one process."""

import math

import pytest
import torch
from torch import nn

from lib.train import loop
from lib.train.loop import (
    init_distributed,
    load_state,
    run_classifier_steps,
    run_steps,
    save_state,
    unwrap,
    wrap_ddp,
)


def _model_and_opt(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    return model, torch.optim.Adam(model.parameters(), lr=0.1)


def _step(model, opt, gen):
    x = torch.randn(8, 3, generator=gen)
    loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"loss": loss}


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    model, opt = _model_and_opt()
    gen = torch.Generator().manual_seed(1)
    full = run_steps(lambda s: _step(model, opt, gen), steps=6, enabled=False)

    model2, opt2 = _model_and_opt()
    gen2 = torch.Generator().manual_seed(1)
    path = tmp_path / "state.pt"

    def checkpoint(done):
        save_state(
            path,
            step=done,
            modules={"net": model2},
            optimizers={"opt": opt2},
            extra={"gen": gen2.get_state().tolist()},
        )

    run_steps(
        lambda s: _step(model2, opt2, gen2),
        steps=3,
        checkpoint_every=3,
        on_checkpoint=checkpoint,
        enabled=False,
    )
    model3, opt3 = _model_and_opt(seed=5)
    step, extra = load_state(path, modules={"net": model3}, optimizers={"opt": opt3})
    assert step == 3
    gen3 = torch.Generator()
    gen3.set_state(torch.tensor(extra["gen"], dtype=torch.uint8))
    rest = run_steps(lambda s: _step(model3, opt3, gen3), steps=6, start_step=step, enabled=False)
    assert [h["loss"] for h in rest] == [h["loss"] for h in full[3:]]
    for a, b in zip(model.state_dict().values(), model3.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_checkpoint_schedule_and_history():
    calls = []
    history = run_steps(
        lambda s: {"x": s}, steps=7, checkpoint_every=3, on_checkpoint=calls.append, enabled=False
    )
    assert calls == [3, 6, 7]
    assert [h["x"] for h in history] == list(range(7))
    assert run_steps(lambda s: None, steps=2, enabled=False) == [{}, {}]


def test_non_finite_loss_stops_with_a_clear_error():
    with pytest.raises(FloatingPointError, match="step 2: loss g is nan"):
        run_steps(lambda s: {"g": math.nan if s == 2 else 1.0}, steps=5, enabled=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        run_steps(lambda s: None, steps=0)
    with pytest.raises(ValueError, match="start_step"):
        run_steps(lambda s: None, steps=2, start_step=-1)
    with pytest.raises(ValueError, match="checkpoint_every"):
        run_steps(lambda s: None, steps=2, checkpoint_every=-1)
    with pytest.raises(TypeError, match="modules"):
        save_state("x.pt", step=0, modules=[nn.Linear(1, 1)])


def test_load_state_refuses_missing_bad_and_foreign_files(tmp_path):
    model, opt = _model_and_opt()
    with pytest.raises(FileNotFoundError, match="missing"):
        load_state(tmp_path / "none.pt", modules={"net": model})
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable training state"):
        load_state(tmp_path / "junk.pt", modules={"net": model})
    torch.save({"a": torch.zeros(1)}, tmp_path / "weights.pt")
    with pytest.raises(ValueError, match="not a training state"):
        load_state(tmp_path / "weights.pt", modules={"net": model})
    save_state(tmp_path / "s.pt", step=1, modules={"net": model})
    with pytest.raises(ValueError, match="no optimizers named"):
        load_state(tmp_path / "s.pt", modules={"net": model}, optimizers={"opt": opt})


def test_single_process_defaults():
    assert init_distributed("cpu") == torch.device("cpu")
    model = nn.Linear(2, 2)
    assert wrap_ddp(model) is model and unwrap(model) is model


def test_state_restores_data_generators_schedulers_and_global_rngs(tmp_path):
    import random

    import numpy as np

    model, opt = _model_and_opt()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    gen = torch.Generator().manual_seed(3)
    torch.randn(4, generator=gen)
    opt.step()  # no gradients: moves nothing, but the scheduler expects a step first
    sched.step()
    torch.manual_seed(1), np.random.seed(2), random.seed(3)  # noqa: NPY002
    path = tmp_path / "state.pt"
    save_state(
        path,
        step=4,
        modules={"net": model},
        optimizers={"opt": opt},
        schedulers={"lr": sched},
        generators={"batches": gen},
    )
    expected = (
        torch.randn(5, generator=gen),
        torch.randn(5),
        np.random.rand(5),  # noqa: NPY002
        random.random(),
        sched.get_last_lr(),
    )
    model2, opt2 = _model_and_opt()
    sched2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5)
    gen2 = torch.Generator().manual_seed(99)
    torch.manual_seed(7), np.random.seed(7), random.seed(7)  # noqa: NPY002
    step, _ = load_state(
        path,
        modules={"net": model2},
        optimizers={"opt": opt2},
        schedulers={"lr": sched2},
        generators={"batches": gen2},
    )
    assert step == 4 and sched2.get_last_lr() == expected[4]
    assert torch.equal(torch.randn(5, generator=gen2), expected[0])
    assert torch.equal(torch.randn(5), expected[1])
    assert np.array_equal(np.random.rand(5), expected[2])  # noqa: NPY002
    assert random.random() == expected[3]
    with pytest.raises(ValueError, match="no generators named"):
        load_state(path, modules={"net": model2}, generators={"other": gen2})
    with pytest.raises(TypeError, match="generators"):
        save_state(path, step=0, modules={"net": model2}, generators={"g": 3})


# ------------------------------------------------------------------------- classifier steps
class _Stop(Exception):
    pass


def _classifier(steps, stop_at=None):
    """A linear two-class classifier on separable points (class: the sign of x₀), its SGD
    optimiser and one-cycle schedule, and a sampler that raises :class:`_Stop` on its call
    ``stop_at`` (a run killed there)."""
    torch.manual_seed(0)
    net = nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=steps)
    gen = torch.Generator().manual_seed(1)
    calls = []

    def sample_batch():
        calls.append(1)
        if len(calls) == stop_at:
            raise _Stop
        x = torch.randn(16, 2, generator=gen)
        return x, (x[:, 0] > 0).long()

    return net, sample_batch, {"optimizer": opt, "schedule": schedule, "generators": {"g": gen}}


def test_classifier_steps_learn_log_checkpoint_and_resume(tmp_path, monkeypatch):
    saved = []
    save = loop.save_state
    monkeypatch.setattr(
        loop, "save_state", lambda path, **kw: saved.append(kw["step"]) or save(path, **kw)
    )
    config = {"steps": 8}
    weight = torch.tensor([1.0, 2.0])
    net, sample, parts = _classifier(8)
    lines = []
    losses = run_classifier_steps(
        net, sample, steps=8, config=config, weight=weight, log=lines.append, log_every=3, **parts
    )
    assert len(losses) == 8 and sum(losses[-3:]) / 3 < losses[0] / 2  # it learns
    assert not net.training
    assert [line.split(":")[0] for line in lines] == ["step 3/8", "step 6/8", "step 8/8"]
    assert lines[-1].startswith(f"step 8/8: loss {sum(losses[-3:]) / 3:.3f}, ")
    assert saved == []  # no state_path: no state

    # Killed during step 5 (after the state of step 4), then resumed: the same run, bit for bit.
    path = tmp_path / "state.pt"
    net2, sample2, parts2 = _classifier(8, stop_at=5)
    with pytest.raises(_Stop):
        run_classifier_steps(
            net2,
            sample2,
            steps=8,
            config=config,
            weight=weight,
            state_path=path,
            checkpoint_every=2,
            log=None,
            **parts2,
        )
    assert saved == [2, 4]
    net3, sample3, parts3 = _classifier(8)
    resumed = run_classifier_steps(
        net3,
        sample3,
        steps=8,
        config=config,
        weight=weight,
        state_path=path,
        resume=True,
        checkpoint_every=2,
        log=None,
        **parts3,
    )
    assert saved == [2, 4, 6, 8]
    assert resumed == losses
    for a, b in zip(net.state_dict().values(), net3.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    net4, sample4, parts4 = _classifier(8)
    with pytest.raises(ValueError, match="another run"):
        run_classifier_steps(
            net4, sample4, steps=8, config={"steps": 9}, state_path=path, resume=True, **parts4
        )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"log_every": 0}, ValueError, "log_every"),
        ({"checkpoint_every": -1}, ValueError, "checkpoint_every"),
        ({"weight": [1.0, 2.0]}, TypeError, "weight"),
        ({"weight": torch.ones(2, 2)}, ValueError, "weight"),
        ({"resume": True}, ValueError, "state_path"),
        ({"generators": {"g": 3}}, TypeError, "generators"),
    ],
)
def test_classifier_steps_refuse_bad_arguments(change, error, match):
    net, sample, parts = _classifier(4)
    arguments = {"steps": 4, "config": {}, **parts, **change}
    with pytest.raises(error, match=match):
        run_classifier_steps(net, sample, **arguments)


# ------------------------------------------------------------------------------ command lines
TRAINERS = (
    "classifiers",
    "clip_network",
    "street_segmenter",
    "scene_layout",
    "dcgan",
    "vid2vid",
    "dance",
    "cartoongan",
)
BAD_ARGUMENTS = [
    ("classifiers", ["--seed", "-1"]),
    ("classifiers", ["--only", "nope"]),
    ("clip_network", ["--steps", "0"]),
    ("clip_network", ["--batch", "x"]),
    ("clip_network", ["--threads", "0"]),
    ("clip_network", ["--checkpoint-every", "-1"]),
    ("street_segmenter", ["--steps", "0"]),
    ("street_segmenter", ["--seed", "8"]),
    ("classifiers", ["--epochs", "0"]),
    ("classifiers", ["--train-images", "x"]),
    ("classifiers", ["--checkpoint-every", "-2"]),
    ("dcgan", ["--steps", "-3"]),
    ("dcgan", ["--batch-size", "1"]),
    ("dcgan", ["--dataset", "faces"]),
    ("dcgan", ["--checkpoints", "1"]),
    ("dcgan", ["--eval-images", "0"]),
    ("dcgan", ["--checkpoint-every", "1.5"]),
    ("vid2vid", ["--frames", "3"]),
    ("vid2vid", ["--size", "30"]),
    ("vid2vid", ["--lr", "0"]),
    ("vid2vid", ["--levels", "3"]),
    ("vid2vid", ["--device", "gpu"]),
    ("vid2vid", ["--clip-frames", "4"]),
    ("dance", ["--steps", "0"]),
    ("dance", ["--frames", "1"]),
    ("dance", ["--size", "30"]),
    ("dance", ["--device", "tpu"]),
    ("cartoongan", ["--size", "30"]),
    ("cartoongan", ["--init-steps", "0", "--steps", "0"]),
    ("cartoongan", ["--omega", "-1"]),
    ("cartoongan", ["--batch", "8", "--images", "4"]),
]


@pytest.mark.parametrize(("name", "argv"), BAD_ARGUMENTS)
def test_bad_trainer_arguments_end_with_one_error_line(name, argv, capsys):
    from lib.train.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main([name, *argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"python -m lib.train {name}: error: "), err
    assert not any("Traceback" in line for line in err)


@pytest.mark.parametrize("name", TRAINERS)
def test_every_trainer_has_help(name, capsys):
    from lib.train.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main([name, "--help"])
    assert stop.value.code == 0
    assert f"usage: python -m lib.train {name}" in capsys.readouterr().out


def test_without_arguments_the_trainers_are_listed(capsys):
    from lib.train.__main__ import main
    from lib.train.recipes import RECIPES

    assert set(RECIPES) == set(TRAINERS)
    assert main([]) == 2
    assert "trainers: " + ", ".join(RECIPES) in capsys.readouterr().out
    assert main(["nope"]) == 2
    assert "unknown trainer 'nope'" in capsys.readouterr().err
