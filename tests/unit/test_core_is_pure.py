"""The core imports only the standard library, attrs and itself."""

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "mierloos_core"
ALLOWED = set(sys.stdlib_module_names) | {"attrs", "attr", "mierloos_core", "__future__"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_stdlib_and_attrs():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10, "the core was not found"
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path) - ALLOWED) for path in files
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_check_catches_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlalchemy\nfrom boto3 import client\nimport json\n")
    assert imported_roots(sample) - ALLOWED == {"sqlalchemy", "boto3"}
