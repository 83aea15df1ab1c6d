"""The course's kernel websocket for Jupyter Server (``descentlab.lab_websocket``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server")

from jupyter_server.services.kernels.connection.base import (
    BaseKernelWebsocketConnection,
)
from jupyter_server.services.kernels.connection.channels import (
    ZMQChannelsWebsocketConnection,
)
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from traitlets.utils.importstring import import_item

from descentlab.lab_setup import SERVER_CONFIG
from descentlab.lab_websocket import CONFIG_OPTION, NoDelayKernelConnection

ROOT = Path(__file__).resolve().parents[2]


class _Handler(KernelWebsocketHandler):
    """Jupyter Server's kernel websocket handler, that only records what is asked of its socket."""

    def __init__(self) -> None:  # no Tornado application or request needed
        self.nodelay: list[bool] = []

    def set_nodelay(self, value: bool) -> None:
        self.nodelay.append(value)


def test_connect_turns_nagle_off_then_connects_as_jupyter_server_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def default_connect(self: ZMQChannelsWebsocketConnection) -> str:
        calls.append(f"connect with nodelay {self.websocket_handler.nodelay}")
        return "the default's future"

    monkeypatch.setattr(ZMQChannelsWebsocketConnection, "connect", default_connect)
    handler = _Handler()
    connection = NoDelayKernelConnection(websocket_handler=handler)
    assert connection.connect() == "the default's future"
    assert calls == ["connect with nodelay [True]"]


def test_the_option_and_the_setup_name_this_class_for_jupyter_servers_setting() -> None:
    option, value = CONFIG_OPTION.split("=")
    assert option == "--ServerApp.kernel_websocket_connection_class"
    assert SERVER_CONFIG == {"ServerApp": {"kernel_websocket_connection_class": value}}
    cls = import_item(value)
    assert cls is NoDelayKernelConnection
    assert issubclass(cls, BaseKernelWebsocketConnection)


def test_the_browser_test_and_benchmark_start_jupyterlab_with_it() -> None:
    # make install and Binder name it through descentlab.lab_setup (tested there).
    text = (ROOT / "tests" / "browser" / "lab_server.py").read_text(encoding="utf-8")
    assert "CONFIG_OPTION" in text


def test_import_descentlab_does_not_import_jupyter_server() -> None:
    import subprocess

    code = "import descentlab, descentlab.widgets, sys; print('jupyter_server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
