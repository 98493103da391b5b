-- The ledger's rows: exact sample references without per-row foreign keys, and row types that
-- carry a batch in one parameter.
--
-- Meter samples name their station and transaction without per-row foreign-key triggers.
--
-- A foreign key checks every inserted row with its own locking query: eight per 1.6
-- MeterValues of four samples, about a third of PostgreSQL's work on the hot path. The
-- references stay exact, enforced once per batch instead:
--   * the ledger's sample statements count the rows whose station or transaction does not
--     exist and raise foreign_key_violation through csms_refuse_missing_refs() (the statement,
--     and so the whole batch, is undone, exactly as a violated foreign key would undo it);
--   * deleting a station still deletes its samples and deleting a transaction still unlinks
--     them (the ON DELETE CASCADE / SET NULL the foreign keys had). The triggers first take a
--     lock that waits for sample inserts in flight and holds back new ones until the delete
--     commits: an insert that had already found the parent is then deleted or unlinked with
--     it, and one that starts later no longer finds it.
-- meter_sample_conflicts keeps its foreign keys: it is written rarely.

ALTER TABLE meter_samples
    DROP CONSTRAINT meter_samples_station_id_fkey,
    DROP CONSTRAINT meter_samples_transaction_id_fkey;

CREATE FUNCTION csms_refuse_missing_refs(missing bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF missing > 0 THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            '%s meter sample(s) name a station or transaction that does not exist', missing);
    END IF;
    RETURN missing;
END $$;

CREATE FUNCTION csms_samples_follow_station() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE meter_samples IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM meter_samples m USING gone g WHERE m.station_id = g.id;
    RETURN NULL;
END $$;

CREATE TRIGGER stations_take_samples AFTER DELETE ON stations
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION csms_samples_follow_station();

CREATE FUNCTION csms_samples_follow_transaction() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE meter_samples IN SHARE ROW EXCLUSIVE MODE;
    UPDATE meter_samples m SET transaction_id = NULL
    FROM gone g WHERE m.transaction_id = g.id;
    RETURN NULL;
END $$;

CREATE TRIGGER transactions_release_samples AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION csms_samples_follow_transaction();

-- A batch's rows travel as one parameter, an array of these rows, rather than one array per
-- column: the driver inspects every element of an array parameter (about 90 checks per
-- MeterValues as 14 arrays), but a row of a composite only once.
CREATE TYPE ledger_sample AS (
    station_id      text,
    evse_id         integer,
    connector_id    integer,
    transaction_id  bigint,
    sampled_at      timestamptz,
    received_at     timestamptz,
    measurand       text,
    phase           text,
    location        text,
    context         text,
    unit            text,
    value           numeric,
    raw_value       text,
    signed_data     text
);

CREATE TYPE ledger_event AS (
    tx               bigint,
    seq_no           integer,
    event_type       text,
    trigger_reason   text,
    event_at         timestamptz,
    received_at      timestamptz,
    offline          boolean,
    payload          text,
    evse_id          integer,
    connector_id     integer,
    id_token         text,
    id_token_type    text,
    charging_state   text,
    remote_start_id  integer,
    reservation_id   integer,
    first_at         timestamptz,
    first_wh         bigint,
    last_at          timestamptz,
    last_wh          bigint,
    stopped_reason   text
);
