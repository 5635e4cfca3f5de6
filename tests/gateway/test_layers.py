"""Dependencies point inward (ARCHITECTURE.md): the dialogs know no HTTP, Redis or provider;
no import cycle among the modules of `gateway`, `backend_client` and `sandbox` (imports in
functions count, those under `if TYPE_CHECKING:` do not); nothing imports the CLI; settings
import nothing of the gateway; the state layer imports only itself, the settings and named
leaves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_PACKAGES = {"fastapi", "starlette", "httpx", "redis", "twilio", "telegram", "sqlalchemy"}
FORBIDDEN_MODULES = ("gateway.channels", "gateway.state", "gateway.app", "gateway.turns")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "gateway" / "dialogs").glob("*.py")), ids=str)
def test_dialogs_import_no_transport_or_storage(path: Path) -> None:
    names = imports_of(path)
    bad = {
        n for n in names if n.split(".")[0] in FORBIDDEN_PACKAGES or n.startswith(FORBIDDEN_MODULES)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", sorted((ROOT / "backend_client").glob("*.py")), ids=str)
def test_backend_client_knows_nothing_of_the_gateway(path: Path) -> None:
    assert not {n for n in imports_of(path) if n.startswith(("gateway", "sandbox"))}


# --- no import cycle; nothing imports the CLI ------------------------------------------------

PACKAGES = ("gateway", "backend_client", "sandbox")


def modules_of(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module of `packages` under `root` by dotted name (a package by its `__init__`)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import that runs: in functions too, not under `if TYPE_CHECKING:` (its `else:`
    runs)."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def edges_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of `modules` that module `name` imports (`from p import m` names module
    `p.m` when there is one, else `p`)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets: list[str] = []
    for node in import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.extend(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:  # relative: from the package, up `level - 1` packages
            anchor = package[: len(package) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            targets.append(sub if sub in modules else base)
    edges = set()
    for target in targets:
        while target and target not in modules:  # `import a.b.c` of an object: its module
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
    return edges


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    modules = modules_of(root, packages)
    return {name: edges_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the path `a -> b -> … -> a`, or None (depth-first, iterative)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(sorted(graph[start]))]
        while pending:
            following = next(pending[-1], None)
            if following is None:  # every import of path[-1] walked: no cycle through it
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
                continue
            if following in on_path:
                return [*path[path.index(following) :], following]
            if following in done:
                continue
            path.append(following)
            on_path.add(following)
            pending.append(iter(sorted(graph[following])))
    return None


def test_no_import_cycle_among_the_modules() -> None:
    cycle = find_cycle(import_graph(ROOT))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_nothing_imports_the_cli() -> None:
    """Only `gateway/cli/` itself and `gateway/__main__.py` import `gateway.cli`."""
    graph = import_graph(ROOT)
    callers = {
        name
        for name, edges in graph.items()
        if any(e == "gateway.cli" or e.startswith("gateway.cli.") for e in edges)
        and not (name == "gateway.cli" or name.startswith("gateway.cli."))
    }
    assert callers == {"gateway.__main__"}


def test_settings_import_nothing_of_the_gateway() -> None:
    graph = import_graph(ROOT)
    outside = {
        (name, edge)
        for name, edges in graph.items()
        if name.startswith("gateway.settings")
        for edge in edges
        if not edge.startswith("gateway.settings")
    }
    assert not outside


# --- the state layer points inward only ---------------------------------------------------

STATE_MAY_IMPORT = ("gateway.state", "gateway.keys", "gateway.settings")
STATE_LEAVES = frozenset({"gateway.dialogs.model", "gateway.i18n", "gateway.preferences"})
"""Helpers the state layer may import besides: each imports nothing of the gateway but
another of them (the values of a turn, the catalogs' markers, the preferences' port)."""


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _gateway_imports(path: Path) -> set[str]:
    return {n for n in imports_of(path) if n == "gateway" or n.startswith("gateway.")}


def test_the_state_layer_imports_only_itself_the_settings_and_named_leaves() -> None:
    """`gateway/state/` never reaches up (the outbox, alerts, dialogs, resilience, console):
    a type it needs from above moves down, or a callable is passed in. Imports inside
    functions and under `if TYPE_CHECKING:` count (a type from above is a dependency too)."""
    modules = modules_of(ROOT, ("gateway",))
    up = {
        (name, imported)
        for name, path in modules.items()
        if _within(name, ("gateway.state",))
        for imported in _gateway_imports(path)
        if not _within(imported, STATE_MAY_IMPORT) and imported not in STATE_LEAVES
    }
    assert not up, f"the state layer imports from above: {sorted(up)}"


def test_the_state_layers_leaves_are_leaves() -> None:
    modules = modules_of(ROOT, ("gateway",))
    for leaf in sorted(STATE_LEAVES):
        assert leaf in modules, leaf
        assert _gateway_imports(modules[leaf]) <= STATE_LEAVES, leaf


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_walk_names_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "gateway/__init__.py": "",
            "gateway/a.py": "from gateway import b\n",
            "gateway/b.py": "def f():\n    from .sub.c import g\n",
            "gateway/sub/__init__.py": "",
            "gateway/sub/c.py": "def g():\n    import gateway.a\n",
        },
    )
    cycle = find_cycle(import_graph(root, ("gateway",)))
    assert cycle == ["gateway.a", "gateway.b", "gateway.sub.c", "gateway.a"]


def test_the_walk_ignores_type_checking_imports(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "gateway/__init__.py": "",
            "gateway/a.py": "from gateway.b import B\n",
            "gateway/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from gateway.a import A\n"
                "else:\n    import json\n"
                "class B: ...\n"
            ),
        },
    )
    graph = import_graph(root, ("gateway",))
    assert graph["gateway.a"] == {"gateway.b"}
    assert graph["gateway.b"] == set()
    assert find_cycle(graph) is None


# --- the runtime is reached through gateway.deps, typed ----------------------------------------

STATE_KEEPERS = {"gateway/app.py", "gateway/deps.py"}


def app_state_reads(path: Path) -> list[int]:
    """The lines of `path` that reach an app's `state` (`request.app.state`, `app.state`,
    `getattr(app, "state")`): only `gateway.app` and `gateway.deps` may."""

    def an_app(node: ast.expr) -> bool:  # `app`, `<…>.app`, `scope["app"]`, `scope.get("app")`
        if isinstance(node, ast.Name | ast.Attribute):
            return (node.id if isinstance(node, ast.Name) else node.attr) == "app"
        if isinstance(node, ast.Subscript):
            return isinstance(node.slice, ast.Constant) and node.slice.value == "app"
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and any(isinstance(a, ast.Constant) and a.value == "app" for a in node.args[:1])
        )

    def reaches_state(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):  # `<…>.app.state`
            return node.attr == "state" and an_app(node.value)
        return (  # `getattr(<…>.app, "state")`
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and an_app(node.args[0])
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "state"
        )

    tree = ast.parse(path.read_text(), str(path))
    lines = [node.lineno for node in ast.walk(tree) if reaches_state(node)]
    return sorted(lines)


def test_only_app_and_deps_reach_the_app_state() -> None:
    """Routes get the runtime from `gateway.deps.runtime(request)`, typed, never from
    `request.app.state` (issue #23 item 3)."""
    found = {
        path.relative_to(ROOT).as_posix(): lines
        for path in sorted((ROOT / "gateway").rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in STATE_KEEPERS
        and (lines := app_state_reads(path))
    }
    assert not found, f"read the runtime through gateway.deps.runtime(request): {found}"


def test_the_scan_finds_each_way_to_the_app_state(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f(request, app):\n"
        "    a = request.app.state.settings\n"
        "    state = request.app.state\n"
        "    b = app.state\n"
        "    c = getattr(request.app, 'state')\n"
        "    d = request.state.console_operator\n"  # the request's own state: allowed
        "    e = request.scope['state']\n"
        "    f = getattr(getattr(scope.get('app'), 'state', None), 'settings', None)\n"
        "    g = scope['app'].state\n"
    )
    assert app_state_reads(module) == [2, 3, 4, 5, 8, 9]


def test_each_part_of_a_turn_takes_at_most_five_collaborators() -> None:
    """`gateway/turns/`: the runner, its bundles, the follow-ups and their composer each hold
    five fields at most (issue #23 item 3: `TurnRunner` once took twelve)."""
    crowded = {}
    for path in sorted((ROOT / "gateway" / "turns").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                fields = [f for f in node.body if isinstance(f, ast.AnnAssign)]
                if len(fields) > 5:
                    crowded[f"{path.name}:{node.name}"] = len(fields)
    assert not crowded, f"split these along their seams (gateway/turns/ports.py): {crowded}"
