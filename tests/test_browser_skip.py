"""Without a browser the browser tests skip, and say why and how to enable them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_browser_tests_skip_with_the_reason_and_the_fix():
    env = dict(os.environ, MASKSTYLE_CHROMIUM=str(ROOT / "no-such-chromium"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/browser", "-rs", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from browser_demos import DEMOS

    assert f"{2 * len(DEMOS)} skipped" in out, out  # two browser tests per declared demo
    assert "no Chromium executable" in out and "scripts/setup_browser.sh" in out, out
