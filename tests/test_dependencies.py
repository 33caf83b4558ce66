"""scripts/run installs only pyproject.toml's `dependencies`; the `test` extra (Playwright, WeasyPrint,
pandas, ...) comes with scripts/test alone. So every package eventreg/ imports must be a runtime
dependency or one of theirs: an import that only the test extra brings in would work in the test
suite and raise ImportError in the demo (fontTools did: only WeasyPrint pulled it in)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _closure(requirements: list[str]) -> set[str]:
    """The distributions that installing ``requirements`` brings in (as installed here)."""
    found: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in found:
            continue
        found.add(key)
        for line in metadata.requires(requirement.name) or []:
            needed = Requirement(line)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                todo.append(needed)
    return {name for name, _ in found}


def _imported_top_levels() -> dict[str, str]:
    """Top-level module -> a file of eventreg/ that imports it (stdlib and eventreg itself left out)."""
    imported: dict[str, str] = {}
    for path in sorted((ROOT / "eventreg").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "eventreg":
                    imported.setdefault(top, str(path.relative_to(ROOT)))
    return imported


def test_eventreg_imports_only_what_the_runtime_dependencies_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _closure(project["dependencies"])
    distributions = metadata.packages_distributions()
    imported = _imported_top_levels()
    assert "flask" in imported and "typst" in imported  # the walk sees the app's imports
    outside = {module: file for module, file in imported.items()
               if not {canonicalize_name(d) for d in distributions.get(module, [])} & runtime}
    assert outside == {}, "imported by eventreg/ but not installed by scripts/run (pyproject dependencies)"


def test_the_test_extra_adds_what_the_runtime_does_not_have():
    """The guard above means something: the test extra's own packages are outside the runtime set."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _closure(project["dependencies"])
    for name in ("pytest", "playwright", "weasyprint", "pandas", "pymupdf"):
        assert name not in runtime
        assert any(canonicalize_name(Requirement(r).name) == name for r in project["optional-dependencies"]["test"])
