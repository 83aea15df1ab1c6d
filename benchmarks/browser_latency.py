"""Latency of the live widgets as a student sees it: in JupyterLab, in Chromium.

Run ``python benchmarks/browser_latency.py`` from the repository root. It starts a
private JupyterLab (the browser test's helpers, ``tests/browser/lab_server.py`` and
``lab_page.py``) on a temporary notebook whose cells each display
``explore("sgd", "bowl", steps=N, backend=B)`` for 200 and 1,000 steps and both
backends (``"static"``: a PNG in an ``Image`` widget; ``"ipympl"``: a canvas),
opens it in Debian's headless Chromium (``/usr/bin/chromium``, driven by
Playwright; no browser is downloaded) and, per widget:

* **slider latency**: focuses the learning-rate slider's handle and presses
  ArrowRight 30 times, one press at a time. A hook in the page notes the time of
  each ``keydown`` and, on every animation frame, whether the figure shows new
  pixels (static: the ``<img>`` has loaded a new ``src``; ipympl: ipympl has
  drawn onto one of the widget's canvases, seen through a wrapper of
  ``CanvasRenderingContext2D.drawImage`` installed before the widgets exist).
  The latency of a press is the time from its keydown to the first animation
  frame that shows new pixels. After each frame the page is left alone for a
  short settle time, so that presses do not queue behind each other.
* **Play**: clicks Play (the path replays from step 0) and counts the distinct
  frames painted until the last step is shown and no frame follows for a second:
  distinct frames per second, and the replay time (click to last frame).
* **natural size**: whether the figure is shown at its own pixel size: for the
  static image, the ``<img>``'s ``clientWidth`` against its ``naturalWidth``; for
  ipympl, the canvas' CSS width against its pixel width divided by the page's
  ``devicePixelRatio``. A CSS upscale would blur the figure.

Targets (issue 12, part 3; printed next to the figures, never asserted): median
latency below 60 ms at 200 steps and below 100 ms at 1,000 steps, 90th percentile
below twice the median; Play at least 20 distinct frames per second and a
1,000-step replay in under 10 s; the figure at its natural size. The machine's
load average is printed with every figure: on a shared machine, other work
competes with the kernel, the server and the browser for the cores.

Options: ``--backends static ipympl``, ``--steps 200 1000``, ``--presses 30``,
``--replay-timeout`` (seconds to wait for a replay; 150 by default, since a slow
Play may take minutes), ``--no-play``, ``--baseline`` (measure first with Jupyter
Server's own kernel websocket, Nagle's algorithm on, and print Play's frame rate
against it: the course's JupyterLab sets ``TCP_NODELAY``, ``descentlab.lab_websocket``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
#: The browser test's Chromium flags (tests/test_browser.py).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BACKENDS = ("static", "ipympl")
STEP_COUNTS = (200, 1000)
#: Median latency targets (ms) by number of steps; the p90 target is 2x the median.
MEDIAN_TARGETS_MS = {200: 60.0, 1000: 100.0}
P90_OVER_MEDIAN = 2.0
PLAY_FPS_TARGET = 20.0
#: Seconds for a 1,000-step replay.
REPLAY_TARGET_S = 10.0
#: Seconds to leave the page alone after a press's frame, before the next press.
SETTLE_S = 0.15

# Installed once per page load, before any widget exists: wraps drawImage so that
# draws onto a canvas (ipympl's views) are seen, and keeps the keydown times.
_INIT_HOOK = """() => {
    if (window.__bench) return;
    const draws = new WeakMap();
    const original = CanvasRenderingContext2D.prototype.drawImage;
    CanvasRenderingContext2D.prototype.drawImage = function (...args) {
        draws.set(this.canvas, (draws.get(this.canvas) || 0) + 1);
        return original.apply(this, args);
    };
    window.__bench = {draws, keys: [], frames: [], watching: null, blobs: []};
    // Every PNG the page turns into an object URL: ipympl does so for each image
    // it receives (handle_binary), whether or not it gets to load and paint it.
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = function (obj) {
        if (obj instanceof Blob && obj.type === "image/png") {
            window.__bench.blobs.push(performance.now());
        }
        return createObjectURL.call(URL, obj);
    };
    document.addEventListener("keydown", e => window.__bench.keys.push(performance.now()), true);
}"""
# Watch one figure element: on every animation frame, note the time if it shows
# something new (a loaded new <img> src, or a new draw onto one of its canvases).
_WATCH = """(el) => {
    const b = window.__bench;
    b.keys = []; b.frames = []; b.rafs = []; b.updates = [];
    const img = el.tagName === "IMG" ? el : el.querySelector("img");
    // Every new image received, painted or not (two may come within one frame).
    if (b.observer) b.observer.disconnect();
    b.observer = null;
    if (img) {
        b.observer = new MutationObserver(() => b.updates.push(performance.now()));
        b.observer.observe(img, {attributes: true, attributeFilter: ["src"]});
    }
    b.drawsSeen = () => { let n = 0;
        el.querySelectorAll("canvas").forEach(c => { n += b.draws.get(c) || 0; }); return n; };
    const signature = () => {
        if (img) return img.complete ? img.src : null;
        let n = 0;
        el.querySelectorAll("canvas").forEach(c => { n += b.draws.get(c) || 0; });
        return String(n);
    };
    const token = {};
    b.watching = token;
    let last = signature();
    let lastDraws = img ? 0 : b.drawsSeen();
    const loop = () => {
        if (b.watching !== token) return;
        b.rafs.push(performance.now());
        if (!img) {
            const n = b.drawsSeen();
            for (let i = lastDraws; i < n; i++) b.updates.push(performance.now());
            lastDraws = n;
        }
        const s = signature();
        if (s !== null && s !== last) { last = s; b.frames.push(performance.now()); }
        requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
}"""
_STATE = """() => ({keys: window.__bench.keys.slice(), frames: window.__bench.frames.slice(),
                    rafs: window.__bench.rafs.length, updates: window.__bench.updates.slice(),
                    blobs: window.__bench.blobs.slice(),
                    now: performance.now()})"""
# The figure's displayed size against its pixel size.
_SIZE = """(el) => {
    const img = el.tagName === "IMG" ? el : el.querySelector("img");
    const ratio = window.devicePixelRatio || 1;
    // The content box: clientWidth includes the padding, which scales nothing.
    const content = (e) => {
        const s = getComputedStyle(e);
        const w = e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        const h = e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
        return [w, h, e.clientWidth];
    };
    if (img) {
        const [w, h, cw] = content(img);
        return {kind: "img", client: w, clientH: h, clientWidth: cw,
                natural: img.naturalWidth, naturalH: img.naturalHeight, ratio};
    }
    const canvas = el.querySelector("canvas");
    const [w, h, cw] = content(canvas);
    return {kind: "canvas", client: w, clientH: h, clientWidth: cw,
            natural: canvas.width / ratio, naturalH: canvas.height / ratio, ratio};
}"""


# ipympl's browser side encodes its whole canvas as a PNG data URL on every image
# it receives (handle_binary: _data_url = offscreen_canvas.toDataURL()): what one
# such encoding of the widget's canvas costs the page, median of 7 (ms).
_TO_DATA_URL = """(el) => {
    const canvas = el.querySelector("canvas");
    const times = [];
    for (let i = 0; i < 7; i++) {
        const t = performance.now();
        canvas.toDataURL();
        times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return times[3];
}"""


def _load(name: str, folder: Path = ROOT / "tests" / "browser") -> ModuleType:
    """Import ``folder/<name>.py`` (tests/browser/ and benchmarks/ are not packages)."""
    module_name = f"_{folder.name}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_average() -> str:
    """The 1-minute load average, e.g. ``"2.31"``."""
    return f"{os.getloadavg()[0]:.2f}"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Result:
    """What was measured for one widget (times in milliseconds unless said).

    Attributes
    ----------
    backend : str
    steps : int
    latencies : list of float
        Keydown to the first frame showing new pixels, per press that got one.
    missed : int
        Presses with no new frame within the timeout.
    load_slider : str
        Load average right after the presses.
    play_frames : int
        Distinct frames painted during the replay.
    play_updates : int
        Static: images received during the replay (new ``src``s), painted or not;
        ipympl: images drawn onto the widget's visible canvas (one per image loaded).
    kernel_ms, kernel_cpu_ms : float
        Median wall and CPU time the notebook's kernel spent per slider change
        (``LiveWidget._changed``: recompute, redraw, publish).
    bench_ms, bench_cpu_ms : float
        The same from ``widget_latency.py``'s measurement, run in this process after
        the browser's (a slider dragged over other learning rates, no kernel).
    play_received : int
        ipympl: images the page received during the replay (PNG object URLs made),
        loaded or abandoned for a newer one.
    load_ms : float
        ipympl: median time from receiving an image to drawing it, over the images
        drawn (the page abandons an image still loading when the next one comes).
    raf_rate : float
        Animation frames per second the page ran during the replay.
    replay_s : float
        Seconds from the Play click to the replay's last frame (NaN if not measured).
    finished : bool
        Whether the replay reached the last step within the timeout.
    load_play : str
        Load average right after the replay.
    size : dict
        The figure's displayed (content box) and natural size (see ``_SIZE``).
    to_data_url_ms : float
        ipympl: what the page spends per image received re-encoding its canvas.
    """

    backend: str
    steps: int
    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    load_slider: str = ""
    play_frames: int = 0
    play_updates: int = 0
    play_received: int = 0
    kernel_ms: float = float("nan")
    kernel_cpu_ms: float = float("nan")
    bench_ms: float = float("nan")
    bench_cpu_ms: float = float("nan")
    load_ms: float = float("nan")
    raf_rate: float = float("nan")
    replay_s: float = float("nan")
    finished: bool = False
    load_play: str = ""
    size: dict = field(default_factory=dict)
    to_data_url_ms: float = float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p90(self) -> float:
        return percentile(self.latencies, 90)

    @property
    def fps(self) -> float:
        # Distinct frames over the time from the click to the last of them.
        return self.play_frames / self.replay_s if self.replay_s > 0 else float("nan")

    @property
    def natural(self) -> bool:
        return bool(self.size) and self.size["client"] <= self.size["natural"] + 0.5


# In the notebook's kernel: the wall and CPU time of every control change a widget
# handles (LiveWidget._changed: recompute the paths, redraw, publish the image), the
# same work widget_latency.py times outside a kernel.
_KERNEL_TIMER = """import time as _time
from descentlab.widgets.base import LiveWidget as _LiveWidget
_kernel_times = []
_untimed_changed = _LiveWidget._changed
def _timed_changed(self, change=None):
    t0, c0 = _time.perf_counter(), _time.process_time()
    try:
        return _untimed_changed(self, change)
    finally:
        _kernel_times.append((_time.perf_counter() - t0, _time.process_time() - c0))
_LiveWidget._changed = _timed_changed
"""
_TAKE_KERNEL_TIMES = "import json; print(json.dumps(_kernel_times)); _kernel_times.clear()"


def _notebook(configs: list[tuple[str, int]]) -> dict:
    """A notebook: one setup cell, then one cell per (backend, steps) widget."""
    cells = [{
        "cell_type": "code", "id": "setup", "metadata": {}, "outputs": [],
        "execution_count": None,
        "source": "from descentlab.widgets import explore\n" + _KERNEL_TIMER,
    }]
    for backend, steps in configs:
        cells.append({
            "cell_type": "code", "id": f"w-{backend}-{steps}", "metadata": {}, "outputs": [],
            "execution_count": None,
            "source": f'explore("sgd", "bowl", steps={steps}, backend="{backend}")',
        })
    return {
        "cells": cells, "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    }


def _wait_frame_after(page: Any, t: float, timeout: float) -> float | None:
    """The time of the first frame after page time ``t`` (None after ``timeout`` s).

    The page itself waits (Playwright polls on its animation frames): asking it from
    here every 10 ms, as a first version did, kept this process, Playwright's driver
    and the page busy while the kernel worked on the press, on the same two cores.
    """
    try:
        page.wait_for_function(
            "t => window.__bench.frames.some(f => f > t)", arg=t, polling="raf",
            timeout=timeout * 1000,
        )
    except Exception:  # Playwright's TimeoutError
        return None
    return min(f for f in page.evaluate(_STATE)["frames"] if f > t)


def measure_slider(lab: Any, index: int, figure: Any, result: Result, presses: int) -> None:
    """Press ArrowRight on the lr slider ``presses`` times; latency of each press."""
    page = lab.page
    figure.scroll_into_view_if_needed()
    page.evaluate(_WATCH, figure.element_handle())
    cell = lab.cell(index)
    label = page.locator(".widget-label", has_text=re.compile(r"^lr$"))
    slider = cell.locator(".widget-slider").filter(has=label).first
    handle = slider.locator(".noUi-handle")
    handle.focus()
    page.wait_for_timeout(500)
    lab.run_in_kernel(_TAKE_KERNEL_TIMES)
    for _ in range(presses):
        n_keys = len(page.evaluate(_STATE)["keys"])
        handle.press("ArrowRight")
        keys = page.evaluate(_STATE)["keys"]
        if len(keys) <= n_keys:
            result.missed += 1
            continue
        pressed = keys[n_keys]
        shown = _wait_frame_after(page, pressed, timeout=10.0)
        if shown is None:
            result.missed += 1
            continue
        result.latencies.append(shown - pressed)
        page.wait_for_timeout(SETTLE_S * 1000)
    result.load_slider = load_average()
    kernel = json.loads(lab.run_in_kernel(_TAKE_KERNEL_TIMES))
    if kernel:
        result.kernel_ms = 1e3 * statistics.median(wall for wall, _ in kernel)
        result.kernel_cpu_ms = 1e3 * statistics.median(cpu for _, cpu in kernel)


def measure_play(lab: Any, index: int, figure: Any, result: Result, timeout: float) -> None:
    """Click Play and count the distinct frames until the replay's last one."""
    page = lab.page
    cell = lab.cell(index)
    label = page.locator(".widget-label", has_text=re.compile(r"^shown steps$"))
    shown_readout = cell.locator(".widget-slider").filter(has=label).first.locator(
        ".widget-readout"
    )
    figure.scroll_into_view_if_needed()
    page.evaluate(_WATCH, figure.element_handle())
    page.wait_for_timeout(500)
    start = page.evaluate(_STATE)["now"]
    cell.locator(".widget-play button").first.click()
    deadline = time.monotonic() + timeout
    # The replay is over when the readout shows the last step and no frame has
    # come for a second (the last image may still be on its way).
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        state = page.evaluate(_STATE)
        frames = [f for f in state["frames"] if f > start]
        at_end = shown_readout.inner_text().strip() == str(result.steps)
        if at_end and frames and state["now"] - frames[-1] > 1000:
            result.finished = True
            break
    state = page.evaluate(_STATE)
    frames = [f for f in state["frames"] if f > start]
    result.play_frames = len(frames)
    result.play_updates = len([u for u in state["updates"] if u > start])
    blobs = [u for u in state["blobs"] if u > start]
    result.play_received = len(blobs)
    if blobs:
        drawn = [u for u in state["updates"] if u > blobs[0]]
        waits = [d - max(b for b in blobs if b <= d) for d in drawn]
        result.load_ms = statistics.median(waits) if waits else float("nan")
    # Animation frames the page ran per second while watching (the browser's own
    # frame rate: ~60 when it gets the CPU it needs).
    result.raf_rate = state["rafs"] / ((state["now"] - start) / 1000 + 0.5)
    result.replay_s = (frames[-1] - start) / 1000 if frames else float("nan")
    result.load_play = load_average()
    if not result.finished:
        # Stop it, so that it does not load the machine during the next measurement.
        cell.locator(".widget-play button").first.click()


def run(backends: list[str], step_counts: list[int], presses: int, play: bool,
        replay_timeout: float, nagle: bool = False) -> list[Result]:
    """Start JupyterLab and Chromium, measure every widget, stop them; the results.

    With ``nagle``, JupyterLab uses Jupyter Server's own kernel websocket (Nagle's
    algorithm on) instead of the course's ``descentlab.lab_websocket``.
    """
    from playwright.sync_api import sync_playwright

    lab_server = _load("lab_server")
    lab_page = _load("lab_page")
    configs = [(b, n) for b in backends for n in step_counts]
    results = []
    with tempfile.TemporaryDirectory(prefix="browser-latency-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "bench.ipynb").write_text(json.dumps(_notebook(configs)), encoding="utf-8")
        home = Path(tmp) / "home"
        lab_server.lab_home(home)
        server = lab_server.LabServer(root, home, nagle=nagle)
        try:
            with sync_playwright() as p:
                chromium = p.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                try:
                    server.wait_ready()
                    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
                    raw = context.new_page()
                    raw.set_default_timeout(60_000)
                    lab = lab_page.LabPage(raw, server.base_url, server.token, Path(tmp) / "shots")
                    lab.load()
                    raw.evaluate(_INIT_HOOK)
                    lab.open("bench.ipynb")
                    lab.run_all()
                    missing = lab.wait_all_executed(120)
                    if missing:
                        raise RuntimeError(f"cells {missing} did not run")
                    lab.wait_idle()
                    for index, (backend, steps) in enumerate(configs, start=1):
                        check = lab.widget_problems(index, 1, figure=True, interact=False,
                                                    timeout=60)
                        if check.problems or check.tracebacks:
                            raise RuntimeError(f"{backend} {steps}: {check.problems} "
                                               f"{check.tracebacks}")
                        figure = lab.figure(index)
                        result = Result(backend, steps)
                        result.size = raw.evaluate(_SIZE, figure.element_handle())
                        if backend == "ipympl":
                            result.to_data_url_ms = raw.evaluate(
                                _TO_DATA_URL, figure.element_handle()
                            )
                        measure_slider(lab, index, figure, result, presses)
                        if play:
                            measure_play(lab, index, figure, result, replay_timeout)
                        results.append(result)
                        report([result], header=not results[:-1])
                    lab.close()
                finally:
                    chromium.close()
        finally:
            server.stop()
    return results


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: list[Result], header: bool = True) -> None:
    """Print one block of figures per widget, with the targets and the load average."""
    if header:
        print(f"cores: {os.cpu_count()}, load average at start of report: {load_average()}")
    for r in results:
        target = MEDIAN_TARGETS_MS.get(r.steps)
        print(f"\n{r.backend}, {r.steps} steps")
        print(
            f"  slider: {len(r.latencies)} presses, median {r.median:.1f} ms, "
            f"p90 {r.p90:.1f} ms, max {max(r.latencies, default=float('nan')):.1f} ms, "
            f"{r.missed} without a new frame (load {r.load_slider})"
        )
        if target is not None:
            spread = r.p90 < P90_OVER_MEDIAN * r.median
            print(f"    median < {target:.0f} ms: {_met(r.median < target)}; "
                  f"p90 < {P90_OVER_MEDIAN:.0f}x median: {_met(spread)}")
        if r.play_frames or r.finished:
            print(
                f"  play: {r.play_frames} distinct frames in {r.replay_s:.2f} s, "
                f"{r.fps:.1f} fps, {'finished' if r.finished else 'NOT finished (timeout)'} "
                f"(load {r.load_play}); "
                + (f"{r.play_received} images received, {r.play_updates} loaded and drawn "
                   f"(median {r.load_ms:.0f} ms after receipt)"
                   if r.backend == "ipympl" else f"{r.play_updates} image updates received")
                + f", the page ran {r.raf_rate:.0f} animation frames/s"
            )
            line = f"    >= {PLAY_FPS_TARGET:.0f} fps: {_met(r.fps >= PLAY_FPS_TARGET)}"
            if r.steps == 1000:
                line += (f"; replay < {REPLAY_TARGET_S:.0f} s: "
                         f"{_met(r.finished and r.replay_s < REPLAY_TARGET_S)}")
            print(line)
        if r.to_data_url_ms == r.to_data_url_ms:  # not NaN
            print(f"  ipympl's per-image canvas.toDataURL() in the page: "
                  f"{r.to_data_url_ms:.1f} ms")
        s = r.size
        if s:
            print(
                f"  size: {s['kind']} content box {s['client']:g} x {s['clientH']:g} CSS px "
                f"(clientWidth {s['clientWidth']}), natural "
                f"{s['natural']:g} x {s['naturalH']:g} (devicePixelRatio {s['ratio']}): "
                f"natural size {_met(r.natural)}"
            )
    sys.stdout.flush()


def kernel_side(results: list[Result]) -> None:
    """Print the kernel's time per slider change next to widget_latency.py's, same run."""
    widget_latency = _load("widget_latency", Path(__file__).parent)
    print("\nkernel side, per slider change: in the notebook's kernel (LiveWidget._changed) "
          "and widget_latency.py in this process right after")
    for r in results:
        bench = widget_latency.measure(r.backend, r.steps)
        r.bench_ms, r.bench_cpu_ms = bench.median, bench.cpu
        target = widget_latency.MEDIAN_TARGETS_MS.get(r.steps)
        line = (f"  {r.backend} {r.steps}: kernel {r.kernel_ms:.1f} ms wall, "
                f"{r.kernel_cpu_ms:.1f} ms CPU; widget_latency.py {r.bench_ms:.1f} ms wall, "
                f"{r.bench_cpu_ms:.1f} ms CPU; kernel / benchmark "
                f"{r.kernel_ms / r.bench_ms:.2f} (wall), {r.kernel_cpu_ms / r.bench_cpu_ms:.2f} "
                "(CPU)")
        if target is not None:
            line += f"; kernel < {target:.0f} ms: {_met(r.kernel_ms < target)}"
        print(line)


def main(argv: list[str] | None = None) -> list[Result]:
    """Parse the options, measure, print; the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--steps", nargs="+", type=int, default=list(STEP_COUNTS))
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--replay-timeout", type=float, default=150.0)
    parser.add_argument("--no-play", action="store_true")
    parser.add_argument("--baseline", action="store_true",
                        help="first measure with Jupyter Server's own kernel websocket "
                        "(Nagle's algorithm on), then print Play's fps against it")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    started = load_average()
    baseline = []
    if args.baseline:
        print("== baseline: Jupyter Server's own kernel websocket (Nagle's algorithm on)")
        baseline = run(args.backends, args.steps, args.presses, not args.no_play,
                       args.replay_timeout, nagle=True)
        print("\n== the course's kernel websocket (descentlab.lab_websocket, TCP_NODELAY)")
    results = run(args.backends, args.steps, args.presses, not args.no_play,
                  args.replay_timeout)
    kernel_side(results)
    if baseline and not args.no_play:
        print("\nPlay, the course's websocket against the baseline, same run:")
        for before, after in zip(baseline, results, strict=True):
            print(f"  {after.backend} {after.steps}: {after.fps:.1f} against {before.fps:.1f} "
                  f"fps ({after.fps / before.fps:.2f}x); median slider latency "
                  f"{after.median:.1f} against {before.median:.1f} ms")
    print(f"\nload average before {started}, after {load_average()}")
    return results


if __name__ == "__main__":
    main()
