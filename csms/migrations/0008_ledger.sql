-- The station ledger (docs/ledger.md): a replay is the same message, not merely the same key;
-- conflicts and anomalies are kept, never dropped.

-- 2.0.1: (transactionId, seqNo) is not an identity. An event is a replay only when its content
-- (the payload without the `offline` delivery flag) equals a stored one.
ALTER TABLE transaction_events DROP CONSTRAINT transaction_events_pkey;
ALTER TABLE transaction_events
    ADD COLUMN id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ADD COLUMN digest  uuid;
UPDATE transaction_events SET digest = md5((payload - 'offline')::text)::uuid;
ALTER TABLE transaction_events ALTER COLUMN digest SET NOT NULL;
CREATE UNIQUE INDEX transaction_events_content
    ON transaction_events (transaction_id, seq_no, digest);

ALTER TABLE transactions
    -- When the charging state was last set: events apply in timestamp order, not arrival order.
    ADD COLUMN state_at          timestamptz,
    -- The import register at the earliest and latest sampled moments seen (2.0.1 energy).
    ADD COLUMN first_register_at timestamptz,
    ADD COLUMN last_register_at  timestamptz,
    ADD COLUMN last_register_wh  bigint,
    -- Sequence anomalies seen on a 2.0.1 transaction: repeated_seq_no, out_of_order,
    -- missing_seq_no (each kind once).
    ADD COLUMN seq_anomalies     text[] NOT NULL DEFAULT '{}',
    -- A 1.6 stop for an id the CSMS never issued (an orphan) that the evidence ties to a start:
    -- on the orphan, the transaction it stopped; on that transaction, the orphan.
    ADD COLUMN linked_to         bigint REFERENCES transactions (id) ON DELETE SET NULL,
    -- A start the CSMS refused (its authorization was not Accepted): kept, never billed, never
    -- counted as a session. auth_status holds the refusal (Invalid, Blocked, ConcurrentTx, ...).
    ADD COLUMN refused           boolean GENERATED ALWAYS AS
                                 (auth_status IS NOT NULL AND auth_status <> 'Accepted') STORED;
CREATE INDEX transactions_refused ON transactions (started_at) WHERE refused;
-- Room on each page for the new version of a row: an Updated event changes no indexed column,
-- so its row update stays on the page (HOT) and touches no index.
ALTER TABLE transactions SET (fillfactor = 85);

-- 1.6: a start that matches a transaction whose stop was received is a new session (a charger
-- whose clock reset repeats a start's exact key). Only a start still waiting for its stop is a
-- replay of it.
DROP INDEX transactions_v16_start;
CREATE UNIQUE INDEX transactions_v16_start
    ON transactions (station_id, evse_id, id_token, started_at, meter_start_wh)
    WHERE ocpp_version = '1.6' AND NOT orphan AND stopped_at IS NULL;
CREATE INDEX transactions_v16_key
    ON transactions (station_id, evse_id, id_token, started_at, meter_start_wh)
    WHERE ocpp_version = '1.6' AND NOT orphan;

-- 2.0.1 transaction ids stay unique per station; 1.6 orphan stops are unique by content, so
-- each distinct stop for a never-issued id (0 and -1 are common) is kept as its own orphan.
DROP INDEX transactions_station_tx;
CREATE UNIQUE INDEX transactions_station_tx
    ON transactions (station_id, ocpp_version, station_tx_id)
    WHERE station_tx_id IS NOT NULL AND ocpp_version = '2.0.1';
CREATE UNIQUE INDEX transactions_v16_orphan
    ON transactions (station_id, station_tx_id, stopped_at, COALESCE(meter_stop_wh, -1),
                     COALESCE(stop_id_token, ''), COALESCE(stop_reason, ''))
    WHERE ocpp_version = '1.6' AND orphan;

-- A sample whose key (station, EVSE, time, measurand, phase, location, context) was stored
-- before with another value: acknowledged, kept here, and a metering reason of its session.
CREATE TABLE meter_sample_conflicts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id      text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id         integer NOT NULL,
    connector_id    integer NOT NULL,
    transaction_id  bigint REFERENCES transactions (id) ON DELETE SET NULL,
    sampled_at      timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    measurand       text NOT NULL,
    phase           text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT '',
    context         text NOT NULL DEFAULT '',
    unit            text NOT NULL DEFAULT '',
    value           numeric,
    raw_value       text,
    signed_data     jsonb,
    stored_value    numeric,   -- what the first delivery said
    stored_unit     text
);
-- The same conflicting value delivered twice is one conflict.
CREATE UNIQUE INDEX meter_sample_conflicts_replay
    ON meter_sample_conflicts (station_id, evse_id, sampled_at, measurand, phase, location,
                               context, unit, COALESCE(value::text, raw_value, ''));
CREATE INDEX meter_sample_conflicts_transaction
    ON meter_sample_conflicts (transaction_id) WHERE transaction_id IS NOT NULL;
