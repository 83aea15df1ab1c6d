"""In a real browser, every lesson's widgets render and respond, unsolved and solved.

One JupyterLab server (127.0.0.1, free port, random token) serves temporary
copies of the released ``course/`` and of the solved ``solutions/``, and
Debian's headless Chromium, driven by Playwright (which must not download a
browser of its own), opens each lesson in turn, as a student would: first
with the exercises unanswered (``course``), then answered (``solved``, where
the widgets run working code). *Run All Cells* goes past the exercise stubs
because the copies tag every code cell ``raises-exception`` (what a student
gets by running each cell in turn). Then, per lesson:

- every code cell ran; in the release the only cells ending in an error are
  graded test cells and answer cells (the stub's NotImplementedError): a demo
  over the student's unwritten code prints one line, no traceback; in the
  solved lesson no cell fails; no cell writes to stderr and the page raises no
  uncaught JavaScript error;
- every cell that displays a widget shows a live view (no "Loading widget...",
  no "Error displaying widget") with its figure drawn (for an ``interactive``,
  once the code it calls works), and no traceback inside a widget;
- in every widget cell, moving its main slider (or stepping a blind explorer)
  changes the figure: the start point in the release (the student's stub
  cannot move), the learning rate or the ``interactive``'s first slider when solved;
- nbgrader's JupyterLab extension is loaded (plugins active, Validate button).

Screenshots for a person to look at go to ``artifacts/browser/`` (ignored by git).
The notebook is closed and its kernel shut down before the next lesson.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from descentlab_grading.release import RUN_PAST_ERRORS_TAG

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"
COURSE = ROOT / "course"
SOLUTIONS = ROOT / "solutions"
#: The two states of each lesson: as released, and with the exercises solved.
VARIANTS = ("course", "solved")


def _load(name: str) -> ModuleType:
    """Import ``tests/browser/<name>.py`` (tests/ is not a package)."""
    module_name = f"_browser_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = ROOT / "tests" / "browser" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


lab_server = _load("lab_server")
lab_page = _load("lab_page")
release_cells = _load("release_cells")

LESSONS = sorted(
    p.name for p in COURSE.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file()
)

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
#: Seconds for Run All on one lesson: only a hang detector. The slowest lesson (07)
#: takes ~15 s of kernel time, but `make test` runs this file next to the grading
#: run (pytest-xdist) and on a shared machine it took 94 s at a load average of 10.
RUN_TIMEOUT = 180.0
#: Seconds for one cell's widgets to appear and draw, and for a figure to change.
WIDGET_TIMEOUT = 30.0
#: ... and how much longer a figure may take on a loaded machine (logged, not failed).
LATE_TIMEOUT = 60.0
#: The slider moved in explore/compare widgets of the release: it moves the start
#: marker even over a student's stub, so the figure must change.
SLIDER = "start x"
#: ... and once solved, the main slider: a learning rate ("lr (η)", "■ Adam lr (η)").
LR_SLIDER = re.compile(r"\blr \(η\)\s*$")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium; .ci/run does this on CI)",
    ),
]


# Module scope: torn down once this file is done, not at the end of the session. The worker
# goes on to other files (conftest.py starts this one first), and Playwright's sync API
# keeps an asyncio loop running until it stops: source_pkg/tests/test_widgets.py then
# failed with "asyncio.run() cannot be called from a running event loop".
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """JupyterLab serving tagged temporary copies of course/ and solutions/ (left unmodified).

    ``course/<lesson>`` is the release, ``solved/<lesson>`` the instructor's source.
    Started, not yet answering: ``page`` launches Chromium meanwhile, then waits.
    """
    base = tmp_path_factory.mktemp("lab")
    notebooks = lab_server.copy_course(COURSE, base / "root" / "course")
    assert notebooks, "course/ holds no lesson notebooks"
    assert lab_server.copy_course(SOLUTIONS, base / "root" / "solved"), "solutions/ is empty"
    home = base / "home"
    lab_server.lab_home(home)
    server = lab_server.LabServer(base / "root", home)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(lab: object) -> Iterator[object]:
    """One Chromium page with JupyterLab loaded, shared by every lesson."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            lab.wait_ready()
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            raw = context.new_page()
            raw.set_default_timeout(30_000)
            driver = lab_page.LabPage(raw, lab.base_url, lab.token, ARTIFACTS)
            driver.load()
            yield driver
        finally:
            chromium.close()


