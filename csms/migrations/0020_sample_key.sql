-- A meter sample is identified by its replay key (station, EVSE, time, measurand, phase,
-- location, context), which the ledger already enforces with a unique index: that index becomes
-- the primary key, and the surrogate id's own index goes. Nothing looks a sample up by id (it
-- only orders a transaction's samples, after they are found by transaction), and every stored
-- sample paid for that index: about a tenth of PostgreSQL's work per 1.6 MeterValues.
-- Both are catalogue changes (no table rewrite, no index build); id stays an identity column.
ALTER TABLE meter_samples
    DROP CONSTRAINT meter_samples_pkey,
    ADD CONSTRAINT meter_samples_replay PRIMARY KEY USING INDEX meter_samples_replay;
