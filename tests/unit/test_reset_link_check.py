"""`Accounts.reset_link_usable`: the reset page's early check, against the memory fakes."""

from __future__ import annotations

from datetime import timedelta

from tests.unit import test_accounts as base
from tests.unit.test_accounts import reset_link, token_of

# The fixtures of the accounts tests, shared.
accounts, deliver, hasher, mailer = base.accounts, base.deliver, base.hasher, base.mailer
make_uow, visitor = base.make_uow, base.visitor


def test_a_fresh_link_is_usable_until_it_is_used_or_expires(accounts, visitor, deliver, clock):
    accounts.request_password_reset("an@example.nl", client="1.2.3.4")
    accounts.request_password_reset("an@example.nl", client="1.2.3.4")
    first, second = (token_of(reset_link(mail)) for mail in deliver()[-2:])
    assert accounts.reset_link_usable(first)
    assert accounts.reset_link_usable(second)

    accounts.reset_password(first, "Een-Nieuw-Wachtwoord-9")

    assert not accounts.reset_link_usable(first)
    assert not accounts.reset_link_usable(second)  # every older link dies with it
    accounts.request_password_reset("an@example.nl", client="1.2.3.4")
    third = token_of(reset_link(deliver()[-1]))
    clock.advance(timedelta(hours=1))
    assert not accounts.reset_link_usable(third)


def test_unknown_tampered_and_odd_sized_tokens_are_not_usable(accounts, visitor, deliver):
    accounts.request_password_reset("an@example.nl", client="1.2.3.4")
    token = token_of(reset_link(deliver()[-1]))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for candidate in (tampered, "x" * 43, "", "kort", "x" * 101):
        assert not accounts.reset_link_usable(candidate)
