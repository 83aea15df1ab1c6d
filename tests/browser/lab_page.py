"""Drive one JupyterLab page with Playwright: open a notebook, run it, read it, close it.

JupyterLab runs with ``expose_app_in_browser``, so the page's JavaScript can
reach the application (``window.jupyterapp``) and ask the notebook *model*
what ran and what each cell output, independently of what is scrolled into
view. What a person sees (rendered widgets, figures) is read from the DOM.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

__all__ = ["LabPage", "WidgetCheck"]

# The notebook being tested is kept in window.__e2e between calls.
_OPEN = """async (path) => {
    const app = window.jupyterapp;
    const panel = await app.commands.execute("docmanager:open", {path, factory: "Notebook"});
    window.__e2e = panel;
    await panel.context.ready;
    await panel.sessionContext.ready;
    app.shell.activateById(panel.id);
    panel.content.widgets.forEach((cell, i) => { cell.node.dataset.e2eCell = String(i); });
    return panel.id;
}"""
_KERNEL_IDLE = """() => {
    const kernel = window.__e2e.sessionContext.session?.kernel;
    return kernel != null && kernel.status === "idle";
}"""
# Code cells without an execution count, and whether the last code cell's
# execute request got its reply. The kernel handles requests in order, so once it
# has, a cell without a count will never get one (the kernel aborted it).
# (JupyterLab marks the queued cells idle at the first error, whatever the kernel
# does next: their execution state cannot tell.)
_NOT_EXECUTED = """() => {
    const code = window.__e2e.content.widgets.filter(c => c.model.type === "code");
    const future = code.length ? code[code.length - 1].outputArea.future : null;
    if (future && !future.e2eWatched) {
        future.e2eWatched = true;
        const done = () => { future.e2eDone = true; };
        future.done.then(done, done);
    }
    const missing = code.filter(c => !(c.model.executionCount > 0))
        .map(c => Number(c.node.dataset.e2eCell));
    return {missing, lastDone: Boolean(future && future.e2eDone)};
}"""
_CELLS = """() => Array.from(window.__e2e.content.model.cells).map((c, index) => {
    if (c.type !== "code") return null;
    const outputs = Array.from({length: c.outputs.length}, (_, k) => {
        const o = c.outputs.get(k).toJSON();
        const text = Array.isArray(o.text) ? o.text.join("") : o.text;
        return {output_type: o.output_type, ename: o.ename, evalue: o.evalue,
                traceback: o.traceback, name: o.name, text,
                widget: Boolean(o.data && o.data["application/vnd.jupyter.widget-view+json"])};
    });
    return {index, source: c.sharedModel.getSource(),
            graded: Boolean((c.getMetadata("nbgrader") || {}).grade),
            solution: Boolean((c.getMetadata("nbgrader") || {}).solution),
            execution_count: c.executionCount, outputs};
}).filter(Boolean)"""
_CLOSE = """async () => {
    const panel = window.__e2e;
    window.__e2e = null;
    if (!panel || panel.isDisposed) return;
    // The outputs made the notebook "dirty": drop them without a save dialog.
    panel.context.model.dirty = false;
    // A kernel that died may never answer the shutdown: give up after 10 s.
    await Promise.race([panel.sessionContext.shutdown(),
                        new Promise(resolve => setTimeout(resolve, 10000))]);
    panel.dispose();
}"""
# Runs code in the notebook's kernel, outside any cell; what it printed to stdout.
_IN_KERNEL = """async (code) => {
    const kernel = window.__e2e.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, store_history: false});
    let out = "";
    future.onIOPub = msg => {
        if (msg.header.msg_type === "stream" && msg.content.name === "stdout") {
            out += msg.content.text;
        }
    };
    await future.done;
    return out;
}"""
# What each top-level widget output of a cell shows: a live view, a placeholder
# ("Loading widget...") or an error ("Error displaying widget...").
_WIDGET_OUTPUTS = """(cell) => {
    const area = cell.querySelector(".jp-Cell-outputArea");
    if (!area) return [];
    const outputs = area.querySelectorAll(":scope > .jp-OutputArea-child > .jp-OutputArea-output");
    return Array.from(outputs)
        .filter(out => out.classList.contains("jupyter-widgets")
                       || out.querySelector(":scope > .jupyter-widgets")
                       || /^(Loading widget|Error displaying widget)/.test(out.textContent.trim()))
        .map(out => {
            const text = out.textContent.trim();
            if (/Error displaying widget|Failed to load model/.test(text)) {
                return "error: " + text.slice(0, 300);
            }
            const view = out.querySelector(":scope > .jupyter-widgets");
            if (view && /\\bwidget-|jupyter-matplotlib/.test(view.className)) return "live";
            return "not rendered: " + text.slice(0, 300);
        });
}"""
#: A rendered figure: an ipympl canvas, a static PNG image, or the image an
#: ``interactive()`` displays in its output area.
FIGURE = ".jupyter-matplotlib-canvas-div, .widget-image, .widget-interact .jp-RenderedImage"

# Whether every figure of a cell has been drawn: an ipympl canvas with more than
# one colour in it, or a loaded static image.
_FIGURES_DRAWN = """([cell, selector]) => {
    const figures = Array.from(cell.querySelectorAll(selector));
    return figures.length > 0 && figures.every(f => {
        const img = f.tagName === "IMG" ? f : f.querySelector(":scope > img");
        if (img) return img.complete && img.naturalWidth > 0;
        const canvas = f.querySelector("canvas");
        if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 4; i < data.length; i += 4) {
            if (data[i] !== data[0] || data[i + 1] !== data[1]
                || data[i + 2] !== data[2]) return true;
        }
        return false;
    });
}"""
# What each figure of a cell looks like now, for a failure message: its kind, the
# canvas' size, and the colour of its first pixel.
_FIGURE_STATE = """([cell, selector]) => {
    return Array.from(cell.querySelectorAll(selector)).map(f => {
        const img = f.tagName === "IMG" ? f : f.querySelector(":scope > img");
        if (img) {
            return `image (complete: ${img.complete}, ${img.naturalWidth}x${img.naturalHeight})`;
        }
        const canvas = f.querySelector("canvas");
        if (!canvas) return "ipympl view without a canvas";
        if (!canvas.width || !canvas.height) return `canvas ${canvas.width}x${canvas.height}`;
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        const rgba = Array.from(data.slice(0, 4)).join(",");
        return `canvas ${canvas.width}x${canvas.height}, first pixel rgba(${rgba})`;
    });
}"""
# Tracebacks shown inside widgets (an ipywidgets Output area, e.g. interactive()).
_WIDGET_TRACEBACKS = """(cell) => Array.from(cell.querySelectorAll(
    '.jupyter-widgets .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(e => e.textContent)"""



class WidgetCheck:
    """What :meth:`LabPage.widget_problems` found in one cell."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.tracebacks: list[str] = []
        #: Set when the figure was drawn only after the first timeout: how late, and
        #: what the page showed at the first timeout.
        self.late: str = ""


class LabPage:
    """A Playwright page showing JupyterLab, one notebook open at a time.

    Parameters
    ----------
    page : playwright.sync_api.Page
    base_url, token : str
        The server's address and token.
    artifacts : Path
        Where screenshots go.
    """

    def __init__(self, page: Any, base_url: str, token: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.token = token
        self.artifacts = artifacts
        self.page_errors: list[str] = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.panel: Any = None

    # -- the application -----------------------------------------------------------
    def load(self, timeout: float = 60.0) -> None:
        """Open JupyterLab's main page and wait until the application has started."""
        self.page.goto(f"{self.base_url}/lab?token={self.token}")
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.started", timeout=timeout * 1000
        )
        self.page.evaluate("async () => { await window.jupyterapp.restored; }")

    def plugin_active(self, plugin: str) -> bool:
        """Whether a JupyterLab plugin is activated."""
        return bool(self.page.evaluate("id => window.jupyterapp.isPluginActivated(id)", plugin))

    # -- one notebook ------------------------------------------------------------------
    def open(self, path: str, timeout: float = 60.0) -> Any:
        """Open the notebook at ``path`` (relative to the server root) with a fresh kernel.

        Returns
        -------
        playwright.sync_api.Locator
            The notebook panel.
        """
        panel_id = self.page.evaluate(_OPEN, path)
        self.panel = self.page.locator(f"[id='{panel_id}']")
        self.panel.wait_for(state="visible", timeout=timeout * 1000)
        self.wait_idle(timeout)
        return self.panel

    def run_in_kernel(self, code: str) -> str:
        """Run ``code`` in the notebook's kernel (not in a cell); what it printed to stdout."""
        return str(self.page.evaluate(_IN_KERNEL, code))

    def kernel_status(self) -> str:
        """The notebook's kernel status as JupyterLab knows it ("idle", "busy", ...)."""
        return str(self.page.evaluate(
            "() => window.__e2e.sessionContext.session?.kernel?.status ?? 'none'"
        ))

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the notebook's kernel is idle."""
        self.page.wait_for_function(_KERNEL_IDLE, timeout=timeout * 1000)

    def run_all(self) -> None:
        """Run > Run All Cells, from the menu bar, as a person would."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def wait_all_executed(self, timeout: float) -> list[int]:
        """Wait until every code cell has an execution count.

        Returns
        -------
        list of int
            The indices of the cells that still have none after ``timeout`` seconds,
            or once the last cell has its reply (the kernel aborted the rest after an error).
        """
        deadline = time.monotonic() + timeout
        last_done = False
        while True:
            state = self.page.evaluate(_NOT_EXECUTED)
            # One more look after the last reply: its count is set right after.
            if not state["missing"] or last_done or time.monotonic() > deadline:
                return list(state["missing"])
            last_done = state["lastDone"]
            self.page.wait_for_timeout(250)

    def cells(self) -> list[dict]:
        """Every code cell of the model: index, source, graded, execution_count, outputs."""
        return list(self.page.evaluate(_CELLS))

    def cell(self, index: int) -> Any:
        """The DOM node of cell ``index`` (markdown cells count)."""
        return self.panel.locator(f"[data-e2e-cell='{index}']")

    def close(self) -> None:
        """Close the notebook without saving and shut its kernel down."""
        if self.page.is_closed():
            return
        self.dismiss_dialogs()
        self.page.evaluate(_CLOSE)
        self.panel = None

    def dismiss_dialogs(self) -> int:
        """Close every modal dialog (e.g. "Kernel Restarting"), which would block the next clicks.

        Returns
        -------
        int
            How many were closed.
        """
        closed = 0
        while self.page.locator(".jp-Dialog").count() and closed < 10:
            self.page.keyboard.press("Escape")
            self.page.wait_for_timeout(200)
            closed += 1
        return closed

    def restart(self, timeout: float = 60.0) -> None:
        """Load JupyterLab afresh, so nothing a failed lesson left (a dialog, a notebook) stays."""
        self.dismiss_dialogs()
        try:
            self.close()
        finally:
            self.panel = None
            self.load(timeout)

    # -- what a person sees ------------------------------------------------------------------
    def widget_problems(
        self, index: int, expected_views: int, figure: bool, interact: bool, timeout: float,
        late_timeout: float = 60.0,
    ) -> WidgetCheck:
        """Wait until cell ``index`` shows live widget views; report what is wrong.

        Parameters
        ----------
        index : int
            The cell.
        expected_views : int
            How many widget views its outputs hold (from the model).
        figure : bool
            Whether the widget shows a figure that must be drawn.
        interact : bool
            Whether it is an ``interactive()`` (sliders over an output area).
        timeout : float
            Seconds to wait for the views and the figure.
        late_timeout : float
            Seconds more to wait for a figure not drawn within ``timeout``: drawn by
            then, it is reported in :attr:`WidgetCheck.late`, not as a problem.
        """
        check = WidgetCheck()
        cell = self.cell(index)
        handle = cell.element_handle()
        deadline = time.monotonic() + timeout
        states: list[str] = []
        while time.monotonic() < deadline:
            states = self.page.evaluate(_WIDGET_OUTPUTS, handle)
            if len(states) >= expected_views and all(s == "live" for s in states):
                break
            if any(s.startswith("error") for s in states):
                break
            self.page.wait_for_timeout(200)
        if len(states) < expected_views or any(s != "live" for s in states):
            check.problems.append(
                f"{expected_views} widget view(s) expected, the page shows: {states or 'none'}"
            )
            return check
        if figure:
            self._wait_drawn(check, index, handle, deadline, late_timeout)
        if interact and not cell.locator(".widget-interact .widget-slider").count():
            check.problems.append("the interactive() shows no slider")
        check.tracebacks = list(self.page.evaluate(_WIDGET_TRACEBACKS, handle))
        return check

    def _wait_drawn(
        self, check: WidgetCheck, index: int, handle: Any, deadline: float, late_timeout: float
    ) -> None:
        """Wait for cell ``index``'s figures to be drawn; record a late or missing one."""
        # On a CI machine at load 6+ a figure was once still blank after 30 s. Whether
        # it comes later (a slow machine) or never (a lost image, a real bug) are
        # different findings: the page's state at the first timeout is kept for both.
        started = time.monotonic()
        first = max(1.0, deadline - started)
        for wait in (first, late_timeout):
            try:
                self.page.wait_for_function(
                    _FIGURES_DRAWN, arg=[handle, FIGURE], timeout=wait * 1000
                )
            except Exception:  # Playwright's TimeoutError
                if check.late:
                    break
                figures = self.page.evaluate(_FIGURE_STATE, [handle, FIGURE])
                self.shot(self.cell(index), f"cell{index}_not_drawn_{int(time.time())}.png")
                check.late = f"figures {figures or 'none'}, kernel {self.kernel_status()}"
                continue
            if check.late:
                check.late = (
                    f"drawn after {time.monotonic() - started:.0f} s; at the first timeout: "
                    f"{check.late}"
                )
            return
        check.problems.append(
            f"the widget's figure was not drawn within {time.monotonic() - started:.0f} s; "
            f"after the first {first:.0f} s: {check.late}"
        )
        check.late = ""

    def figure(self, index: int) -> Any:
        """The first figure (ipympl canvas or image) of cell ``index``."""
        return self.cell(index).locator(FIGURE).first

    def shot(self, locator: Any, name: str) -> bytes:
        """Screenshot an element (or the page) to ``artifacts/name``; the PNG bytes."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        return locator.screenshot(path=str(self.artifacts / name), animations="disabled")

    def wait_figure_change(self, index: int, before: bytes, name: str, timeout: float) -> bool:
        """Poll screenshots of cell ``index``'s figure until they differ from ``before``."""
        deadline = time.monotonic() + timeout
        figure = self.figure(index)
        while True:
            try:
                after = self.shot(figure, name)
            except Exception as exc:  # Playwright's Error: the figure was just replaced
                # An interactive() redraws its output: the old element leaves the page
                # between finding it and taking its picture ("not attached"), or is hidden
                # while the new one is drawn ("not visible", a clean-clone run). Look again
                # for the new one; one that stays hidden fails at the deadline.
                if not any(word in str(exc) for word in ("not attached", "not visible")) \
                        or time.monotonic() > deadline:
                    raise
                after = before
            if after != before:
                return True
            if time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(200)

    def press_slider(
        self, index: int, description: str | re.Pattern, key: str, times: int,
        within: str = "",
    ) -> tuple[str, str]:
        """Focus the first slider labelled ``description`` in cell ``index`` and press ``key``.

        Parameters
        ----------
        index : int
            The cell.
        description : str or re.Pattern
            The slider's label, exactly (a string) or a pattern it must match.
        key : str
            The key to press, e.g. ``"ArrowRight"``.
        times : int
            How many times.
        within : str
            A CSS selector inside the cell to look in (e.g. ``".widget-interact"``).

        Returns
        -------
        (str, str)
            The slider's readout before and after.
        """
        name = description if isinstance(description, re.Pattern) else re.compile(
            f"^{re.escape(description)}$"
        )
        label = self.page.locator(".widget-label", has_text=name)
        scope = self.cell(index).locator(within) if within else self.cell(index)
        slider = scope.locator(".widget-slider").filter(has=label).first
        readout = slider.locator(".widget-readout")
        before = readout.inner_text()
        handle = slider.locator(".noUi-handle")
        handle.focus()
        for _ in range(times):
            handle.press(key)
        return before, readout.inner_text()
