"""The package's architecture, as a contract: the layers of gdcourse/__init__.py's docstring, and its packaging.

The layer list in the package docstring is the single source: every module and subpackage of ``gdcourse`` must
be in exactly one layer, and no import (at module level or inside a function) may reach a later layer.  The last
tests show the checker does fail on an upward import.  Packaging: ``py.typed`` ships, the version is written
once, and every third-party package the code imports at module level is a declared dependency.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

import gdcourse

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra installs tomli on Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gdcourse"


def layers_from_docstring(doc: str) -> dict[str, int]:
    """``{unit: layer number}`` from the numbered "Layers" list of the package docstring."""
    section = doc.split("Layers.", 1)[1]
    layers: dict[str, int] = {}
    for match in re.finditer(r"^(\d)\. [a-z ]+:(.*?)(?=^\d\. |^\s*$)", section, flags=re.M | re.S):
        for unit in re.findall(r"``(\w+)``", match.group(2)):
            assert unit not in layers, f"{unit} is in two layers"
            layers[unit] = int(match.group(1))
    return layers


LAYERS = layers_from_docstring(gdcourse.__doc__)


def package_units(package: Path = PACKAGE) -> set[str]:
    """The top-level modules and subpackages of the package (what the layers list)."""
    units = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    units |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    return units


def _target(module: str) -> str | None:
    """The unit of ``gdcourse`` a dotted module name points into (``"__root__"`` for the package itself)."""
    if module == "gdcourse":
        return "__root__"
    if module.startswith("gdcourse."):
        return module.split(".")[1]
    return None


def imports_of(path: Path) -> list[tuple[int, str]]:
    """``(line, unit)`` for every import of a gdcourse unit in the file, module level or nested."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "gdcourse":  # from gdcourse import optim: the unit is the name imported
                found += [(node.lineno, a.name if a.name in LAYERS else "__root__") for a in node.names]
            elif (unit := _target(node.module)) is not None:
                found.append((node.lineno, unit))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, unit) for a in node.names if (unit := _target(a.name)) is not None]
    return found


def upward_imports(package: Path, layers: dict[str, int]) -> list[str]:
    """Every import that reaches a later layer, or the package facade from layers 1 to 3."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts == ("__init__",):
            continue  # the facade: checked by test_the_facade_imports_only_the_foundation
        unit = parts[0]
        for line, target in imports_of(path):
            where = f"{path.relative_to(package.parent)}:{line}"
            if target == "__root__":
                if layers[unit] <= 3:
                    problems.append(f"{where}: {unit} (layer {layers[unit]}) imports the package facade `gdcourse`")
            elif target != unit and layers.get(target, 99) > layers[unit]:
                problems.append(
                    f"{where}: {unit} (layer {layers[unit]}) imports {target} (layer {layers.get(target)})"
                )
    return problems


def test_every_unit_is_in_exactly_one_layer():
    units = package_units()
    assert set(LAYERS) == units, (
        f"not in a layer: {sorted(units - set(LAYERS))}; listed but missing: {sorted(set(LAYERS) - units)}"
    )


def test_no_import_reaches_a_later_layer():
    assert upward_imports(PACKAGE, LAYERS) == []


def test_the_facade_imports_only_the_foundation_at_import_time():
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    at_import = [_target(n.module) for n in tree.body if isinstance(n, ast.ImportFrom) and n.module]
    assert at_import and all(LAYERS[u] == 1 for u in at_import if u), at_import


def test_importing_an_algorithm_does_not_load_the_presentation_or_the_tools(tmp_path):
    """What a learner's import of gdcourse.train pulls in, in a fresh interpreter: nothing of layers 4 and 5."""
    import subprocess

    code = (
        "import sys, gdcourse.train, gdcourse.models, gdcourse.tuning\n"
        "print(' '.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('gdcourse.')})))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    late = sorted(u for u in loaded if LAYERS.get(u, 0) >= 4)
    assert late == [], f"importing the algorithms loads {late}"


# --- the guard guards -----------------------------------------------------------------------------------


def test_the_checker_catches_an_upward_import_at_module_level_and_in_a_function(tmp_path):
    fake = tmp_path / "gdcourse"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "optim.py").write_text("from gdcourse.plots import curves\n")
    (fake / "data.py").write_text("def f():\n    import gdcourse.grading.report\n")
    (fake / "train.py").write_text("import gdcourse\n")
    (fake / "widgets.py").write_text("from gdcourse import optim\n")  # downward: fine
    problems = upward_imports(fake, LAYERS)
    assert len(problems) == 3, problems
    assert any("optim (layer 3) imports plots (layer 4)" in p for p in problems)
    assert any("data (layer 2) imports grading (layer 5)" in p for p in problems)
    assert any("train (layer 3) imports the package facade" in p for p in problems)


