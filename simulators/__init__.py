"""Charge-point simulators and the fleet load tester; they reach a CSMS only over the wire."""
