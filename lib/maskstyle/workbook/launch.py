"""Hand a notebook's training to a separate process: ``python -m MODULE`` or, for several
GPUs, ``torchrun`` (run as ``python -m torch.distributed.run`` so it is this environment's).

A training notebook declares ``launcher = "python"`` and ``nproc_per_node = 1`` in its
parameters cell; the paper profile sets ``launcher: torchrun`` and ``nproc_per_node: 8``.
The training module itself uses ``maskstyle.train.distributed`` (rank, DDP wrapping, rank-0
checkpoints), so the same module runs single-process and under torchrun, and the notebook
reads back what rank 0 wrote (history, checkpoints, summary) to show and record it.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

LAUNCHERS = ("python", "torchrun")


def log_line(line: str, root: str | os.PathLike | None) -> str:
    """``line`` as it goes into a committed log: this interpreter as ``python`` and paths
    under the repository ``root`` relative to it, so no machine's folders end up in
    ``results/`` (the notebook's own output keeps the full paths)."""
    line = line.replace(sys.executable, "python")
    if root:
        line = line.replace(str(root).rstrip("/") + "/", "")
    return line


def training_command(
    module: str,
    args: Sequence[str] = (),
    *,
    launcher: str = "python",
    nproc_per_node: int = 1,
) -> list[str]:
    """The command that runs ``python -m module args`` under ``launcher``."""
    if launcher not in LAUNCHERS:
        raise ValueError(f"launcher must be one of {LAUNCHERS}, got {launcher!r}")
    if isinstance(nproc_per_node, bool) or not isinstance(nproc_per_node, int):
        raise TypeError(f"nproc_per_node must be an int, got {nproc_per_node!r}")
    if nproc_per_node < 1:
        raise ValueError(f"nproc_per_node must be >= 1, got {nproc_per_node}")
    if launcher == "python" and nproc_per_node != 1:
        raise ValueError(
            f"nproc_per_node={nproc_per_node} needs launcher='torchrun' (python runs one process)"
        )
    if not module or any(c in module for c in " /\\"):
        raise ValueError(f"module must be a dotted module name, got {module!r}")
    args = [str(a) for a in args]
    if launcher == "python":
        return [sys.executable, "-m", module, *args]
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc_per_node}",
        "-m",
        module,
        *args,
    ]


def launch_training(
    module: str,
    args: Sequence[str] = (),
    *,
    launcher: str = "python",
    nproc_per_node: int = 1,
    cwd: str | os.PathLike | None = None,
    log_path: str | os.PathLike | None = None,
) -> None:
    """Run the training command, streaming its output into the notebook (and ``log_path``).

    The child runs with ``MASKSTYLE_PROGRESS=log``, so a :class:`~maskstyle.train.Trainer`
    prints a plain line at intervals (step, losses, s/step, ETA) that arrives in the cell as
    it is printed, where a tqdm bar's carriage returns would arrive only at the end. A
    non-zero exit raises ``RuntimeError`` with the last lines of output. ``log_path`` is
    appended to, each launch under a ``# <UTC time> $ <command>`` line, so resuming a
    finished run (which prints little) does not erase the log of its training; the log's
    paths are relative to the repository (:func:`log_line`)."""
    command = training_command(module, args, launcher=launcher, nproc_per_node=nproc_per_node)
    print("$ " + " ".join(command), flush=True)
    tail: deque[str] = deque(maxlen=30)
    log = None
    root = None
    if log_path:  # appended: a launch that resumes a finished run keeps the training's log
        from maskstyle.workbook.paths import repo_root

        try:
            root = repo_root()
        except FileNotFoundError:  # outside a checkout: the log keeps absolute paths
            root = None
        log = Path(log_path).open("a", encoding="utf-8")
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        log.write(log_line(f"# {stamp} $ {' '.join(command)}\n", root))
    env = {**os.environ, "MASKSTYLE_PROGRESS": "log", "PYTHONUNBUFFERED": "1"}
    try:
        with subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                print(line, end="", flush=True)
                tail.append(line)
                if log:
                    log.write(log_line(line, root))
                    log.flush()
            code = process.wait()
    finally:
        if log:
            log.close()
    if code != 0:
        raise RuntimeError(
            f"training exited with code {code}: {' '.join(command)}\n" + "".join(tail)
        )
