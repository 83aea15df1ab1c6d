"""The ipympl workaround of ``widgets/backends.py`` still fits the installed ipympl and matplotlib.

``backends._canvas_class`` is the one place that uses private parts of ipympl's
Canvas (and of matplotlib's WebAgg canvas under it). These tests fail when an
upgrade removes one of those parts, or fixes upstream what the workaround works
around (then the workaround can go). What the workaround achieves is tested in
``test_widgets.py`` (a view attaching gets a full frame; diffs equal matplotlib's)
and in the browser (``tests/test_browser.py``).
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from descentlab.widgets import backends

pytest.importorskip("ipympl")


def _plain_canvas() -> object:
    """ipympl's own Canvas (no workaround) on a drawn figure, recording what it sends."""
    figure = Figure(figsize=(3, 2), dpi=50)
    figure.add_subplot().plot([0, 1], [1, 0])
    canvas = backends._with_manager(backends._import_ipympl().Canvas(figure))
    canvas.sent = []
    canvas.send = lambda content, buffers=None: canvas.sent.append(
        (json.loads(content["data"])["type"], buffers or []))
    return canvas


def test_the_private_parts_the_workaround_uses_are_still_there() -> None:
    missing = backends.ipympl_private_parts_missing()
    assert missing == [], (
        f"ipympl/matplotlib no longer have {missing}: revise backends._canvas_class"
    )
    nbagg = backends._import_ipympl()
    parameters = list(inspect.signature(nbagg.Canvas._handle_message).parameters)
    assert len(parameters) == 4, (
        f"ipympl's Canvas._handle_message{parameters} changed: revise backends._canvas_class"
    )
    assert issubclass(backends._canvas_class(), nbagg.Canvas)


def test_ipympl_alone_sends_no_frame_when_a_view_attaches() -> None:
    """Why ``_handle_message`` sends one: ipympl only sends the size (as of 0.10)."""
    canvas = _plain_canvas()
    canvas._handle_message(canvas, {"type": "initialized"}, [])
    kinds = [kind for kind, _ in canvas.sent]
    assert "resize" in kinds, f"ipympl no longer sends the size to a new view: {kinds}"
    assert "binary" not in kinds, (
        "ipympl now sends a frame to a view that attaches: the 'initialized' branch of "
        "backends._canvas_class()._handle_message may be dropped"
    )


def test_ipympl_alone_stores_bare_base64_before_a_view_attaches() -> None:
    """Why ``publish`` stores the data URL itself: ipympl stores one a Box cannot show."""
    canvas = _plain_canvas()
    assert canvas.syncing_data_url, "premise: no view has attached"
    canvas.draw()  # renders and hands the image to send_binary, which fills _data_url
    assert canvas._data_url, "ipympl no longer keeps an image for a view that attaches later"
    assert not canvas._data_url.startswith("data:"), (
        "ipympl now stores a proper data URL: ViewCanvas.publish's own may be dropped"
    )


def test_publish_before_a_view_attaches_stores_a_loadable_image() -> None:
    canvas = backends._with_manager(backends._canvas_class()(Figure(figsize=(3, 2), dpi=50)))
    canvas.figure.add_subplot().plot([0, 1], [1, 0])
    canvas.draw()
    png = backends.png_bytes(canvas)
    canvas.publish(lambda: png, sticky=False)
    assert canvas._data_url.startswith("data:image/png;base64,")
    width, height = canvas._size
    assert (width, height) == pytest.approx(tuple(canvas.figure.bbox.size))
    assert np.isfinite([width, height]).all()
