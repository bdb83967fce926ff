"""Fixtures for the browser tests: Chromium through Playwright, JupyterLab and Voila servers.

Every server runs on 127.0.0.1 with a random free port and a random token, in its own process
group; fixture teardown stops the group (SIGTERM, then SIGKILL) also when a test fails.
Without Chromium or Playwright the tests SKIP with a message saying why and how to enable
them (``bash scripts/setup_browser.sh``, which needs apt and root for Chromium).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_demos import DEMOS, REPO

SERVER_START_S = 180  # bounded wait for a server to answer (slow on a shared 2-core machine)
ENABLE = (
    "enable them with `bash scripts/setup_browser.sh` (as root on a machine with apt: "
    "installs Debian's chromium and the Python packages), or set MASKSTYLE_CHROMIUM to a "
    "Chromium/Chrome executable and `pip install playwright voila ipyevents`"
)


def chromium_path() -> str | None:
    """``$MASKSTYLE_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on the PATH."""
    env = os.environ.get("MASKSTYLE_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_requirements() -> list[str]:
    missing = []
    if chromium_path() is None:
        missing.append("no Chromium executable (chromium not on PATH, MASKSTYLE_CHROMIUM unset)")
    for module in ("playwright", "voila", "ipyevents", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"Python package {module!r} not installed")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["MASKSTYLE_ROOT"] = str(REPO)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "lib"), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Server:
    """A server subprocess in its own process group, its URL, token and log file."""

    def __init__(self, name: str, args: list[str], port: int, token: str, log: Path, cwd: Path):
        self.name, self.port, self.token, self.log_path = name, port, token, log
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=server_env(), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, path: str, any_status: bool = False) -> None:
        """Poll ``path`` until it answers 200 (``any_status``: any HTTP answer), bounded by
        ``SERVER_START_S``."""
        deadline = time.monotonic() + SERVER_START_S
        url = f"{self.base}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError:
                if any_status:  # the server answers (Voila has no /api/status)
                    return
            except OSError:
                pass
            time.sleep(0.5)  # polling a socket: no DOM condition to wait on yet
        raise TimeoutError(f"{self.name} did not answer {url} in {SERVER_START_S} s: {self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM the process group (server and its kernels), SIGKILL after 15 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # kernels left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._log.close()


def root_flags() -> list[str]:
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@pytest.fixture(scope="session")
def browser_tools() -> str:
    """The Chromium path; skips (with the reason and how to enable) when anything is missing."""
    missing = missing_requirements()
    if missing:
        pytest.skip(f"browser tests skipped: {'; '.join(missing)}. To run them, {ENABLE}.")
    return chromium_path()  # type: ignore[return-value]


@pytest.fixture(scope="session")
def browser(browser_tools: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        args = ["--no-sandbox"] if root_flags() else []
        chromium = pw.chromium.launch(executable_path=browser_tools, args=args, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh page; ``page.console_errors`` collects console errors, page exceptions and
    failed requests. Requests outside 127.0.0.1 (Voila's lab template asks a CDN for Font
    Awesome's CSS) get an empty answer and are listed in ``page.external_requests``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    context.set_default_timeout(60_000)
    external: list[str] = []

    def offline(route) -> None:  # the machines are offline: answer outside URLs with nothing
        external.append(route.request.url)
        route.fulfill(status=200, body="", content_type="text/css")

    context.route(lambda url: not url.startswith("http://127.0.0.1:"), offline)
    pg = context.new_page()
    pg.external_requests = external  # type: ignore[attr-defined]
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} {r.failure}"))
    pg.console_errors = errors  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def lab_notebooks(server_dir: Path) -> Path:
    """Copies of the demo notebooks with outputs cleared (JupyterLab saves what it runs; the
    repository's notebooks stay untouched). Paths inside resolve against $MASKSTYLE_ROOT."""
    root = server_dir / "lab_root"
    for demo in DEMOS:
        notebook = json.loads((REPO / demo.path).read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        target = root / demo.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(notebook))
    return root


@pytest.fixture(scope="session")
def jupyterlab(browser_tools: str, lab_notebooks: Path, server_dir: Path) -> Iterator[Server]:
    port, token = free_port(), secrets.token_hex(16)
    settings = server_dir / "lab_settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    # no "news" toast over the notebook
    (
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    ).write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={lab_notebooks}", "--ServerApp.port_retries=0",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={server_dir / 'lab_workspaces'}",
            *root_flags()]  # fmt: skip
    server = Server("jupyterlab", args, port, token, server_dir / "jupyterlab.log", lab_notebooks)
    try:
        server.wait_ready(f"/api/status?token={token}")
        yield server
    finally:
        server.stop()


@pytest.fixture
def voila_server(browser_tools: str, server_dir: Path, request) -> Iterator:
    """``start(path)`` runs ``voila <path>`` (as the README says) and returns the Server."""
    servers: list[Server] = []

    def start(path: str) -> Server:
        port, token = free_port(), secrets.token_hex(16)
        args = [sys.executable, "-m", "voila", path, "--no-browser", f"--port={port}",
                "--Voila.ip=127.0.0.1", f"--token={token}", "--Voila.port_retries=0",
                "--show_tracebacks=True"]  # fmt: skip
        log = server_dir / f"voila_{Path(path).stem}_{port}.log"
        server = Server("voila", args, port, token, log, REPO)
        servers.append(server)
        server.wait_ready("/voila/static/no-such-file", any_status=True)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
