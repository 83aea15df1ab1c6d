"""The environment ``make install`` builds: what the Makefile changes after pip."""

from __future__ import annotations

import sys

from fresh_interpreter import modules_loaded_by

#: Imported by jsonschema when installed: it builds its IRI parsers at import time.
IRI_PARSER = "rfc3987_syntax"


def test_importing_nbformat_builds_no_iri_parsers() -> None:
    """``make install`` removes rfc3987-syntax: seconds saved in every Jupyter process."""
    loaded = modules_loaded_by("import nbformat, jsonschema")
    assert "jsonschema" in loaded  # what the Makefile's comment says still holds
    assert not [m for m in loaded if m.split(".")[0] == IRI_PARSER], (
        f"importing nbformat loaded {IRI_PARSER}, which builds some 35 parsers (about 3 s "
        f"on the 2-core CI machine) in every process that imports nbformat: run `make "
        f"install` again, or `{sys.executable} -m pip uninstall rfc3987-syntax` (Makefile)"
    )


def test_jsonschema_still_checks_the_formats_jupyter_uses() -> None:
    """Without rfc3987-syntax, only the "iri" formats go unchecked; the rest still are."""
    from jsonschema import FormatChecker

    checker = FormatChecker()
    assert not checker.conforms("2026-13-45", "date")
    assert checker.conforms("2026-12-06", "date")
    assert not checker.conforms("not a uri", "uri")
    assert checker.conforms("https://jupyter.org/x", "uri")
    assert not checker.conforms("999.1.1.1", "ipv4")
    assert {"iri", "iri-reference"}.isdisjoint(checker.checkers)
