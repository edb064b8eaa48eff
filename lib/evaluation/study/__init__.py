"""A human two-alternative forced-choice (2AFC) study: trials, the answer files, statistics.

A student sees two items side by side — a real and a generated image, or the outputs of two
models — and presses "left" or "right" for the one that looks better (more real). This package is
everything of such a study except the widget (:class:`lib.widgets.study.ForcedChoiceStudy`), so
it runs headless: in tests, in scripts that merge the answers of a class, in the notebooks.

==============================  ================================================================
:func:`make_trials`             the plan: pairs of items, sides randomised (seeded) and balanced
:func:`answer_record`           one answer as a plain dict (the schema of :mod:`.records`)
:func:`append_answer`           append one answer to a JSONL file, flushed and fsync'ed
:func:`read_answers`            one answer file; broken lines are reported and skipped
:func:`merge_answers`           many files or glob patterns, identical records deduplicated
:func:`wilson_interval`         the Wilson score interval of a proportion
:func:`preference_table`        preference rate per pair of sets, with Wilson intervals
:func:`position_bias`           how often the left item was chosen (0.5 when there is none)
:func:`human_scores`            one score per set: win share, or the rate it beat a reference
:func:`ranking_agreement`       Kendall's τ_b and the share of agreeing pairs, humans vs a metric
:func:`simulate_answers`        simulated students (Bradley–Terry choices) for a non-interactive run
:func:`example_answers`         the answers shipped in ``data/study/answers-example.jsonl``
==============================  ================================================================

The modules: :mod:`.records` (the record schema, its checks, appending, reading, merging and
saving answer files), :mod:`.plan` (:class:`Trial`, :func:`make_trials`, :func:`answer_record`),
:mod:`.stats` (the statistics) and :mod:`.simulate` (simulated students and the example study).
Everything is importable from here: ``import lib.evaluation.study as study``.
"""

from lib.evaluation.study.plan import Trial, answer_record, make_trials
from lib.evaluation.study.records import (
    CHOICES,
    MEDIA,
    SCHEMA_VERSION,
    StudyFileWarning,
    answered_trials,
    append_answer,
    check_record,
    merge_answers,
    read_answers,
    save_answers,
)
from lib.evaluation.study.simulate import (
    EXAMPLE_ITEMS,
    EXAMPLE_LEFT_BIAS,
    EXAMPLE_PATH,
    EXAMPLE_PER_PAIR,
    EXAMPLE_QUALITY,
    EXAMPLE_SEED,
    EXAMPLE_STUDENTS,
    EXAMPLE_STUDY,
    example_answers,
    example_trials,
    simulate_answers,
    write_example_answers,
)
from lib.evaluation.study.stats import (
    Agreement,
    PairPreference,
    Rate,
    agreement_table,
    human_scores,
    position_bias,
    preference_table,
    ranking_agreement,
    wilson_interval,
)

__all__ = [
    "CHOICES",
    "EXAMPLE_ITEMS",
    "EXAMPLE_LEFT_BIAS",
    "EXAMPLE_PATH",
    "EXAMPLE_PER_PAIR",
    "EXAMPLE_QUALITY",
    "EXAMPLE_SEED",
    "EXAMPLE_STUDENTS",
    "EXAMPLE_STUDY",
    "MEDIA",
    "SCHEMA_VERSION",
    "Agreement",
    "PairPreference",
    "Rate",
    "StudyFileWarning",
    "Trial",
    "agreement_table",
    "answer_record",
    "answered_trials",
    "append_answer",
    "check_record",
    "example_answers",
    "example_trials",
    "human_scores",
    "make_trials",
    "merge_answers",
    "position_bias",
    "preference_table",
    "ranking_agreement",
    "read_answers",
    "save_answers",
    "simulate_answers",
    "wilson_interval",
    "write_example_answers",
]
