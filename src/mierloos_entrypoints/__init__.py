"""Entrypoints: the composition root, the web site, the worker and the command line."""
