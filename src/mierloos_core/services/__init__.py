"""Use cases, one module per area. Each takes its unit of work as `uow` (a factory of
`UnitOfWork`) and the ports it needs, and is called with plain values; those that also read
the time extend `base.Service`, which declares `uow` and `clock` first.

- Visitors: `catalog` (what is on sale), `cart` (revalidation), `checkout` (an order holding
  its seats), `ordering` (checkout, then the payment; the checkout throttle), `order_views`
  (the order as its visitor sees it), `accounts`, `sessions`, `throttles`.
- Money: `payments` (open, follow, expire), `payment_webhooks` (the provider's calls),
  `refunds`, `performance_cancellation`; all of them get, lock and close orders through
  `order_lifecycle`, the only code that knows the lock order.
- Seats: `price_categories`, `seating` (halls, plans, a performance's seat map), `seat_holds`
  (numbered seats taken in the order's transaction), `waitlist` and `waitlist_seats` (the
  waiting list, and seats that come back to it).
- After a sale: `fulfilment` (what a paid order queues), `tickets` (PDFs), `notifications`
  (e-mail jobs), `images` (show images).
- Show night: `door`, `door_devices` and `door_offline` (check-in, scanner tokens, the offline
  door list), `counter` (sales and phone bookings at the counter).
- Staff: `staff_catalog`, `staff_coupons`, `staff_orders`, `staff_price_categories`,
  `staff_accounts`, `reports`.
- Housekeeping: `jobs` (the registry mapping each job command to its handler, and
  `enqueue`), `retention` (what is purged when).
"""
