"""The two-alternative study with clips: two looping GIFs side by side, the same answer files and
the same guarantees as the image study (each answer on disk before the next trial, resume after
a restart, a different plan refused), and a replay button that records nothing."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lib.evaluation import study as S
from lib.widgets.study import ForcedChoiceStudy, clip_renderer

ROOT = Path(__file__).resolve().parents[2]


def clip_sets(n: int = 4, t: int = 5) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(n, t, 3, 8, 8, generator=gen)
    return {"real": real, "shuffled": real.flip(1), "grey": real.mean(2, keepdim=True)}


def plan(seed: int = 0) -> list[S.Trial]:
    return S.make_trials({"real": 4, "shuffled": 4, "grey": 4}, per_pair=2, seed=seed)


def test_clip_renderer_makes_a_looping_gif_per_clip():
    sets = clip_sets()
    render, sizes = clip_renderer(sets, size=32, fps=10)
    assert sizes == {"real": 4, "shuffled": 4, "grey": 4}
    data = render("real", 2)
    assert data[:6] == b"GIF89a"
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == 5 and gif.size == (32, 32)
    assert gif.info.get("loop") == 0 and gif.info.get("duration") == 100
    gif.seek(0)
    first = torch.from_numpy(np.asarray(gif.convert("RGB"))[0, 0].astype(np.float32)) / 255
    assert torch.allclose(first, sets["real"][2, 0, :, 0, 0], atol=2 / 255)
    assert render("real", 2) == data  # deterministic bytes
    assert render("grey", 0)[:6] == b"GIF89a"  # one channel works too


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(sets={}), TypeError, "non-empty dict"),
        (dict(sets={"a": torch.rand(2, 3, 8, 8)}), ValueError, "N×T×C×H×W"),
        (dict(sets={"a": torch.rand(2, 3, 3, 8, 8) * 2}), ValueError, r"\[0, 1\]"),
        (dict(sets={"a": [1, 2]}), TypeError, "clip tensor"),
        (dict(sets={"a": torch.rand(1, 2, 3, 8, 8)}, fps=0), ValueError, "fps"),
    ],
)
def test_clip_renderer_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        clip_renderer(**kwargs)


def test_a_clip_study_records_resumes_and_replays(tmp_path):
    path = tmp_path / "answers.jsonl"
    trials = plan()
    study = ForcedChoiceStudy(
        trials, clip_sets(), student="s01", study="clips", path=path, media="clip", size=32
    )
    assert study.left_image.format == "gif" and study.left_image.value[:6] == b"GIF89a"
    assert "clip looks more real" in study.prompt.value
    assert study.replay_button in study.widget.children[2].children
    shown = study.left_image.value
    study.replay()  # restarts both clips, records nothing
    assert study.left_image.value == shown and not path.exists()
    study.right_button.click()
    study.left_button.click()
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["choice"] for r in recs] == ["right", "left"]
    assert {r["media"] for r in recs} == {"clip"}
    assert recs[0]["left_set"] == trials[0].left_set
    # A new widget on the same file resumes at the third trial.
    again = ForcedChoiceStudy(
        trials, clip_sets(), student="s01", study="clips", path=path, media="clip", size=32
    )
    assert again.current == trials[2] and len(again.answered) == 2
    # Another plan is refused, as for images.
    with pytest.raises(ValueError, match="trials changed"):
        ForcedChoiceStudy(
            plan(seed=5), clip_sets(), student="s01", study="clips", path=path, media="clip"
        )
    # Finish: buttons and replay are disabled.
    while not again.done:
        again.left_button.click()
    assert again.left_button.disabled and again.replay_button.disabled
    again.replay()  # nothing on screen, nothing happens
    assert len(S.read_answers(path)) == len(trials)


def test_an_image_study_has_no_replay_button(tmp_path):
    sets = {name: torch.rand(4, 3, 8, 8) for name in ("real", "shuffled", "grey")}
    study = ForcedChoiceStudy(plan(), sets, student="s01", path=tmp_path / "a.jsonl")
    assert study.replay_button not in study.widget.children[2].children
    assert "image looks more real" in study.prompt.value


def test_clip_items_are_checked_against_the_sets(tmp_path):
    trials = S.make_trials({"real": 9, "shuffled": 4}, per_pair=4, seed=0)
    with pytest.raises(ValueError, match="that set has clips 0..3"):
        ForcedChoiceStudy(
            trials,
            {"real": torch.rand(4, 3, 3, 8, 8), "shuffled": torch.rand(4, 3, 3, 8, 8)},
            student="s01",
            path=tmp_path / "a.jsonl",
            media="clip",
        )


CHILD = textwrap.dedent(
    """
    import sys
    import torch
    from lib.evaluation.study import make_trials
    from lib.widgets.study import ForcedChoiceStudy

    path, k = sys.argv[1], int(sys.argv[2])
    trials = make_trials({"real": 4, "shuffled": 4}, per_pair=6, seed=0)
    clips = torch.rand(4, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    sets = {"real": clips, "shuffled": clips.flip(1)}
    study = ForcedChoiceStudy(
        trials, sets, student="s01", study="clips", path=path, media="clip", size=16
    )
    for i in range(k):
        (study.left_button if i % 2 else study.right_button).click()
    assert study.error is None, study.error
    print("answered", len(study.answered), flush=True)
    sys.stdin.read()
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_clip_study_loses_no_recorded_answer(tmp_path):
    path, k = tmp_path / "answers.jsonl", 3
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(k)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == f"answered {k}", child.stderr.read() if not line else line
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            stream.close()
    recs = S.read_answers(path)
    assert [r["trial"] for r in recs] == list(range(k))
    assert all(r["media"] == "clip" for r in recs)
