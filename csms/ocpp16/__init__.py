"""OCPP 1.6J: payload <-> domain mapping and the handlers for station-initiated messages."""
