"""Entrypoints: the composition root, the web site, the worker and the command line.

`container` is the one place that wires adapters to core services; `config` is the one place
that reads settings (its variables are listed in `config_variables`). `web` (Starlette),
`worker` (Dramatiq) and `cli` (the `mierloos` command) take what they need from the container
and stay thin: they parse input, call a core service and render its answer.

Beside them: `embedded_worker` (the worker inside the web process of `mierloos serve`),
`demo` and `demo_posters` (the embedded site's demo data), the commands' modules (`cli_jobs`,
`cli_reports`, `checks`, `cli_support`), and what the web site and the worker share for
operators: `observability`, `metrics`, `metrics_access`, `log_settings`, `log_redaction`.
"""
