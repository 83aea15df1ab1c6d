"""A private JupyterLab server for the browser test, serving a copy of ``course/``.

The copy is exactly what a new student downloads. The release tags the cells that
raise until the student's work is right (``raises-exception``: each graded test cell,
each answer cell whose stub raises; ``descentlab_grading.release.RunPastErrors``), so
*Run All Cells* goes on past them as it does for a student (JupyterLab then sends
``stop_on_error: false`` for those cells); a cell that raises without the tag stops it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from descentlab.lab_setup import LAB_SETTINGS
from descentlab.lab_websocket import CONFIG_OPTION as LAB_WEBSOCKET

#: Jupyter Server's own kernel websocket (Nagle's algorithm on): a benchmark's baseline.
DEFAULT_WEBSOCKET = (
    "--ServerApp.kernel_websocket_connection_class="
    "jupyter_server.services.kernels.connection.channels.ZMQChannelsWebsocketConnection"
)

__all__ = ["LabServer", "copy_course", "lab_home"]

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_course(course: Path, root: Path) -> list[str]:
    """Copy ``course`` to ``root``, unchanged.

    Parameters
    ----------
    course : Path
        The released course folder (left untouched).
    root : Path
        Where the copy goes (must not exist).

    Returns
    -------
    list of str
        The notebooks' paths relative to ``root``, sorted.
    """
    shutil.copytree(course, root)
    return [path.relative_to(root).as_posix() for path in sorted(root.glob("*/*.ipynb"))]


def lab_home(home: Path) -> None:
    """User settings for a quiet, test-friendly JupyterLab under ``home``."""
    settings = home / "settings" / "@jupyterlab"
    # No "get Jupyter news?" toast over the notebook, and no requests to the web.
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Render every cell (no windowing), so that all outputs are in the page.
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )
    # The course's own settings (descentlab.lab_setup writes them as an environment's
    # defaults; here they are this private user's, whatever the environment holds).
    for plugin, values in LAB_SETTINGS.items():
        package, name = plugin.rsplit(":", 1)
        folder = home / "settings" / package
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.jupyterlab-settings"
        old = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**old, **values}))


class LabServer:
    """A JupyterLab server process on 127.0.0.1 serving ``root``.

    Parameters
    ----------
    root : Path
        The server's root folder.
    home : Path
        A private HOME for Jupyter's settings, runtime files and the log.
    nagle : bool
        Use Jupyter Server's own kernel websocket (Nagle's algorithm on) instead of
        the course's (``descentlab.lab_websocket``): the "before" of a benchmark.
    """

    def __init__(self, root: Path, home: Path, nagle: bool = False) -> None:
        self.root = root
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.log = home / "jupyterlab.log"
        env = {
            **os.environ,
            # Keep the user's and the machine's Jupyter settings out of the test.
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "IPYTHONDIR": str(home / "ipython"),
            # nbgrader's server extension shells out to alembic and friends.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            # A kernel that crashes in C (one died once with "malloc(): unaligned tcache
            # chunk detected") writes every thread's Python stack into the log.
            "PYTHONFAULTHANDLER": "1",
        }
        env.pop("JUPYTER_PATH", None)
        command = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            # CI and these machines run as root.
            "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
            # Lets the test ask JupyterLab which plugins are active.
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # As `make lab` and Binder: widget images not held back by Nagle's algorithm.
            DEFAULT_WEBSOCKET if nagle else LAB_WEBSOCKET,
        ]
        self._log_file = self.log.open("w")
        # A session of its own, so that the kernels die with the server.
        self.proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET") -> object:
        """Call the server's REST API; the decoded JSON answer (None if empty)."""
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_ready(self, timeout: float = 45.0) -> None:
        """Wait until the server answers, or raise with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log.read_text()}")
            try:
                self.api("status")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s:\n{self.log.read_text()}")

    def log_size(self) -> int:
        """The log's length in bytes now: :meth:`kernel_deaths` reads on from there."""
        self._log_file.flush()
        return self.log.stat().st_size

    def kernel_deaths(self, since: int) -> str:
        """The log after byte ``since`` if a kernel died (crashed or restarted) there, else "".

        JupyterLab restarts a kernel that dies; its crash message and, with
        ``PYTHONFAULTHANDLER``, the Python stack of each of its threads, come before that.
        """
        self._log_file.flush()
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", "replace")
        died = re.search(r"KernelRestarter: restarting kernel|Fatal Python error|"
                         r"malloc\(\)|Segmentation fault|appears to have died", text)
        return text if died else ""

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel (what closing and shutting down a notebook does)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        """Stop the server and its kernels."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log_file.close()
