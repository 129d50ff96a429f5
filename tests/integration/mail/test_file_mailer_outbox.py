"""FileMailer's outbox: complete .eml files, appearing atomically, named in sending order."""

from __future__ import annotations

import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from mierloos_adapters.file_mailer import FileMailer
from mierloos_core.errors import DependencyUnavailable
from mierloos_core.model.mail import OutgoingEmail


def mail(number: int) -> OutgoingEmail:
    return OutgoingEmail(
        to=f"bezoeker{number}@example.nl",
        subject=f"Bericht {number:03d}",
        text=f"Tekst {number}\n",
        html=f"<p>Tekst {number}</p>",
    )


def parse(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_files_are_named_in_sending_order_and_never_collide(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)
    for number in range(50):
        mailer.send(mail(number))

    paths = sorted(tmp_path.glob("*.eml"))
    assert len(paths) == 50
    assert [parse(p)["Subject"] for p in paths] == [f"Bericht {n:03d}" for n in range(50)]


def test_outbox_holds_only_complete_eml_files(tmp_path: Path) -> None:
    FileMailer(tmp_path).send(mail(1))

    [path] = list(tmp_path.iterdir())
    assert path.suffix == ".eml"
    message = parse(path)
    for header in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        assert message[header], header
    assert message["To"] == "bezoeker1@example.nl"
    assert message.get_content_type() == "multipart/alternative"
    assert path.read_bytes().endswith(b"\r\n")


def test_missing_outbox_folders_are_created(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "outbox"
    FileMailer(outbox).send(mail(1))
    assert len(list(outbox.glob("*.eml"))) == 1


def test_sender_is_configurable(tmp_path: Path) -> None:
    FileMailer(tmp_path, sender="Kassa <kassa@theater.example>").send(mail(1))
    [path] = tmp_path.glob("*.eml")
    message = parse(path)
    assert message["From"] == "Kassa <kassa@theater.example>"
    assert str(message["Message-ID"]).endswith("@theater.example>")


def test_unwritable_outbox_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")

    with pytest.raises(DependencyUnavailable):
        FileMailer(blocker).send(mail(1))
    assert blocker.read_text() == "a file where the folder should be"


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(DependencyUnavailable):
        FileMailer(tmp_path).send(mail(1))
    assert list(tmp_path.iterdir()) == []


def test_outbox_files_and_the_embedded_database_are_private(tmp_path: Path) -> None:
    from mierloos_adapters.file_mailer import FileMailer
    from mierloos_adapters.migrations import upgrade
    from mierloos_adapters.sqlalchemy import make_engine
    from mierloos_core.model.mail import OutgoingEmail

    outbox = tmp_path / "var" / "outbox"
    FileMailer(outbox).send(OutgoingEmail(to="a@example.nl", subject="s", text="t"))
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'mierloos.db'}")
    upgrade(engine)
    engine.dispose()

    written = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
    assert any(p.suffix == ".eml" for p in written)
    assert any(p.name == "mierloos.db" for p in written)
    for path in written:
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
