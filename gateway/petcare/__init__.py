"""The pet care contract (002), at the root or PETCARE_PREFIX."""
