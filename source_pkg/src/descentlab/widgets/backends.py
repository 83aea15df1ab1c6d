"""Show a matplotlib Figure inside ipywidgets and redraw it fast, without pyplot.

Two backends:

``"ipympl"``
    An interactive ipympl canvas (clicks reach Python through
    ``mpl_connect``). It is built for the Figure directly, so pyplot's figure
    registry and the notebook's global backend are left alone.
``"static"``
    The Figure is rendered with Agg and shown as a PNG in an
    :class:`ipywidgets.Image`. Works everywhere (nbconvert, JupyterLite,
    kernels without ipympl) but cannot report clicks.

Both redraw by *blitting*: the expensive, rarely changing part of the figure
(contours, axes, ticks) is rendered once into a pixel buffer, and an update
only restores that buffer and draws the few moving artists on top. A full
draw of a two-panel figure costs 60-80 ms on a small machine, a blit about
1 ms (see ``benchmarks/widget_latency.py``).
"""

from __future__ import annotations

import base64
import struct
import sys
import threading
import warnings
import zlib
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["BACKENDS", "FigureView", "have_ipympl", "in_kernel", "resolve_backend"]

BACKENDS = ("auto", "ipympl", "static")

# Static PNGs are re-encoded on every update: deflate level 1 is several times
# faster than the default 6 for a plot like ours and only ~20 % larger.
_PNG_COMPRESS_LEVEL = 1


