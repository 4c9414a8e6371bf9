"""The shape of the code: which app may use which, and no module that needs itself. Read from the
source (every import, those inside functions too), so a local import cannot hide a cycle.

    python -m tests.test_structure     # prints the import graph's cycles and wrong arrows
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Each app may use the ones before it, never one after it.
LAYERS = ["core", "contracts", "audit", "tickets", "sla", "tmf621", "accounts"]
# What of the project's configuration an app may use: the broker hand-over and the database's
# connection options. The rest of config (settings, URLs, the WSGI and Celery entry points)
# stands above every app.
CONFIG_FOR_APPS = {"config.broker", "config.database"}


def modules() -> dict[str, pathlib.Path]:
    found = {}
    for package in [*LAYERS, "config"]:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            name = ".".join(relative.parts).removesuffix(".__init__")
            found[name] = path
    return found


def imports(path: pathlib.Path, name: str, known: dict) -> set[str]:
    """The project's modules this one imports, wherever in it the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # "from x import y": the module x.y when there is one, else x itself.
            candidates = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, name, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def wrong_arrows(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for source, targets in sorted(edges.items()):
        app = source.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if app in LAYERS and other in LAYERS and LAYERS.index(other) > LAYERS.index(app):
                wrong.append(f"{source} → {target}")
            elif app in LAYERS and other == "config" and target not in CONFIG_FOR_APPS:
                wrong.append(f"{source} → {target}")
            elif app == "core" and other != "core" and other in [*LAYERS, "config"]:
                wrong.append(f"{source} → {target}")
    return wrong


def test_no_module_imports_itself_through_others():
    assert cycles(graph()) == []


def test_every_arrow_points_down_the_layers():
    assert wrong_arrows(graph()) == []


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    assert "contracts.tasks" in edges["contracts.apps"]  # imported in ready()
    assert "tickets.services" in edges["tickets.tasks"]


if __name__ == "__main__":
    edges = graph()
    print("cycles:", *cycles(edges) or ["none"], sep="\n  ")
    print("wrong arrows:", *wrong_arrows(edges) or ["none"], sep="\n  ")
