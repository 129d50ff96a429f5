"""docs/embedding.md runs: its Python blocks, in order and in one namespace, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import linecache
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def guide_blocks() -> list[str]:
    return _BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_has_the_four_ways_of_embedding() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for heading in ("memory fakes", "own transaction", "contract test", "Dramatiq worker"):
        assert heading in text
    assert len(guide_blocks()) >= 6


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_every_code_block_of_the_guide_runs(
    database: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if database == "postgres":
        monkeypatch.setenv("APP_DATABASE_URL", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "embedding_guide"}
    for number, block in enumerate(guide_blocks(), start=1):
        name = f"{GUIDE.name} block {number}"
        linecache.cache[name] = (len(block), None, block.splitlines(True), name)  # tracebacks
        exec(compile(block, name, "exec"), namespace)

    printed = capsys.readouterr().out.splitlines()
    assert "kaarten" in printed[0]  # the refusal of block 2, as a visitor reads it
    assert any(line.startswith("Je kaarten") for line in printed[1:])  # mailed by the worker
