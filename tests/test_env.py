"""The environment report names every package of the course stack and the compute device."""

import pytest
import torch

from lib import resolve_device
from lib.device import cpu_threads
from lib.env import PACKAGES, environment_report, format_report


def test_environment_report_lists_the_stack():
    report = environment_report()
    assert set(report["packages"]) == set(PACKAGES)
    assert report["packages"]["torch"].startswith("2.")
    assert report["cpu_count"] >= 1 and report["torch_threads"] >= 1
    text = format_report(report)
    assert "torch" in text and "CUDA available" in text


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    import pytest
    import torch

    with pytest.raises(ValueError, match="cannot understand"):
        resolve_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_cpu_threads_sets_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), cpu_threads(1):
        raise RuntimeError("restored even when the block fails")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        with cpu_threads(0):
            pass
