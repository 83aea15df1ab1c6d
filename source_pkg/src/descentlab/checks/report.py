"""The result of a check: one line per property, and a closing verdict."""

from __future__ import annotations

from dataclasses import dataclass

from .messages import is_not_written

__all__ = ["CANNOT_CHECK", "PropertyResult", "Report"]

PASS, FAIL = "✔", "✘"

#: The name of the one result of a check that could not start (:func:`.exercise.cannot_check`).
CANNOT_CHECK = "setup"


@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property.

    Attributes
    ----------
    name : str
        Property identifier (``"first_step"``).
    title : str
        What a pass means ("first step matches the formula").
    short : str
        Label of a failure ("first step").
    passed : bool
        Whether every seed passed.
    message : str
        The diagnosis of the first failing seed (``""`` if passed).
    mistake : str
        Id of the recognised mistake, if any.
    points, max_points : float
        Points earned and available.
    seed : int or None
        The first failing seed.
    """

    name: str
    title: str
    short: str
    passed: bool
    message: str = ""
    mistake: str = ""
    points: float = 0.0
    max_points: float = 1.0
    seed: int | None = None

    def line(self) -> str:
        """``"✔ title"`` or ``"✘ short: message"``."""
        if self.passed:
            return f"{PASS} {self.title}"
        return f"{FAIL} {self.short}: {self.message}"


@dataclass(frozen=True)
class Report:
    """Per-property results of checking one student's code; truthy when all passed.

    Attributes
    ----------
    subject : str
        What was checked ("Momentum", "numerical_gradient").
    results : tuple of PropertyResult
        In the order a student should fix them.
    notes : tuple of str
        Extra remarks printed after the results.
    uncounted : str
        Why the grader gives this code nothing although its checks pass (it builds on
        the course's reference class), or ``""``: then the closing line says so, not
        "well done".
    """

    subject: str
    results: tuple[PropertyResult, ...]
    notes: tuple[str, ...] = ()
    uncounted: str = ""

    def __bool__(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def passed(self) -> list[str]:
        """Names of the properties that passed."""
        return [r.name for r in self.results if r.passed]

    @property
    def failed(self) -> list[str]:
        """Names of the properties that failed."""
        return [r.name for r in self.results if not r.passed]

    @property
    def score(self) -> float:
        """Points earned."""
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> float:
        """Points available."""
        return sum(r.max_points for r in self.results)

    def verdict(self) -> str:
        """The closing line."""
        failed, total = len(self.failed), len(self.results)
        if total and not failed and self.uncounted:
            return f"The checks pass, but the grade will not count them. {self.uncounted}"
        if total and not failed:
            return "All checks passed — well done!"
        if total == 1 and self.results[0].name == CANNOT_CHECK:
            # A student audit: "✘ cannot check: ... it was not checked", then "1 of 1 checks
            # failed" (exercise.cannot_check's report: nothing ran).
            return "Nothing was checked: do what the line above says, then run this check again."
        if failed == 1:
            return f"1 of {total} checks failed: fix it and run the check again."
        return f"{failed} of {total} checks failed: fix the first one first."

    def text(self) -> str:
        """The full verdict: one line per property, notes, closing line.

        A failure whose message was given already is shortened: to "(same problem as
        above)" right under it, else to "(same problem as first step)", naming where it was
        given (a student audit read Adam's t = 0 explanation in full under "first step" and
        again under "zero gradient").
        """
        stubs = {r.message for r in self.results if not r.passed}
        if len(self.failed) == len(self.results) > 1 and len(stubs) == 1 \
                and is_not_written(stub := stubs.pop()):
            # A student audit: the release's stub read as six failed checks, "6 of 6 checks
            # failed: fix the first one first". One line says it; nothing was checked.
            return "\n".join([f"{FAIL} {stub}", *self.notes,
                              "Nothing was checked yet: write it, run its cell, then run "
                              "this check again."])
        lines: list[str] = []
        given: dict[str, str] = {}  # problem -> the short name of the check that gave it
        previous = None
        for result in self.results:
            # One named mistake is one problem, whatever numbers each check saw (an audit
            # read lesson 08's "Likely cause: the weight decay ..." twice in full).
            problem = f"mistake {result.mistake}" if result.mistake else result.message
            if not result.passed and problem in given:
                where = "above" if problem == previous else given[problem]
                lines.append(f"{FAIL} {result.short}: (same problem as {where})")
            else:
                lines.append(result.line())
                if not result.passed:
                    given[problem] = result.short
            previous = None if result.passed else problem
        return "\n".join([*lines, *self.notes, self.verdict()])

    __str__ = text

    def _ipython_display_(self) -> None:
        # check() has already printed the verdict; as the last expression of a
        # notebook cell the report must not print a second, terser summary.
        return None

    def __repr__(self) -> str:
        return (f"<Report {self.subject}: {len(self.passed)} of {len(self.results)} "
                f"checks passed>")
