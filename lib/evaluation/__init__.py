"""Evaluating generators as a whole: the report card (every metric on every bench set, scored
on the four criteria of a good metric) and the human two-alternative study (records, trial
plans, statistics, simulated students).

Import the modules by name: ``import lib.evaluation.report_card as rc``,
``import lib.evaluation.study as study``.
"""
