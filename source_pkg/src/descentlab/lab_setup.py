"""Set up a Python environment's JupyterLab for the course: ``python -m descentlab.lab_setup``.

``make install`` and Binder's ``postBuild`` run it; on a JupyterHub, run it once in the
single-user environment. It writes two files under the environment's prefix
(``sys.prefix``, or ``--prefix``), both read by every JupyterLab started from it:

``etc/jupyter/jupyter_server_config.d/descentlab.json``
    Jupyter Server's kernel websocket becomes
    :class:`descentlab.lab_websocket.NoDelayKernelConnection`, which sends each
    message at once (that module says why: ipympl's Play showed 13-18 frames per
    second instead of 24).
``share/jupyter/lab/settings/overrides.json``
    JupyterLab's default for "Kernel Comms over subshells" becomes *Disabled*
    (merged into the file if it exists; a user's own setting still wins). With
    JupyterLab >= 4.4 and ipykernel >= 7 the default sends widget messages to a
    kernel subshell, a second thread, so ipympl's canvas and the widgets' callbacks
    draw with Matplotlib while a cell draws on the main thread. Matplotlib is not
    thread-safe: upstream reports blank figures and crashed kernels from it
    (matplotlib/ipympl#610, jupyterlab/jupyterlab#19719), where this setting is the
    workaround found stable; the course's browser test saw both, once each, on a
    loaded machine (a figure still blank after 30 s; a kernel dead of heap corruption,
    "malloc(): unaligned tcache chunk detected"). Widget messages then wait for a
    running cell, as before JupyterLab 4.4.

``python -m descentlab.lab_setup --check`` only reports whether both are in place.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "LAB_SETTINGS",
    "NO_DELAY_CONNECTION",
    "SERVER_CONFIG",
    "install",
    "lab_overrides_file",
    "missing",
    "server_config_file",
]

#: The kernel websocket connection class (``descentlab.lab_websocket``).
NO_DELAY_CONNECTION = "descentlab.lab_websocket.NoDelayKernelConnection"
#: Jupyter Server's configuration, as written to its ``jupyter_server_config.d``.
SERVER_CONFIG: dict[str, Any] = {
    "ServerApp": {"kernel_websocket_connection_class": NO_DELAY_CONNECTION}
}
#: JupyterLab settings by plugin id, as merged into ``overrides.json``.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:kernels-settings": {"commsOverSubshells": "disabled"}
}


def server_config_file(prefix: Path) -> Path:
    """The Jupyter Server configuration file this module writes under ``prefix``."""
    return prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "descentlab.json"


def lab_overrides_file(prefix: Path) -> Path:
    """JupyterLab's settings overrides under ``prefix`` (one file, shared by all packages)."""
    return prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{path} is not valid JSON ({exc}): fix or remove it, then run "
                         "python -m descentlab.lab_setup again (nothing was changed)") from None
    if not isinstance(data, dict):
        raise SystemExit(f"{path} does not hold a JSON object: fix or remove it "
                         "(nothing was changed)")
    return data


def missing(prefix: Path) -> list[str]:
    """What is not in place under ``prefix``, in words (empty when set up)."""
    problems = []
    if _read_json(server_config_file(prefix)) != SERVER_CONFIG:
        problems.append(f"{server_config_file(prefix)} does not set {NO_DELAY_CONNECTION}")
    overrides = _read_json(lab_overrides_file(prefix))
    for plugin, settings in LAB_SETTINGS.items():
        for key, value in settings.items():
            if overrides.get(plugin, {}).get(key) != value:
                problems.append(f"{lab_overrides_file(prefix)} does not set {plugin} "
                                f"{key} = {value!r}")
    return problems


def install(prefix: Path) -> list[Path]:
    """Write both files under ``prefix`` (``overrides.json`` merged); the files written."""
    overrides_path = lab_overrides_file(prefix)
    overrides = _read_json(overrides_path)  # refuses a broken file before writing anything
    for plugin, settings in LAB_SETTINGS.items():
        overrides.setdefault(plugin, {}).update(settings)
    written = []
    for path, data in ((server_config_file(prefix), SERVER_CONFIG), (overrides_path, overrides)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """The command line: install (default) or ``--check``; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m descentlab.lab_setup", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix),
                        help="the environment's prefix (default: this Python's, %(default)s)")
    parser.add_argument("--check", action="store_true", help="only report what is missing")
    args = parser.parse_args(argv)
    if args.check:
        problems = missing(args.prefix)
        for problem in problems:
            print(problem)
        if not problems:
            print(f"JupyterLab under {args.prefix} is set up for the course")
        return 1 if problems else 0
    for path in install(args.prefix):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
