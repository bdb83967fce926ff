"""Shared pytest set-up.

``import maskstyle`` first: on a CPU torch it makes torchvision 0.28.0 importable (see
``maskstyle._torchvision_compat``), so test modules may import torchvision at the top.
"""

import matplotlib
import pytest
import torch

import maskstyle  # noqa: F401

matplotlib.use("Agg")


@pytest.fixture
def one_thread():
    """One torch thread for the test. Tiny networks on a shared 2-core machine: two intra-op
    threads wait for each other at every op and run up to ~8x slower; no number depends on it.
    Use it as an argument, or ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
