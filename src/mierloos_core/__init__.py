"""Ticketing core of Ons Mierloos Theater: domain model, ports and services.

- `model`: attrs classes with their rules and state machines (one module per concept);
- `ports`: what the core needs from outside, as typing.Protocols (repositories and the unit of
  work, the job queue and ledger, time, payments, storage, mail, rendering, throttles);
- `services`: the use cases, each a class over ports, one module per area;
- `errors`: every refusal the core can give, with a stable code and a visitor-facing text.

It imports only the standard library and attrs. A domain rule lives in one file: sellability
in `model/catalog`, order and ticket states in `model/orders`, coupons in `model/coupons`,
the retry policy in `model/jobs`, every job's payload in `model/commands`, the lock order in
`services/order_lifecycle`.
"""
