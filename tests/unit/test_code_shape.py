"""The code keeps the shape it was given: small modules, short functions, arrows pointing down."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def python_files() -> list[Path]:
    files = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.relative_to(SRC).parts)
    assert len(files) > 50, "the sources were not found"
    return files


def too_long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_is_longer_than_the_limit():
    long = {
        str(p.relative_to(SRC)): n
        for p in python_files()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_the_limit():
    long = {str(p.relative_to(SRC)): f for p in python_files() if (f := too_long_functions(p))}
    assert long == {}


def test_the_checks_see_a_long_function(tmp_path):
    sample = tmp_path / "sample.py"
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_FUNCTION_LINES))
    sample.write_text(f"def long():\n{body}\n\ndef short():\n    return 1\n")
    assert too_long_functions(sample) == [f"long ({MAX_FUNCTION_LINES + 1} lines)"]


@pytest.mark.parametrize(
    ("package", "must_not_import"),
    [
        ("mierloos_adapters", "mierloos_entrypoints"),
        ("mierloos_adapters/sqlalchemy", "mierloos_adapters.jobqueue"),
    ],
)
def test_imports_point_down(package, must_not_import):
    upward = {
        str(p.relative_to(SRC)): sorted(
            m
            for m in imported_modules(p)
            if m == must_not_import or m.startswith(must_not_import + ".")
        )
        for p in sorted((SRC / package).rglob("*.py"))
    }
    assert {name: bad for name, bad in upward.items() if bad} == {}


def test_every_package_says_what_it_holds():
    silent = [
        str(init.parent.relative_to(SRC))
        for init in sorted(SRC.rglob("__init__.py"))
        if "migrations" not in init.parts and ast.get_docstring(ast.parse(init.read_text())) is None
    ]
    assert silent == []
