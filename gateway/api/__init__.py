"""/api: the pet health (000) and accounts (003) contracts, sharing the union envelope."""
