-- Late data (a charger's offline queue replayed days later) reaches the utilization rollups
-- and the filed monthly reports by itself.

-- Rows written well after the moment they describe are found by what is already written (the
-- write time against the station's time): these partial indexes hold only such rows, so the
-- hot path pays a predicate, not an index entry. "Late" is 20 hours: anything less late is
-- recomputed by the rollup's hourly catch-up of the last 26 hours.
CREATE INDEX transactions_late ON transactions (updated_at)
    WHERE updated_at - started_at > interval '20 hours';
CREATE INDEX meter_samples_late ON meter_samples (received_at)
    WHERE transaction_id IS NOT NULL AND received_at - sampled_at > interval '20 hours';
CREATE INDEX status_history_late ON status_history (received_at)
    WHERE received_at - status_at > interval '20 hours';

-- How far the maintenance loop has looked for late rows (by their write time).
CREATE TABLE utilization_late_scan (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    scanned_to  timestamptz NOT NULL
);
INSERT INTO utilization_late_scan (scanned_to) VALUES (now());

-- Local days that late rows touched, to be rolled up again (then deleted).
CREATE TABLE utilization_dirty_days (
    day        date PRIMARY KEY,
    marked_at  timestamptz NOT NULL
);

-- A report is final when it was generated after its month was over; only a final report is
-- amended. Every version is kept: the current one is also the monthly_reports row.
ALTER TABLE monthly_reports
    ADD COLUMN final       boolean NOT NULL DEFAULT false,
    ADD COLUMN version     integer NOT NULL DEFAULT 1,
    ADD COLUMN amended_at  timestamptz;
UPDATE monthly_reports
    SET final = (document ->> 'as_of')::date
                = ((month || '-01')::date + interval '1 month' - interval '1 day')::date;

CREATE TABLE monthly_report_versions (
    month         text NOT NULL REFERENCES monthly_reports (month) ON DELETE CASCADE,
    version       integer NOT NULL CHECK (version >= 1),
    generated_at  timestamptz NOT NULL,
    generated_by  text NOT NULL,
    final         boolean NOT NULL,
    amended_at    timestamptz,   -- set when this version amends a final one
    changes       jsonb,         -- what differs from the version before, when amended
    document      jsonb NOT NULL,
    html          text NOT NULL,
    csv           text NOT NULL,
    PRIMARY KEY (month, version)
);
INSERT INTO monthly_report_versions (month, version, generated_at, generated_by, final,
                                     document, html, csv)
    SELECT month, 1, generated_at, generated_by, final, document, html, csv FROM monthly_reports;

-- Months whose final report may be out of date: a daily utilization row of the month changed
-- after it was filed. `marks` counts the changes, so one seen while the report was being
-- regenerated is not cleared with the others.
CREATE TABLE monthly_report_stale (
    month  text PRIMARY KEY REFERENCES monthly_reports (month) ON DELETE CASCADE,
    marks  integer NOT NULL DEFAULT 1
);