def in_kernel() -> bool:
    """Whether this code runs inside a Jupyter kernel (where widgets can display)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _import_ipympl() -> Any:
    """Import ``ipympl.backend_nbagg`` without switching matplotlib's backend.

    ``import ipympl`` calls ``matplotlib.use("module://ipympl.backend_nbagg")``
    when matplotlib is already imported. With pyplot imported that switches
    pyplot's backend and closes every open pyplot figure, so a student's later
    ``plt.plot`` would turn into a widget. The package ``__init__`` only looks
    for ``"matplotlib"`` in ``sys.modules`` and imports nothing of matplotlib
    itself, so hiding the entry for that one import avoids the switch.
    """
    if "ipympl" not in sys.modules:
        saved = sys.modules.pop("matplotlib", None)
        try:
            import ipympl  # noqa: F401
        finally:
            if saved is not None:
                sys.modules["matplotlib"] = saved
    import ipympl.backend_nbagg as nbagg

    return nbagg


# -- the one place that reaches into ipympl's and matplotlib's private parts ------------
#
# ipympl has no public API for three things the widgets need, so
# :func:`_canvas_class` builds ONE small subclass of its Canvas that does them and
# nothing else touches a private name of ipympl or matplotlib:
#
# 1. A frame as soon as a browser view attaches (and a full one after a resize):
#    ``_handle_message`` (ipympl) and matplotlib's ``_force_full``/``_png_is_old``.
# 2. Fast diff images, and "sticky" diffs while frames may drop (Play): matplotlib's
#    ``get_diff_image`` and its ``_last_buff``.
# 3. A loadable image before any view attached: ipympl's ``_data_url`` and ``_size``
#    (ipympl stores bare base64 there, which a canvas inside a Box cannot show).
#
# ``tests/test_widgets_ipympl.py`` checks that these parts still exist and still
# behave as this workaround assumes, so an ipympl or matplotlib upgrade that changes
# them fails a test instead of blanking a student's figure.

#: ipympl/matplotlib Canvas members the subclass relies on (checked by
#: :func:`ipympl_private_parts_missing`).
IPYMPL_PRIVATE_PARTS = (
    "_handle_message", "get_diff_image", "syncing_data_url", "_data_url", "_size",
    "_png_is_old", "_force_full", "_last_buff", "set_image_mode", "manager",
)

_CANVAS_CLASS: Any = None


def ipympl_private_parts_missing() -> list[str]:
    """The members of :data:`IPYMPL_PRIVATE_PARTS` a fresh ipympl Canvas lacks.

    An empty list means the workaround in :func:`_canvas_class` still fits the
    installed ipympl and matplotlib.
    """
    canvas = _with_manager(_import_ipympl().Canvas(Figure()))
    return [name for name in IPYMPL_PRIVATE_PARTS if not hasattr(canvas, name)]


def _with_manager(canvas: Any) -> Any:
    """Give an ipympl canvas the manager the front end's messages need; not registered
    with pyplot (resize, dpi ratio and toolbar messages go through it)."""
    nbagg = _import_ipympl()
    with warnings.catch_warnings():
        # ipympl's Toolbar passes the canvas on to traitlets' __init__,
        # which warns; harmless, and not ours to fix.
        warnings.filterwarnings(
            "ignore", r"Passing unrecognized arguments to super\(Toolbar\)", DeprecationWarning
        )
        nbagg.FigureManager(canvas, id(canvas.figure))
    return canvas


def _canvas_class() -> Any:
    """ipympl's Canvas with the three workarounds described above (built on first use).

    Returns
    -------
    type
        A subclass of ``ipympl.backend_nbagg.Canvas`` with :meth:`publish`.
    """
    global _CANVAS_CLASS
    if _CANVAS_CLASS is not None:
        return _CANVAS_CLASS
    nbagg = _import_ipympl()

    class ViewCanvas(nbagg.Canvas):
        """ipympl's Canvas for a :class:`FigureView`: see the comment above ``_canvas_class``."""

        #: See FigureView.frames_may_drop.
        sticky_diffs = False
        _sticky: Any = None

        def publish(self, png: Callable[[], bytes], sticky: bool) -> None:
            """Show what the canvas' renderer holds: in the browser, or for a later view.

            Parameters
            ----------
            png : callable
                Returns the current image as PNG (only called before a view attached).
            sticky : bool
                Frames may drop: each diff carries every pixel changed since then.
            """
            if self.syncing_data_url:
                # No view yet: ipympl would store bare base64 in ``_data_url`` (the
                # browser cannot load it, "broken image", when the canvas sits in a
                # Box); store a proper data URL. A view that attaches later gets a
                # full frame (see _handle_message) and diffs from then on.
                encoded = base64.b64encode(png()).decode("ascii")
                self._data_url = f"data:image/png;base64,{encoded}"
                width, height = self.figure.bbox.size / self.device_pixel_ratio
                self._size = (float(width), float(height))
                return
            self.sticky_diffs = sticky
            self.blit()  # marks the image as new and sends the browser a diff of it

        def _handle_message(self, obj: Any, content: dict[str, Any], buffers: Any) -> None:
            if content.get("type") == "resize":
                # matplotlib answers a browser's resize with a "resize" (the
                # browser then clears its canvas) and a redraw, sent as a diff:
                # painted on the cleared canvas, it showed a figure without its
                # title, ticks and contour lines until the next full frame.
                self._force_full = True
            super()._handle_message(obj, content, buffers)
            if content.get("type") == "initialized":
                # A browser view attached and ipympl just sent it its size,
                # which resets its canvas. Whether an image follows depended on
                # message timing: under load the figure stayed blank until the
                # first slider move. Send the current frame, in full, now.
                self._force_full = True
                self._png_is_old = True
                self.manager.refresh_all()

        def get_diff_image(self) -> bytes | None:
            # matplotlib's diff logic, with encode_png instead of Pillow (whose
            # adaptive row filters cost ~3x more per update; see encode_png), and
            # sticky diffs while frames may drop.
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            buff = pixels.view(np.uint32).squeeze(2)
            if not self.sticky_diffs and self._sticky is not None:
                # The browser may lack any frame of the lossy stretch but its last.
                self._sticky = None
                self._force_full = True
            if (
                self._force_full
                or buff.shape != self._last_buff.shape
                or (pixels[:, :, 3] != 255).any()
            ):
                self.set_image_mode("full")
                output = buff
                self._sticky = None
            else:
                # Unchanged pixels become transparent: the browser keeps its own.
                self.set_image_mode("diff")
                changed = buff != self._last_buff
                if self.sticky_diffs:
                    # Every pixel changed since the lossy stretch began.
                    if self._sticky is None or self._sticky.shape != changed.shape:
                        self._sticky = changed
                    else:
                        self._sticky |= changed
                    changed = self._sticky
                output = np.where(changed, buff, 0)
            self._last_buff = buff.copy()
            self._force_full = False
            self._png_is_old = False
            return encode_png(output.view(np.uint8).reshape(*output.shape, 4))

    _CANVAS_CLASS = ViewCanvas
    return _CANVAS_CLASS


def have_ipympl() -> bool:
    """Whether ipympl can be imported."""
    try:
        _import_ipympl()
    except ImportError:
        return False
    return True


