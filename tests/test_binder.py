"""Static checks of the Binder (repo2docker) configuration.

mybinder.org cannot be reached from the test machines, so these tests check
what repo2docker will read: ``environment.yml`` at the repository root (no
``binder/`` folder or Dockerfile shadowing it), its agreement with
``source_pkg/pyproject.toml``, the optional ``postBuild`` script, and the
README's Binder badge pointing at a notebook that exists.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml  # installed with jupyterlab (jupyter_server -> jupyter_events -> pyyaml)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli on Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = ROOT / "environment.yml"
PYPROJECT = ROOT / "source_pkg" / "pyproject.toml"
POSTBUILD = ROOT / "postBuild"
README = ROOT / "README.md"

#: PyPI name -> the conda-forge package names that provide it.
CONDA_ALIASES = {
    "matplotlib": {"matplotlib", "matplotlib-base"},
    # conda-forge's CPU-only PyTorch; "pytorch" would admit a CUDA build.
    "torch": {"pytorch-cpu"},
}

# "numpy", "numpy=2.3", "numpy==2.3.1", "numpy>=2.3", "numpy 2.3.*"
_CONDA_SPEC = re.compile(
    r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?:(?P<op>==|=|>=|\s)\s*(?P<version>[0-9][0-9A-Za-z.*]*))?$"
)


def _environment() -> dict:
    with ENVIRONMENT.open(encoding="utf-8") as fh:
        env = yaml.safe_load(fh)
    assert isinstance(env, dict), "environment.yml must be a YAML mapping"
    return env


def _conda_specs(env: dict) -> dict[str, tuple[str | None, Version | None]]:
    """Return {normalised conda name: (operator, lowest admitted version)}."""
    specs: dict[str, tuple[str | None, Version | None]] = {}
    for dep in env.get("dependencies", []):
        if not isinstance(dep, str):
            continue
        match = _CONDA_SPEC.match(dep.strip())
        assert match, f"environment.yml: cannot read the conda dependency {dep!r}"
        version = match["version"]
        lowest = Version(version.rstrip(".*")) if version else None
        specs[canonicalize_name(match["name"])] = (match["op"], lowest)
    return specs


def _pip_entries(env: dict) -> list[str]:
    entries: list[str] = []
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            entries.extend(dep["pip"])
    return entries


def _required() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    names = project["dependencies"] + project["optional-dependencies"]["course"]
    return [Requirement(spec) for spec in names]


def test_environment_yml_is_at_the_root_and_not_shadowed() -> None:
    assert ENVIRONMENT.is_file(), "environment.yml must sit at the repository root for Binder"
    shadows = [p for p in ("binder", ".binder", "Dockerfile") if (ROOT / p).exists()]
    assert not shadows, (
        f"{shadows} exist at the repository root: repo2docker would use them and "
        "ignore the root environment.yml/postBuild"
    )


def test_environment_uses_conda_forge_and_pins_python() -> None:
    env = _environment()
    assert env.get("channels") == ["conda-forge"], (
        f"channels should be exactly [conda-forge], got {env.get('channels')}"
    )
    op, version = _conda_specs(env).get("python", (None, None))
    pinned = "python must be pinned (e.g. python=3.11): repo2docker's default Python is older"
    assert version is not None, pinned
    assert op in {"=", "=="}, pinned
    requires = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["requires-python"]
    assert Requirement(f"python{requires}").specifier.contains(version), (
        f"environment.yml pins python {version}, outside requires-python {requires}"
    )


@pytest.mark.parametrize("requirement", _required(), ids=lambda r: r.name)
def test_every_dependency_is_listed_and_compatible(requirement: Requirement) -> None:
    specs = _conda_specs(_environment())
    name = canonicalize_name(requirement.name)
    candidates = CONDA_ALIASES.get(name, {name})
    found = [c for c in candidates if c in specs]
    assert found, (
        f"{requirement.name} (from pyproject.toml) is missing from environment.yml "
        f"(looked for {sorted(candidates)})"
    )
    _, lowest = specs[found[0]]
    assert lowest is not None, (
        f"{found[0]} is not pinned in environment.yml; pin a version that exists on "
        "conda-forge so Binder builds are reproducible"
    )
    assert requirement.specifier.contains(lowest), (
        f"environment.yml admits {found[0]} {lowest}, but pyproject.toml requires "
        f"{requirement} (pin at or above the lower bound)"
    )


def test_torch_is_pinned_to_the_cpu_build_and_pip_never_installs_it() -> None:
    """An unpinned torch (or a range) lets pip choose a newer, multi-GB CUDA build."""
    torch = [r for r in _required() if canonicalize_name(r.name) == "torch"]
    assert torch, "lesson 08 needs torch in pyproject.toml's [course] extra"
    assert [s.operator for s in torch[0].specifier] == ["=="], (
        f"pin torch exactly in pyproject.toml (torch==X.Y.Z), not {torch[0]}")
    for entry in _pip_entries(_environment()):
        pulls_torch = "[" in entry or "torch" in entry.lower()  # an extra, or torch itself
        assert not pulls_torch, (
            f"environment.yml's pip entry {entry!r} would make pip install torch: "
            "conda's pytorch-cpu provides it")


def test_local_package_is_pip_installed() -> None:
    entries = _pip_entries(_environment())
    local = [e for e in entries if e.removeprefix("-e").strip().rstrip("/") == "./source_pkg"]
    assert local, f"environment.yml's pip section must install ./source_pkg, got {entries}"
    assert (ROOT / "source_pkg" / "pyproject.toml").is_file()


@pytest.mark.slow  # runs postBuild with nbgrader: ~6 s
def test_postbuild_stops_on_errors_and_writes_a_writable_exchange(tmp_path: Path) -> None:
    # postBuild exists only to give nbgrader a writable exchange on Binder.
    assert POSTBUILD.is_file(), "postBuild (writing the nbgrader exchange config) is missing"
    lines = [
        line.strip()
        for line in POSTBUILD.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    first = lines[0] if lines else ""
    assert re.fullmatch(r"set -[a-z]*e[a-z]*( -o pipefail)?", first), (
        f"postBuild must start with `set -e` (first command is {first!r}): repo2docker "
        "does not stop on errors otherwise"
    )
    assert POSTBUILD.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"

    home = tmp_path / "home"
    home.mkdir()
    # As on Binder, `python` is the environment's (here: the one running the tests).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    env = {"PATH": path, "HOME": str(home)}
    run = subprocess.run(
        ["bash", str(POSTBUILD)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"postBuild failed:\n{run.stdout}\n{run.stderr}"
    config_file = home / ".jupyter" / "nbgrader_config.py"
    assert config_file.is_file(), f"postBuild did not write {config_file}"
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()
    root = Path(config.Exchange.root)
    assert root.is_dir(), f"postBuild sets c.Exchange.root = {root}, which is not a folder"
    assert os.access(root, os.W_OK), f"the exchange {root} is not writable"
    assert home in root.parents, f"the exchange {root} should live in the user's home"
    # ... and to set up the environment's JupyterLab for the course, as `make install` does.
    from descentlab.lab_setup import lab_overrides_file, server_config_file

    prefix = Path(sys.prefix)
    for written in (server_config_file(prefix), lab_overrides_file(prefix)):
        assert f"wrote {written}" in run.stdout, f"postBuild did not write {written}"


def test_readme_binder_badge_opens_an_existing_course_notebook() -> None:
    assert README.is_file(), "README.md is missing: it must carry the Binder badge"
    text = README.read_text(encoding="utf-8")
    urls = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\"'\]]+", text)
    assert urls, "README.md has no mybinder.org badge link"
    for url in urls:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if "urlpath" in query:
            target = query["urlpath"][0]
            assert target.startswith("lab/tree/"), (
                f"Binder link {url} should open JupyterLab (urlpath=lab/tree/...)"
            )
            target = target.removeprefix("lab/tree/")
        else:
            assert "labpath" in query, f"Binder link {url} names no notebook to open"
            target = query["labpath"][0]
        notebook = ROOT / target
        assert target.startswith("course/"), f"Binder link {url} should open a course notebook"
        assert target.endswith(".ipynb"), f"Binder link {url} should open a notebook"
        assert notebook.is_file(), f"Binder link {url} points at {target}, which does not exist"


# --- The badge and `make binder-url` -------------------------------------------------------
#
# The badge must name the GitHub repository the course lives in. `make binder-url` derives
# the link from the clone's `origin` remote; the README says to paste its output into the
# badge when the repository moves. These tests check the derivation on sample remotes and
# that the badge has exactly the form the command produces (a clone may have no remote, so
# the badge is compared with the clone's own remote only when there is one).

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="`make` is not installed")
BADGE = re.compile(r"https://mybinder\.org/v2/gh/([^/\s]+)/([^/\s]+)/[^\s)\"'\]]+")


def binder_url(remote: str) -> subprocess.CompletedProcess[str]:
    """Run ``make binder-url`` with ``remote`` standing in for ``git remote get-url origin``."""
    assert MAKE is not None
    return subprocess.run(
        [MAKE, "-s", "--no-print-directory", "-C", str(ROOT), "binder-url",
         f"BINDER_REMOTE={remote}"],
        capture_output=True, text=True, timeout=60,
    )


def _badge_urls() -> list[re.Match[str]]:
    return list(BADGE.finditer(README.read_text(encoding="utf-8")))


NOTEBOOK_URL = "HEAD?urlpath=lab/tree/course/00_blind_explorer/00_blind_explorer.ipynb"


@needs_make
@pytest.mark.parametrize(("remote", "slug"), [
    ("https://github.com/owner/repo.git", "owner/repo"),
    ("https://github.com/owner/repo", "owner/repo"),
    ("https://github.com/owner/repo/", "owner/repo"),
    ("https://token@github.com/my-org/course.v2.git", "my-org/course.v2"),
    ("git@github.com:owner/repo.git", "owner/repo"),
    ("git@github.com:owner/repo", "owner/repo"),
    ("ssh://git@github.com/owner/repo.git", "owner/repo"),
])
def test_binder_url_is_derived_from_a_github_remote(remote: str, slug: str) -> None:
    run = binder_url(remote)
    assert run.returncode == 0, f"make binder-url failed for {remote}:\n{run.stderr}"
    assert run.stdout.strip() == f"https://mybinder.org/v2/gh/{slug}/{NOTEBOOK_URL}", (
        f"make binder-url derived the wrong link from {remote}: {run.stdout.strip()}"
    )


@needs_make
@pytest.mark.parametrize("remote", [
    "", "https://gitlab.com/owner/repo.git", "/srv/git/descentlab.git",
    "https://github.com/owner", "https://github.com/owner/repo/tree/main",
])
def test_binder_url_refuses_a_remote_that_is_not_github(remote: str) -> None:
    run = binder_url(remote)
    assert run.returncode != 0, f"make binder-url accepted {remote!r}: {run.stdout}"
    assert "no GitHub remote" in run.stderr, f"unclear message for {remote!r}: {run.stderr}"
    assert not run.stdout.strip(), "a refused remote must not print a link"


@needs_make
def test_readme_badge_is_what_make_binder_url_derives() -> None:
    badges = _badge_urls()
    assert badges, "README.md has no mybinder.org badge link"
    for badge in badges:
        owner, repo = badge.group(1), badge.group(2)
        run = binder_url(f"https://github.com/{owner}/{repo}.git")
        assert run.returncode == 0, run.stderr
        assert badge.group(0) == run.stdout.strip(), (
            f"README badge {badge.group(0)} is not in the form `make binder-url` prints "
            f"({run.stdout.strip()}): refresh it with `make binder-url`"
        )


@needs_make
def test_readme_badge_points_at_this_clones_github_remote() -> None:
    origin = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"],
                            capture_output=True, text=True, timeout=30)
    if origin.returncode != 0 or binder_url(origin.stdout.strip()).returncode != 0:
        pytest.skip("this clone has no GitHub `origin` remote to compare the badge with")
    expected = binder_url(origin.stdout.strip()).stdout.strip()
    found = [b.group(0) for b in _badge_urls()]
    assert found == [expected], (
        f"README's Binder badge {found} does not open this repository "
        f"({origin.stdout.strip()}): paste the output of `make binder-url` into the badge"
    )
