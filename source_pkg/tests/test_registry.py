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


# -- per-optimizer facts on the classes ---------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_update_is_the_formula_behind_the_input_checks(cls: type[Optimizer]) -> None:
    """Each class writes its own update, decorated with checks_inputs (trace skips the checks)."""
    assert "update" in vars(cls), f"{cls.__name__} does not write its own update"
    assert callable(getattr(cls.update, "__wrapped__", None)), (
        f"{cls.__name__}.update is not decorated with checks_inputs"
    )
    with pytest.raises(TypeError, match="dicts of NumPy arrays"):
        cls().update([1.0], [1.0])


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_state_words_name_the_state(cls: type[Optimizer]) -> None:
    words, attr = cls.state_in_words()
    if cls.state_names:
        assert cls.state_words != "state", f"{cls.__name__}: say what its state is"
        for name in cls.state_names:
            assert f"self.{name}" in words
        assert attr == f"self.{cls.state_names[0]}"
    else:
        assert (words, attr) == ("state", "self.state")


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_optimizers_that_divide_say_so(cls: type[Optimizer]) -> None:
    """Dividing by a gradient statistic needs an epsilon, and the other way round."""
    has_eps = any(h.name == "eps" for h in cls.hyperparameters)
    assert cls.divides_by_gradient_statistic == has_eps, cls.__name__


def _sampled() -> dict[str, list[tuple[type[Optimizer], Hyperparameter]]]:
    by_name: dict[str, list[tuple[type[Optimizer], Hyperparameter]]] = {}
    for cls in CLASSES:
        for h in cls.hyperparameters:
            by_name.setdefault(h.name, []).append((cls, h))
    return by_name


@pytest.mark.parametrize("name", sorted(_sampled()))
def test_a_hyperparameter_name_is_drawn_one_way(name: str) -> None:
    """One value per name and case: every optimizer with that name must agree on its range,
    which builds valid optimizers; only arguments a student's class may leave out keep
    their default."""
    from descentlab.checks.spec import required_arguments

    specs = _sampled()[name]
    samplings = {h.sampling() for _, h in specs}
    assert len(samplings) == 1, f"{name!r} is drawn in different ways: {samplings}"
    sampling = samplings.pop()
    for cls, _ in specs:
        if sampling is None:
            assert name not in required_arguments(cls.name), (
                f"{cls.__name__}: {name!r} is required but the hidden tests keep its default"
            )
            continue
        for value in (sampling.low, sampling.high):
            assert getattr(cls(**{name: value}), name) == value


@pytest.mark.parametrize("seed", range(40))
def test_drawn_values_follow_the_metadata(seed: int) -> None:
    import numpy as np

    from descentlab.checks.cases import draw_hyperparameters

    hyper = draw_hyperparameters(np.random.default_rng(seed))
    for name, specs in _sampled().items():
        sampling = specs[0][1].sampling()
        if sampling is None:
            assert name not in hyper
            continue
        value = hyper[name]
        assert sampling.low <= value <= sampling.high, (name, value)
        for avoided in (*sampling.avoid, *(h.default for _, h in specs)):
            assert abs(value - avoided) > sampling.margin * abs(avoided) * 0.999, (name, value)
    for cls in CLASSES:
        assert cls.reveals_mistakes(hyper), cls.__name__


def test_adam_draws_betas_that_reveal_a_missing_bias_correction() -> None:
    assert not OPTIMIZERS["adam"].reveals_mistakes({"beta1": 0.9, "beta2": 0.99})
    assert OPTIMIZERS["adam"].reveals_mistakes({"beta1": 0.85, "beta2": 0.995})


class _Shrink(Optimizer):
    r"""A toy optimizer with a hyperparameter no reference has: :math:`\theta \leftarrow
    (1 - \delta)\,\theta - \eta g`."""

    name = "shrink"
    hyperparameters = (
        OPTIMIZERS["sgd"].hyperparameters[0],
        Hyperparameter("shrink", 0.1, 0.0, 0.5, False, "fraction of θ removed", r"\delta",
                       "nonnegative"),
    )

    def __init__(self, lr: float = 0.01, shrink: float = 0.1) -> None:
        super().__init__(lr=lr, shrink=shrink)

    def update(self, params, grads):  # type: ignore[no-untyped-def]
        for key in params:
            params[key] *= 1 - self.shrink
            params[key] -= self.lr * grads[key]


class _HardCodedShrink:
    """A student's version that takes ``shrink`` but uses the default 0.1."""

    def __init__(self, lr: float = 0.01, shrink: float = 0.1) -> None:
        self.lr = lr

    def update(self, params, grads):  # type: ignore[no-untyped-def]
        for key in params:
            params[key] *= 1 - 0.1
            params[key] -= self.lr * grads[key]


def _run_case(factory: Callable[..., object], hyper: dict[str, float], case: object) -> dict:
    params = {k: a.copy() for k, a in case.params.items()}  # type: ignore[attr-defined]
    opt = factory(**hyper)
    for grads in case.grads:  # type: ignore[attr-defined]
        opt.update(params, grads)  # type: ignore[attr-defined]
    return params


def test_a_new_hyperparameter_is_drawn_so_a_hard_coded_default_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registering an optimizer with a new hyperparameter is enough for the hidden tests to
    draw it (from its slider range, away from its default), so a class that ignores it fails."""
    import numpy as np

    from descentlab.checks.cases import make_case

    monkeypatch.setitem(OPTIMIZERS, "shrink", _Shrink)
    case = make_case(3, shapes={"W": (2, 3)}, calls=3)
    hyper = case.hyper_for("shrink")
    assert 0.0 <= hyper["shrink"] <= 0.5
    assert abs(hyper["shrink"] - 0.1) > 0.002, "the default was drawn"
    ours, theirs = _run_case(_Shrink, hyper, case), _run_case(_HardCodedShrink, hyper, case)
    assert not np.allclose(ours["W"], theirs["W"], rtol=1e-6), "the hard-coded default passed"
    # The check can fail: had the new name kept its default, the mistake would not show.
    at_default = {**hyper, "shrink": 0.1}
    np.testing.assert_allclose(_run_case(_Shrink, at_default, case)["W"],
                               _run_case(_HardCodedShrink, at_default, case)["W"], rtol=1e-12)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_optimizers_with_state_say_how_it_changes(cls: type[Optimizer]) -> None:
    """The feedback on a wrong later call quotes the class's own recurrence."""
    if cls.state_names:
        assert cls.recurrence, f"{cls.__name__}: say how its state changes from call to call"
    assert cls.step_factors, cls.__name__


def test_feedback_words_come_from_the_optimizers_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new optimizer's recurrence and step factors reach the feedback with no table to edit."""
    from descentlab.checks.compare import later_call_message
    from descentlab.checks.messages import factor_hint

    class Shrink(_Shrink):
        recurrence = "θ shrinks by (1 − δ) on every call"
        step_factors = "the learning rate? the (1 − δ) factor?"

    monkeypatch.setitem(OPTIMIZERS, "shrink", Shrink)
    assert Shrink.recurrence in later_call_message(3, "W", "0.5", "shrink", reset=False)
    assert Shrink.step_factors in factor_hint("shrink", 3.7, {})
    assert Optimizer.step_factors in factor_hint("not-registered", 3.7, {})
