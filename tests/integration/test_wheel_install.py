"""The sdist and wheel as `nox -s build` makes them, installed into a clean virtual environment:
`mierloos` runs there from an unrelated folder, with its templates, fonts and migrations.

Nothing is downloaded or compiled for the install: the wheel goes in with `--no-deps`, and the
new environment gets exactly the distributions the wheel declares (with their own requirements,
all the way down) linked in from the test environment. An import the wheel does not declare
therefore fails there as it would after `pip install mierloos`.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mierloos_adapters.local_storage import LocalStorage
from tests.integration.cli.processes import (
    ROOT,
    MierloosProcess,
    buy_one_ticket,
    free_port,
    order_id,
    wait_for,
)
from tests.pdf_pages import fonts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

PACKAGED = (
    "mierloos_adapters/fonts/DejaVuSans.ttf",
    "mierloos_adapters/migrations/script.py.mako",
    "mierloos_adapters/migrations/versions/0001_initial_schema.py",
    "mierloos_entrypoints/web/templates/base.html",
    "mierloos_entrypoints/web/static/site.css",
)


# What a checkout holds besides its sources: never part of a build.
NOT_SOURCES = {".git", ".venv", ".nox", ".hypothesis", "var", "test-artifacts", "build", "dist"}


def _source_copy(target: Path) -> Path:
    """The checkout's files in `target`: the build writes its egg-info there, not into the
    worktree, whose metadata other test processes read meanwhile."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n.endswith((".egg-info", "_cache")) or n == "__pycache__"}
        return skipped | (NOT_SOURCES & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    source = _source_copy(tmp_path_factory.mktemp("source") / "mierloos")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return out


def _requirements(lines: list[str], extras: frozenset[str]) -> Iterator[Requirement]:
    """The requirements that apply with these extras chosen."""
    for line in lines:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
            yield requirement


def _closure(wheel: Path) -> dict[str, importlib.metadata.Distribution]:
    """Every distribution the wheel needs, by its declared requirements, as installed here."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    declared = [
        line.partition(":")[2].strip()
        for line in text.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    pending = list(_requirements(declared, frozenset()))
    found: dict[str, importlib.metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        requirement = pending.pop()
        name, extras = canonicalize_name(requirement.name), frozenset(requirement.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        distribution = found.setdefault(name, importlib.metadata.distribution(requirement.name))
        assert requirement.specifier.contains(distribution.version, prereleases=True), requirement
        pending.extend(_requirements(distribution.requires or [], extras))
    return found


def _link_into(site_packages: Path, wheel: Path) -> None:
    """Symlinks to the files of the wheel's dependencies: installed, without pip's work."""
    for distribution in _closure(wheel).values():
        top_level = {
            Path(str(file)).parts[0]
            for file in distribution.files or ()
            if not str(file).startswith("..")
        }
        for name in top_level:
            source = Path(str(distribution.locate_file(name)))
            target = site_packages / name
            if source.exists() and not target.exists():
                target.symlink_to(source)


def test_sdist_and_wheel_carry_templates_fonts_and_migrations(dist: Path) -> None:
    [wheel] = dist.glob("mierloos-*.whl")
    [sdist] = dist.glob("mierloos-*.tar.gz")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.partition("/")[2] for name in archive.getnames()}
    for path in PACKAGED:
        assert path in in_wheel
        assert f"src/{path}" in in_sdist


def test_the_wheel_installs_into_a_clean_venv_and_serves_from_any_folder(
    dist: Path, tmp_path: Path
) -> None:
    [wheel] = dist.glob("mierloos-*.whl")
    environment = tmp_path / "venv"
    venv.create(environment)
    python = environment / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [site_packages] = environment.glob("lib/python*/site-packages")
    _link_into(site_packages, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    }
    env["PATH"] = f"{environment / 'bin'}{os.pathsep}{os.environ['PATH']}"

    mierloos = str(environment / "bin" / "mierloos")
    version = subprocess.run(
        [mierloos, "--version"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert version.stdout.strip() == f"mierloos {importlib.metadata.version('mierloos')}"
    located = subprocess.run(
        [python, "-c", "import mierloos_entrypoints; print(mierloos_entrypoints.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(located.stdout.strip()).is_relative_to(environment), "not the worktree's copy"
    undeclared = subprocess.run(
        [python, "-c", "import pytest"], cwd=elsewhere, env=env, capture_output=True
    )
    assert undeclared.returncode != 0, "the test environment's packages leak into the new one"

    port = free_port()
    server = MierloosProcess(
        ["serve", "--port", str(port)],
        env,
        tmp_path / "serve.log",
        cwd=elsewhere,
        program=(mierloos,),
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        server.wait_answering(base_url + "/health", timeout=60)
        buy_one_ticket(base_url, "wiel@example.nl")
        var = elsewhere / "var"
        storage = LocalStorage(var / "storage")
        key = f"orders/{order_id(var, 'wiel@example.nl')}/tickets-1.pdf"
        wait_for(lambda: storage.exists(key), timeout=60)
        pdf = tmp_path / "tickets.pdf"
        pdf.write_bytes(storage.get(key))
        assert [font.embedded for font in fonts(str(pdf))] == [True, True]  # the packaged fonts
        wait_for(lambda: len(list(var.glob("outbox/*.eml"))) >= 3, timeout=60)
        assert server.terminate() in (0, -signal.SIGTERM)
    finally:
        server.close()
