"""Who may read /metrics, on the web site and on the worker: one rule for both.

A scrape reveals sales and job volumes. With METRICS_TOKEN set, any client that sends
``Authorization: Bearer <token>`` gets the metrics; without one, only clients on the loopback
address (a Prometheus or a proxy on the same machine).
"""

from __future__ import annotations

import hmac
import ipaddress

import attrs


@attrs.frozen
class Refusal:
    status: int
    body: str
    headers: dict[str, str] = attrs.field(factory=dict)


def is_loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def metrics_refusal(
    token: str | None, client_host: str | None, authorization: str
) -> Refusal | None:
    """None when this client may read the metrics, else the answer it gets instead."""
    if token is None:
        if is_loopback(client_host):
            return None
        return Refusal(403, "metrics are served to loopback clients only\n")
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return Refusal(
        401, "a bearer token is required\n", {"WWW-Authenticate": 'Bearer realm="metrics"'}
    )
