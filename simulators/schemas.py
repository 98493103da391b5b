"""Payload checks against the official OCPP JSON schemas (the shared `ocppj` validation).

A real charger refuses a malformed request with the CALLERROR the spec names (1.6J Table 7,
2.0.1 Part 4 §4.3); the station validates each CSMS-initiated CALL before acting on it.
"""

from __future__ import annotations

from ocppj.validation import known_actions, validate

__all__ = ["known_actions", "validate"]
