"""Lesson 08's bridge to PyTorch, its clip_grad_norm exercise and the optional dependency."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from descentlab import torch_bridge as tb  # noqa: E402
from descentlab.checks.function_exercises import clip  # noqa: E402
from descentlab.data import load_digits  # noqa: E402
from descentlab.nets import MultiLayerNet  # noqa: E402
from descentlab.optimizers import OPTIMIZERS, Adam, RMSProp, optimizer_class  # noqa: E402
from descentlab.requires import TORCH_INSTALL, need_torch  # noqa: E402


# -- the same network ---------------------------------------------------------------------------
def test_torch_mlp_computes_what_the_course_network_computes() -> None:
    net = MultiLayerNet(6, [5, 4], 3, seed=2)
    x = np.random.default_rng(0).normal(size=(7, 6))
    model = tb.torch_mlp(net)
    assert np.allclose(model(torch.from_numpy(x)).detach().numpy(), net.predict(x),
                       rtol=1e-12, atol=1e-12)
    model[0].weight.data.zero_()  # a copy: the course network keeps its weights
    assert np.any(net.params["W1"] != 0)


def test_training_side_by_side_gives_the_same_losses() -> None:
    run = tb.train_side_by_side(Adam(), lambda p: torch.optim.Adam(p), load_digits(),
                                iters=20, hidden=(20, 20))
    assert run.max_difference < 1e-12
    assert run.course[-1] < run.course[0]  # it trains


def test_a_different_optimizer_gives_other_losses() -> None:
    run = tb.train_side_by_side(Adam(), lambda p: torch.optim.SGD(p, lr=1e-3), load_digits(),
                                iters=5, hidden=(20,))
    assert run.max_difference > 1e-6


def test_a_changed_default_is_named_before_a_formula_is_suspected() -> None:
    """A student audit: a lesson-6 Adam with lr=0.01 in its __init__ (its check looks at no
    default) made lesson 8's side-by-side runs differ, and the cell blamed epsilon."""

    class StudentAdam:  # what lesson 6's skeleton keeps, with two defaults changed
        def __init__(self, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-7):
            self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps

    assert tb.defaults_unlike_torch(StudentAdam(), "adam") == [
        "lr: 0.01 here, 0.001 in torch", "eps: 1e-07 here, 1e-08 in torch"]
    assert tb.defaults_unlike_torch(Adam(), "adam") == []
    assert tb.defaults_unlike_torch(object(), "adam") == []  # other names: nothing to say


# -- the mapping table ---------------------------------------------------------------------------
def test_every_optimizer_torch_implements_has_a_torch_equivalent() -> None:
    """The table maps course optimizers, and every one whose class names torch's files.

    An optimizer torch does not have (a toy one) needs no row: adding it to the course
    touches its file, its registry line, the manifest and its notebook only.
    """
    assert set(tb.TORCH_EQUIVALENTS) <= set(OPTIMIZERS)
    implemented = {name for name, cls in OPTIMIZERS.items() if cls.torch_files}
    assert implemented <= set(tb.TORCH_EQUIVALENTS)


@pytest.mark.parametrize("name", sorted(tb.TORCH_EQUIVALENTS))
def test_the_translation_takes_the_same_steps_at_a_constant_rate(name: str) -> None:
    assert tb.equivalence_gap(name, steps=30) < 1e-9


