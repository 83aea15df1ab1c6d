"""The optimizer registry and the metadata every optimizer class publishes."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable

import pytest

import descentlab
from descentlab.course import teaching_order
from descentlab.optimizers import (
    OPTIMIZERS,
    Hyperparameter,
    Optimizer,
    available,
    get_optimizer,
    optimizer_class,
)

# The registry lists the optimizers in the order the course's lessons introduce them.
TEACHING_ORDER = teaching_order()
CLASSES = list(OPTIMIZERS.values())
CLASS_IDS = [cls.__name__ for cls in CLASSES]


def test_available_lists_the_names_in_teaching_order() -> None:
    assert available() == TEACHING_ORDER
    assert list(OPTIMIZERS) == TEACHING_ORDER


def test_available_returns_a_fresh_list() -> None:
    names = available()
    names.clear()
    assert available() == TEACHING_ORDER, "mutating the returned list changed the registry"


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_registry_names_match_class_names(name: str) -> None:
    cls = OPTIMIZERS[name]
    assert cls.name == name
    assert issubclass(cls, Optimizer)
    assert getattr(descentlab, cls.__name__) is cls, "every optimizer is exported at top level"


@pytest.mark.parametrize("name", TEACHING_ORDER)
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title])
def test_get_optimizer_is_case_insensitive(name: str, spelling: Callable[[str], str]) -> None:
    opt = get_optimizer(spelling(name))
    assert type(opt) is OPTIMIZERS[name]
    assert optimizer_class(spelling(name)) is OPTIMIZERS[name]


def test_get_optimizer_passes_hyperparameters() -> None:
    opt = get_optimizer("Adam", lr=0.1, beta2=0.99)
    assert (opt.lr, opt.beta1, opt.beta2) == (0.1, 0.9, 0.99)
    assert repr(get_optimizer("momentum", lr=0.1)) == "Momentum(lr=0.1, momentum=0.9)"


@pytest.mark.parametrize("bad", ["adamax", "", "s g d", "rms_prop"])
def test_unknown_name_lists_the_known_ones(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"unknown optimizer {bad!r}")) as info:
        get_optimizer(bad)
    message = str(info.value)
    for name in TEACHING_ORDER:
        assert name in message, f"{name!r} missing from the error message: {message}"


@pytest.mark.parametrize("bad", [None, 3, descentlab.Adam])
def test_non_string_name(bad: object) -> None:
    with pytest.raises(TypeError, match="optimizer name must be a string"):
        get_optimizer(bad)  # type: ignore[arg-type]


# -- metadata -------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_signature_defaults_equal_metadata_in_order(cls: type[Optimizer]) -> None:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # drop self
    assert [p.name for p in parameters] == [h.name for h in cls.hyperparameters], (
        f"{cls.__name__}: constructor arguments and `hyperparameters` differ in names or order"
    )
    for p, h in zip(parameters, cls.hyperparameters, strict=True):
        assert p.default == h.default, (
            f"{cls.__name__}.__init__ default {p.name}={p.default} but metadata says {h.default}"
        )
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert cls().get_hyperparameters() == {h.name: h.default for h in cls.hyperparameters}


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_metadata_defaults_lie_in_range_and_satisfy_the_constraint(cls: type[Optimizer]) -> None:
    assert cls.hyperparameters, f"{cls.__name__} has no hyperparameter metadata"
    for h in cls.hyperparameters:
        assert isinstance(h, Hyperparameter)
        assert h.low < h.high, f"{cls.__name__}.{h.name}: empty range [{h.low}, {h.high}]"
        assert h.low <= h.default <= h.high, (
            f"{cls.__name__}.{h.name}: default {h.default} outside [{h.low}, {h.high}]"
        )
        assert h.constraint in {"positive", "nonnegative", "unit"}, h.constraint
        for value in (h.default, h.low, h.high):
            assert h.validate(value, cls.__name__) == value, (
                f"{cls.__name__}.{h.name}: {value} fails its own constraint {h.constraint!r}"
            )
        if h.log:
            assert h.low > 0, f"{cls.__name__}.{h.name}: a log slider needs low > 0"
        assert h.meaning.strip(), f"{cls.__name__}.{h.name} has no meaning text"
        assert h.symbol.strip(), f"{cls.__name__}.{h.name} has no symbol"


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_metadata_range_can_be_used_to_build_optimizers(cls: type[Optimizer]) -> None:
    """A slider at either end of its range must give a valid optimizer."""
    for h in cls.hyperparameters:
        for value in (h.low, h.high, math.sqrt(h.low * h.high) if h.log else h.default):
            assert getattr(cls(**{h.name: value}), h.name) == value


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_metadata_names_are_unique_and_state_names_declared(cls: type[Optimizer]) -> None:
    names = [h.name for h in cls.hyperparameters]
    assert len(names) == len(set(names)), f"{cls.__name__}: duplicate names {names}"
    assert isinstance(cls.state_names, tuple)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_docstring_states_rule_defaults_and_references(cls: type[Optimizer]) -> None:
    doc = inspect.getdoc(cls) or ""
    for needle in ("math::", "Defaults", "References"):
        assert needle in doc, f"{cls.__name__}'s docstring lacks {needle!r}"


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_docstring_cites_the_learning_rate_default(cls: type[Optimizer]) -> None:
    """The "Defaults:" sentence names the default lr (as 0.01, 10^{-3}, 2\\cdot 10^{-3}, 1)."""
    doc = inspect.getdoc(cls) or ""
    defaults = doc[doc.index("Defaults") :]
    lr = next(h.default for h in cls.hyperparameters if h.name == "lr")
    mantissa, exponent = f"{lr:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    forms = {
        f"\\eta = {lr:g}",
        f"\\eta = 10^{{{int(exponent)}}}",
        f"\\eta = {mantissa}\\cdot 10^{{{int(exponent)}}}",
    }
    assert any(form in defaults for form in forms), (
        f"{cls.__name__}: none of {sorted(forms)} in its Defaults sentence"
    )
