"""OCPP 1.6J / 2.0.1 central system (CSMS) for a city's public charging network."""

__version__ = "0.1.0"
