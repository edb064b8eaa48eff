"""Servers and browsers for the browser tests, each stopped by its own process id.

Every process is started in a new session (its own process group), so stopping it also stops
what it started — the Jupyter server's kernels, Chromium's renderer and GPU helpers — and it is
stopped in a ``finally`` block, also when a test fails.
"""

from __future__ import annotations

import contextlib
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

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Launch flags that work in a container without a display, a GPU or network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
]

HOW_TO_GET_CHROMIUM = (
    "Chromium is needed for the browser tests: `make test-browser` installs it with apt-get "
    "when run as root; otherwise run `sudo apt-get install chromium` (Debian/Ubuntu) or set "
    "CHROMIUM=/path/to/chromium"
)


def chromium_path() -> str | None:
    """The Chromium executable: ``$CHROMIUM``, else ``chromium`` / ``chromium-browser`` on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process's group, then SIGKILL whatever is left after ``timeout`` seconds."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # the group may outlive its leader (a kernel that ignored SIGTERM): make sure it is gone
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_for_url(url: str, process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Poll ``url`` until it answers 200; fail with the log's tail if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited early:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def started(args: list[str], *, log: Path, env: dict | None = None, cwd: Path | None = None):
    """Run ``args`` in its own process group with output to ``log``; always stop it after."""
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            args,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def course_env(workdir: Path) -> dict:
    """The environment for servers the tests start: figures and answers go to ``workdir``."""
    return dict(
        os.environ,
        COURSE_FIGURES_DIR=str(workdir / "figures"),
        MPLBACKEND="Agg",
        JUPYTER_CONFIG_DIR=str(workdir / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(workdir / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(workdir / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(workdir / "lab-workspaces"),
        IPYTHONDIR=str(workdir / "ipython"),
    )


@contextlib.contextmanager
def jupyter_lab(root: Path, workdir: Path) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 serving ``root``; yields its base URL with the token query."""
    port, token = free_port(), secrets.token_hex(16)
    args = [
        str(BIN / "jupyter"), "lab",
        "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    with started(args, log=workdir / "jupyterlab.log", env=course_env(workdir), cwd=root) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for_url(f"{base}/api/status?token={token}", proc, workdir / "jupyterlab.log")
        yield f"{base}|{token}"


@contextlib.contextmanager
def chromium(workdir: Path) -> Iterator[str]:
    """Headless Chromium with a DevTools port; yields the CDP endpoint URL for Playwright."""
    executable = chromium_path()
    if executable is None:
        raise RuntimeError(HOW_TO_GET_CHROMIUM)
    port = free_port()
    args = [
        executable,
        *CHROMIUM_FLAGS,
        f"--remote-debugging-port={port}",
        "--remote-debugging-address=127.0.0.1",
        f"--user-data-dir={workdir / 'chromium-profile'}",
        "about:blank",
    ]
    with started(args, log=workdir / "chromium.log") as proc:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for_url(f"{endpoint}/json/version", proc, workdir / "chromium.log", timeout=60)
        yield endpoint


@contextlib.contextmanager
def voila(notebook: Path, workdir: Path) -> Iterator[str]:
    """Voilà serving ``notebook`` as a standalone page on 127.0.0.1; yields the page URL."""
    port = free_port()
    args = [
        str(BIN / "voila"), str(notebook),
        "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
        "--VoilaConfiguration.show_tracebacks=True",
    ]  # fmt: skip
    log = workdir / "voila.log"
    with started(args, log=log, env=course_env(workdir), cwd=notebook.parent) as proc:
        url = f"http://127.0.0.1:{port}/"
        # the server is up when its static files answer; the page itself runs the notebook
        wait_for_url(f"{url}voila/static/voila.js", proc, log, timeout=120)
        yield url
