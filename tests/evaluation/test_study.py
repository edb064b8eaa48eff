"""The two-alternative forced-choice study: the plan, the answer files (appends that survive a
killed process, broken lines skipped with a warning, resume, merge), the statistics (Wilson
intervals, preference rates, position bias, agreement with a metric) and the widget, driven
without a browser by clicking its buttons."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import textwrap
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import torch
from ipywidgets import widgets

from lib.datasets import ImageSet
from lib.evaluation import study as S
from lib.widgets.study import ForcedChoiceStudy, image_renderer

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def small_sets(n: int = 6) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {name: torch.rand(n, 3, 8, 8, generator=gen) for name in ("real", "blur", "noise")}


def plan(per_pair: int = 2, seed: int = 0) -> list[S.Trial]:
    return S.make_trials({"real": 6, "blur": 6, "noise": 6}, per_pair=per_pair, seed=seed)


def record(trial: int = 0, choice: str = "left", student: str = "s01", **change) -> dict:
    t = S.Trial(trial, "real", trial % 5, "blur", 3)
    r = S.answer_record(
        t, choice, student=student, study="unit", time="2024-04-01T09:00:00.000Z", seconds=1.5
    )
    r.update(change)
    return r


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- the plan ---------------------------------------------------------------------------------


def test_make_trials_is_seeded_balanced_and_numbered():
    trials = plan(per_pair=4, seed=3)
    assert trials == plan(per_pair=4, seed=3)
    assert trials != plan(per_pair=4, seed=4)
    assert [t.index for t in trials] == list(range(12))  # 3 pairs × 4
    for a, b in combinations(("real", "blur", "noise"), 2):
        of_pair = [t for t in trials if set(t.sets) == {a, b}]
        assert len(of_pair) == 4
        assert sum(t.left_set == a for t in of_pair) == 2  # sides balanced
    for t in trials:
        assert 0 <= t.left_item < 6 and 0 <= t.right_item < 6
    # Items are drawn without replacement: the 8 draws from "real" show all 6 of its items.
    real_items = [t.left_item if t.left_set == "real" else t.right_item for t in trials]
    real_items = [i for t, i in zip(trials, real_items, strict=True) if "real" in t.sets]
    assert len(real_items) == 8 and set(real_items) == set(range(6))


def test_a_trial_checks_and_normalises_its_fields():
    t = S.Trial(np.int64(2), "real", np.int32(4), "gan", "x7")
    assert (type(t.index), type(t.left_item), t.right_item) == (int, int, "x7")
    with pytest.raises(ValueError, match="both sides show the set 'real'"):
        S.Trial(0, "real", 1, "real", 2)
    with pytest.raises(TypeError, match="Trial.right_item: an item is an index"):
        S.Trial(0, "real", 1, "gan", 2.0)
    with pytest.raises(ValueError, match="Trial.index: must be at least 0"):
        S.Trial(-1, "real", 1, "gan", 2)


def test_make_trials_with_pairs_item_ids_and_an_odd_count():
    trials = S.make_trials(
        {"real": ["a", "b"], "model": 3}, [("real", "model")], per_pair=5, seed=1
    )
    assert len(trials) == 5
    assert {t.left_set for t in trials} == {"real", "model"}
    assert all(
        (t.left_item in ("a", "b")) if t.left_set == "real" else t.left_item in range(3)
        for t in trials
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(sets={"real": 3}), ValueError, "at least two sets"),
        (dict(sets=[("real", 3)]), TypeError, "sets: expected a non-empty dict"),
        (dict(sets={"real": 0, "b": 2}), ValueError, r"sets\['real'\]: must be at least 1"),
        (dict(sets={"real": [], "b": 2}), ValueError, "list of items is empty"),
        (dict(sets={"real": 2.5, "b": 2}), TypeError, "number of items or a list"),
        (dict(pairs=[("real", "gan")]), ValueError, "'gan' is not one of the sets"),
        (dict(pairs=[("real", "real")]), ValueError, "compares a set with itself"),
        (dict(pairs=[("real", "b"), ("b", "real")]), ValueError, "listed twice"),
        (dict(pairs=[]), ValueError, "list of pairs is empty"),
        (dict(per_pair=0), ValueError, "per_pair: must be at least 1"),
        (dict(seed=-1), ValueError, "seed: must be at least 0"),
        (dict(seed=1.0), TypeError, "seed: expected an integer"),
    ],
)
def test_make_trials_rejects_bad_inputs(kwargs, error, match):
    args = dict(sets={"real": 3, "b": 3}, pairs=None, per_pair=2, seed=0) | kwargs
    with pytest.raises(error, match=match):
        S.make_trials(args.pop("sets"), args.pop("pairs"), **args)


# -- records and files ------------------------------------------------------------------------


def test_append_writes_one_checked_line_per_answer(tmp_path):
    path = tmp_path / "sub" / "answers.jsonl"
    S.append_answer(path, record(0))
    S.append_answer(path, record(1, "right"))
    assert path.read_bytes().count(b"\n") == 2
    assert lines(path) == [record(0), record(1, "right")]
    with pytest.raises(ValueError, match="choice: expected 'left' or 'right'"):
        S.append_answer(path, record(2, "up"))
    assert len(lines(path)) == 2  # nothing written for a bad record


def test_an_answer_after_a_cut_line_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "answers.jsonl"
    S.append_answer(path, record(0))
    with open(path, "ab") as f:  # a writer killed halfway through a line
        f.write(json.dumps(record(1)).encode()[:40])
    S.append_answer(path, record(2))
    with pytest.warns(S.StudyFileWarning, match=r"answers\.jsonl: .*line 2: not valid JSON"):
        got = S.read_answers(path)
    assert got == [record(0), record(2)]


def test_broken_lines_are_reported_with_file_and_line_and_skipped(tmp_path):
    path = tmp_path / "answers-s01.jsonl"
    good = [record(i) for i in range(3)]
    text = "\n".join(
        [
            json.dumps(good[0]),
            "this is not json",
            json.dumps(good[1]),
            "",  # a blank line is no problem
            json.dumps({k: v for k, v in good[2].items() if k != "choice"}),
            json.dumps(record(3, schema=S.SCHEMA_VERSION + 1)),
            json.dumps(good[2]),
            json.dumps(record(4))[:-9],  # cut short, no newline: the writer was killed
        ]
    )
    path.write_text(text)
    with pytest.warns(S.StudyFileWarning) as caught:
        got = S.read_answers(path)
    assert got == good
    message = str(caught[0].message)
    assert "answers-s01.jsonl" in message and "skipped 4 unreadable line(s) of 7" in message
    assert "line 2: not valid JSON" in message
    assert "line 5: not a valid answer (missing field(s) 'choice')" in message
    assert "line 6: not a valid answer (schema: version 2 was written by a newer" in message
    assert "line 8: cut short" in message
    assert len(caught) == 1  # one warning per file


def test_read_answers_of_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="answer file .*nope.jsonl does not exist"):
        S.read_answers(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (dict(student="s 01"), ValueError, "student: 's 01' is not a valid id"),
        (dict(study=7), TypeError, "study: expected a string"),
        (dict(trial=-1), ValueError, "trial: must be at least 0"),
        (dict(trial=True), TypeError, "trial: expected an integer"),
        (dict(media="audio"), ValueError, "media: expected one of"),
        (dict(right_set="real"), ValueError, "both 'real'; a trial compares two sets"),
        (dict(left_item=-2), ValueError, "left_item: an item index must be ≥ 0"),
        (dict(right_item=1.5), TypeError, "right_item: an item is an index"),
        (dict(time="yesterday"), ValueError, "time: 'yesterday' is not an ISO 8601"),
        (dict(time="2024-04-01T09:00:00"), ValueError, "is not an ISO 8601 time with zone"),
        (dict(seconds=float("nan")), ValueError, "seconds: expected a finite number"),
        (dict(schema=0), ValueError, "schema: expected a version number"),
    ],
)
def test_bad_records_are_refused_with_the_field_named(change, error, match):
    bad = record(0) | change
    with pytest.raises(error, match=match):
        S.check_record(bad)


def test_merge_dedupes_identical_records_and_keeps_the_first_of_contradicting_ones(tmp_path):
    a, b = tmp_path / "answers-s01.jsonl", tmp_path / "answers-s02.jsonl"
    for i in range(3):
        S.append_answer(a, record(i))
        S.append_answer(b, record(i, student="s02"))
    S.append_answer(b, record(0))  # s01's answer copied into s02's file: identical, kept once
    merged = S.merge_answers(str(tmp_path / "answers-*.jsonl"))
    assert len(merged) == 6
    assert [(r["student"], r["trial"]) for r in merged] == [
        (s, i) for s in ("s01", "s02") for i in range(3)
    ]
    assert S.merge_answers(a, [a, b]) == merged  # lists, paths, the same file twice

    # A different answer to s01's trial 1, recorded later: the first one counts.
    late = tmp_path / "late.jsonl"
    S.append_answer(late, record(1, "right", time="2024-04-01T10:00:00.000Z"))
    with pytest.warns(S.StudyFileWarning, match="1 answer.* contradict .*unit/s01 trial 1"):
        merged2 = S.merge_answers(late, a, b)
    assert merged2 == merged

    out = S.merge_answers(a, b, out=tmp_path / "merged" / "all.jsonl")
    assert S.read_answers(tmp_path / "merged" / "all.jsonl") == out == merged
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        S.merge_answers(a, out=tmp_path / "merged" / "all.jsonl")


def test_merge_rejects_missing_files_and_empty_patterns(tmp_path):
    with pytest.raises(FileNotFoundError, match="matches the pattern"):
        S.merge_answers(str(tmp_path / "*.jsonl"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        S.merge_answers(tmp_path / "none.jsonl")
    with pytest.raises(ValueError, match="at least one answer file"):
        S.merge_answers()
    with pytest.raises(TypeError, match="sources: expected paths"):
        S.merge_answers(42)


# -- statistics -------------------------------------------------------------------------------


def test_wilson_interval_known_values():
    z = 1.959963984540054
    for n in (1, 10, 40):
        # 0 of n: [0, z²/(n + z²)]; n of n: [n/(n + z²), 1].
        assert S.wilson_interval(0, n) == (0.0, pytest.approx(z * z / (n + z * z), rel=1e-12))
        assert S.wilson_interval(n, n) == (pytest.approx(n / (n + z * z), rel=1e-12), 1.0)
    # Newcombe (1998), Table I, method 3 (score interval without continuity correction).
    for (k, n), (low, high) in {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }.items():
        got = S.wilson_interval(k, n)
        assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))
    lo, hi = S.wilson_interval(5, 10)
    assert lo == pytest.approx(1 - hi) and lo < 0.5 < hi  # symmetric around one half
    lo99, hi99 = S.wilson_interval(5, 10, confidence=0.99)
    assert lo99 < lo and hi < hi99


def test_wilson_interval_matches_the_closed_form():
    # The formula of the docstring, as the course wrote it before SciPy computed it.
    from statistics import NormalDist

    def closed_form(k, n, confidence):
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        p, z2n = k / n, z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
        low = 0.0 if k == 0 else max(0.0, centre - half)
        high = 1.0 if k == n else min(1.0, centre + half)
        return low, high

    for n in (1, 2, 3, 7, 20, 41, 263, 1000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            for confidence in (0.8, 0.95, 0.99):
                got = S.wilson_interval(k, n, confidence)
                assert all(type(v) is float for v in got)
                expected = closed_form(k, n, confidence)
                assert got == pytest.approx(expected, rel=1e-12, abs=1e-15), (k, n, confidence)
    assert S.wilson_interval(0, 5)[0] == 0.0 and S.wilson_interval(5, 5)[1] == 1.0


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((3, 0), ValueError, "n: must be at least 1"),
        ((4, 3), ValueError, r"k: 4 successes out of n = 3 trials is impossible"),
        ((-1, 3), ValueError, "k: must be at least 0"),
        ((1.0, 3), TypeError, "k: expected an integer"),
        ((1, 3, 1.0), ValueError, "confidence: must lie strictly between 0 and 1"),
        ((1, 3, "95%"), TypeError, "confidence: expected a number"),
    ],
)
def test_wilson_interval_rejects_bad_inputs(args, error, match):
    with pytest.raises(error, match=match):
        S.wilson_interval(*args)


def test_preference_table_and_position_bias_count_what_was_chosen():
    trials = S.make_trials({"real": 4, "gan": 4}, per_pair=10, seed=0)
    # A student who always prefers real, and one who always presses left.
    recs = [
        S.answer_record(t, "left" if t.left_set == "real" else "right", student="s01", study="u")
        for t in trials
    ] + [S.answer_record(t, "left", student="s02", study="u") for t in trials]
    (row,) = S.preference_table(recs, order=["real"])
    assert (row.a, row.b, row.n, row.wins, row.a_left) == ("real", "gan", 20, 15, 10)
    assert row.rate == 0.75 and (row.low, row.high) == S.wilson_interval(15, 20)
    (flipped,) = S.preference_table(recs, order=["gan"])
    assert (flipped.a, flipped.wins) == ("gan", 5)
    bias = S.position_bias(recs)
    assert (bias.n, bias.k, bias.rate) == (20, 15, 0.75)
    per = S.position_bias(recs, by_student=True)
    assert per["s01"].rate == 0.5 and per["s02"].rate == 1.0 and per["s02"].high == 1.0
    assert S.human_scores(recs) == {"gan": 0.25, "real": 0.75}
    assert S.human_scores(recs, against="real") == {"gan": 0.25}


def test_statistics_refuse_duplicates_and_bad_input():
    recs = [record(0), record(1)]
    with pytest.raises(ValueError, match="more than once; read the files with merge_answers"):
        S.preference_table(recs + [record(0, "right")])
    with pytest.raises(ValueError, match="no answers"):
        S.position_bias([])
    with pytest.raises(TypeError, match=r"records: expected a list of answer records"):
        S.preference_table(record(0))
    with pytest.raises(ValueError, match=r"records\[1\]: choice"):
        S.preference_table([record(0), record(1) | {"choice": "both"}])
    with pytest.raises(ValueError, match="against: no trial shows the set 'photos'"):
        S.human_scores(recs, against="photos")


def test_ranking_agreement_is_kendall_tau_b():
    scipy_stats = pytest.importorskip("scipy.stats")
    human = {"a": 0.5, "b": 0.4, "c": 0.2, "d": 0.1}
    distance = {"a": 1.0, "b": 3.0, "c": 9.0, "d": 20.0, "unused": 0.0}
    same = S.ranking_agreement(human, distance, lower_is_better=True)
    assert (same.tau, same.agree, same.concordant, same.n_sets) == (1.0, 1.0, 6, 4)
    reverse = S.ranking_agreement(human, distance, lower_is_better=False)
    assert (reverse.tau, reverse.agree, reverse.discordant) == (-1.0, 0.0, 6)
    # Ties: τ_b as scipy computes it.
    human_t = {"a": 0.5, "b": 0.5, "c": 0.2, "d": 0.1, "e": 0.3}
    score = {"a": 2.0, "b": 1.0, "c": 1.0, "d": 0.5, "e": 3.0}
    got = S.ranking_agreement(human_t, score, lower_is_better=False)
    expected = scipy_stats.kendalltau(list(human_t.values()), [score[k] for k in human_t])
    assert got.tau == pytest.approx(expected.statistic, rel=1e-12)
    assert got.concordant + got.discordant + got.tied == 10 and got.tied == 2
    assert got.agree == got.concordant / (got.concordant + got.discordant)

    # The pair counts, against every pair counted by hand, on rankings with ties.
    rng = np.random.default_rng(0)
    for _ in range(50):
        names = [f"s{i}" for i in range(int(rng.integers(3, 8)))]
        h = {s: float(rng.choice([0.1, 0.3, 0.5, rng.random()])) for s in names}
        g = {s: float(rng.choice([1.0, 2.0, rng.random()])) for s in names}
        signs = [(np.sign(h[a] - h[b]), np.sign(g[a] - g[b])) for a, b in combinations(names, 2)]
        c = sum(x == y != 0 for x, y in signs)
        d = sum(x == -y != 0 for x, y in signs)
        if c + d == 0:
            continue
        got = S.ranking_agreement(h, g, lower_is_better=False)
        assert (got.concordant, got.discordant, got.tied) == (c, d, len(signs) - c - d)
        assert type(got.tau) is float and type(got.concordant) is int
        expected = scipy_stats.kendalltau(list(h.values()), list(g.values())).statistic
        assert got.tau == pytest.approx(expected, rel=1e-12)

    table = S.agreement_table(human, {"FID": distance, "IS": distance}, {"FID": True, "IS": False})
    assert table["FID"].tau == 1.0 and table["IS"].tau == -1.0


@pytest.mark.parametrize(
    ("human", "metric", "flag", "error", "match"),
    [
        ({"a": 1.0}, {"a": 1.0}, True, ValueError, "at least two sets"),
        ({"a": 1.0, "b": 2.0}, {"a": 1.0}, True, ValueError, "no value for the set.*'b'"),
        ({"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 2.0}, True, ValueError, "human: every set"),
        ({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 1.0}, True, ValueError, "metric: every set"),
        ({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": "x"}, True, TypeError, r"metric\['b'\]"),
        ({"a": 1.0, "b": math.nan}, {"a": 1.0, "b": 2.0}, True, ValueError, "not finite"),
        ({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 2.0}, "yes", TypeError, "lower_is_better"),
        ([1.0, 2.0], {"a": 1.0, "b": 2.0}, True, TypeError, "human: expected a dict"),
    ],
)
def test_ranking_agreement_rejects_bad_inputs(human, metric, flag, error, match):
    with pytest.raises(error, match=match):
        S.ranking_agreement(human, metric, lower_is_better=flag)


def test_agreement_table_needs_a_flag_per_metric():
    with pytest.raises(ValueError, match="no flag for 'KID'"):
        S.agreement_table({"a": 1.0, "b": 2.0}, {"KID": {"a": 1.0, "b": 2.0}}, {})


# -- simulated students and the shipped example -----------------------------------------------


def test_simulated_students_follow_the_model_and_are_deterministic():
    trials = S.make_trials({"real": 50, "bad": 50, "twin": 50}, per_pair=40, seed=0)
    quality = {"real": 0.0, "bad": -3.0, "twin": 0.0}
    recs = S.simulate_answers(trials, quality, students=3, seed=1)
    assert recs == S.simulate_answers(trials, quality, students=3, seed=1)
    assert len(recs) == 3 * 120 and {r["student"] for r in recs} == {"s01", "s02", "s03"}
    rows = {(r.a, r.b): r for r in S.preference_table(recs, order=["real", "twin"])}
    assert rows[("real", "bad")].low > 0.85  # σ(3) = 0.95
    assert rows[("real", "twin")].low < 0.5 < rows[("real", "twin")].high
    assert S.position_bias(recs).low < 0.5 < S.position_bias(recs).high
    biased = S.simulate_answers(trials, quality, students=["x"], left_bias=2.0, seed=1)
    equal = [r for r in biased if {r["left_set"], r["right_set"]} == {"real", "twin"}]
    assert S.position_bias(equal).low > 0.6  # σ(2) = 0.88 where the sets look alike
    with pytest.raises(ValueError, match="quality: no value for the set.*'twin'"):
        S.simulate_answers(trials, {"real": 0.0, "bad": -1.0})
    with pytest.raises(ValueError, match="students: the ids must be distinct"):
        S.simulate_answers(trials, quality, students=["a", "a"])


def test_the_shipped_example_file_is_what_example_answers_writes(tmp_path):
    assert S.EXAMPLE_PATH.relative_to(ROOT).as_posix() == "data/study/answers-example.jsonl"
    expected = S.example_answers()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no broken line
        assert S.read_answers(S.EXAMPLE_PATH) == expected
    copy = S.write_example_answers(tmp_path / "example.jsonl")
    assert copy.read_bytes() == S.EXAMPLE_PATH.read_bytes()


def test_the_package_exports_every_name_of_its_modules():
    import lib.evaluation.study.plan as plan
    import lib.evaluation.study.records as records
    import lib.evaluation.study.simulate as simulate
    import lib.evaluation.study.stats as stats

    for module in (plan, records, simulate, stats):
        for name in module.__all__:
            assert getattr(S, name) is getattr(module, name), name
            assert name in S.__all__, name
    assert S.EXAMPLE_QUALITY["real"] == 0.0 and S.EXAMPLE_PER_PAIR == 10


def test_the_example_answers_show_the_studys_story():
    recs = S.read_answers(S.EXAMPLE_PATH)
    rows = {r.b: r for r in S.preference_table(recs, order=["real"])}
    # People see pixel damage: the real image wins clearly (interval above one half) ...
    for name in ("noise", "blur", "swirl", "rectangles", "salt_pepper"):
        assert rows[name].low > 0.5, name
    # ... but, one image at a time, cannot see missing variety.
    for name in ("drop 5 of 10 modes", "2 per class", "memorised (1 per class)"):
        assert rows[name].low < 0.5 < rows[name].high, name
    assert S.position_bias(recs).low > 0.5  # the simulated students like the left side
    assert all(r.a_left * 2 == r.n for r in rows.values())


# -- the widget -------------------------------------------------------------------------------


def test_clicking_the_buttons_records_answers_and_moves_on(tmp_path):
    path = tmp_path / "answers.jsonl"
    trials = plan()
    study = ForcedChoiceStudy(trials, small_sets(), student="s01", study="unit", path=path)
    assert isinstance(study.widget, widgets.VBox)
    assert "application/vnd.jupyter.widget-view+json" in study._repr_mimebundle_()
    assert (study.left_button.description, study.right_button.description) == ("left", "right")
    assert (study.progress.value, study.progress.max) == (0, 6)
    assert study.counter.value == "0 of 6 answered"
    assert bytes(study.left_image.value).startswith(PNG)
    assert not path.exists()  # nothing written before the first answer

    shown = bytes(study.left_image.value)
    study.right_button.click()
    study.left_button.click()
    study.left_button.click()
    assert study.error is None
    got = lines(path)
    assert [(r["trial"], r["choice"]) for r in got] == [(0, "right"), (1, "left"), (2, "left")]
    for r, t in zip(got, trials, strict=False):
        assert t.matches(r) and r["student"] == "s01" and r["study"] == "unit"
        assert r["schema"] == S.SCHEMA_VERSION and r["media"] == "image" and r["seconds"] >= 0
    assert study.records == got
    assert (study.progress.value, study.counter.value) == (3, "3 of 6 answered")
    assert study.current == trials[3]
    assert shown != bytes(study.left_image.value) or trials[0].sets != trials[3].sets

    for _ in range(3):
        study.answer("right")
    assert study.done and study.current is None
    assert study.left_button.disabled and study.right_button.disabled
    assert "All 6 trials answered" in study.status.value
    assert len(lines(path)) == 6
    with pytest.raises(RuntimeError, match="all 6 trials are answered"):
        study.answer("left")
    with pytest.raises(ValueError, match="choice: expected 'left' or 'right'"):
        ForcedChoiceStudy(trials, small_sets(), student="s02", path=tmp_path / "b").answer("up")


def test_a_restarted_study_resumes_after_the_answered_trials(tmp_path):
    path = tmp_path / "answers.jsonl"
    trials = plan()
    first = ForcedChoiceStudy(trials, small_sets(), student="s01", study="unit", path=path)
    first.left_button.click()
    first.right_button.click()
    # Another student's answers in the same file do not count for s01, and vice versa.
    S.append_answer(path, record(5, student="s02"))

    again = ForcedChoiceStudy(trials, small_sets(), student="s01", study="unit", path=path)
    assert sorted(again.answered) == [0, 1] and again.current == trials[2]
    assert again.progress.value == 2
    again.left_button.click()
    assert [r["trial"] for r in lines(path) if r["student"] == "s01"] == [0, 1, 2]

    other = ForcedChoiceStudy(trials, small_sets(), student="s03", study="unit", path=path)
    assert other.current == trials[0]
    # The same file with a different plan: refused, not silently mixed.
    with pytest.raises(ValueError, match="answered trial 0 .* but this plan has trial 0"):
        ForcedChoiceStudy(plan(seed=9), small_sets(), student="s01", study="unit", path=path)


def test_a_broken_line_in_the_file_does_not_stop_the_study(tmp_path):
    path = tmp_path / "answers.jsonl"
    trials = plan()
    S.append_answer(path, S.answer_record(trials[0], "left", student="s01", study="unit"))
    with open(path, "ab") as f:
        f.write(b'{"schema": 1, "stud')
    with pytest.warns(S.StudyFileWarning, match="line 2"):
        study = ForcedChoiceStudy(trials, small_sets(), student="s01", study="unit", path=path)
    assert study.current == trials[1]
    study.left_button.click()
    with pytest.warns(S.StudyFileWarning, match="line 2"):
        assert [r["trial"] for r in S.read_answers(path)] == [0, 1]


def test_a_failing_write_is_shown_and_the_trial_stays_open(tmp_path, monkeypatch):
    study = ForcedChoiceStudy(plan(), small_sets(), student="s01", path=tmp_path / "a.jsonl")

    def full_disk(path, record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("lib.widgets.study.append_answer", full_disk)
    study.left_button.click()  # ipywidgets logs the exception; the panel shows it
    assert "No space left" in study.error and "could not record" in study.status.value
    assert study.answered == {} and study.current.index == 0 and study.progress.value == 0


def test_grey_image_sets_and_custom_renderers(tmp_path):
    grey = ImageSet(torch.rand(4, 1, 8, 8))
    trials = S.make_trials({"a": 4, "b": 4}, per_pair=2, seed=0)
    study = ForcedChoiceStudy(trials, {"a": grey, "b": grey}, student="s01", path=tmp_path / "g")
    assert bytes(study.left_image.value).startswith(PNG)
    render, sizes = image_renderer({"a": grey}, size=32)
    assert sizes == {"a": 4} and render("a", 0).startswith(PNG)

    def clip(set_name, item):
        return f"GIF89a {set_name} {item}".encode()

    clips = S.make_trials({"vid2vid": ["c1", "c2"], "per-frame": ["c1", "c2"]}, per_pair=2, seed=0)
    study = ForcedChoiceStudy(
        clips,
        clip,
        student="s01",
        study="clips",
        media="clip",
        image_format="gif",
        path=tmp_path / "clips.jsonl",
        question="Which clip looks more natural?",
    )
    assert study.left_image.format == "gif" and bytes(study.left_image.value).startswith(b"GIF")
    study.right_button.click()
    (r,) = lines(tmp_path / "clips.jsonl")
    assert r["media"] == "clip" and r["left_item"] in ("c1", "c2")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (dict(student="my name"), ValueError, "student: 'my name' is not a valid id"),
        (dict(study=""), ValueError, "study: '' is not a valid id"),
        (dict(trials=[]), ValueError, "trials: the plan is empty"),
        (dict(trials="abc"), TypeError, "trials: expected Trial objects"),
        (dict(sets={"real": torch.rand(6, 3, 8, 8)}), ValueError, "'blur' .*not among sets"),
        (dict(sets=small_sets(n=2)), ValueError, r"that set has images 0\.\.1"),
        (dict(sets={"real": [1, 2]}), TypeError, r"sets\['real'\]: expected an ImageSet"),
        (dict(sets=dict(small_sets(), real=torch.rand(6, 3, 8, 8) * 3)), ValueError, r"\[0, 1\]"),
        (dict(media="sound"), ValueError, "media: expected one of"),
        (dict(size=2), ValueError, "size: must be at least 8"),
    ],
)
def test_bad_widget_inputs_give_clear_errors(tmp_path, change, error, match):
    kwargs = dict(trials=plan(), sets=small_sets(), student="s01", path=tmp_path / "a") | change
    with pytest.raises(error, match=match):
        ForcedChoiceStudy(kwargs.pop("trials"), kwargs.pop("sets"), **kwargs)


# -- a killed process -------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    import torch
    from lib.evaluation.study import make_trials
    from lib.widgets.study import ForcedChoiceStudy

    path, k = sys.argv[1], int(sys.argv[2])
    trials = make_trials({"real": 6, "blur": 6, "noise": 6}, per_pair=4, seed=0)
    sets = {name: torch.rand(6, 3, 8, 8) for name in ("real", "blur", "noise")}
    study = ForcedChoiceStudy(trials, sets, student="s01", study="unit", path=path)
    for i in range(k):
        (study.left_button if i % 2 else study.right_button).click()
    assert study.error is None, study.error
    print("answered", len(study.answered), flush=True)
    sys.stdin.read()  # wait to be killed: no clean exit, no closing of files
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_study_loses_no_recorded_answer(tmp_path):
    path, k = tmp_path / "answers.jsonl", 5
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(k)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120)
        assert ready, "the child did not answer within 120 s"
        line = child.stdout.readline()
        assert line.strip() == f"answered {k}", child.stderr.read() if not line else line
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every line valid
        recs = S.read_answers(path)
    assert [r["trial"] for r in recs] == list(range(k))
    assert [r["choice"] for r in recs] == ["right", "left"] * 2 + ["right"]
    # ... and a new kernel goes on from there.
    trials = S.make_trials({"real": 6, "blur": 6, "noise": 6}, per_pair=4, seed=0)
    resumed = ForcedChoiceStudy(trials, small_sets(), student="s01", study="unit", path=path)
    assert resumed.current == trials[k]