def test_every_lesson_is_tested() -> None:
    solutions = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    assert LESSONS, "course/ holds no lesson notebook (course/NN_name/NN_name.ipynb)"
    assert LESSONS == solutions, (
        f"the browser test opens the lessons of course/ {LESSONS}, "
        f"but solutions/ has {solutions}: release the course (make release)"
    )


# JupyterLab's composite of one setting: the user's value, else the schema's default
# (which the environment's overrides.json replaces).
_SETTING = """async ([plugin, key]) => {
    const fetched = await window.jupyterapp.serviceManager.settings.fetch(plugin);
    const user = fetched.raw && fetched.raw.trim() ? JSON.parse(fetched.raw) : {};
    return {user: user[key] ?? null, default: fetched.schema.properties[key].default};
}"""


def test_the_course_settings_reach_jupyterlab(page: object) -> None:
    """descentlab.lab_setup's JupyterLab settings are the ones this JupyterLab applies.

    The lab's private user settings carry them (lab_server.lab_home); when this
    environment was set up by ``make install`` (descentlab.lab_setup), its
    overrides.json must also have changed JupyterLab's default.
    """
    from descentlab.lab_setup import LAB_SETTINGS, missing

    environment_set_up = not missing(Path(sys.prefix))
    for plugin, values in LAB_SETTINGS.items():
        for key, value in values.items():
            seen = page.page.evaluate(_SETTING, [plugin, key])
            assert seen["user"] == value, f"{plugin} {key}: the lab's user setting is {seen}"
            if environment_set_up:
                assert seen["default"] == value, (
                    f"{plugin} {key}: {sys.prefix}'s overrides.json sets {value!r}, but "
                    f"JupyterLab's default is {seen['default']!r}"
                )


def _widget_problems(page: object, tag: str, cell: object, solved: bool) -> list[str]:
    """Whether a cell that displays widgets shows them live, drawn, with no stray traceback."""
    if not cell.widget_views:
        return [f"{cell.describe()}\ndisplayed no widget"]
    check = page.widget_problems(
        cell.index, cell.widget_views,
        # interactive() draws nothing until the student's code works.
        figure=cell.calls_widget and (solved or not cell.calls_interact),
        interact=cell.calls_interact, timeout=WIDGET_TIMEOUT, late_timeout=LATE_TIMEOUT,
    )
    problems = [f"{cell.describe()}\n{p}" for p in check.problems]
    if check.late:
        # Slow, not broken: kept where a maintainer looks, with the page's state.
        _log_late(tag, cell.index, f"the figure was drawn late: {check.late}")
    # Even over the student's unwritten code a widget explains itself in one line
    # (descentlab.widgets.explain_errors), never with a traceback.
    problems.extend(
        f"{cell.describe()}\na widget shows a traceback (wrap the callback in explain_errors()):\n"
        f"{tb[-1500:]}"
        for tb in check.tracebacks
    )
    if cell.calls_widget:
        if cell.calls_path_widget and page.figure(cell.index).count():
            # ipympl's toolbar fades in on hover: the screenshot shows that it
            # sits in the figure's empty right margin, not on the tick labels.
            page.figure(cell.index).hover()
        page.shot(page.cell(cell.index), f"{tag}_cell{cell.index}_widget.png")
    return problems


