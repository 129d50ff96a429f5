"""Ticketing core of Ons Mierloos Theater: domain model, ports and services."""
