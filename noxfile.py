"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s build`,
`nox -s docs`."""

import shutil

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "bench")
    session.run("ruff", "format", "--check", "src", "tests", "bench")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", "mypy")
    session.run("mypy")


@nox.session
def build(session: nox.Session) -> None:
    """The sdist and the wheel (built from that sdist) in dist/."""
    session.install("build")
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference from the docstrings, as HTML in build/api/."""
    session.install(".", "pdoc")
    session.run(
        "pdoc",
        "--output-directory",
        "build/api",
        "mierloos_core",
        "mierloos_adapters",
        "mierloos_entrypoints",
        # Alembic's env.py and the revisions run only inside Alembic
        "!mierloos_adapters.migrations.env",
        "!mierloos_adapters.migrations.versions",
    )
