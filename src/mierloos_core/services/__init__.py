"""Use cases, one module per area. Each takes a unit of work and plain values."""
