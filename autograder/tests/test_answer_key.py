"""Each lesson's answer key (what the jail's copy of descentlab and torch hide) comes from
the course manifest and is what the answer-cell tables gave before (no jail needed)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import descentlab
from descentlab.course import LESSONS, Exercise, GradedCell, Lesson, lesson_ids
from descentlab.optimizers.registry import OPTIMIZERS
from descentlab_grading import answer_key

REAL = Path(descentlab.__file__).resolve().parent

_LOOP = {"optimizers/base.py": {"Optimizer": ["state_of"]}}
_ADAM_TORCH = {"optim/_functional.py": {"sparse_adam": "*"}, "optim/adam.py": "*",
               "optim/adamw.py": "*", "optim/sparse_adam.py": "*"}

#: (package answer key, torch answer key) of every lesson, computed once from the code
#: before the derivation moved to the manifest (answer_key.answer_key / torch_answer_key
#: of each notebook's answer-cell names, with the OTHER_REFERENCES / TORCH_REFERENCES
#: tables). It pins the jail's behaviour: a change here must be deliberate.
BEFORE: dict[str, tuple[dict, dict]] = {
    "00_blind_explorer": ({"nets/mlp.py": {"MLP": ["numerical_gradient"]}}, {}),
    "01_gd_variants": ({"data.py": {"minibatches": "*"}, **_LOOP,
                        "optimizers/sgd.py": {"SGD": "*"}}, {"optim/sgd.py": "*"}),
    "02_sgd_zigzag": ({}, {}),
    "03_momentum": ({**_LOOP, "optimizers/sgd.py": {"Momentum": "*", "Nesterov": "*"}},
                    {"optim/sgd.py": "*"}),
    "04_adagrad": ({"optimizers/adagrad.py": {"AdaGrad": "*"}, **_LOOP},
                   {"optim/adagrad.py": "*"}),
    "05_rmsprop": ({**_LOOP, "optimizers/rmsprop.py": {"AdaDelta": "*", "RMSProp": "*"}},
                   {"optim/adadelta.py": "*", "optim/rmsprop.py": "*"}),
    "06_adam": ({"optimizers/adam.py": {"Adam": "*", "AdamW": "*"}, **_LOOP}, _ADAM_TORCH),
    "07_showdown": ({"schedules.py": {"cosine": "*", "warmup_cosine": "*"}}, {}),
    "08_torch_optim": ({"optimizers/adam.py": {"Adam": "*", "AdamW": "*"}, **_LOOP},
                       _ADAM_TORCH),
}

#: The one deliberate difference: the old table named lesson 00's net class "MLP", which
#: nets/mlp.py does not define, so its stub hid nothing; the manifest names the class.
CORRECTED = {"00_blind_explorer": ({"nets/mlp.py": {"MultiLayerNet": ["numerical_gradient"]}},
                                   {})}


def test_the_old_mlp_entry_was_a_no_op_and_the_corrected_one_is_real() -> None:
    mlp = importlib.import_module("descentlab.nets.mlp")
    assert not hasattr(mlp, "MLP")
    assert callable(mlp.MultiLayerNet.numerical_gradient)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_lessons_answer_key_is_what_it_was(lesson: Lesson) -> None:
    assert set(BEFORE) == set(lesson_ids()), "a lesson was added: pin its answer key here"
    package, torch = CORRECTED.get(lesson.id, BEFORE[lesson.id])
    assert answer_key.answer_key(REAL, lesson.exercises) == package
    assert answer_key.torch_answer_key(lesson.exercises) == torch


def test_every_stubbed_object_exists_so_no_stub_is_silently_a_no_op() -> None:
    for lesson in LESSONS:
        for module, objects in answer_key.answer_key(REAL, lesson.exercises).items():
            tree = ast.parse((REAL / module).read_text(encoding="utf-8"))
            top = {node.name: node for node in tree.body if hasattr(node, "name")}
            for name, methods in objects.items():
                assert name in top, f"{lesson.id}: {module} defines no {name}"
                if methods != "*":
                    defined = {n.name for n in top[name].body if hasattr(n, "name")}
                    assert set(methods) <= defined, f"{lesson.id}: {module}:{name} {methods}"


def test_every_optimizers_torch_files_exist_in_the_installed_torch() -> None:
    torch_dir = answer_key.torch_folder()
    if torch_dir is None:
        pytest.skip("torch is not installed")
    declared = {entry for cls in OPTIMIZERS.values() for entry in cls.__dict__.get(
        "torch_files", ())}
    assert declared, "no optimizer names a torch file"
    for entry in declared:
        relative, _, obj = entry.partition(":")
        path = torch_dir / relative
        assert path.is_file(), f"{entry}: torch has no {relative}"
        if obj:
            names = {getattr(n, "name", None) for n in ast.parse(path.read_text()).body}
            assert obj in names, f"{entry}: {relative} defines no {obj}"


def _exercise(kind: str, reference: str, same_as: tuple[str, ...] = ()) -> Exercise:
    return Exercise("thing", kind, reference, "thing", (GradedCell("test-thing", 1),),  # type: ignore[arg-type]
                    same_as=same_as)


@pytest.mark.parametrize(("exercise", "named"), [
    (_exercise("function", "descentlab.data.no_such_function"), "no_such_function"),
    (_exercise("schedule", "descentlab.schedules.cosine", ("descentlab.nets.mlp.MLP.x",)),
     "MLP"),
    (_exercise("function", "descentlab.no_such_module.f"), "no_such_module"),
])
def test_a_reference_the_package_lacks_is_a_clear_error(exercise: Exercise, named: str
                                                        ) -> None:
    with pytest.raises(ValueError, match=named):
        answer_key.answer_key(REAL, [exercise])


def test_an_optimizer_exercise_needs_a_registered_reference() -> None:
    with pytest.raises(ValueError, match="'adamax' is not a registered optimizer"):
        answer_key.answer_key(REAL, [_exercise("optimizer", "adamax")])
    with pytest.raises(ValueError, match="not a registered optimizer"):
        answer_key.torch_answer_key([_exercise("torch_optimizer", "adamax")])


def test_check_modules_and_answers_in_the_hidden_tests_stub_nothing() -> None:
    key = answer_key.answer_key(REAL, [
        _exercise("function", "descentlab.checks.function_exercises.bowl"), _exercise("value", ""),
        _exercise("quiz", "")])
    assert key == {}


def test_the_demos_know_the_reference_error_by_its_name() -> None:
    from descentlab.errors import REFERENCE_UNAVAILABLE

    # descentlab.widgets.explained prints the grading note for an error of this name.
    assert answer_key.REFERENCE_ERROR == REFERENCE_UNAVAILABLE
