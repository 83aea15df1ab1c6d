"""Name the student's mistake: compare with the reference, then with the catalogue.

:func:`diagnose` runs only trusted code (the reference optimizer and the
catalogue's mutants) on the case the student's class was observed on; the
student's observation may come from another, sandboxed process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..optimizers import optimizer_class
from .cases import Case
from .compare import BEHAVIOUR, Finding, agree, compare
from .mistakes import mistakes_for
from .observe import Observation, observe
from .spec import resolve_optimizer

__all__ = ["STOPPING", "Diagnosis", "diagnose"]

#: Finding kinds that mean the class could not be used at all (they fail every property).
STOPPING = frozenset({"class", "signature", "not_written", "init"})


@dataclass(frozen=True)
class Diagnosis:
    """The outcome of checking one observation.

    Attributes
    ----------
    findings : tuple of Finding
        Every disagreement, the most important first; empty if all is well.
    printed : int
        Characters the student's code printed (hidden during the checks).
    """

    findings: tuple[Finding, ...]
    printed: int = 0

    @property
    def passed(self) -> bool:
        """True when nothing is wrong."""
        return not self.findings

    @property
    def message(self) -> str:
        """What the student reads first (``""`` when passed)."""
        return self.findings[0].message if self.findings else ""

    @property
    def mistake(self) -> str:
        """Id of the first named mistake (``""`` if none was recognised)."""
        return next((f.mistake for f in self.findings if f.mistake), "")

    def __bool__(self) -> bool:
        return self.passed


def _name_identity(finding: Finding) -> Finding:
    if finding.kind != "identity":
        return finding
    return Finding("identity", finding.message, finding.call, finding.key, mistake="not_in_place")


def diagnose(
    student: Observation,
    optimizer: str,
    case: Case,
    *,
    value_calls: int | None = None,
    kinds: Iterable[str] | None = None,
    time_limit: float | None = 2.0,
) -> Diagnosis:
    """Compare ``student`` with the reference on ``case`` and explain any difference.

    Parameters
    ----------
    student : Observation
        The student's class observed on ``case`` (:func:`~.observe.observe`).
    optimizer : str
        Registry name of the optimizer the class implements.
    case : Case
        The case of the observation (regenerate it from the seed).
    value_calls : int, optional
        Compare values only after the first ``value_calls`` calls.
    kinds : iterable of str, optional
        Keep only findings of these kinds (plus those that make the class
        unusable); default: all.
    time_limit : float or None
        Seconds a catalogue mutant may take per call.

    Returns
    -------
    Diagnosis
        If the student's values or errors match a catalogued mistake of the
        optimizer, those findings are replaced by one finding carrying the
        mistake's id and explanation; a new array in ``params`` is named
        ``not_in_place``; anything else keeps a precise generic message.
    """
    name = resolve_optimizer(optimizer)
    reference = observe(optimizer_class(name), student.hyper, case, time_limit=None)
    findings = compare(student, reference, value_calls=value_calls)
    if kinds is not None:
        keep = set(kinds) | STOPPING
        findings = [f for f in findings if f.kind in keep]
    findings = [_name_identity(f) for f in findings]
    behaviour = [f for f in findings if f.kind in BEHAVIOUR]
    if behaviour:
        for mistake in mistakes_for(name):
            mutant = observe(mistake.cls, student.hyper, case, time_limit=time_limit)
            if agree(student, mutant, value_calls=value_calls):
                first = behaviour[0]
                named = Finding(first.kind, mistake.explanation, first.call, first.key,
                                first.max_diff, mistake.id)
                findings = [named if f is first else f for f in findings
                            if f is first or f.kind not in BEHAVIOUR]
                break
    return Diagnosis(tuple(findings), student.printed)