def _move_main_control(page: object, cell: object, solved: bool) -> tuple[str, bool] | None:
    """Move the cell's main slider (or click Step).

    Returns
    -------
    (str, bool) or None
        What was done and whether the control moved; None if the cell has no such control.
    """
    if cell.calls_path_widget:
        slider = LR_SLIDER if solved else SLIDER
        old, new = page.press_slider(cell.index, slider, "ArrowRight", 10)
        name = "lr" if solved else SLIDER
        return f"moving the {name!r} slider of cell {cell.index} from {old} to {new}", old != new
    if cell.calls_blind_explorer:
        page.cell(cell.index).locator(".widget-button", has_text="Step").first.click()
        return f"clicking Step in cell {cell.index}", True
    if cell.calls_interact and solved:
        old, new = page.press_slider(
            cell.index, re.compile("."), "ArrowRight", 2, within=".widget-interact"
        )
        action = f"moving the interactive()'s first slider in cell {cell.index} from {old} to {new}"
        return action, old != new
    return None


def _interact(page: object, tag: str, cells: list, solved: bool) -> tuple[list[str], list[str]]:
    """In every widget cell, move the main control and wait for the figure to change.

    Returns
    -------
    (list of str, list of str)
        What was done, and the problems.
    """
    actions: list[str] = []
    problems: list[str] = []
    for cell in cells:
        if not (cell.widget_views and not cell.errors and cell.calls_widget):
            continue
        if cell.calls_interact and not solved:
            continue  # no figure until the student's code works (checked above)
        before = page.shot(page.figure(cell.index), f"{tag}_cell{cell.index}_before.png")
        done = _move_main_control(page, cell, solved)
        if done is None:
            problems.append(f"{cell.describe()}\nhas no slider or Step button this test knows")
            continue
        action, moved = done
        actions.append(action)
        if not moved:
            problems.append(f"{cell.describe()}\n{action}: the slider did not move")
            continue
        after = f"{tag}_cell{cell.index}_after.png"
        started = time.monotonic()
        if page.wait_figure_change(cell.index, before, after, WIDGET_TIMEOUT):
            continue
        # As for a first drawing (LabPage.widget_problems): late on a loaded machine is
        # logged, never changing is the failure.
        kernel = page.kernel_status()
        if page.wait_figure_change(cell.index, before, after, LATE_TIMEOUT):
            _log_late(tag, cell.index, f"{action}: the figure changed after "
                      f"{time.monotonic() - started:.0f} s (kernel {kernel} at {WIDGET_TIMEOUT} s)")
            continue
        problems.append(
            f"{cell.describe()}\n{action} did not change the figure within "
            f"{WIDGET_TIMEOUT + LATE_TIMEOUT:.0f} s (kernel {kernel} after {WIDGET_TIMEOUT} s)"
        )
    return actions, problems


def _log_late(tag: str, index: int, what: str) -> None:
    """Note a figure that came only after WIDGET_TIMEOUT in LATE_FIGURES, and say so."""
    LATE_FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with LATE_FIGURES.open("a") as log:
        log.write(f"{tag} cell {index}: {what}\n")
    print(f"{tag} cell {index}: late: {what}")


