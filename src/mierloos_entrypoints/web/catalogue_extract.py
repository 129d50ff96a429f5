"""A Babel extractor for the core's visitor-facing Dutch texts.

The core stays free of gettext: its error classes carry ``message = "..."`` and the reasons a
cart line cannot be bought live in ``_REASON_TEXT``. This collects those literals into the
catalogue, and the site translates them where it shows them (``{{ _(message) }}``).
Used from ``babel.cfg``; never imported by the running site.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

_TEXT_TABLES = frozenset({"_REASON_TEXT", "_PAGES"})


def extract_core_texts(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and any(
                        isinstance(t, ast.Name) and t.id == "message" for t in statement.targets
                    )
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    yield statement.lineno, "_", statement.value.value, []
        elif (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and any(isinstance(t, ast.Name) and t.id in _TEXT_TABLES for t in _targets(node))
            and isinstance(node.value, ast.Dict)
        ):
            for value in node.value.values:
                items = value.elts if isinstance(value, ast.Tuple) else [value]
                for item in items:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        yield item.lineno, "_", item.value, []


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]
