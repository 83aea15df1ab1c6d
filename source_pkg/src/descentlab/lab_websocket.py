"""A kernel websocket for Jupyter Server that sends each message at once (``TCP_NODELAY``).

The course's environments use it: ``python -m descentlab.lab_setup`` (run by ``make
install`` and Binder's ``postBuild``) names it in Jupyter Server's configuration, and the
browser test and ``benchmarks/browser_latency.py`` pass :data:`CONFIG_OPTION`::

    jupyter lab --ServerApp.kernel_websocket_connection_class=\\
        descentlab.lab_websocket.NoDelayKernelConnection

Why: Jupyter Server leaves Nagle's algorithm on for the websocket between the
server and the browser (Tornado's default; ``WebSocketHandler.set_nodelay``
documents the 200-500 ms delays it can cause together with delayed TCP
acknowledgements). A widget's Play sends one image every 40 ms; with ipympl each
image (~13 kB) is followed by small state updates, which Nagle holds back until
the previous packet is acknowledged. Measured in headless Chromium
(``benchmarks/browser_latency.py``): the images then arrived in pairs ~7 ms apart
every ~80 ms, ipympl's page abandoned the first of each pair while it was still
loading, and Play showed 13-18 distinct frames per second instead of 24.

This module imports Jupyter Server: only the server imports it (``import
descentlab`` does not).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

from .lab_setup import NO_DELAY_CONNECTION

__all__ = ["CONFIG_OPTION", "NoDelayKernelConnection"]

#: The command-line option that makes Jupyter Server use it.
CONFIG_OPTION = f"--ServerApp.kernel_websocket_connection_class={NO_DELAY_CONNECTION}"


class NoDelayKernelConnection(ZMQChannelsWebsocketConnection):
    """Jupyter Server's default kernel websocket connection, with ``TCP_NODELAY`` set."""

    def connect(self) -> Any:
        """Turn Nagle's algorithm off for this websocket, then connect as the default does."""
        self.websocket_handler.set_nodelay(True)
        return super().connect()
