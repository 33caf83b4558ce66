"""Domain code stays plain: no request state, no adapters, no web, no commits."""

import ast
from pathlib import Path

import eventreg

DOMAIN = Path(eventreg.__file__).parent / "domain"
FORBIDDEN_MODULES = ("flask", "eventreg.web", "eventreg.adapters", "eventreg.cli", "eventreg.worker")


def _imports(tree: ast.AST, package: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against eventreg.domain
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            else:
                yield node.module


def test_domain_imports_no_web_or_adapters():
    offenders = []
    for path in DOMAIN.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for name in _imports(tree, "eventreg.domain"):
            if name.startswith(FORBIDDEN_MODULES):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_domain_never_commits_or_reads_the_clock():
    offenders = []
    for path in DOMAIN.glob("*.py"):
        source = path.read_text("utf-8")
        for needle in (".commit(", "datetime.now(", "utcnow(", "date.today("):
            if needle in source:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []
