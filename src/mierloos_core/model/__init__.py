"""The domain model: attrs classes with their rules and state machines.

`catalog` (shows, performances, when one can be sold), `stock` (what visitors are told of the
seats left), `cart`, `orders` (orders, tickets and their states), `coupons`, `payments` (as the
provider reports them), `accounts`, `sessions`, `money` (integer cents), `timeutil` (UTC stored,
Amsterdam shown), `ids`, `files` (ticket documents, images), `mail`, `jobs` (job rows, retry
policy), `commands` (one class per job type: its payload and dedupe key), `pages` (a page of a
longer list), `price_categories` (what a seat costs for whom, and a category's own limit),
`admissions` (what a scanned code means at the door, the scan log), `waitlist` (a sold-out
performance's list and who is offered next), `seating/` (halls, plan versions, the seat
generator and the best-available picker), `records` (one record built from another).
"""