def test_the_docstring_parser_reads_every_layer():
    assert sorted(set(LAYERS.values())) == [1, 2, 3, 4, 5]
    assert LAYERS["backend"] == 1 and LAYERS["optim"] == 3 and LAYERS["grading"] == 5


# --- packaging ------------------------------------------------------------------------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_py_typed_ships_with_the_package():
    assert (PACKAGE / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["gdcourse"]


def test_the_version_is_written_once():
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "gdcourse._version.__version__"}
    written = [p for p in PACKAGE.rglob("*.py") if re.search(r"^__version__ = ", p.read_text(), flags=re.M)]
    assert written == [PACKAGE / "_version.py"]


OPTIONAL = {"cupy", "torch", "dask", "distributed", "playwright", "sphinx", "myst_nb", "array_api_strict", "IPython"}
"""Imported only inside functions, where a feature needs them (each is an extra or comes with jupyter)."""


def _requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def import_names_to_distributions() -> dict[str, set[str]]:
    """``{top-level import name: {distribution names}}`` read from each installed distribution's file list.

    ``importlib.metadata.packages_distributions`` does this from Python 3.11 on; Python 3.10's reads only the
    ``top_level.txt`` that many wheels no longer ship (scikit-learn's), so the files are read here directly.
    """
    found: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"].lower().replace("_", "-")
        for file in dist.files or ():
            top = file.parts[0]
            if top.endswith((".dist-info", ".egg-info", ".data")) or top == "..":
                continue
            found.setdefault(top.removesuffix(".py"), set()).add(name)
    return found


def test_every_third_party_import_at_module_level_is_declared():
    declared = {_requirement_name(s) for s in PYPROJECT["project"]["dependencies"]}
    distributions = import_names_to_distributions()
    missing = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "gdcourse" or top in OPTIONAL:
                    continue
                dists = distributions.get(top, {top})
                if not dists & declared:
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, f"imported but not declared in pyproject.toml's dependencies: {sorted(missing)}"


@pytest.mark.parametrize("module", ["cupy", "torch", "dask", "playwright"])
def test_optional_packages_are_never_imported_at_module_level(module):
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] == module for n in names), f"{path}: imports {module} at import time"


# --- one set of argument checks ---------------------------------------------------------------------------

PRIVATE_COPIES = {"_number", "_positive", "_nonneg", "_positive_int", "_nonneg_int", "_check_lr", "_finite"}
"""Names the private copies of the shared checks had before gdcourse/_checks.py held them all."""


def test_argument_checks_live_in_one_module():
    copies = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in PRIVATE_COPIES:
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not copies, f"use gdcourse._checks instead of a private copy: {copies}"


def test_the_supported_pythons_agree_everywhere():
    """The classifiers' oldest and newest Python are what CI runs (Makefile) and what the tools target."""
    listed = [
        tuple(int(part) for part in c.rsplit(" ", 1)[1].split("."))
        for c in PYPROJECT["project"]["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    oldest, newest = min(listed), max(listed)
    assert listed == sorted(listed) and len(listed) == newest[1] - oldest[1] + 1, "list every minor version once"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    ci_pythons = re.search(r"^SUPPORTED_PYTHONS \?= (.+)$", makefile, flags=re.M).group(1).split()
    assert ci_pythons == [f"{oldest[0]}.{oldest[1]}", f"{newest[0]}.{newest[1]}"]
    assert PYPROJECT["project"]["requires-python"] == f">={oldest[0]}.{oldest[1]}"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == f"{oldest[0]}.{oldest[1]}"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{oldest[0]}{oldest[1]}"
    assert "make test-pythons" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_shows_the_same_layers():
    """README.md's layer table lists every unit in the layer the package docstring gives it, and no other."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown: dict[str, int] = {}
    for number, modules in re.findall(r"^\| (\d) [a-z ]+ \| (.+?) \|", readme, flags=re.M):
        modules = re.sub(r"\(.*?\)", "", modules)  # "tools (assign, slides, ...)": the submodules are not units
        shown |= {unit: int(number) for unit in re.findall(r"`(\w+)`", modules)}
    assert shown == {unit: layer for unit, layer in LAYERS.items() if unit != "__main__"}