#: Figures drawn only after WIDGET_TIMEOUT (a loaded machine), with what the page showed.
LATE_FIGURES = ARTIFACTS / "late_figures.log"
#: Where a kernel's crash log goes when a lesson is retried after its kernel died.
KERNEL_DEATHS = ARTIFACTS / "kernel_deaths.log"


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_lesson_renders_and_responds(variant: str, lesson: str, lab: object, page: object) -> None:
    """Open, run and use one lesson; once more on a fresh page if its kernel crashed.

    A kernel died once in a clean-clone run (heap corruption, "malloc(): unaligned
    tcache chunk detected", not reproduced since), and JupyterLab's "Kernel
    Restarting" dialog then blocked the next lessons. Now a death is written to
    ``artifacts/browser/kernel_deaths.log`` with the kernel's stacks
    (``PYTHONFAULTHANDLER``), the page is reloaded so no later lesson inherits it,
    and the lesson runs once more: a second death fails the test with the log.
    """
    tag = f"solved_{lesson}" if variant == "solved" else lesson
    for attempt in (1, 2):
        since = lab.log_size()
        try:
            problems = _check_lesson(variant, lesson, tag, lab, page)
            failure = None
        except (Exception, pytest.fail.Exception) as exc:  # the page may be blocked
            problems, failure = [], exc
        death = lab.kernel_deaths(since)
        if failure is not None or problems or death:
            page.restart()
        if not death:
            break
        KERNEL_DEATHS.parent.mkdir(parents=True, exist_ok=True)
        with KERNEL_DEATHS.open("a") as log:
            log.write(f"=== {tag}, attempt {attempt}, {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                      f"{death}\n")
        print(f"{tag}: the kernel died (attempt {attempt}); log in {KERNEL_DEATHS}")
        if attempt == 2:
            pytest.fail(f"{tag}: the notebook's kernel died twice. The server's log:\n"
                        f"{death[-6000:]}")
    if failure is not None:
        raise failure
    assert not problems, f"{tag}: {len(problems)} problem(s)\n\n" + "\n\n".join(problems)


def _check_lesson(variant: str, lesson: str, tag: str, lab: object, page: object) -> list[str]:
    """Open ``variant/lesson``, Run All, check every cell and move every widget.

    Returns
    -------
    list of str
        The problems found; raises when the lesson cannot even be run.
    """
    from playwright.sync_api import expect

    solved = variant == "solved"
    problems: list[str] = []
    page.page_errors.clear()
    for old in ARTIFACTS.glob(f"{tag}_*.png"):
        old.unlink()  # no stale screenshot of an earlier run
    started = time.monotonic()
    try:
        panel = page.open(f"{variant}/{lesson}/{lesson}.ipynb")
        opened = time.monotonic() - started
        # nbgrader's JupyterLab extension: plugins active, Validate in the notebook toolbar.
        for plugin in NBGRADER_PLUGINS:
            assert page.plugin_active(plugin), f"JupyterLab plugin {plugin} is not active"
        expect(
            panel.locator(".jp-Toolbar").get_by_text("Validate"),
            "nbgrader's Validate button is not in the notebook toolbar",
        ).to_be_visible(timeout=10_000)

        page.run_all()
        missing = page.wait_all_executed(RUN_TIMEOUT)
        cells = [release_cells.CellReport.from_model(raw) for raw in page.cells()]
        if missing:
            errors = [f"cell {c.index}: {e[0]}" for c in cells for e in c.errors]
            pytest.fail(
                f"{tag}: after Run All, cells {missing} never ran (within {RUN_TIMEOUT} s, "
                f"or the kernel stopped at an error: is the "
                f"{RUN_PAST_ERRORS_TAG!r} tag missing from a cell that raised, or "
                f"ignored?). Errors: {errors}"
            )
        page.wait_idle()
        ran = time.monotonic() - started - opened

        for cell in cells:
            problems.extend(release_cells.unexpected_errors(cell, solved))
            if cell.calls_widget or cell.widget_views:
                problems.extend(_widget_problems(page, tag, cell, solved))

        actions, failed = _interact(page, tag, cells, solved)
        problems.extend(failed)
        action = "; ".join(actions) or "Run All"
        # Widget callbacks ran after Run All: no cell may have gained an error since.
        before = {c.index: (c.errors, c.stderr) for c in cells}
        for cell in map(release_cells.CellReport.from_model, page.cells()):
            if (cell.errors, cell.stderr) != before.get(cell.index):
                problems.extend(
                    f"after {action}: {p}" for p in release_cells.unexpected_errors(cell, solved)
                )
        problems.extend(f"uncaught error in the page: {e}" for e in page.page_errors)
        # The widgets' messages ran on the kernel's main shell, never on a subshell thread
        # racing the cells in Matplotlib (descentlab.lab_setup): no subshell was made.
        subshells = page.run_in_kernel("%subshell")
        if "subshell list: []" not in subshells:
            problems.append(f"after {action}, the kernel has subshells (widget messages ran "
                            f"concurrently with cells):\n{subshells}")
        # What the student sees at the end of Run All (the toolbar has Validate).
        page.shot(page.page, f"{tag}_{'failure' if problems else 'page'}.png")
        # Shown with -s: where the time goes (kernel start, Run All, checks).
        print(
            f"{tag}: open {opened:.1f} s, Run All {ran:.1f} s, "
            f"total {time.monotonic() - started:.1f} s"
        )
    finally:
        try:
            page.close()
        finally:
            lab.shutdown_kernels()
    return problems
