"""OCPP 2.0.1: payload <-> domain mapping and the handlers for station-initiated messages."""
