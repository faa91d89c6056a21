"""The layering, held by a test (STYLE.md "Layers"): the import graph of the code packages, built
with `ast` from every import statement (module level, inside functions, and under TYPE_CHECKING),
must keep these rules.

- From the bottom: `domain` (settings included), `storage`, `actors`, `jobs` never import
  `gateway`.
- `storage` imports only `domain.errors` of ours (and itself), plus the exceptions listed in
  STORAGE_MAY_IMPORT with their reasons.
- The kernel (`gateway.kernel`) never imports a contract package, the composition root
  (`gateway.app`, `gateway.wiring`) or `gateway.ops`.
- Contract packages (`gateway.pethealth`, `accounts`, `events`, `petcare`, `web`) never import
  each other, the composition root or ops: what two of them share lives in the kernel or the
  domain.
- No import cycle between our modules. Imports under `if TYPE_CHECKING:` are left out of this one
  rule only: they never run, and a typed key naming the class it holds is no loop.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "domain", "storage", "actors", "jobs")
CONTRACTS = (
    "gateway.pethealth",
    "gateway.accounts",
    "gateway.events",
    "gateway.petcare",
    "gateway.web",
)
KERNEL = "gateway.kernel"
ABOVE_CONTRACTS = ("gateway.app", "gateway.wiring", "gateway.ops")
BOTTOM = ("domain", "storage", "actors", "jobs")

# What storage may import of ours besides domain.errors, and why.
STORAGE_MAY_IMPORT = {
    # an event's limits and slugs are checked inside the transaction that takes the tenant's row
    # lock (check_event_limit, check_times, publish_target, event_slug): the rule is domain code,
    # applied where the count it checks cannot change under it
    ("storage.events", "domain.events"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _ours(name: str) -> str | None:
    """The module of ours `name` refers to (the longest known prefix), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of the imports inside `if TYPE_CHECKING:` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                for inner in node.body:
                    for sub in ast.walk(inner):
                        if isinstance(sub, (ast.Import, ast.ImportFrom)):
                            lines.add(sub.lineno)
    return lines


def imports_of(module: str, source: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module of ours, line, only under TYPE_CHECKING) for every import in `source`."""
    tree = ast.parse(source, str(path))
    typing_only = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _ours(alias.name)
                if target:
                    yield target, node.lineno, node.lineno in typing_only
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source_module = ".".join(base + ([node.module] if node.module else []))
            else:
                source_module = node.module or ""
            for alias in node.names:
                # `from domain import errors` imports the module domain.errors
                full = f"{source_module}.{alias.name}"
                target = _ours(full) if full in MODULES else _ours(source_module)
                if target:
                    yield target, node.lineno, node.lineno in typing_only


def _graph() -> dict[str, list[tuple[str, int, bool]]]:
    return {m: [i for i in imports_of(m, p.read_text(), p) if i[0] != m] for m, p in MODULES.items()}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _owner(module: str, packages: tuple[str, ...]) -> str | None:
    return next((p for p in packages if _within(module, p)), None)


def layer_violations(graph: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    found = []
    for module, imports in sorted(graph.items()):
        where = MODULES[module].relative_to(ROOT)
        for target, line, _ in imports:
            why = None
            bottom = _owner(module, BOTTOM)
            if bottom and _within(target, "gateway"):
                why = f"{bottom} may not import gateway"
            elif _within(module, "storage") and not (
                _within(target, "storage") or target == "domain.errors" or (module, target) in STORAGE_MAY_IMPORT
            ):
                why = "storage imports only domain.errors of ours"
            elif _within(module, KERNEL) and (_owner(target, CONTRACTS) or _owner(target, ABOVE_CONTRACTS)):
                why = "the kernel may not import a contract package, the composition root or ops"
            elif (contract := _owner(module, CONTRACTS)) and (
                (_owner(target, CONTRACTS) not in (None, contract)) or _owner(target, ABOVE_CONTRACTS)
            ):
                why = "a contract package may not import another one, the composition root or ops"
            if why:
                found.append(f"{where}:{line}: {module} imports {target} ({why})")
    return found


def cycles(graph: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each as a loop."""
    edges = {m: sorted({t for t, _, typing_only in imports if not typing_only}) for m, imports in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        # recursive: the graph is a few hundred modules deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(components)


def test_the_graph_sees_every_package():
    # a rule over an empty or partial graph would pass for nothing
    graph = _graph()
    assert {m.split(".")[0] for m in graph} == set(PACKAGES)
    assert ("gateway.kernel.keys", "gateway.kernel.keys") not in {(m, t) for m, i in graph.items() for t, _, _ in i}
    assert any(t == "gateway.kernel.api_envelope" for t, _, _ in graph["gateway.accounts.routes"])


def test_function_local_and_type_checking_imports_are_seen():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from gateway.events.feed import EventFeeds\n"
        "def f():\n"
        "    from gateway.petcare import envelope\n"
        "    import gateway.accounts.routes\n"
        "from . import quota\n"
    )
    path = ROOT / "gateway" / "pethealth" / "throttles.py"
    assert sorted(imports_of("gateway.pethealth.throttles", source, path)) == [
        ("gateway.accounts.routes", 6, False),
        ("gateway.events.feed", 3, True),
        ("gateway.petcare.envelope", 5, False),
        ("gateway.pethealth.quota", 7, False),
    ]


def test_the_rules_catch_each_kind_of_violation():
    graph = {
        "gateway.events.photos": [("gateway.accounts.credentials", 3, False)],
        "gateway.kernel.middlewares": [("gateway.petcare.envelope", 4, False)],
        "jobs.mail": [("domain.settings", 5, False), ("gateway.kernel.keys", 6, True)],
        "storage.photos": [("domain.errors", 7, False), ("domain.moderation", 8, False)],
        "gateway.web.routes": [("gateway.app", 9, False)],
    }
    assert [v.split(": ", 1)[1] for v in layer_violations(graph)] == [
        "gateway.events.photos imports gateway.accounts.credentials"
        " (a contract package may not import another one, the composition root or ops)",
        "gateway.kernel.middlewares imports gateway.petcare.envelope"
        " (the kernel may not import a contract package, the composition root or ops)",
        "gateway.web.routes imports gateway.app"
        " (a contract package may not import another one, the composition root or ops)",
        "jobs.mail imports gateway.kernel.keys (jobs may not import gateway)",
        "storage.photos imports domain.moderation (storage imports only domain.errors of ours)",
    ]
    assert cycles({"a": [("b", 1, False)], "b": [("a", 1, False)], "c": [("a", 1, True)]}) == [["a", "b"]]
    assert cycles({"a": [("b", 1, True)], "b": [("a", 1, False)]}) == []


def test_no_layer_imports_upward_and_no_contract_imports_another():
    assert layer_violations(_graph()) == []


def test_there_is_no_import_cycle():
    assert cycles(_graph()) == []
