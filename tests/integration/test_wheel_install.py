"""The sdist and wheel as `nox -s build` makes them, installed into a clean virtual environment:
`mierloos` runs there from an unrelated folder, with its templates, fonts and migrations."""

from __future__ import annotations

import importlib.metadata
import os
import signal
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return out


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
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=900,
    )
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
