"""The Dockerfiles and compose file, checked without a Docker engine (built where one runs)."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mierloos_entrypoints.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILES = [ROOT / "docker" / "Dockerfile", ROOT / "docker" / "Dockerfile.worker"]
COMPOSE = ROOT / "docker" / "docker-compose.yml"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_file_a_dockerfile_copies_exists(dockerfile):
    copies = [
        args for op, args in instructions(dockerfile) if op == "COPY" and "--from" not in args
    ]
    assert copies, "nothing is copied into the image"
    for args in copies:
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile.name} copies missing {source}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_are_multi_stage_non_root_and_health_checked(dockerfile):
    ops = instructions(dockerfile)
    assert sum(op == "FROM" for op, _ in ops) >= 2
    users = [args for op, args in ops if op == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    assert any(op == "HEALTHCHECK" for op, _ in ops)
    assert any(op == "CMD" and "mierloos" in args for op, args in ops)


def test_compose_wires_every_service_the_app_needs():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"postgres", "minio", "minio-bucket", "mailpit", "migrate", "web", "worker"} <= set(
        services
    )
    assert services["migrate"]["command"] == ["mierloos", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        service = services[name]
        assert (
            ROOT / "docker" / service["build"]["context"] / service["build"]["dockerfile"]
        ).exists()
        # Neither migrates by itself: both wait for the one-shot migration.
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert (
            service["depends_on"]["minio-bucket"]["condition"] == "service_completed_successfully"
        )


def test_compose_environment_is_a_valid_configuration(tmp_path):
    compose = yaml.safe_load(COMPOSE.read_text())
    for name in ("web", "worker"):
        env = {
            key: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
            for key, value in compose["services"][name]["environment"].items()
        }
        env["MIERLOOS_VAR_DIR"] = str(tmp_path)
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "no default secret key"
        env["SECRET_KEY"] = secrets.token_urlsafe(48)
        settings = load_settings(env)
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert settings.s3 is not None
        assert settings.s3.endpoint_url == "http://minio:9000"
        assert settings.smtp is not None
        assert settings.smtp.host == "mailpit"
    assert compose["services"]["web"]["environment"]["MIERLOOS_EMBEDDED_WORKER"] == "0"


def test_compose_pins_every_image_version():
    compose = yaml.safe_load(COMPOSE.read_text())
    for name, service in compose["services"].items():
        image = service.get("image")
        if image is None:
            continue  # built from our Dockerfiles
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert re.search(r"\d+\.\d+|RELEASE\.", tag), (name, image)


def test_the_old_compose_placeholder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is a placeholder"):
        load_settings(
            {
                "MIERLOOS_VAR_DIR": str(tmp_path),
                "DATABASE_URL": "postgresql://m:m@db/m",
                "SECRET_KEY": "change-me-to-a-long-random-string-of-48-chars",
            }
        )


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@pytest.mark.skipif(not _docker_works(), reason="no Docker engine: checked statically above")
@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_build_where_docker_runs(dockerfile):
    result = subprocess.run(
        [
            "docker",
            "build",
            "-f",
            str(dockerfile),
            "-t",
            f"mierloos-test-{dockerfile.name.lower()}",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_service_may_stop_for_longer_than_the_worker_shutdown_timeout():
    compose = yaml.safe_load(COMPOSE.read_text())
    timeout = float(compose["services"]["worker"]["environment"]["WORKER_SHUTDOWN_TIMEOUT"])
    for name, service in compose["services"].items():
        grace = str(service.get("stop_grace_period", "10s"))
        assert grace.endswith("s"), (name, grace)
        assert float(grace[:-1]) > timeout + 10, (name, grace, timeout)


LOCK = ROOT / "docker" / "requirements.lock"


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (pinned version, hashes) from the lock file."""
    text = re.sub(r"\\\n", " ", LOCK.read_text())
    locked = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        name, _, version = requirement.partition("==")
        hashes = [option.split("=", 1)[1] for option in options if option.startswith("--hash=")]
        locked[canonicalize_name(name)] = (version, hashes)
    return locked


def test_the_lock_file_pins_every_dependency_of_pyproject_with_hashes():
    """Offline: after editing pyproject's dependencies, run the pip-compile line at the top of
    docker/requirements.lock again (pip install pip-tools first)."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = _locked()
    assert locked, "the lock file is empty"
    for version, hashes in locked.values():
        assert version, "every line pins one version with =="
        assert hashes
        assert all(h.startswith("sha256:") for h in hashes)
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in the lock file"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"the lock file pins {name}=={version}, outside pyproject's {requirement.specifier}"
        )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_install_from_the_lock_file_only(dockerfile):
    installs = [
        args for op, args in instructions(dockerfile) if op == "RUN" and "pip install" in args
    ]
    assert any("--require-hashes -r requirements.lock" in args for args in installs)
    for args in installs:
        assert "--require-hashes" in args or "--no-deps" in args, args
