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
    for path in DOMAIN.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        package = ".".join(("eventreg", *path.relative_to(DOMAIN.parent).parent.parts))
        for name in _imports(tree, package):
            if name.startswith(FORBIDDEN_MODULES):
                offenders.append(f"{path.relative_to(DOMAIN)}: {name}")
    assert offenders == []


def test_domain_never_commits_or_reads_the_clock():
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        source = path.read_text("utf-8")
        for needle in (".commit(", "datetime.now(", "utcnow(", "date.today("):
            if needle in source:
                offenders.append(f"{path.relative_to(DOMAIN)}: {needle}")
    assert offenders == []


def test_domain_packages_reexport_nothing():
    """An import line says where a thing lives: the capability folders' __init__ files stay empty."""
    crowded = [str(p.relative_to(DOMAIN)) for p in DOMAIN.rglob("__init__.py")
               if any(not isinstance(node, ast.Expr) for node in ast.parse(p.read_text("utf-8")).body)]
    assert crowded == []


def test_the_domain_is_grouped_in_capability_folders():
    """Only errors.py stays at the top of domain/: every other rule lives in a capability folder."""
    loose = sorted(p.name for p in DOMAIN.glob("*.py") if p.name not in ("__init__.py", "errors.py"))
    assert loose == []


def test_the_architecture_page_names_every_domain_module():
    """docs/architecture.md is the newcomer's map: a module it does not name is a module nobody finds."""
    page = (DOMAIN.parent.parent / "docs" / "architecture.md").read_text("utf-8")
    missing = []
    for path in sorted(DOMAIN.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        folder = path.parent.relative_to(DOMAIN.parent.parent)
        if f"{folder.as_posix()}/" not in page or f" {path.name} " not in page:
            missing.append(str(path.relative_to(DOMAIN)))
    assert missing == []


def test_domain_imports_sit_at_the_top():
    """An import inside a function hides a cycle (holds ↔ registration had one): the domain has none."""
    hidden = []
    for path in DOMAIN.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            hidden += [f"{path.relative_to(DOMAIN)}:{n.lineno}" for n in ast.walk(function)
                       if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert hidden == []
