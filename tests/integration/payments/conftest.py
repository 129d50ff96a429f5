"""Fixtures for the payment gateway tests: a Mollie-shaped server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mierloos_adapters.mollie import MolliePaymentGateway
from tests.integration.payments.mollie_server import DEFAULT_API_KEY, MollieServer, running

# Long enough for a loaded CI machine, short enough that the timeout tests stay quick.
MOLLIE_TIMEOUT = 2.0


@pytest.fixture(scope="session")
def mollie_server_process() -> Iterator[MollieServer]:
    """One server for the whole session, started in a background thread."""
    with running(MollieServer(api_keys=[DEFAULT_API_KEY])) as server:
        yield server


@pytest.fixture
def mollie_server(mollie_server_process: MollieServer) -> Iterator[MollieServer]:
    """The session's server with no payments and no faults."""
    mollie_server_process.reset()
    yield mollie_server_process
    mollie_server_process.reset()


@pytest.fixture
def mollie_gateway(mollie_server: MollieServer) -> MolliePaymentGateway:
    return MolliePaymentGateway(
        DEFAULT_API_KEY, api_endpoint=mollie_server.base_url, timeout=MOLLIE_TIMEOUT
    )
