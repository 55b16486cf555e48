"""The house matches the design (DESIGN.md): no import cycles between modules, the simulated
world only imported by the CLI and the tests, the store and the engine free of serial ports."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

RIG = Path(__file__).resolve().parents[2] / "rig"


def _module(path: Path) -> str:
    parts = path.relative_to(RIG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p) for p in RIG.rglob("*.py")}


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """The rig modules a file imports: ``from pkg import sub`` counts as importing ``pkg.sub``
    when that is a module, else ``pkg``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):        # imports for type checkers only never run
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)
    return {m for m in out if m == "rig" or m.startswith("rig.")}


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    files = {_module(p): p for p in RIG.rglob("*.py")}
    g = {}
    for mod, path in files.items():
        # a module's own ancestor packages are imported before it anyway: not an edge
        g[mod] = {m for m in _imports(path, top_level_only)
                  if m in files and m != mod and not mod.startswith(m + ".")}
    return g


def _cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_cycle_at_module_level():
    assert _cycle(_graph(top_level_only=True)) is None


def test_no_import_cycle_even_through_imports_inside_functions():
    # a lazy import that closes a cycle only hides it: none either
    assert _cycle(_graph(top_level_only=False)) is None


def test_production_code_never_imports_the_simulated_world():
    offenders = []
    for path in RIG.rglob("*.py"):
        mod = _module(path)
        if mod.startswith(("rig.sim", "rig.cli")):
            continue
        if any(m == "rig.sim" or m.startswith("rig.sim.") for m in _imports(path, top_level_only=False)):
            offenders.append(mod)
    assert offenders == []


def test_the_board_package_holds_real_hardware_only():
    names = {p.stem for p in (RIG / "board").glob("*.py")}
    assert not any("sim" in n or "pty" in n for n in names), names
    assert not (RIG / "board" / "sim").exists()


@pytest.mark.parametrize("module", ["rig.store", "rig.engine.sway", "rig.engine.cop", "rig.io", "rig.report"])
def test_store_engine_and_outputs_import_no_serial_port_and_no_simulator(module):
    code = (f"import sys, {module}; bad = [m for m in ('serial', 'rig.sim', 'rig.board.link') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
