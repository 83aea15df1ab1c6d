"""Tests of descentlab.surfaces: gradients, vectorisation, minima, registry."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from descentlab.surfaces import (
    CURVES,
    SURFACES,
    Curve,
    Surface,
    curve_names,
    get_curve,
    get_surface,
    quadratic,
    surface_names,
)

REQUIRED = ("bowl", "quadratic", "rosenbrock", "beale", "saddle", "himmelblau", "valleys")

ALL_SURFACES = [*SURFACES.values(), quadratic(1.0, 0.0), quadratic(50.0, -1.0)]
IDS = [*SURFACES, "quadratic-1", "quadratic-50"]


def numeric_gradient(surface: Surface, xy: np.ndarray) -> np.ndarray:
    """Central differences with a step scaled to each coordinate."""
    h = 1e-6 * (1.0 + np.abs(xy))
    ex = np.stack([h[:, 0], np.zeros(len(xy))], axis=1)
    ey = np.stack([np.zeros(len(xy)), h[:, 1]], axis=1)
    gx = (surface.value(xy + ex) - surface.value(xy - ex)) / (2 * h[:, 0])
    gy = (surface.value(xy + ey) - surface.value(xy - ey)) / (2 * h[:, 1])
    return np.stack([gx, gy], axis=1)


def numeric_hessian(surface: Surface, point) -> np.ndarray:
    """Central differences of the analytic gradient."""
    p = np.asarray(point, dtype=float)
    h = 1e-5 * (1.0 + np.abs(p))
    cols = []
    for i in range(2):
        e = np.zeros(2)
        e[i] = h[i]
        cols.append((surface.gradient(p + e) - surface.gradient(p - e)) / (2 * h[i]))
    H = np.stack(cols, axis=1)
    return (H + H.T) / 2


def random_points(surface: Surface, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.window
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


# -- registry ---------------------------------------------------------------------
def test_registry_holds_the_required_surfaces():
    assert set(REQUIRED) <= set(surface_names()), f"missing: {set(REQUIRED) - set(SURFACES)}"
    assert surface_names() == list(SURFACES)
    for name, surface in SURFACES.items():
        assert surface.name == name, f"SURFACES[{name!r}] is named {surface.name!r}"
        assert get_surface(name) is surface
        assert get_surface(name.upper()) is surface, "lookup should ignore case"
        assert get_surface(surface) is surface, "a Surface should pass through unchanged"


def test_unknown_surface_lists_the_names():
    with pytest.raises(ValueError, match="unknown surface 'nope'") as info:
        get_surface("nope")
    for name in REQUIRED:
        assert name in str(info.value), f"the error should list {name!r}: {info.value}"
    with pytest.raises(TypeError):
        get_surface(3)


def test_surfaces_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SURFACES["bowl"].start = (0.0, 0.0)


@pytest.mark.parametrize("surface", ALL_SURFACES, ids=IDS)
def test_metadata_is_consistent(surface):
    (x0, x1), (y0, y1) = surface.window
    assert x0 < x1, f"{surface.name}: empty window {surface.window}"
    assert y0 < y1, f"{surface.name}: empty window {surface.window}"
    for label, points in (
        ("start", (surface.start,)),
        ("minima", surface.minima),
        ("local_minima", surface.local_minima),
        ("stationary", surface.stationary),
    ):
        for x, y in points:
            assert all((x0 <= x <= x1, y0 <= y <= y1)), (
                f"{surface.name}: {label} point {(x, y)} lies outside the window {surface.window}"
            )
    assert surface.title, "a title is needed for plots"
    assert surface.latex.startswith("f(x, y) ="), surface.latex
    assert surface.start not in surface.minima, "starting at a minimum teaches nothing"


def test_log_levels_for_the_deep_valleys():
    assert SURFACES["rosenbrock"].log_levels
    assert SURFACES["beale"].log_levels
    assert not SURFACES["bowl"].log_levels


# -- gradients and vectorisation ------------------------------------------------------
@pytest.mark.parametrize("surface", ALL_SURFACES, ids=IDS)
def test_gradient_matches_central_differences(surface):
    xy = random_points(surface, 300, seed=len(surface.name))
    analytic = surface.gradient(xy)
    numeric = numeric_gradient(surface, xy)
    err = np.abs(analytic - numeric) / (1.0 + np.abs(analytic))
    worst = int(np.argmax(err.max(axis=1)))
    assert err.max() < 1e-6, (
        f"{surface.name}: analytic gradient {analytic[worst]} differs from central "
        f"differences {numeric[worst]} at {xy[worst]}"
    )


@pytest.mark.parametrize("surface", ALL_SURFACES, ids=IDS)
def test_vectorised_over_grids(surface):
    X, Y, Z = surface.grid(17)
    assert X.shape == Y.shape == Z.shape == (17, 17)
    gx, gy = surface.grad(X, Y)
    assert gx.shape == gy.shape == (17, 17), f"{surface.name}: grad shapes {gx.shape}, {gy.shape}"
    i, j = 5, 11
    x, y = float(X[i, j]), float(Y[i, j])
    assert Z[i, j] == pytest.approx(float(surface(x, y)), rel=1e-12)
    assert (gx[i, j], gy[i, j]) == pytest.approx(tuple(map(float, surface.grad(x, y))), rel=1e-12)
    # A scalar y broadcasts against an array x, in f and in both gradient parts.
    gx_b, gy_b = surface.grad(X[0], 0.5)
    assert gx_b.shape == gy_b.shape == (17,), "grad must broadcast both components"
    assert np.shape(surface(X[0], 0.5)) == (17,)
    xy = random_points(surface, 12, seed=1).reshape(3, 4, 2)
    assert surface.value(xy).shape == (3, 4)
    g = surface.gradient(xy)
    assert g.shape == (3, 4, 2)
    assert g[2, 1] == pytest.approx(surface.gradient(xy[2, 1]), rel=1e-12)
    assert surface.gradient(xy[2, 1]).shape == (2,)


def test_point_arrays_must_end_in_two():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        SURFACES["bowl"].gradient(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n >= 2"):
        SURFACES["bowl"].grid(1)


# -- documented formulas and minima ---------------------------------------------------
def test_bowl_is_the_books_function():
    bowl = SURFACES["bowl"]
    xy = random_points(bowl, 50, seed=7)
    x, y = xy[:, 0], xy[:, 1]
    np.testing.assert_allclose(bowl.value(xy), x**2 / 20 + y**2, rtol=1e-14)
    np.testing.assert_allclose(bowl.gradient(xy), np.column_stack([x / 10, 2 * y]), rtol=1e-14)
    assert bowl.start == (-7.0, 2.0)
    assert bowl.minima == ((0.0, 0.0),)


@pytest.mark.parametrize(
    ("name", "point", "value"),
    [
        ("rosenbrock", (0.0, 0.0), 1.0),
        ("rosenbrock", (-1.0, 2.0), 4.0 + 100.0),
        ("beale", (0.0, 0.0), 1.5**2 + 2.25**2 + 2.625**2),
        ("himmelblau", (0.0, 0.0), 121.0 + 49.0),
        ("saddle", (3.0, 2.0), 5.0),
    ],
)
def test_known_values(name, point, value):
    assert float(SURFACES[name](*point)) == pytest.approx(value, rel=1e-14)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bowl", [(0.0, 0.0)]),
        ("quadratic", [(0.0, 0.0)]),
        ("rosenbrock", [(1.0, 1.0)]),
        ("beale", [(3.0, 0.5)]),
        (
            "himmelblau",
            [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        ),
    ],
)
def test_documented_minima(name, expected):
    surface = SURFACES[name]
    assert len(surface.minima) == len(expected)
    for got, want in zip(surface.minima, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-6), f"{name}: minimum {got}, expected {want}"
    for point in surface.minima:
        assert np.abs(surface.gradient(point)).max() < 1e-10, f"{name}: gradient at {point}"
        assert np.all(np.linalg.eigvalsh(numeric_hessian(surface, point)) > 0), (
            f"{name}: {point} is not a minimum (Hessian not positive definite)"
        )
        assert float(surface(*point)) == pytest.approx(0.0, abs=1e-20)
    assert surface.f_min == pytest.approx(0.0, abs=1e-20)


def test_quadratic_has_the_requested_condition_and_rotation():
    angle = 0.4
    surface = quadratic(25.0, angle)
    H = numeric_hessian(surface, (0.3, -0.7))
    eigenvalues, eigenvectors = np.linalg.eigh(H)
    assert eigenvalues == pytest.approx([1.0, 25.0], rel=1e-6)
    flat = eigenvectors[:, 0]  # direction of curvature 1
    assert abs(flat @ [math.cos(angle), math.sin(angle)]) == pytest.approx(1.0, rel=1e-9), (
        f"the flat direction {flat} should be rotated by {angle} rad"
    )
    registered = SURFACES["quadratic"]
    reference = quadratic(10.0, math.pi / 6)
    xy = random_points(registered, 20, seed=3)
    np.testing.assert_allclose(registered.value(xy), reference.value(xy), rtol=1e-14)
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="condition"):
            quadratic(bad)


def test_saddle_has_a_stationary_point_but_no_minimum():
    saddle = SURFACES["saddle"]
    assert saddle.minima == ()
    assert saddle.f_min is None
    assert saddle.stationary == ((0.0, 0.0),)
    assert np.abs(saddle.gradient((0.0, 0.0))).max() == 0.0
    eig = np.linalg.eigvalsh(numeric_hessian(saddle, (0.0, 0.0)))
    assert eig[0] < 0 < eig[1], f"the origin should be a saddle point, Hessian eigenvalues {eig}"
    _x0, y0 = saddle.start
    assert 0 < abs(y0) < 1e-2, "the start should sit a hair off the ridge y = 0"


def test_valleys_minima_are_exact_and_ranked():
    valleys = SURFACES["valleys"]
    assert len(valleys.minima) == 1
    assert len(valleys.local_minima) >= 2
    for point in (*valleys.minima, *valleys.local_minima):
        assert np.abs(valleys.gradient(point)).max() < 1e-12, f"gradient at {point}"
        assert np.all(np.linalg.eigvalsh(numeric_hessian(valleys, point)) > 0), (
            f"{point} is not a minimum"
        )
    best = float(valleys(*valleys.minima[0]))
    for point in valleys.local_minima:
        assert float(valleys(*point)) > best + 0.1, f"{point} should be shallower than the global"
    assert valleys.f_min == best


def test_valleys_has_no_unlisted_minima():
    # Gradient descent from a grid of starts must end in a listed minimum, and
    # every listed minimum must catch some start.
    valleys = SURFACES["valleys"]
    listed = np.array([*valleys.minima, *valleys.local_minima])
    g = np.linspace(-5, 5, 15)
    xy = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    for _ in range(3000):
        xy = xy - 0.2 * valleys.gradient(xy)
    dist = np.linalg.norm(xy[:, None, :] - listed[None, :, :], axis=-1)
    nearest = dist.min(axis=1)
    assert nearest.max() < 1e-4, f"descent ended at an unlisted point {xy[np.argmax(nearest)]}"
    assert set(np.argmin(dist, axis=1)) == set(range(len(listed))), "a listed minimum is never hit"


# -- curves ------------------------------------------------------------------------
def test_curve_registry():
    assert {"parabola", "hills"} <= set(curve_names())
    assert get_curve("HILLS") is CURVES["hills"]
    assert get_curve(CURVES["parabola"]) is CURVES["parabola"]
    with pytest.raises(ValueError, match="parabola"):
        get_curve("valley")


@pytest.mark.parametrize("curve", list(CURVES.values()), ids=list(CURVES))
def test_curve_derivative_and_minima(curve: Curve):
    x = np.random.default_rng(0).uniform(*curve.window, 200)
    h = 1e-6
    numeric = (curve(x + h) - curve(x - h)) / (2 * h)
    np.testing.assert_allclose(curve.derivative(x), numeric, rtol=1e-6, atol=1e-7)
    xs, ys = curve.grid(50)
    assert xs.shape == ys.shape == (50,)
    for m in (*curve.minima, *curve.local_minima):
        assert abs(curve.df(m)) < 1e-12, f"{curve.name}: f'({m}) = {curve.df(m)}"
        assert curve.df(m + 1e-4) > 0 > curve.df(m - 1e-4), f"{m} is not a minimum"
    assert curve.window[0] < curve.start < curve.window[1]


def test_hills_has_a_local_and_a_global_minimum():
    hills = CURVES["hills"]
    assert len(hills.minima) == 1
    assert len(hills.local_minima) == 1
    assert hills(hills.minima[0]) < hills(hills.local_minima[0]) - 0.5
    # Between the two hollows lies a hump: the start must be on the far side.
    # Between the two hollows lies a hump (the middle root of f'(x) = x^3 - 2x + 1/2).
    hump = float(np.sort(np.roots([1.0, 0.0, -2.0, 0.5]).real)[1])
    assert hills.df(hump) == pytest.approx(0.0, abs=1e-12)
    assert hills.minima[0] < hump < hills.local_minima[0] < hills.start, (
        "the explorer should start on the far side of the hump, beside the shallow hollow"
    )
