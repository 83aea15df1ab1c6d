# The two commands of the README:
#   make lab   - install everything into .venv and open the course in JupyterLab
#   make test  - install everything into .venv and run the whole test suite
# Only Python >= 3.10 with pip and venv is needed beforehand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# nbgrader shells out to `alembic` and jupyter to its own commands: put the
# environment's bin/ first on PATH even when it is not activated.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test check install jail lint release grade formgrader clean binder-url

# Jupyter refuses to start as root unless told; containers often run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# LAB_ARGS: more of JupyterLab's own options, e.g. LAB_ARGS="--port=8890 --no-browser".
lab: install
	$(BIN)/jupyter lab $(ALLOW_ROOT) $(LAB_ARGS) --notebook-dir=course course/00_blind_explorer/00_blind_explorer.ipynb

# pytest-xdist: one worker per core (TEST_WORKERS=0 runs in this process). --dist loadfile
# keeps each test file on one worker, so the session fixtures that do the heavy work (the
# graded class of autograder/tests/test_grade_class.py; test_browser.py's JupyterLab and
# Chromium) run once, on different workers, and overlap their waits for kernels and the
# browser with the rest of the suite. (--dist loadgroup would spread the rest test by test,
# but pytest-xdist 3.8 under pytest 9.2 ignores its xdist_group marks here: every worker
# then built the graded class.) --no-loadscope-reorder keeps the collection order, in which
# conftest.py puts those two longest files first (xdist's own order, most tests first,
# started the browser test late, to run on alone at the end).
TEST_WORKERS ?= auto
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: install jail
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

# The grader runs student code in bubblewrap: install it where we may (root with apt-get),
# otherwise say the one command that does.
jail:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "The grading tests need bubblewrap: sudo apt-get install bubblewrap (Debian/Ubuntu)"; exit 1; \
	  fi; }

# The fast inner loop: ruff and every test that is neither slow nor browser-bound.
check: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not slow and not browser"

install: $(VENV)/.installed $(VENV)/.lab_setup

# After pip: jupyter-events asks for jsonschema[format-nongpl], whose rfc3987-syntax
# builds some 35 Earley parsers whenever jsonschema is imported: about 3 s in every
# process that imports nbformat (descentlab-grade, each nbgrader command, JupyterLab) on
# the 2-core CI machine, for the "iri" formats no schema here uses
# (python-jsonschema/jsonschema#1428). Without it jsonschema checks every other format.
$(VENV)/.installed: source_pkg/pyproject.toml autograder/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e "source_pkg[course,dev]" -e autograder
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	touch $@

# The environment's JupyterLab: widget messages on the main shell (no kernel subshell
# racing cells in Matplotlib) and a kernel websocket that sends at once
# (source_pkg/src/descentlab/lab_setup.py says why).
$(VENV)/.lab_setup: $(VENV)/.installed source_pkg/src/descentlab/lab_setup.py
	$(BIN)/python -m descentlab.lab_setup
	touch $@

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

release: install
	$(BIN)/descentlab-release

# make grade SUBMISSIONS=path/to/export.zip [GRADE_ARGS="--lessons 03_momentum"]
# Exit status 1 (some files not graded) is an outcome the summary lists, not a failure of
# make: say so instead of make's "Error 1". Other statuses stop make as usual.
grade: install
	@status=0; $(BIN)/descentlab-grade $(SUBMISSIONS) $(GRADE_ARGS) || status=$$?; \
	if [ $$status = 1 ]; then \
	  echo "Not every notebook was graded (one missing, rejected or failed): each is listed above with its reason, and in the CSV."; \
	else exit $$status; fi

# nbgrader's formgrader reads nbgrader_config.py from the folder JupyterLab starts in
# (autograder/README.md, step 6); it runs `alembic`, found on the PATH set above.
formgrader: install
	cd autograder && $(abspath $(BIN))/jupyter lab $(ALLOW_ROOT) $(LAB_ARGS)

# make binder-url: print the README's Binder badge link for this clone's GitHub remote
# (`origin`, https or ssh form; BINDER_REMOTE=... overrides it). Paste the link into the
# badge at the top of README.md whenever the repository moves; tests/test_binder.py checks
# that the badge has exactly the form derived here.
BINDER_NOTEBOOK := course/00_blind_explorer/00_blind_explorer.ipynb
BINDER_REMOTE ?= $(shell git remote get-url origin 2>/dev/null)

binder-url:
	@slug=$$(printf '%s\n' '$(BINDER_REMOTE)' \
	  | sed -nE 's#^(https://([^@/]+@)?|ssh://git@|git@)github\.com[:/]([^/]+/[^/]+)/?$$#\3#p' \
	  | sed -E 's#\.git$$##'); \
	if [ -z "$$slug" ]; then \
	  echo "make binder-url: no GitHub remote (got '$(BINDER_REMOTE)' from origin or BINDER_REMOTE);" \
	       "add one with git remote add origin https://github.com/OWNER/REPO.git" >&2; \
	  exit 1; \
	fi; \
	echo "https://mybinder.org/v2/gh/$$slug/HEAD?urlpath=lab/tree/$(BINDER_NOTEBOOK)"