@pytest.mark.parametrize("name", sorted(tb.TORCH_EQUIVALENTS))
def test_only_the_momentum_methods_differ_under_a_schedule(name: str) -> None:
    gap = tb.equivalence_gap(name, steps=50, schedule=lambda t: 0.05 * 0.5 ** (t // 10))
    if name in ("momentum", "nesterov"):
        assert gap > 1e-2
    else:
        assert gap < 1e-8


def test_torch_kwargs_renames_and_fills_defaults() -> None:
    assert tb.torch_kwargs("rmsprop", {"rho": 0.9}) == {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}
    assert tb.torch_kwargs("nesterov", {})["nesterov"] is True
    assert tb.torch_kwargs("adam", {"beta2": 0.99})["betas"] == (0.9, 0.99)
    with pytest.raises(ValueError, match="alpha"):
        tb.torch_kwargs("rmsprop", {"alpha": 0.9})
    with pytest.raises(ValueError, match=r"no torch\.optim equivalent"):
        tb.torch_kwargs("lion", {})


def test_torch_optimizer_uses_the_instance_hyperparameters() -> None:
    w = torch.zeros(2, requires_grad=True)
    opt = tb.torch_optimizer(RMSProp(lr=0.3, rho=0.5), [w])
    assert isinstance(opt, torch.optim.RMSprop)
    assert (opt.defaults["lr"], opt.defaults["alpha"]) == (0.3, 0.5)


def test_mapping_rows_follow_both_packages() -> None:
    rows = {row["course"].split("(")[0].strip("`"): row for row in tb.mapping_rows()}
    assert list(rows) == [optimizer_class(n).__name__ for n in tb.TORCH_EQUIVALENTS]
    assert "alpha=rho" in rows["RMSProp"]["torch"]
    assert "momentum: 0.9 here, 0 in torch" in rows["Momentum"]["defaults"]
    assert "lr: 0.01 here, 0.001 in torch" in rows["SGD"]["defaults"]
    assert rows["Adam"]["defaults"] == "—"
    assert "nesterov=True" in rows["Nesterov"]["torch"]
    table = tb.mapping_table().splitlines()
    assert len(table) == 2 + len(tb.TORCH_EQUIVALENTS)


def test_a_changed_default_shows_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    import inspect

    real = inspect.signature

    def fake(obj):  # torch.optim.Adam's lr default as if it were 0.01
        sig = real(obj)
        if obj is torch.optim.Adam.__init__:
            sig = sig.replace(parameters=[p.replace(default=0.01) if p.name == "lr" else p
                                          for p in sig.parameters.values()])
        return sig

    monkeypatch.setattr(tb.inspect, "signature", fake)
    row = next(r for r in tb.mapping_rows() if r["course"].startswith("`Adam("))
    assert row["defaults"] == "lr: 0.001 here, 0.01 in torch"


# -- schedulers, clipping, L-BFGS ------------------------------------------------------------
def test_scheduler_rates_are_the_rates_each_update_uses() -> None:
    rates = tb.scheduler_rates(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), 5, 1.0)
    assert rates.tolist() == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_plain_deep_network_explodes_and_clipping_tames_it() -> None:
    data = load_digits()
    x = torch.from_numpy(data.x_train[:64]).float()
    y = torch.from_numpy(data.t_train[:64]).long()
    losses, _ = tb.gradient_norms(tb.deep_plain_net(), x, y, steps=20, lr=0.1)
    assert len(losses) < 20  # stopped: not finite
    losses, _ = tb.gradient_norms(
        tb.deep_plain_net(), x, y, steps=20, lr=0.1,
        clip=lambda p: torch.nn.utils.clip_grad_norm_(p, 1.0))
    assert len(losses) == 20
    assert losses[-1] < losses[0]


def test_lbfgs_reaches_the_tolerance_and_counts_evaluations() -> None:
    result = tb.steps_to_tolerance(
        lambda p: torch.optim.LBFGS(p, lr=1, line_search_fn="strong_wolfe"), max_steps=50)
    assert result.iterations is not None
    assert result.final < 1e-6
    assert result.evaluations >= result.iterations
    slow = tb.steps_to_tolerance(lambda p: torch.optim.SGD(p, lr=1e-4), max_steps=10)
    assert slow.iterations is None
    assert slow.evaluations == 10


# -- the NumPy clip_grad_norm against PyTorch's ----------------------------------------
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_reference_clip_grad_norm_is_torchs(max_norm: float) -> None:
    rng = np.random.default_rng(4)
    grads = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    params = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for p, g in zip(params, grads.values(), strict=True):
        p.grad = torch.from_numpy(g.copy())
    want = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    arrays = list(grads.values())
    got = clip.clip_grad_norm(grads, max_norm)
    assert got == pytest.approx(want, rel=1e-12)
    for array, p in zip(arrays, params, strict=True):
        assert np.allclose(array, p.grad.numpy(), rtol=1e-12, atol=0)


def _clip_per_key(grads, max_norm):
    for g in grads.values():
        g *= min(max_norm / (np.linalg.norm(g) + 1e-6), 1.0)
    return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))


def _clip_no_eps(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    for g in grads.values():
        g *= min(max_norm / total, 1.0)
    return total


def _clip_always(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    for g in grads.values():
        g *= max_norm / (total + 1e-6)
    return total


def _clip_replaces(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    for key in grads:
        grads[key] = grads[key] * min(max_norm / (total + 1e-6), 1.0)
    return total


def _clip_by_largest(grads, max_norm):
    """A student audit: the largest gradient's norm in place of the total norm."""
    total = max(float(np.linalg.norm(g)) for g in grads.values())
    for g in grads.values():
        g *= min(max_norm / (total + 1e-6), 1.0)
    return total


def _clip_returns_nothing(grads, max_norm):
    clip.clip_grad_norm(grads, max_norm)


@pytest.mark.parametrize(("fn", "failed", "needle"), [
    (clip.clip_grad_norm, [], ""),
    (_clip_per_key, ["returns_norm", "clips"], "not scaled like the others"),
    (_clip_no_eps, ["clips"], "(total_norm + 1e-06)"),
    (_clip_by_largest, ["returns_norm", "clips"], "the norm of the largest one alone"),
    (_clip_always, ["below_unchanged"], "small gradients are left alone"),
    (_clip_replaces, ["in_place"], "replaced by a new array"),
    (_clip_returns_nothing, ["returns_norm"], "returned None"),
])
def test_clip_check_names_the_mistake(fn, failed: list[str], needle: str) -> None:
    out = io.StringIO()
    report = clip.check_clip_grad_norm(fn, file=out)
    assert report.failed == failed, out.getvalue()
    assert needle in out.getvalue()


# -- torch stays optional ------------------------------------------------------------
def test_need_torch_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_torch(name, *args):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_torch)
    with pytest.raises(SystemExit, match="needs PyTorch") as info:
        need_torch()
    assert TORCH_INSTALL in str(info.value)
    assert len(str(info.value).splitlines()) == 1


@pytest.mark.slow  # a fresh interpreter importing everything: ~1 s
def test_the_rest_of_descentlab_never_imports_torch() -> None:
    code = ("import sys, descentlab, descentlab.checks, descentlab.checks.function_exercises, "
            "descentlab.widgets, descentlab.nets, descentlab.yours, descentlab.course, "
            "descentlab.requires; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "False"
