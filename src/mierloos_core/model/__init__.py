"""The domain model: attrs classes with their rules and state machines."""
