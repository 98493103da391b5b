"""Plan monitoring: registry facts, plan targets and progress, utilization, lockouts, reports."""
