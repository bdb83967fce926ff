"""The torchvision shim: after ``import maskstyle`` the parts of torchvision we use work.

Each check runs in a fresh interpreter, because whether torchvision imports depends on
what happened before it was first imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def after_maskstyle() -> dict:
    result = _run(
        """
        import json
        import maskstyle
        import torch
        import torchvision
        from torchvision.transforms import v2
        from torchvision.utils import make_grid

        with torch.device("meta"):  # build the full model, skip initialising 140M weights
            model = torchvision.models.vgg19()
        resized = v2.Resize((8, 12), antialias=True)(torch.rand(3, 16, 24))
        grid = make_grid(torch.rand(4, 3, 8, 8), nrow=2, padding=0)
        print(json.dumps({
            "status": maskstyle.torchvision_status(),
            "vgg_convs": sum(isinstance(m, torch.nn.Conv2d) for m in model.features),
            "resized": list(resized.shape),
            "grid": list(grid.shape),
        }))
        """
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_models_transforms_utils_work_after_import_maskstyle(after_maskstyle):
    assert after_maskstyle["vgg_convs"] == 16
    assert after_maskstyle["resized"] == [3, 8, 12]
    assert after_maskstyle["grid"] == [3, 16, 16]


def test_status_reports_extension_or_shim(after_maskstyle):
    status = after_maskstyle["status"]
    assert set(status) == {"extension", "shimmed"}
    # Exactly one mechanism made torchvision importable.
    assert status["extension"] != status["shimmed"]


def test_plain_import_fails_only_without_extension(after_maskstyle):
    if after_maskstyle["status"]["extension"]:
        pytest.skip("torchvision's compiled extension loads here; plain import works anyway")
    result = _run("import torchvision")
    assert result.returncode != 0
    assert "torchvision::nms" in result.stderr
