"""Entrypoints: the composition root, the web site, the worker and the command line.

`container` is the one place that wires adapters to core services; `config` is the one place
that reads settings (its variables are listed in `config_variables`). `web` (Starlette),
`worker` (Dramatiq) and `cli` (the `mierloos` command) take what they need from the container
and stay thin: they parse input, call a core service and render its answer.
"""
