"""Identifiers and secrets."""

from __future__ import annotations

import secrets
import uuid

_ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def new_secret() -> str:
    """An unguessable token (256 bits), safe in URLs and QR codes."""
    return secrets.token_urlsafe(32)


def new_order_number() -> str:
    """A short number a visitor can read over the phone, e.g. ``OMT-7K3QX9PD``."""
    return "OMT-" + "".join(secrets.choice(_ORDER_NUMBER_ALPHABET) for _ in range(8))
