"""Accounts and password reset, rule by rule, against the memory fakes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import (
    MemoryMailer,
    MemoryRateLimiter,
    MemoryThrottleStore,
    MemoryUnitOfWork,
    PlainEmailTemplates,
    PlainPasswordHasher,
)
from mierloos_core import errors
from mierloos_core.model.accounts import Role
from mierloos_core.model.commands import SendEmail
from mierloos_core.model.jobs import JobType
from mierloos_core.services.accounts import Accounts, ResetTokens
from mierloos_core.services.notifications import EmailSender
from mierloos_core.services.sessions import Sessions
from mierloos_core.services.throttles import LoginThrottle

SECRET = "s" * 40
PASSWORD = "Mierlo-Toneel-2026"


@pytest.fixture
def make_uow(store, clock):
    return lambda: MemoryUnitOfWork(store, clock)


@pytest.fixture
def hasher():
    return PlainPasswordHasher(version=1)


@pytest.fixture
def accounts(make_uow, clock, hasher):
    return Accounts(
        make_uow,
        clock,
        hasher,
        MemoryRateLimiter(clock),
        ResetTokens(SECRET),
        logins=LoginThrottle(MemoryThrottleStore(clock)),
    )


@pytest.fixture
def mailer():
    return MemoryMailer()


@pytest.fixture
def deliver(make_uow, mailer):
    """Send every queued e-mail job, as a worker would, and return what went out."""
    links = SiteLinks("https://tickets.example")
    tokens = ResetTokens(SECRET)
    sender = EmailSender(
        make_uow,
        mailer,
        PlainEmailTemplates(),
        links,
        reset_url=lambda nonce: links.password_reset(tokens.token(nonce)),
    )
    sent_jobs = set()

    def run():
        with make_uow() as uow:
            jobs = uow.jobs.list(job_type=JobType.EMAIL)
        for job in jobs:
            if job.id not in sent_jobs:
                sent_jobs.add(job.id)
                sender(SendEmail.from_payload(job.data))
        return mailer.sent

    return run


def reset_link(mail) -> str:
    line = next(line for line in mail.text.splitlines() if line.startswith("reset_url: "))
    return line.removeprefix("reset_url: ")


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


@pytest.fixture
def visitor(accounts):
    return accounts.register("An@Example.nl", "An de Vries", PASSWORD)


def test_register_stores_a_hash_and_welcomes_by_mail(accounts, visitor, deliver, make_uow):
    with make_uow() as uow:
        stored = uow.users.get_by_email("an@example.nl")
    assert stored.password_hash != PASSWORD
    assert stored.role is Role.VISITOR
    assert [m.subject for m in deliver()] == ["account_created"]


def test_register_refuses_a_taken_address_and_weak_passwords(accounts, visitor):
    with pytest.raises(errors.AccountExists):
        accounts.register("an@example.NL", "Ander", PASSWORD)
    weak = ["kort", "wachtwoord123", "aaaaaaaaaaaa", "x" * 300, "nieuwkomer@example.nl"]
    for password in weak:
        with pytest.raises(errors.WeakPassword):
            accounts.register("nieuwkomer@example.nl", "Zwak", password)


def test_login_checks_the_password_and_rehashes_old_hashes(make_uow, clock, accounts, visitor):
    assert accounts.authenticate("an@example.nl", "fout-wachtwoord!") is None
    assert accounts.authenticate("niemand@example.nl", PASSWORD) is None
    newer = Accounts(
        make_uow,
        clock,
        PlainPasswordHasher(version=2),
        MemoryRateLimiter(clock),
        ResetTokens(SECRET),
        logins=LoginThrottle(MemoryThrottleStore(clock)),
    )
    user = newer.authenticate(" AN@example.nl ", PASSWORD)
    assert user.id == visitor.id
    with make_uow() as uow:
        assert uow.users.get(visitor.id).password_hash.startswith("plain$2$")


def test_failed_logins_stop_that_client_but_never_the_owner_elsewhere(accounts, visitor, clock):
    for _ in range(10):
        assert accounts.authenticate("an@example.nl", "fout-wachtwoord!", client="c1") is None
    with pytest.raises(errors.TooManyAttempts):
        accounts.authenticate("an@example.nl", PASSWORD, client="c1")
    assert accounts.authenticate("an@example.nl", PASSWORD, client="c2").id == visitor.id
    clock.advance(timedelta(minutes=15, seconds=1))
    assert accounts.authenticate("an@example.nl", PASSWORD, client="c1").id == visitor.id


def test_only_failures_count(accounts, visitor):
    for _ in range(30):
        assert accounts.authenticate("an@example.nl", PASSWORD, client="c1").id == visitor.id
    assert accounts.login_delay("an@example.nl") == timedelta(0)


def test_failures_from_many_clients_slow_the_account_down_more_and_more(accounts, visitor):
    delays = []
    for n in range(12):
        accounts.authenticate("an@example.nl", "fout-wachtwoord!", client=f"bot{n}")
        delays.append(accounts.login_delay("AN@example.nl").total_seconds())
    assert delays[:4] == [0, 0, 0, 0]
    assert delays[4:9] == [1, 2, 4, 8, 16]
    assert delays[9:] == [20, 20, 20]  # capped
    # Slowed, never refused: the owner still gets in.
    assert accounts.authenticate("an@example.nl", PASSWORD, client="thuis").id == visitor.id


def test_reset_mails_a_link_with_32_random_bytes_and_stores_only_a_hash(
    accounts, visitor, deliver, make_uow
):
    accounts.request_password_reset("an@example.nl", client="1.2.3.4")
    mail = deliver()[-1]
    token = token_of(reset_link(mail))
    assert mail.to == "an@example.nl"
    assert reset_link(mail).startswith("https://tickets.example/account/wachtwoord-herstellen/")
    assert len(token) == 43  # 32 bytes, base64url without padding
    with make_uow() as uow:
        jobs = uow.jobs.list(job_type=JobType.EMAIL)
        assert all(token not in str(job.data) for job in jobs)
        assert all(
            token not in repr(t) and t.token_hash != token for t in uow.store.reset_tokens.values()
        )


def test_reset_sets_the_password_once_and_voids_every_other_link(accounts, visitor, deliver):
    accounts.request_password_reset("an@example.nl", client="c")
    accounts.request_password_reset("an@example.nl", client="c")
    first, second = [token_of(reset_link(m)) for m in deliver() if m.subject == "password_reset"]

    user = accounts.reset_password(second, "Nieuw-Wachtwoord-99")

    assert user.id == visitor.id
    assert accounts.authenticate("an@example.nl", "Nieuw-Wachtwoord-99").id == visitor.id
    assert accounts.authenticate("an@example.nl", PASSWORD) is None
    with pytest.raises(errors.InvalidResetLink):
        accounts.reset_password(second, "Nog-Een-Wachtwoord-1")  # used twice
    with pytest.raises(errors.InvalidResetLink):
        accounts.reset_password(first, "Nog-Een-Wachtwoord-1")  # older link voided


def test_a_reset_link_expires_after_one_hour(accounts, visitor, deliver, clock):
    accounts.request_password_reset("an@example.nl", client="c")
    token = token_of(reset_link(deliver()[-1]))
    clock.advance(timedelta(minutes=59, seconds=59))
    accounts.reset_password(token, "Binnen-Het-Uur-1")
    accounts.request_password_reset("an@example.nl", client="c")
    late = token_of(reset_link(deliver()[-1]))
    clock.advance(timedelta(hours=1))
    with pytest.raises(errors.InvalidResetLink):
        accounts.reset_password(late, "Te-Laat-Helaas-1")


def test_tampered_foreign_and_garbage_tokens_are_refused(accounts, visitor, deliver):
    other = accounts.register("bo@example.nl", "Bo", PASSWORD)
    accounts.request_password_reset("bo@example.nl", client="c")
    token = token_of(reset_link(deliver()[-1]))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in [tampered, "x" * 43, "", "../../etc/passwd", "a" * 5000]:
        with pytest.raises(errors.InvalidResetLink):
            accounts.reset_password(bad, "Wat-Dan-Ook-123")
    # The valid token belongs to Bo and changes only Bo's password.
    assert accounts.reset_password(token, "Alleen-Van-Bo-1").id == other.id
    assert accounts.authenticate("an@example.nl", PASSWORD).id == visitor.id


def test_a_weak_new_password_keeps_the_link_usable(accounts, visitor, deliver):
    accounts.request_password_reset("an@example.nl", client="c")
    token = token_of(reset_link(deliver()[-1]))
    with pytest.raises(errors.WeakPassword):
        accounts.reset_password(token, "kort")
    assert accounts.reset_password(token, "Nu-Wel-Goed-123").id == visitor.id


def test_unknown_addresses_get_no_mail_and_the_same_silence(accounts, visitor, deliver, make_uow):
    before = make_uow().store.snapshot()
    assert accounts.request_password_reset("onbekend@example.nl", client="c") is None
    assert make_uow().store.snapshot() == before
    assert [m for m in deliver() if m.subject == "password_reset"] == []


def test_reset_requests_are_throttled_per_address_and_per_client(accounts, visitor, deliver):
    for _ in range(5):
        accounts.request_password_reset("an@example.nl", client="c1")
    assert len([m for m in deliver() if m.subject == "password_reset"]) == 3
    for n in range(20):
        accounts.request_password_reset(f"x{n}@example.nl", client="c2")
    accounts.request_password_reset("an@example.nl", client="c2")  # over the client's limit
    assert len([m for m in deliver() if m.subject == "password_reset"]) == 3


def test_no_log_record_holds_the_token(accounts, visitor, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    accounts.request_password_reset("an@example.nl", client="c")
    token = token_of(reset_link(deliver()[-1]))
    accounts.reset_password(token, "Geheim-Blijft-Geheim-1")
    assert caplog.records, "the reset should be logged (without its token)"
    assert all(token not in record.getMessage() for record in caplog.records)


def test_a_password_change_ends_every_session_of_the_user(accounts, visitor, make_uow, clock):
    sessions = Sessions(make_uow, clock)
    phone, laptop = sessions.start(visitor), sessions.start(visitor)
    assert sessions.user(phone).id == visitor.id
    accounts.change_password(visitor.id, PASSWORD, "Heel-Nieuw-Wachtwoord-1")
    assert sessions.user(phone) is None
    assert sessions.user(laptop) is None


def test_create_staff_makes_a_new_or_promotes_an_existing_account(accounts, visitor):
    staff = accounts.create_staff("an@example.nl", "An", "Staf-Wachtwoord-2026")
    assert staff.id == visitor.id
    assert staff.is_staff
    assert accounts.create_staff("kassa@example.nl", "Kassa", "Staf-Wachtwoord-2026").is_staff


def test_registrations_from_one_client_are_throttled(accounts):
    for n in range(10):
        accounts.register(f"nieuw{n}@example.nl", "Nieuw", "Lang-Genoeg-Wachtwoord-1", client="c1")

    with pytest.raises(errors.TooManyAttempts):
        accounts.register("nog-een@example.nl", "Nieuw", "Lang-Genoeg-Wachtwoord-1", client="c1")
    # Another client is not held back by the first one.
    accounts.register("ander@example.nl", "Ander", "Lang-Genoeg-Wachtwoord-1", client="c2")


def test_login_attempts_from_one_client_are_throttled_across_addresses(accounts, visitor, clock):
    for n in range(30):
        assert (
            accounts.authenticate(f"ander{n}@example.nl", "fout-wachtwoord!", client="c1") is None
        )

    with pytest.raises(errors.TooManyAttempts):
        accounts.authenticate("an@example.nl", PASSWORD, client="c1")
    # Another client still logs in; the first one may again after the window.
    assert accounts.authenticate("an@example.nl", PASSWORD, client="c2").id == visitor.id
    clock.advance(timedelta(minutes=15, seconds=1))
    assert accounts.authenticate("an@example.nl", PASSWORD, client="c1").id == visitor.id
