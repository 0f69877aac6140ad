"""The package's walls: data flows one way, and the pure core touches neither pytest nor hardware."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_carbon

PACKAGE = Path(pytest_carbon.__file__).parent

# Lowest first; a module may import its own layer or lower ones, never a higher one.
LAYERS = [
    {"units", "timeline", "hookspecs", "__init__"},
    {"meters", "hardware"},
    {"sampler"},
    {"attribution", "steps"},
    {"budget", "projection", "intensity", "whatif", "compare", "merge", "results", "records"},
    {"assemble"},
    {"report", "history"},
    {"options", "selection", "config", "enforce", "fixture", "outcomes", "outputs", "runinfo", "signals", "xdist", "session", "plugin", "cli", "cli_history", "cli_comment"},
]
PURE = {"units", "timeline", "attribution", "steps", "results", "budget", "compare", "merge", "projection", "whatif", "intensity", "assemble", "records"}
FORBIDDEN_IN_PURE = {"pytest", "_pytest", "pytest_carbon.meters", "pytest_carbon.sampler", "pytest_carbon.report"}


def _top(module: str) -> str:
    """``pytest_carbon.meters.nvml`` -> ``meters``; the package's first-level name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    rel = path.relative_to(root).with_suffix("")
    package = list(rel.parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                out.add(mod)
                if not node.module:  # from . import x: x may be a module
                    where = root.joinpath(*base)
                    out.update(f"{mod}.{a.name}" for a in node.names if (where / f"{a.name}.py").exists() or (where / a.name).is_dir())
            else:
                out.add(node.module or "")
    return out


def _rank(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"{name} is in no layer: add it to LAYERS")


def _files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    for p in _files():
        _rank(_top(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)))


def test_nothing_imports_upward():
    wrong = []
    for p in _files():
        me = _top(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
        for mod in _imports(p):
            if mod.startswith("pytest_carbon.") and _rank(_top(mod)) > _rank(me):
                wrong.append(f"{p.relative_to(PACKAGE)} imports {mod}")
    assert wrong == []


def test_pure_core_imports_no_pytest_meter_sampler_or_report():
    wrong = []
    for p in _files():
        me = _top(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
        if me not in PURE:
            continue
        for mod in _imports(p):
            if any(mod == f or mod.startswith(f + ".") for f in FORBIDDEN_IN_PURE):
                wrong.append(f"{p.relative_to(PACKAGE)} imports {mod}")
    assert wrong == []


def test_the_check_sees_wrong_imports(tmp_path):
    """The walls' check itself: relative and absolute imports of a higher layer are found."""
    pkg = tmp_path / "pytest_carbon"
    pkg.mkdir()
    (pkg / "sampler.py").write_text("")
    (pkg / "units.py").write_text("from . import sampler\nfrom .report.terminal import render\nimport pytest\n")
    assert _imports(pkg / "units.py", tmp_path) == {"pytest_carbon", "pytest_carbon.sampler", "pytest_carbon.report.terminal", "pytest"}
    assert _rank(_top("pytest_carbon.sampler")) > _rank("units")


def test_no_module_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in _files() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
