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
