"""The layout's rules, read from the source (docs/ARCHITECTURE.md, "Rooms and the rules between
them"), so that they stay true as the code grows. Every import counts, at module level or inside a
function: a cycle hidden in a function is still a cycle."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from nodes.graph import strongly_connected

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import modules of its own app and of apps on a lower or the same tier
# (without making a cycle); entry points (below) sit above everything.
TIERS = {
    "config": 0,
    "projects": 1,
    "assets": 2,
    "providers": 2,
    "characters": 3,
    "nodes": 3,
    "generation": 4,
    "live": 5,
    "actions": 6,
    "backoffice": 7,
}
# Where requests, sockets, the admin and the command line come in: they may call any app, and no
# app imports them. Schemas are the API's own (what its routers read and answer).
ENTRY_MODULES = {"api", "views", "admin", "consumers", "routing", "urls", "asgi", "wsgi", "schemas", "forms"}
ENTRY_PACKAGES = {"management", "templatetags", "migrations"}
MAX_LINES = 400
ENGINE_MAX_LINES = 2500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for app in TIERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imported_names(path: Path) -> set[str]:
    """Every module name an import in this file can refer to, resolved to absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module → the project modules it imports."""
    known = modules()
    return {
        name: frozenset(n for n in imported_names(path) if n in known and n != name) for name, path in known.items()
    }


def third_party(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_names(path)}


def is_entry_point(module: str) -> bool:
    parts = module.split(".")
    return parts[-1] in ENTRY_MODULES or any(part in ENTRY_PACKAGES for part in parts)


def cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's algorithm, as the
    canvas uses for loops of nodes)."""
    return [sorted(group) for group in strongly_connected(edges, edges.__getitem__) if len(group) > 1]


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_import_reader_sees_imports_inside_functions():
    source = ROOT / "generation" / "running.py"
    assert "generation.queues" in imported_names(source)
    assert "nodes.graph" in imported_names(source)
    inner = ROOT / "live" / "apps.py"  # its imports are inside ready()
    assert "generation.announce" in imported_names(inner)


def test_no_module_imports_itself_back_through_others():
    assert cycles(graph()) == []


def test_apps_import_only_downward_and_no_app_imports_an_entry_point():
    wrong = []
    for module, imports in graph().items():
        for target in imports:
            if is_entry_point(target) and not is_entry_point(module):
                wrong.append(f"{module} imports the entry point {target}")
            elif not is_entry_point(module) and TIERS[target.split(".")[0]] > TIERS[module.split(".")[0]]:
                wrong.append(f"{module} imports {target}, which is above it")
    assert wrong == []


def test_the_graph_module_is_plain_python():
    assert {"django", "rq", "django_rq", "redis"} & third_party(modules()["nodes.graph"]) == set()


def test_node_types_reach_providers_only_through_the_contract():
    wrong = [
        f"{module} imports {target}"
        for module, imports in graph().items()
        if module.startswith("nodes.")
        for target in imports
        if target.startswith("providers") and target != "providers.contract"
    ]
    assert wrong == []


def calls(path: Path) -> set[str]:
    """The names of the attributes and functions this file calls (`x.enqueue(...)` gives `enqueue`)."""
    called = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            function = node.func
            called.add(function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", ""))
    return called


def test_only_the_queues_module_controls_jobs_in_rq():
    """RQ itself is imported by the queues module and by the worker (RQ's own class); a Redis
    connection for other state (presence, rate limits) is fine anywhere."""
    users_of_rq = {module for module, path in modules().items() if "rq" in third_party(path)}
    assert users_of_rq - {"generation.worker", "config.api"} == {"generation.queues"}
    queueing = {
        module
        for module, path in modules().items()
        if {"get_queue", "enqueue_in", "enqueue_at", "send_stop_job_command"} & calls(path)
    }
    assert queueing == {"generation.queues"}


def test_the_engine_is_the_engine_only_and_no_file_is_long():
    engine = sum(
        len(path.read_text().splitlines()) for name, path in modules().items() if name.startswith("generation")
    )
    assert engine <= ENGINE_MAX_LINES, f"generation/ has {engine} lines"
    long = {
        name: lines for name, path in modules().items() if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
