"""Adapters: one module or package per technology, each implementing ports of mierloos_core."""
