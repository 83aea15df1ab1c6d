"""End to end in a real browser: JupyterLab + ipywidgets + ipympl + nbgrader's extension.

Starts JupyterLab on 127.0.0.1 (free port, random token, temporary copy of
``course/``), drives Debian's headless Chromium with Playwright (which must
not download a browser of its own), runs every cell of a notebook, waits for
the live widget, moves a slider and checks that the plot changed, that no
cell shows a traceback and that nbgrader's JupyterLab extension is loaded.

Screenshots for a person to look at go to ``artifacts/browser/`` (ignored by git).
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
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"

#: The notebook to open, relative to the repository: one under course/ is opened
#: in the copy, any other is copied next to it. It must run to the end: a released
#: course notebook stops at its first exercise, so use the instructor version,
#: e.g. "solutions/02_sgd_zigzag/02_sgd_zigzag.ipynb". None: a small generated
#: notebook that displays ``explore("sgd")``.
NOTEBOOK: str | None = None
GENERATED = "e2e_explore.ipynb"
#: Description of the slider the test moves (the first slider if none has it).
SLIDER = "lr"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NBGRADER_PLUGINS = (
    "@jupyter/nbgrader:validate-assignment",
    "@jupyter/nbgrader:assignment-list",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium; .ci/run does this on CI)",
    ),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _generated_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# End-to-end check: live optimizer widget"),
        nbformat.v4.new_code_cell(
            "from descentlab.widgets import explore\n"
            'w = explore("sgd", "bowl", lr=0.1)\n'
            "w"
        ),
        nbformat.v4.new_code_cell("print(w.backend, w.path.status, w.path.steps)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python",
    }
    nbformat.write(nb, path)


class LabServer:
    """A JupyterLab server process on 127.0.0.1 serving ``root``."""

    def __init__(self, root: Path, home: Path) -> None:
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
        ]
        self._log_file = self.log.open("w")
        # A session of its own, so the kernels die with the server.
        self.proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        json.load(response)
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab serving a temporary copy of course/ (plus the generated notebook)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "course"
    shutil.copytree(ROOT / "course", root)
    if NOTEBOOK is None:
        _generated_notebook(root / GENERATED)
    elif not NOTEBOOK.startswith("course/"):
        shutil.copy(ROOT / NOTEBOOK, root / Path(NOTEBOOK).name)
    home = base / "home"
    # No "get Jupyter news?" toast over the notebook, and no requests to the web.
    settings = home / "settings" / "@jupyterlab"
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Render every cell (no windowing), so that all outputs are in the page.
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )
    server = LabServer(root, home)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


# JavaScript run in the page (JupyterLab exposes its app as window.jupyterapp).
_CELLS = "window.jupyterapp.shell.currentWidget.content.model.cells"
_ALL_EXECUTED = f"""() => {{
    const cells = Array.from({_CELLS});
    return cells.length > 0 && cells.every(
        c => c.type !== "code" || (c.executionCount !== null && c.executionCount > 0));
}}"""
_ERROR_OUTPUTS = f"""() => Array.from({_CELLS}).flatMap(c => c.type !== "code" ? [] :
    Array.from({{length: c.outputs.length}}, (_, i) => c.outputs.get(i).toJSON())
        .filter(o => o.output_type === "error").map(o => `${{o.ename}}: ${{o.evalue}}`))"""


def _opened_notebook() -> str:
    """The notebook's path inside the server's root (the copy of course/)."""
    if NOTEBOOK is None:
        return GENERATED
    if NOTEBOOK.startswith("course/"):
        return NOTEBOOK.removeprefix("course/")
    return Path(NOTEBOOK).name


def _shot(locator: object, name: str) -> bytes:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return locator.screenshot(path=str(ARTIFACTS / name), animations="disabled")


def test_notebook_widget_reacts_in_the_browser(lab: LabServer, browser: object) -> None:
    from playwright.sync_api import expect

    notebook = _opened_notebook()
    assert (lab.root / notebook).is_file(), f"{notebook} is not in the copied course/"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    try:
        page.goto(f"{lab.base_url}/lab/tree/{notebook}?token={lab.token}")
        panel = page.locator(".jp-NotebookPanel:visible").first
        expect(panel).to_be_visible(timeout=45_000)
        status = page.locator("#jp-main-statusbar")
        expect(status).to_contain_text("Idle", timeout=45_000)

        # Run > Run All Cells, as a person would.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

        # The widget: sliders and a figure (ipympl canvas or static image).
        widget = panel.locator(".jp-OutputArea-output .widget-vbox").first
        expect(widget).to_be_visible(timeout=45_000)
        figure = widget.locator(".jupyter-matplotlib-figure, .widget-image").first
        expect(figure).to_be_visible()
        # Every code cell has run once each has an execution count (asked of
        # JupyterLab's model, which does not depend on what is scrolled into view).
        page.wait_for_function(_ALL_EXECUTED, timeout=60_000)
        expect(status).to_contain_text("Idle")
        _shot(page, "01_notebook.png")

        sliders = widget.locator(".widget-slider")
        label = page.locator(".widget-label", has_text=re.compile(f"^{SLIDER}$"))
        wanted = sliders.filter(has=label)
        slider = wanted.first if wanted.count() else sliders.first
        readout = slider.locator(".widget-readout")
        before_value = readout.inner_text()
        before = _shot(figure, "02_figure_before.png")

        handle = slider.locator(".noUi-handle")
        handle.focus()
        for _ in range(15):
            handle.press("ArrowRight")
        expect(readout).not_to_have_text(before_value)

        # The kernel recomputes and the figure is redrawn in place: poll until it changes.
        deadline = time.monotonic() + 20
        after = _shot(figure, "03_figure_after.png")
        while after == before and time.monotonic() < deadline:
            page.wait_for_timeout(200)
            after = _shot(figure, "03_figure_after.png")
        _shot(page, "04_notebook_after.png")
        assert after != before, (
            f"moving the {SLIDER!r} slider from {before_value} to {readout.inner_text()} "
            "did not change the figure within 20 s"
        )

        errors = page.locator(
            '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]',
            has_text="Traceback",
        )
        assert errors.count() == 0, f"a cell shows an error:\n{errors.first.inner_text()}"
        model_errors = page.evaluate(_ERROR_OUTPUTS)
        assert not model_errors, f"cells ended in errors: {model_errors}"
        broken = page.get_by_text(re.compile("Error displaying widget|Failed to load model"))
        assert broken.count() == 0, "a widget failed to render in the browser"
        assert not console_errors, f"uncaught errors in the page: {console_errors}"

        # nbgrader's JupyterLab extension: the plugins are active and the
        # notebook toolbar has its Validate button.
        for plugin in NBGRADER_PLUGINS:
            active = page.evaluate(
                "id => window.jupyterapp.isPluginActivated(id)", plugin
            )
            assert active, f"JupyterLab plugin {plugin} is not active"
        expect(panel.locator(".jp-Toolbar").get_by_text("Validate")).to_be_visible()
    finally:
        context.close()
