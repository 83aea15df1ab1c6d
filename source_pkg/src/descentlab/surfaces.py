r"""Two-dimensional test surfaces and one-dimensional curves for the optimizer lessons.

A :class:`Surface` bundles a loss :math:`f(x, y)`, its analytic gradient, its
known minima and a plotting window, so that paths (:mod:`descentlab.paths`)
and plots (:mod:`descentlab.plots`) need nothing else. Every ``f`` and ``grad``
is vectorised: ``x`` and ``y`` may be floats or arrays that broadcast together.

Registered surfaces (``SURFACES``; look them up with :func:`get_surface`):

``bowl``
    :math:`x^2/20 + y^2`, the elongated bowl of *Deep Learning from Scratch*
    (eq. 6.2) used in the book's optimizer comparison (fig. 6-8).
``quadratic``
    A rotated ill-conditioned quadratic, see :func:`quadratic`.
``rosenbrock``
    Rosenbrock's banana valley, minimum at (1, 1).
``beale``
    Beale's function, minimum at (3, 0.5), flat plateaus and steep walls.
``saddle``
    :math:`x^2 - y^2`: no minimum, a saddle point at the origin.
``himmelblau``
    Himmelblau's function with four global minima.
``valleys``
    A gentle bowl with three Gaussian wells: one global and two local minima,
    for the "blind explorer" story.

One-dimensional :class:`Curve` objects (``CURVES``, :func:`get_curve`):
``parabola`` (:math:`x^2`) and ``hills`` (a quartic with a local and a global
minimum).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CURVES",
    "SURFACES",
    "Curve",
    "Surface",
    "curve_names",
    "get_curve",
    "get_surface",
    "quadratic",
    "surface_names",
]

Point = tuple[float, float]
Window = tuple[tuple[float, float], tuple[float, float]]


_SCALARS = (float, int, np.float64)


def _pair(x: Any, y: Any) -> tuple[Any, Any]:
    """Return ``x`` and ``y`` as float64 values of one common shape.

    Two numbers (the case of every step of a path) become NumPy float64
    scalars: the gradient formulas then keep NumPy's semantics (inf and NaN
    rather than Python's ``ZeroDivisionError`` or ``OverflowError``) at the
    cost of a scalar operation, not of an array round trip. Anything else
    becomes float arrays broadcast together.
    """
    if type(x) in _SCALARS and type(y) in _SCALARS:
        return np.float64(x), np.float64(y)
    return np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface with its gradient, minima and a plotting window.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"rosenbrock"``.
    title : str
        Human-readable name for plot titles.
    latex : str
        The formula as LaTeX, e.g. ``r"f(x, y) = \\frac{x^2}{20} + y^2"``.
    f : callable
        ``f(x, y)``; floats or arrays that broadcast together.
    grad : callable
        ``grad(x, y) -> (df/dx, df/dy)``, both broadcast to the common shape
        of ``x`` and ``y``.
    minima : tuple of (float, float)
        The global minima (empty for the saddle, which has none).
    window : ((float, float), (float, float))
        ``((xmin, xmax), (ymin, ymax))``: a good plotting window.
    start : (float, float)
        A good default start point.
    log_levels : bool
        Whether contour levels look better log-spaced (deep narrow valleys).
    stationary : tuple of (float, float)
        Saddle points worth marking on a plot (the saddle's origin).
    local_minima : tuple of (float, float)
        Local minima that are not global (``valleys``).
    contour_max : float or None
        Highest contour level worth drawing; ``None`` uses the largest value
        on the window. The bowl uses 7, as the book's figure does.
    """

    name: str
    title: str
    latex: str
    f: Callable[..., Any]
    grad: Callable[..., tuple[Any, Any]]
    minima: tuple[Point, ...]
    window: Window
    start: Point
    log_levels: bool = False
    stationary: tuple[Point, ...] = ()
    local_minima: tuple[Point, ...] = ()
    contour_max: float | None = None

    def __call__(self, x: Any, y: Any) -> Any:
        """Evaluate ``f(x, y)`` (vectorised)."""
        return self.f(x, y)

    def value(self, xy: Any) -> np.ndarray:
        """Evaluate ``f`` at points given as an array of shape ``(..., 2)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(...)``: one value per point.
        """
        xy = np.asarray(xy, dtype=float)
        _check_points(xy)
        return np.asarray(self.f(xy[..., 0], xy[..., 1]), dtype=float)

    def gradient(self, xy: Any) -> np.ndarray:
        """Evaluate the gradient at points given as an array of shape ``(..., 2)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(..., 2)``: ``[..., 0]`` is df/dx, ``[..., 1]`` is df/dy.
        """
        xy = np.asarray(xy, dtype=float)
        _check_points(xy)
        gx, gy = self.grad(xy[..., 0], xy[..., 1])
        return np.stack(_pair(gx, gy), axis=-1)

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample ``f`` on an ``n`` x ``n`` grid over :attr:`window`.

        Returns
        -------
        X, Y, Z : numpy.ndarray
            Meshgrid arrays of shape ``(n, n)`` ready for ``Axes.contour``.
        """
        if n < 2:
            raise ValueError(f"grid needs n >= 2 points per axis, got {n}")
        (x0, x1), (y0, y1) = self.window
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, np.asarray(self.f(X, Y), dtype=float)

    def in_window(self, point: Any) -> bool:
        """Whether ``point`` (x, y) lies inside :attr:`window`, edges included."""
        x, y = (float(v) for v in point)
        (x0, x1), (y0, y1) = self.window
        return x0 <= x <= x1 and y0 <= y <= y1

    @property
    def f_min(self) -> float | None:
        """The global minimum value, or ``None`` if ``f`` has no minimum."""
        if not self.minima:
            return None
        return min(float(self.f(x, y)) for x, y in self.minima)


def _check_points(xy: np.ndarray) -> None:
    if xy.ndim == 0 or xy.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., 2), got shape {xy.shape}")


# -- bowl ---------------------------------------------------------------------
def _bowl(x: Any, y: Any) -> Any:
    return x**2 / 20.0 + y**2


def _bowl_grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _pair(x, y)
    return x / 10.0, 2.0 * y


# -- quadratic ----------------------------------------------------------------
def quadratic(condition: float = 10.0, angle: float = 0.0) -> Surface:
    r"""A quadratic bowl :math:`f(p) = \tfrac12 p^\top A p` with a chosen condition number.

    :math:`A = R\,\mathrm{diag}(1, \kappa)\,R^\top` where :math:`R` rotates by
    ``angle`` radians, so the curvatures along the two principal axes are 1 and
    ``condition``; the minimum is at the origin.

    Parameters
    ----------
    condition : float
        :math:`\kappa > 0`, the ratio of the two curvatures.
    angle : float
        Rotation of the principal axes, in radians.

    Returns
    -------
    Surface
        Named ``"quadratic"``.
    """
    if not (math.isfinite(condition) and condition > 0):
        raise ValueError(f"condition must be a finite number > 0, got {condition}")
    if not math.isfinite(angle):
        raise ValueError(f"angle must be finite, got {angle}")
    c, s = math.cos(angle), math.sin(angle)
    # A = R diag(1, k) R^T written out: a x^2 + 2 b x y + d y^2 with
    a = c * c + condition * s * s
    b = (1.0 - condition) * c * s
    d = s * s + condition * c * c

    def f(x: Any, y: Any) -> Any:
        return 0.5 * (a * x * x + 2.0 * b * x * y + d * y * y)

    def grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        x, y = _pair(x, y)
        return a * x + b * y, b * x + d * y

    degrees = math.degrees(angle)
    return Surface(
        name="quadratic",
        title=f"Quadratic bowl (condition number {condition:g}, rotated {degrees:g}°)",
        latex=(
            rf"f(x, y) = \frac{{1}}{{2}}\left({a:.4g}\,x^2 {2 * b:+.4g}\,xy "
            rf"{d:+.4g}\,y^2\right)"
        ),
        f=f,
        grad=grad,
        minima=((0.0, 0.0),),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        start=(-4.0, 2.0),
    )


# -- rosenbrock ---------------------------------------------------------------
def _rosenbrock(x: Any, y: Any) -> Any:
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _pair(x, y)
    r = y - x**2
    return -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r


# -- beale --------------------------------------------------------------------
def _beale(x: Any, y: Any) -> Any:
    return (
        (1.5 - x + x * y) ** 2
        + (2.25 - x + x * y**2) ** 2
        + (2.625 - x + x * y**3) ** 2
    )


def _beale_grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _pair(x, y)
    y2, y3 = y * y, y * y * y
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y2
    t3 = 2.625 - x + x * y3
    gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
    gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
    return gx, gy


# -- saddle -------------------------------------------------------------------
def _saddle(x: Any, y: Any) -> Any:
    return x**2 - y**2


def _saddle_grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _pair(x, y)
    return 2.0 * x, -2.0 * y


# -- himmelblau ---------------------------------------------------------------
def _himmelblau(x: Any, y: Any) -> Any:
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _himmelblau_grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _pair(x, y)
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


# Newton-refined from the usual 6-digit values; (3, 2) is exact.
_HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.779310253377747, -3.2831859912861696),
    (3.5844283403304917, -1.8481265269644034),
)


# -- valleys ------------------------------------------------------------------
_VALLEYS_BOWL = 0.05
# (depth, centre x, centre y, width sigma) of each Gaussian well.
_VALLEYS_WELLS = (
    (3.0, 2.0, 1.0, 1.0),
    (2.0, -2.5, -1.5, 1.0),
    (1.6, -1.5, 2.5, 0.8),
)


def _valleys(x: Any, y: Any) -> Any:
    x, y = _pair(x, y)
    z = _VALLEYS_BOWL * (x * x + y * y)
    for depth, cx, cy, sigma in _VALLEYS_WELLS:
        z = z - depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * sigma**2))
    return z[()]


def _valleys_grad(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _pair(x, y)
    gx = 2.0 * _VALLEYS_BOWL * x
    gy = 2.0 * _VALLEYS_BOWL * y
    for depth, cx, cy, sigma in _VALLEYS_WELLS:
        w = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * sigma**2)) / sigma**2
        gx = gx + w * (x - cx)
        gy = gy + w * (y - cy)
    return gx, gy


def _valleys_latex() -> str:
    terms = "".join(
        rf" - {d:g}\,e^{{-\left[(x {-cx:+g})^2 + (y {-cy:+g})^2\right]/{2 * s * s:g}}}"
        for d, cx, cy, s in _VALLEYS_WELLS
    )
    return rf"f(x, y) = {_VALLEYS_BOWL:g}\,(x^2 + y^2){terms}"


# Found by multistart gradient descent + Newton on a 41 x 41 grid of starts over
# [-5, 5]^2 (|grad| < 1e-15 there); tests/test_surfaces.py re-verifies them.
_VALLEYS_GLOBAL = ((1.9352689911875074, 0.9676756627263866),)
_VALLEYS_LOCAL = (
    (-2.379807543284606, -1.4278725595731159),
    (-1.4378600496610459, 2.4003249611515036),
)


def _build_surfaces() -> dict[str, Surface]:
    surfaces = [
        Surface(
            name="bowl",
            title="Elongated bowl",
            latex=r"f(x, y) = \frac{x^2}{20} + y^2",
            f=_bowl,
            grad=_bowl_grad,
            minima=((0.0, 0.0),),
            # The book's contour grid: x in [-10, 10], y in [-5, 5].
            window=((-10.0, 10.0), (-5.0, 5.0)),
            start=(-7.0, 2.0),
            contour_max=7.0,
        ),
        quadratic(10.0, math.pi / 6),
        Surface(
            name="rosenbrock",
            title="Rosenbrock's banana valley",
            latex=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
            f=_rosenbrock,
            grad=_rosenbrock_grad,
            minima=((1.0, 1.0),),
            window=((-2.0, 2.0), (-1.0, 3.0)),
            start=(-1.5, 2.0),
            log_levels=True,
        ),
        Surface(
            name="beale",
            title="Beale's function",
            latex=(
                r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2"
                r" + (2.625 - x + xy^3)^2"
            ),
            f=_beale,
            grad=_beale_grad,
            minima=((3.0, 0.5),),
            window=((-4.5, 4.5), (-4.5, 4.5)),
            start=(1.0, 1.5),
            log_levels=True,
        ),
        Surface(
            name="saddle",
            title="Saddle",
            latex=r"f(x, y) = x^2 - y^2",
            f=_saddle,
            grad=_saddle_grad,
            minima=(),
            window=((-5.0, 5.0), (-5.0, 5.0)),
            # A hair off the ridge y = 0: plain gradient steps grow y by only
            # (1 + 2 lr) per step, so SGD crawls to the saddle point first.
            start=(-4.0, 0.001),
            stationary=((0.0, 0.0),),
        ),
        Surface(
            name="himmelblau",
            title="Himmelblau's function",
            latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            f=_himmelblau,
            grad=_himmelblau_grad,
            minima=_HIMMELBLAU_MINIMA,
            window=((-5.0, 5.0), (-5.0, 5.0)),
            start=(0.0, 0.0),
            log_levels=True,
        ),
        Surface(
            name="valleys",
            title="Valleys of different depths",
            latex=_valleys_latex(),
            f=_valleys,
            grad=_valleys_grad,
            minima=_VALLEYS_GLOBAL,
            window=((-5.0, 5.0), (-5.0, 5.0)),
            start=(-4.5, -3.0),
            local_minima=_VALLEYS_LOCAL,
        ),
    ]
    return {s.name: s for s in surfaces}


#: Every registered surface by name.
SURFACES: dict[str, Surface] = _build_surfaces()


def surface_names() -> list[str]:
    """Return the names of the registered surfaces."""
    return list(SURFACES)


def get_surface(name: str | Surface) -> Surface:
    """Return the registered surface called ``name`` (case-insensitive).

    A :class:`Surface` is returned unchanged, so functions can accept either.

    Raises
    ------
    ValueError
        If no surface has that name; the message lists the known names.
    """
    if isinstance(name, Surface):
        return name
    if not isinstance(name, str):
        raise TypeError(f"surface must be a Surface or a name, got {type(name).__name__}")
    try:
        return SURFACES[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown surface {name!r}; choose one of {', '.join(surface_names())}"
        ) from None


# -- one-dimensional curves -----------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """A 1-D loss curve for the "blind explorer" lesson.

    Attributes
    ----------
    name, title, latex : str
        Registry name, human-readable name and formula.
    f, df : callable
        ``f(x)`` and its derivative, vectorised.
    minima : tuple of float
        The global minima.
    window : (float, float)
        ``(xmin, xmax)``: a good plotting range.
    start : float
        A good default start point.
    local_minima : tuple of float
        Local minima that are not global.
    """

    name: str
    title: str
    latex: str
    f: Callable[[Any], Any]
    df: Callable[[Any], Any]
    minima: tuple[float, ...]
    window: tuple[float, float]
    start: float
    local_minima: tuple[float, ...] = ()

    def __call__(self, x: Any) -> Any:
        """Evaluate ``f(x)`` (vectorised)."""
        return self.f(x)

    def derivative(self, x: Any) -> Any:
        """Evaluate ``f'(x)`` (vectorised)."""
        return self.df(x)

    def grid(self, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, f(x))`` sampled at ``n`` points over :attr:`window`."""
        if n < 2:
            raise ValueError(f"grid needs n >= 2 points, got {n}")
        x = np.linspace(*self.window, n)
        return x, np.asarray(self.f(x), dtype=float)


def _parabola(x: Any) -> Any:
    return x**2


def _parabola_df(x: Any) -> Any:
    return 2.0 * x


def _hills(x: Any) -> Any:
    return x**4 / 4.0 - x**2 + x / 2.0


def _hills_df(x: Any) -> Any:
    return x**3 - 2.0 * x + 0.5


#: Every registered 1-D curve by name.
CURVES: dict[str, Curve] = {
    "parabola": Curve(
        name="parabola",
        title="Parabola",
        latex=r"f(x) = x^2",
        f=_parabola,
        df=_parabola_df,
        minima=(0.0,),
        window=(-3.0, 3.0),
        start=-2.5,
    ),
    "hills": Curve(
        name="hills",
        title="Two hollows",
        latex=r"f(x) = \frac{x^4}{4} - x^2 + \frac{x}{2}",
        f=_hills,
        df=_hills_df,
        # Newton-refined roots of x^3 - 2x + 1/2 with f'' > 0.
        minima=(-1.5256871208655185,),
        window=(-2.3, 2.3),
        # Right of the hump: plain descent settles in the shallower hollow.
        start=2.0,
        local_minima=(1.2670350983613659,),
    ),
}


def curve_names() -> list[str]:
    """Return the names of the registered 1-D curves."""
    return list(CURVES)


def get_curve(name: str | Curve) -> Curve:
    """Return the registered curve called ``name`` (case-insensitive).

    A :class:`Curve` is returned unchanged.

    Raises
    ------
    ValueError
        If no curve has that name; the message lists the known names.
    """
    if isinstance(name, Curve):
        return name
    if not isinstance(name, str):
        raise TypeError(f"curve must be a Curve or a name, got {type(name).__name__}")
    try:
        return CURVES[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown curve {name!r}; choose one of {', '.join(curve_names())}"
        ) from None
