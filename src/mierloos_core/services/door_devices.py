"""Device tokens for scanner apps: staff make one (shown once, stored as a hash), apps send it
as a bearer token to the check-in API, staff revoke it. A token checks tickets in and nothing
else, for one performance or for all of them.
"""

from __future__ import annotations

import hashlib
import uuid

import attrs

from mierloos_core import errors
from mierloos_core.model.admissions import DeviceToken
from mierloos_core.model.ids import new_secret
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.door import Entrance, ScanOutcome, require_performance, scan_ticket

MAX_NAME_LENGTH = 100
MAX_TOKEN_LENGTH = 100
TOKEN_PREFIX = "mld_"  # noqa: S105 (not a secret: recognisable in a leaked log or file)


class InvalidDeviceName(errors.ValidationError):
    code = "invalid_device_name"
    message = f"Geef het apparaat een naam van 1 tot {MAX_NAME_LENGTH} tekens."


class DeviceNotAuthorised(errors.MierloosError):
    code = "unauthorized"
    message = "Geen geldige apparaatsleutel: vraag een nieuwe aan bij de beheerder."


class DeviceOutOfScope(errors.MierloosError):
    code = "forbidden"
    message = "Deze apparaatsleutel geldt niet voor deze voorstelling."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen(kw_only=True)
class NewDevice:
    device: DeviceToken
    token: str = attrs.field(repr=False)  # shown once; only its hash is stored


@attrs.define(eq=False)
class DeviceTokens(Service):
    def create(self, name: str, performance_id: uuid.UUID | None, created_by: str) -> NewDevice:
        name = " ".join(name.split())
        if not 0 < len(name) <= MAX_NAME_LENGTH:
            raise InvalidDeviceName()
        token = TOKEN_PREFIX + new_secret()
        device = DeviceToken(
            name=name,
            token_hash=token_hash(token),
            created_by=created_by,
            created_at=self.clock.now(),
            performance_id=performance_id,
        )
        with self.uow() as uow:
            if performance_id is not None:
                require_performance(uow, performance_id)
            uow.devices.add(device)
            uow.commit()
        return NewDevice(device=device, token=token)

    def revoke(self, device_id: uuid.UUID) -> bool:
        with self.uow() as uow:
            done = uow.devices.revoke(device_id, self.clock.now())
            uow.commit()
        return done

    def list(self) -> list[DeviceToken]:
        with self.uow() as uow:
            return uow.devices.list()

    def authorise(self, token: str | None, performance_id: uuid.UUID) -> DeviceToken:
        """The device of `token` when it may check tickets in for the performance.

        DeviceNotAuthorised for a missing, malformed, unknown or revoked token;
        DeviceOutOfScope for a token of another performance.
        """
        with self.uow() as uow:
            return authorise(uow, token, performance_id)

    def scan(
        self, token: str | None, performance_id: uuid.UUID, door: str, text: str
    ) -> ScanOutcome:
        """A scanner app's scan: its token checked and the ticket scanned in one unit of work
        (one transaction on the door's busiest path)."""
        with self.uow() as uow:
            device = authorise(uow, token, performance_id)
            entrance = Entrance(
                performance_id=performance_id, door=door, staff=device_staff(device)
            )
            outcome = scan_ticket(uow, entrance, text, self.clock.now())
            uow.commit()
        return outcome


def device_staff(device: DeviceToken) -> str:
    """Who a device's scans are by, in the scan log."""
    return f"apparaat: {device.name}"


def authorise(uow: UnitOfWork, token: str | None, performance_id: uuid.UUID) -> DeviceToken:
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        raise DeviceNotAuthorised()
    device = uow.devices.get_by_hash(token_hash(token))
    if device is None or device.revoked_at is not None:
        raise DeviceNotAuthorised()
    if not device.allows(performance_id):
        raise DeviceOutOfScope()
    return device
