"""Version-neutral domain types and rules; no I/O and nothing from outside the standard library."""
