"""The web site: visitors' pages, the staff pages under /beheer, the JSON API and operators'
endpoints, built by `app.create_app` from the container's `web_services`.

- `app`: routes, middleware and error handlers; `routing`: route builders;
- `pages/` (HTML, with `pages/admin/` for staff), `api` with `api_models` and `openapi`,
  `payments` (the provider's webhook and the fake provider's page), `operations`;
- request plumbing: `services`, `auth`, `security`, `inputs`, `cart_session`, `language`,
  `rendering`, `errors`, `static_files`.
"""
