"""/api/v1: the events contract (001)."""
