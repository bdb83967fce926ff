#!/usr/bin/env bash
# Install what the browser tests (tests/browser/) need: Debian's chromium (apt) and, in the
# project's .venv, Playwright for Python (drives that chromium; no browser download), Voila and
# ipyevents (also in pyproject.toml). Idempotent. Without apt or root it installs the Python
# packages, prints why chromium is missing, and exits 0: the browser tests then skip with a
# message saying how to enable them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY="${PYTHON:-python3}"

"$PY" -m pip install -q --disable-pip-version-check -c constraints.txt playwright voila ipyevents

if command -v chromium >/dev/null 2>&1; then
    echo "setup_browser: chromium present: $(command -v chromium)"
elif ! command -v apt-get >/dev/null 2>&1; then
    echo "setup_browser: no apt-get here: install Chromium yourself and set MASKSTYLE_CHROMIUM=/path/to/chromium to run tests/browser"
elif [ "$(id -u)" != 0 ]; then
    echo "setup_browser: not root: run 'sudo apt-get install -y chromium' (or sudo bash scripts/setup_browser.sh) to run tests/browser"
else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q chromium >/dev/null
    echo "setup_browser: installed $(chromium --version 2>/dev/null | head -1)"
fi
