"""One simulated charging station: its connection, EVSEs, sessions and command handlers."""
