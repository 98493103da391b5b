"""Use cases: what the CSMS does when a station or an operator asks for something."""
