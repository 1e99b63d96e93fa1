"""Payments sit below every app that sells something with them: they build on accounts
(and the shared `funsun` package) only. Nothing under payments/ imports an app above it,
and no payments migration depends, even indirectly, on one."""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

PAYMENTS = Path(apps.get_app_config("payments").path)
BELOW = {"payments", "accounts"}  # what payments may build on, besides funsun and libraries


def apps_above() -> set[str]:
    """The project's own apps (not Django's, not libraries') that payments may not use."""
    base = Path(settings.BASE_DIR).resolve()
    own = {c.label for c in apps.get_app_configs() if Path(c.path).resolve().parent == base}
    return own - BELOW


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_there_are_apps_above_payments():
    # The two tests below would pass vacuously otherwise.
    assert len(apps_above()) >= 2


def test_no_module_under_payments_imports_an_app_above_it():
    above = apps_above()
    offenders = {
        str(path.relative_to(PAYMENTS.parent)): sorted(imported_roots(path) & above)
        for path in sorted(PAYMENTS.rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_payments_migration_depends_on_an_app_above_it():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    nodes = [node for node in graph.leaf_nodes() if node[0] == "payments"]
    assert nodes, "payments has migrations"
    above = apps_above()
    for node in nodes:
        # Every migration that must run before this one, however indirectly.
        ancestors = graph.forwards_plan(node)
        assert {app for app, _ in ancestors} & above == set(), ancestors
