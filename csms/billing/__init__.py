"""Tariffs, pricing of a session, charge detail records and settlement."""
