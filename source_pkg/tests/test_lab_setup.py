"""``python -m descentlab.lab_setup``: the course's settings for an environment's JupyterLab."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from descentlab.lab_setup import (
    LAB_SETTINGS,
    SERVER_CONFIG,
    install,
    lab_overrides_file,
    main,
    missing,
    server_config_file,
)

ROOT = Path(__file__).resolve().parents[2]


def test_install_writes_both_files_and_then_nothing_is_missing(tmp_path: Path) -> None:
    assert len(missing(tmp_path)) == 2
    written = install(tmp_path)
    assert written == [server_config_file(tmp_path), lab_overrides_file(tmp_path)]
    assert json.loads(server_config_file(tmp_path).read_text()) == SERVER_CONFIG
    assert json.loads(lab_overrides_file(tmp_path).read_text()) == LAB_SETTINGS
    assert missing(tmp_path) == []
    install(tmp_path)  # twice is the same
    assert json.loads(lab_overrides_file(tmp_path).read_text()) == LAB_SETTINGS


def test_an_existing_overrides_file_keeps_its_other_settings(tmp_path: Path) -> None:
    path = lab_overrides_file(tmp_path)
    path.parent.mkdir(parents=True)
    plugin = next(iter(LAB_SETTINGS))
    path.write_text(json.dumps({
        "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
        plugin: {"showStatusBarItem": False, "commsOverSubshells": "perComm"},
    }))
    install(tmp_path)
    merged = json.loads(path.read_text())
    assert merged["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert merged[plugin] == {"showStatusBarItem": False, **LAB_SETTINGS[plugin]}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_broken_overrides_file_is_refused_and_nothing_is_written(
    tmp_path: Path, text: str
) -> None:
    path = lab_overrides_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(SystemExit, match="nothing was changed"):
        install(tmp_path)
    assert path.read_text() == text
    assert not server_config_file(tmp_path).exists()


def test_check_reports_what_is_missing_with_its_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--prefix", str(tmp_path), "--check"]) == 1
    assert "does not set" in capsys.readouterr().out
    assert main(["--prefix", str(tmp_path)]) == 0
    assert main(["--prefix", str(tmp_path), "--check"]) == 0
    assert "is set up for the course" in capsys.readouterr().out


def test_the_settings_exist_in_jupyterlabs_schema() -> None:
    # A misspelt plugin id or key would be ignored by JupyterLab without a word.
    from jupyterlab.commands import get_app_dir

    schemas = Path(get_app_dir()) / "schemas"
    if not schemas.is_dir():  # an installation layout without the shared schemas
        pytest.skip(f"no JupyterLab schemas at {schemas}")
    for plugin, values in LAB_SETTINGS.items():
        package, name = plugin.rsplit(":", 1)
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            allowed = [choice["const"] for choice in schema["properties"][key]["oneOf"]]
            assert value in allowed, f"{plugin} {key}: {value!r} not in {allowed}"


@pytest.mark.parametrize("path", ["Makefile", "postBuild"])
def test_make_install_and_binder_run_it(path: str) -> None:
    assert "python -m descentlab.lab_setup" in (ROOT / path).read_text(encoding="utf-8")


def test_it_does_not_import_jupyter_server() -> None:
    # Importable (and --check usable) before Jupyter Server is installed.
    code = "import descentlab.lab_setup, sys; print('jupyter_server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
