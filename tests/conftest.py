"""Shared test configuration: CUDA tests are skipped where there is no GPU; browser tests run
only with ``--browser``."""

from __future__ import annotations

import pytest
import torch

from lib.device import cpu_threads

CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def pytest_addoption(parser):
    parser.addoption(
        "--browser",
        action="store_true",
        help="run the JupyterLab/Voila browser tests in tests/browser (needs Chromium)",
    )


def pytest_collection_modifyitems(config, items):
    if CUDA:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def one_thread():
    """Torch on one CPU thread during the test, the previous count restored afterwards: the
    course's small networks train fastest so, and a run is reproducible only for a fixed count."""
    with cpu_threads(1):
        yield


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """The device a test runs on: every test that takes ``device`` runs on the CPU and, marked
    ``cuda`` (skipped without a GPU), on CUDA."""
    return request.param
