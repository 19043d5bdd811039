"""Imports run one way: data -> featurize -> models -> pipelines -> the root package and CLI.

The test parses every module (imports inside functions included), so an arrow that points
back fails, whether it sits at the top of a file or inside a function that dodges a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: folder -> (package, layer); a module may import its own layer and the layers below it.
LAYERS = {
    "data": ("nce.data", 0),
    "featurize": ("nce.featurize", 1),
    "models": ("nce.models", 2),
    "pipelines": ("nce.pipelines", 3),
    "nce_api": ("nce", 4),
}


def layer_of(module: str) -> int | None:
    """Layer of an imported ``nce`` module name (None outside the package)."""
    if module != "nce" and not module.startswith("nce."):
        return None
    for package, layer in sorted(LAYERS.values(), key=lambda v: -len(v[0])):
        if module == package or module.startswith(package + "."):
            return layer
    return LAYERS["nce_api"][1]  # nce.cli and the root itself


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``nce`` import in a file, relative imports resolved."""
    folder = path.parent.name
    package = LAYERS[folder][0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((node.lineno, module))
            if module in ("nce",) + tuple(p for p, _ in LAYERS.values()):
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, m) for line, m in found if layer_of(m) is not None]


MODULES = sorted(p for folder in LAYERS for p in (ROOT / folder).glob("*.py"))


def test_every_layer_has_modules():
    assert {p.parent.name for p in MODULES} == set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_point_one_way(path):
    own = LAYERS[path.parent.name][1]
    back = [f"line {line}: {module}" for line, module in imported_modules(path) if layer_of(module) > own]
    assert not back, f"{path.parent.name}/{path.name} imports a later layer: {back}"


def test_the_check_sees_a_back_arrow(tmp_path):
    """The parser finds imports inside functions and ``from nce import __version__``."""
    folder = tmp_path / "featurize"
    folder.mkdir()
    module = folder / "x.py"
    module.write_text("def f():\n    from nce.models.io import save\n    from nce import __version__\n")
    found = imported_modules(module)
    assert [layer_of(m) for _, m in found] == [2, 4, 4]
