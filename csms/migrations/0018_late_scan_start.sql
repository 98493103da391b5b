-- The late-row scan of a new database starts at the epoch, not at the database's clock when
-- migration 0009 ran. The CSMS stamps rows with its own clock (csms.clock: tests run it at a
-- chosen moment, an external PostgreSQL's clock may run ahead of the CSMS host's): a row
-- stamped before the database's now() of that moment was never scanned, and a session an
-- offline station replayed days late never reached the utilization figures. A database that
-- already holds data keeps its scan mark.
UPDATE utilization_late_scan SET scanned_to = '1970-01-01T00:00:00Z'
WHERE NOT EXISTS (SELECT 1 FROM transactions)
  AND NOT EXISTS (SELECT 1 FROM meter_samples)
  AND NOT EXISTS (SELECT 1 FROM status_history);
