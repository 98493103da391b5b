"""The fleet load tester: many stations, a scenario, live progress and a report."""
