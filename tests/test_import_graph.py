"""The modules of harness/ and emulator/ import each other one way: no cycle, and no import
that runs back up a layer, counting every import (inside functions and under TYPE_CHECKING
too: an import hidden in a function is still knowledge of the layer above). The layers are
the ones the README's ARCHITECTURE section draws, in its order."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# Bottom first. A module may import its own group and the groups of the layers below it;
# groups side by side in one layer know nothing of each other.
HARNESS_LAYERS = [
    ("harness.base",),
    ("harness.camera", "harness.jffs2"),
    ("harness.link",),
    ("harness.console",),
    ("harness.read",),
    ("harness.sd",),
    ("harness.backup",),
    ("harness.restore",),
    ("harness.cli", "harness.pytest_plugin"),
]
EMULATOR_LAYERS = [
    ("emulator.profile",),
    ("emulator.wire",),
    ("emulator.hw",),
    ("emulator.uboot",),
    ("emulator.board",),
    ("emulator.server", "emulator.control"),
    ("emulator.cli", "emulator.flashimage", "emulator"),
]
# Between the two: the emulator stands on the harness's knowledge of cameras and on its FAT32
# reader (to build cards); the harness reaches the emulator only from its pytest plugin (which
# starts one for a test that has no camera).
CROSSING = {
    "emulator": ("harness.base", "harness.camera", "harness.sd.fat32"),
    "harness.pytest_plugin": ("emulator",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, name: str, files: frozenset[str] = frozenset()) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            mod = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            subs = {f"{mod}.{a.name}" for a in node.names}  # `from . import x` names a module
            out |= subs
            if not subs <= files:  # names from the package itself, not only its modules
                out.add(mod)
    # a module's own packages are initialised before it whatever it imports: not an edge
    return {m for m in out if not name.startswith(m + ".")}


def graph() -> dict[str, set[str]]:
    files = {
        module_name(p): p for top in ("harness", "emulator") for p in (ROOT / top).rglob("*.py")
    }
    return {
        name: {m for m in imports(path, name, frozenset(files)) if m in files and m != name}
        for name, path in files.items()
    }


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def place(module: str) -> tuple[str, int]:
    """The group a module belongs to, and its layer's height."""
    layers = HARNESS_LAYERS if module.split(".")[0] == "harness" else EMULATOR_LAYERS
    best: tuple[str, int] = ("", -1)
    for height, groups in enumerate(layers):
        for g in groups:
            if (module == g or module.startswith(g + ".")) and len(g) > len(best[0]):
                best = (g, height)
    return best


def crossing_allowed(src: str, dst: str) -> bool:
    for origin, targets in CROSSING.items():
        if src == origin or src.startswith(origin + "."):
            if any(dst == t or dst.startswith(t + ".") for t in targets):
                return True
    return False


def upward(g: dict[str, set[str]]) -> list[str]:
    """Every import that is not down the layers (or along its own group)."""
    out = []
    for src, dsts in sorted(g.items()):
        group, height = place(src)
        for dst in sorted(dsts):
            if src.split(".")[0] != dst.split(".")[0]:
                if not crossing_allowed(src, dst):
                    out.append(f"{src} -> {dst} (across the projects)")
                continue
            other, h = place(dst)
            if other != group and h >= height:
                out.append(f"{src} -> {dst} ({group} may not know {other})")
    return out


def test_every_module_has_a_layer():
    assert (ROOT / "harness/__init__.py").read_text() == ""  # the one module left out
    assert not [m for m in graph() if place(m)[1] < 0 and m != "harness"]


def test_imports_run_down_the_layers():
    found = upward(graph())
    assert not found, "imports up or across the layers: " + "; ".join(found)


def test_the_layer_check_finds_an_upward_import():
    g = {"harness.read.reader": {"harness.backup.job"}, "harness.backup.job": set()}
    assert upward(g) == [
        "harness.read.reader -> harness.backup.job (harness.read may not know harness.backup)"
    ]
    assert upward({"harness.cli": {"harness.pytest_plugin"}, "harness.pytest_plugin": set()})
    assert upward({"emulator.hw.flash": {"harness.console.session"}})
    assert not upward({"harness.backup.job": {"harness.read.reader"}})


def test_the_readme_draws_these_layers():
    """The ARCHITECTURE section's drawing lists the groups, top first, as the layers here."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    drawn: dict[str, list[tuple[str, ...]]] = {"harness": [], "emulator": []}
    for line in section.split("```")[1].splitlines():
        words = line.split("  ")[0].split()
        names = [w.rstrip("/,").replace("/", ".").removesuffix(".py") for w in words]
        names = [n.removesuffix(".__init__") for n in names]
        names = [n for n in names if n.split(".")[0] in drawn]
        if names:
            drawn[names[0].split(".")[0]].insert(0, tuple(names))
    assert drawn["harness"] == HARNESS_LAYERS
    assert drawn["emulator"] == EMULATOR_LAYERS