def resolve_backend(backend: str | None) -> str:
    """Turn ``None``/``"auto"`` into ``"ipympl"`` or ``"static"``.

    ``"auto"`` picks ipympl when it is importable *and* we run in a kernel
    (outside one, an ipympl canvas could never be displayed).

    Raises
    ------
    ValueError
        For an unknown backend name.
    ImportError
        If ``"ipympl"`` is asked for but not installed.
    """
    backend = "auto" if backend is None else str(backend).lower()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "ipympl" if in_kernel() and have_ipympl() else "static"
    if backend == "ipympl" and not have_ipympl():
        raise ImportError(
            "backend='ipympl' needs the ipympl package: pip install ipympl "
            "(or use backend='static')"
        )
    return backend


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(rgba: np.ndarray) -> bytes:
    """Encode an RGBA image of shape (height, width, 4), dtype uint8, as PNG.

    Rows are stored unfiltered and deflated at level 1. No installed library
    does this job as fast: Pillow (also behind matplotlib's ``imsave``) always
    tries every row filter and has no option to skip them, which on a plot of
    flat colours costs more than the compression itself. For a 960 x 420 widget
    figure (Pillow 13, CPU time, busy machine): 6.8 ms here, 23 ms with Pillow at
    ``compress_level=1`` and 33 ms at its default, for files of 87, 95 and 84 kB.
    The static backend encodes on every update, ipympl's diff images likewise.
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"need an RGBA uint8 image of shape (h, w, 4), got {rgba.shape}")
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "None" for every row
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), _PNG_COMPRESS_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def png_bytes(canvas: FigureCanvasAgg) -> bytes:
    """Encode what ``canvas`` last rendered as PNG (no re-render)."""
    return encode_png(np.asarray(canvas.buffer_rgba()))


class FigureView:
    """A Figure displayed as a widget, redrawn by blitting its moving artists.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        A Figure made without pyplot; it gets the backend's canvas.
    backend : {"auto", "ipympl", "static"} or None

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    backend : str
        ``"ipympl"`` or ``"static"``.
    canvas : FigureCanvasAgg
        The ipympl ``Canvas`` (a widget itself) or an Agg canvas.
    widget : ipywidgets.DOMWidget
        What to put in a layout: the ipympl canvas or an ``ipywidgets.Image``.
    last_render : str
        What the last :meth:`render` drew: ``"full"``, ``"panels"`` or ``"blit"``.
    full_draws, panel_draws, blits : int
        How many updates needed a full render, a redraw of the fast-changing
        panels only, or only a blit of the moving artists.
    frames_may_drop : bool
        ipympl only: set while frames come faster than the browser may load
        them (Play). ipympl's browser side starts loading each image as it
        comes, abandoning one still loading, and a lost diff of the previous
        frame would leave stale pixels (a path with gaps). Meanwhile each image
        carries every pixel that changed since the mode was set, not only since
        the previous frame, so any frame the browser does load is complete.
        Whole frames would do too, but they are ~10x larger (~90 against ~8 kB)
        and the browser loaded fewer of them. When the mode ends, the next
        image is whole.
    """

    def __init__(self, figure: Figure, backend: str | None = None) -> None:
        self.figure = figure
        self.backend = resolve_backend(backend)
        self.last_render = ""
        self.full_draws = 0
        self.panel_draws = 0
        self.blits = 0
        self.frames_may_drop = False
        #: Called when the figure is published outside the main thread (set by LiveWidget).
        self.off_main_thread: Callable[[], None] | None = None
        self._background: Any = None
        self._key: Hashable = None
        self._panel_background: Any = None
        self._panel_key: Hashable = None
        if self.backend == "ipympl":
            canvas = _with_manager(_canvas_class()(figure))
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.resizable = False
            canvas.toolbar_visible = "fade-in-fade-out"
            # On the left (ipympl's default) the toolbar covered the y tick labels;
            # the figures leave their right margin empty for it.
            canvas.toolbar_position = "right"
            self.canvas = canvas
            self.widget: widgets.DOMWidget = canvas
        else:
            self.canvas = FigureCanvasAgg(figure)
            # Shown at its own size (the width of an output area), shrunk to fit
            # a narrower one; never enlarged, which would blur it. In a VBox (a
            # column flexbox) an item is stretched to the box's width by default:
            # the 960 px image was drawn 964 px wide (seen in the browser,
            # benchmarks/browser_latency.py); align_self keeps it at its own width.
            self.widget = widgets.Image(
                format="png",
                layout=widgets.Layout(max_width="100%", height="auto", align_self="flex-start"),
            )

    # -- events ------------------------------------------------------------
    @property
    def interactive(self) -> bool:
        """Whether clicks on the figure reach Python (ipympl only)."""
        return self.backend == "ipympl"

    def on_click(self, callback: Callable[[Any], None]) -> int | None:
        """Call ``callback(event)`` on mouse clicks; returns the connection id or None."""
        if not self.interactive:
            return None
        return self.canvas.mpl_connect("button_press_event", callback)

    def toolbar_busy(self) -> bool:
        """Whether the ipympl toolbar is in pan or zoom mode (clicks belong to it then)."""
        toolbar = getattr(self.canvas, "toolbar", None)
        return bool(getattr(toolbar, "mode", ""))

    # -- drawing ------------------------------------------------------------
    @staticmethod
    def _axes_state(axes: Sequence[Axes]) -> Hashable:
        # The limits and scales of each Axes (the ipympl toolbar can pan and zoom).
        return tuple(
            (tuple(ax.get_xlim()), tuple(ax.get_ylim()), ax.get_xscale(), ax.get_yscale())
            for ax in axes
        )

    def _base_state(self, key: Hashable, panels: Sequence[Axes]) -> Hashable:
        fig = self.figure
        others = [ax for ax in fig.axes if ax not in panels]
        # ipympl changes the dpi on HiDPI screens and when the browser resizes.
        return (key, tuple(fig.bbox.bounds), fig.dpi, self._axes_state(others))

    def render(
        self, moving: Sequence[Artist], key: Hashable = None, panels: Sequence[Axes] = ()
    ) -> str:
        """Show the figure: blit ``moving`` onto cached backgrounds where possible.

        Two backgrounds are cached. The first holds everything except
        ``moving`` and the ``panels``; it is redrawn (a full draw) when ``key``,
        the figure's size or dpi, or the limits of any other Axes change. The
        second adds the ``panels`` (without ``moving``); it is redrawn, much
        more cheaply, when only their limits or scales change. Otherwise an
        update only restores the second background and draws ``moving``.

        Parameters
        ----------
        moving : sequence of Artist
            The artists that change between updates (lines, markers, arrows,
            a legend).
        key : hashable
            Describes the static part (e.g. the surface's name).
        panels : sequence of Axes
            Axes whose limits change often (a loss curve's autoscaled axis).

        Returns
        -------
        str
            ``"full"``, ``"panels"`` or ``"blit"``: what had to be drawn.
        """
        base = self._base_state(key, panels)
        panel_state = self._axes_state(panels)
        kind = "blit"
        hidden = [(a, a.get_visible()) for a in moving]
        try:
            for artist, _ in hidden:
                artist.set_visible(False)
            if self._background is None or base != self._key:
                kind = "full"
                shown = [(ax, ax.get_visible()) for ax in panels]
                try:
                    for ax, _ in shown:
                        ax.set_visible(False)
                    # Agg's draw only: ipympl's own draw() would also send the
                    # unfinished image to the browser.
                    FigureCanvasAgg.draw(self.canvas)
                finally:
                    for ax, was in shown:
                        ax.set_visible(was)
                self._background = self.canvas.copy_from_bbox(self.figure.bbox)
                self._key = self._base_state(key, panels)
            if kind == "full" or self._panel_background is None or panel_state != self._panel_key:
                kind = "panels" if kind == "blit" else kind
                self.canvas.restore_region(self._background)
                for ax in panels:
                    if ax.get_visible():
                        self.figure.draw_artist(ax)
                self._panel_background = self.canvas.copy_from_bbox(self.figure.bbox)
                self._panel_key = self._axes_state(panels)
            else:
                self.canvas.restore_region(self._panel_background)
        finally:
            for artist, was in hidden:
                artist.set_visible(was)
        for artist in moving:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        self.last_render = kind
        if kind == "full":
            self.full_draws += 1
        elif kind == "panels":
            self.panel_draws += 1
        else:
            self.blits += 1
        self._publish()
        return kind

    def _publish(self) -> None:
        if self.off_main_thread is not None and threading.current_thread() is not (
            threading.main_thread()
        ):
            self.off_main_thread()
        if self.backend != "ipympl":
            self.widget.value = png_bytes(self.canvas)
            return
        self.canvas.publish(lambda: png_bytes(self.canvas), self.frames_may_drop)
