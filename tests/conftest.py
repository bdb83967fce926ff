"""Shared pytest set-up.

``import maskstyle`` first: on a CPU torch it makes torchvision 0.28.0 importable (see
``maskstyle._torchvision_compat``), so test modules may import torchvision at the top.
"""

import matplotlib

import maskstyle  # noqa: F401

matplotlib.use("Agg")
