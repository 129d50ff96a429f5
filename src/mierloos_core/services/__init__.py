"""Use cases, one module per area. Each takes its unit of work as `uow` (a factory of
`UnitOfWork`) and the ports it needs, and is called with plain values; those that also read
the time extend `base.Service`, which declares `uow` and `clock` first.

- Visitors: `catalog` (what is on sale), `cart` (revalidation), `checkout` (an order holding
  its seats), `ordering` (checkout, then the payment; the checkout throttle), `order_views`
  (the order as its visitor sees it), `accounts`, `sessions`, `throttles`.
- Money: `payments` (open, follow, expire, take webhook calls), `refunds`,
  `performance_cancellation`; all of them get, lock and close orders through
  `order_lifecycle`, the only code that knows the lock order.
- After a sale: `fulfilment` (what a paid order queues), `tickets` (PDFs), `notifications`
  (e-mail jobs), `images` (show images).
- Staff: `staff_catalog`, `staff_coupons`, `staff_orders`.
- `jobs`: the registry mapping each job command to its handler, and `enqueue`.
"""
