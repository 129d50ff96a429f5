"""The web site: visitors' pages, the staff pages under /beheer, the JSON API and operators'
endpoints, built by `app.create_app` from the container's `web_services`.

- `app`: routes, middleware and error handlers; `routing`: route builders;
- `pages/` (HTML, with `pages/admin/` for staff), `api` with `api_models` and `openapi`,
  `payments` (the provider's webhook and the fake provider's page), `operations`;
- `checkin_api` with `checkin_models` (scanner apps at the door), `report_api` (reports as JSON
  for staff), `api_refusals` (a refused request told in Dutch);
- reserved seating: `seat_map` (the SVG map), `seat_views` (plan and states to the map),
  `seat_reading`, `seat_cart` (the chosen seats in the session), `seat_api`, `seat_refusals`;
- `charts` (SVG charts of the reports), `calendar_files` (.ics), `staff_areas` (which role
  opens which staff URL), `catalogue_extract` (Babel's extractor for the core's texts);
- request plumbing: `services`, `auth`, `security`, `inputs`, `cart_session`, `language`,
  `rendering`, `errors`, `static_files`, `session_keys`.
"""
