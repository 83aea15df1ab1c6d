"""A Report shown as the last expression of a cell must not print a second summary."""

from IPython.core.interactiveshell import InteractiveShell

from descentlab.checks import check


class BookSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


def test_report_displays_nothing_after_check_printed_the_verdict(capsys):
    report = check(BookSGD)
    printed = capsys.readouterr().out
    assert "All checks passed" in printed
    assert report, "a correct SGD must pass its self-check"
    formatter = InteractiveShell.instance().display_formatter
    data, _ = formatter.format(report)
    assert data == {}, f"the report would be displayed again as {data}"


def test_a_problem_given_earlier_is_named_by_where_not_repeated():
    """A student audit: Adam's t = 0 explanation came in full under "first step" and again
    under "zero gradient", three lines further down."""
    from descentlab.checks.report import PropertyResult, Report

    def result(name: str, message: str) -> PropertyResult:
        return PropertyResult(name, name, name.replace("_", " "), not message, message,
                              "", 0.0, 1.0)

    report = Report("Adam", (result("first_step", "NaN."), result("carries_state", "NaN."),
                             result("in_place", ""), result("zero_grad", "NaN."),
                             result("float32", "other.")))
    lines = report.text().splitlines()
    assert lines[:5] == ["✘ first step: NaN.", "✘ carries state: (same problem as above)",
                         "✔ in_place", "✘ zero grad: (same problem as first step)",
                         "✘ float32: other."]
