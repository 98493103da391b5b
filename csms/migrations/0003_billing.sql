-- Metering and billing: station metering facts, sites, versioned tariffs and their assignment,
-- metering verdicts, the review queue, and the hash-chained charge detail records.

ALTER TABLE stations
    ADD COLUMN operator_id            text CHECK (length(operator_id) BETWEEN 1 AND 64),
    ADD COLUMN owner_unit             text CHECK (length(owner_unit) BETWEEN 1 AND 200),
    ADD COLUMN rated_power_kw         numeric(8, 2) CHECK (rated_power_kw > 0),
    -- The charger's verification certificate as a metering instrument (JJG 1148/1149).
    ADD COLUMN meter_cert_number      text CHECK (length(meter_cert_number) BETWEEN 1 AND 64),
    ADD COLUMN meter_cert_expires_on  date;
CREATE INDEX stations_site ON stations (site_name);

-- What a session costs so far (refreshed every cost interval while open) or in the end (the
-- sum of its CDRs), so lists show money without pricing every row.
ALTER TABLE transactions
    ADD COLUMN cost     numeric(14, 2),
    ADD COLUMN cost_at  timestamptz;
-- Ended sessions of the last day, for the sweep that bills any a failure left unbilled.
CREATE INDEX transactions_closed_recent ON transactions (updated_at) WHERE status = 'closed';

-- Sites whose facts matter to billing; a site is named by stations.site_name.
CREATE TABLE sites (
    site_name        text PRIMARY KEY CHECK (length(site_name) BETWEEN 1 AND 200),
    -- Supplied on a two-part (energy + demand) electricity tariff: the plan (三(三)) waives
    -- the demand (capacity) charge of centralised charging facilities.
    two_part_tariff  boolean NOT NULL DEFAULT false,
    notes            text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- A tariff version never changes once written; a change is a new version.
CREATE TABLE tariffs (
    tariff_id       text NOT NULL CHECK (tariff_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    version         integer NOT NULL CHECK (version >= 1),
    name            text NOT NULL,
    currency        text NOT NULL DEFAULT 'CNY',
    time_zone       text NOT NULL,
    effective_from  timestamptz NOT NULL,
    effective_to    timestamptz CHECK (effective_to IS NULL OR effective_to > effective_from),
    definition      jsonb NOT NULL,   -- prices, day plans, idle and session fees
    created_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tariff_id, version)
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable: write a new version or a correcting record',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER tariffs_immutable BEFORE UPDATE ON tariffs
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Which tariff a station charges by: its own, else its site's, its owner unit's, the network's.
CREATE TABLE tariff_assignments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tariff_id       text NOT NULL,
    scope           text NOT NULL CHECK (scope IN ('station', 'site', 'owner', 'network')),
    target          text NOT NULL DEFAULT '',
    effective_from  timestamptz NOT NULL,
    effective_to    timestamptz CHECK (effective_to IS NULL OR effective_to > effective_from),
    created_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'network') = (target = ''))
);
CREATE INDEX tariff_assignments_target ON tariff_assignments (scope, target, effective_from);

-- The metering verdict of every ended transaction, and why.
CREATE TABLE metering_checks (
    transaction_id  bigint PRIMARY KEY REFERENCES transactions (id) ON DELETE CASCADE,
    verdict         text NOT NULL CHECK (verdict IN ('valid', 'flagged', 'rejected')),
    reasons         jsonb NOT NULL,
    energy_wh       bigint,
    clock_skew_ms   bigint,
    checked_at      timestamptz NOT NULL
);

-- Sessions that could not be billed automatically (rejected meter data, no tariff in force).
CREATE TABLE billing_reviews (
    transaction_id  bigint PRIMARY KEY REFERENCES transactions (id) ON DELETE CASCADE,
    station_id      text NOT NULL,
    cause           text NOT NULL CHECK (cause IN ('metering', 'no_tariff', 'error')),
    detail          text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'billed', 'voided')),
    created_at      timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolved_by     text,
    note            text
);
CREATE INDEX billing_reviews_pending ON billing_reviews (created_at) WHERE status = 'pending';

-- Charge detail records: append-only, each carrying the hash of its operator's previous one.
-- Corrections are new rows (a credit negating a bill, then a re-bill), never edits.
CREATE TABLE cdrs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id     text NOT NULL,
    seq             bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('bill', 'credit', 'rebill')),
    corrects        bigint REFERENCES cdrs (id),
    transaction_id  bigint NOT NULL,
    station_id      text NOT NULL,
    evse_id         integer,
    connector_id    integer,
    id_token        text,
    site_name       text,
    owner_unit      text,
    county          text,
    started_at      timestamptz NOT NULL,
    stopped_at      timestamptz NOT NULL,
    energy_wh       bigint NOT NULL,
    currency        text NOT NULL,
    energy_money    numeric(14, 2) NOT NULL,
    service_money   numeric(14, 2) NOT NULL,
    idle_minutes    integer NOT NULL,
    idle_fee        numeric(14, 2) NOT NULL,
    session_fee     numeric(14, 2) NOT NULL,
    total           numeric(14, 2) NOT NULL,
    tariff_id       text NOT NULL,
    tariff_version  integer NOT NULL,
    allocation      text NOT NULL CHECK (allocation IN ('metered', 'estimated')),
    verdict         text NOT NULL CHECK (verdict IN ('valid', 'flagged', 'rejected')),
    reasons         jsonb NOT NULL,
    lines           jsonb NOT NULL,
    detail          jsonb NOT NULL,   -- idle period, signed meter data, notes
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    prev_hash       text,
    hash            text NOT NULL,
    UNIQUE (operator_id, seq),
    FOREIGN KEY (tariff_id, tariff_version) REFERENCES tariffs (tariff_id, version)
);
-- One original bill per transaction: billing a replayed stop twice is impossible.
CREATE UNIQUE INDEX cdrs_one_bill ON cdrs (transaction_id) WHERE kind = 'bill';
CREATE INDEX cdrs_transaction ON cdrs (transaction_id);
CREATE INDEX cdrs_stopped ON cdrs (stopped_at);
CREATE TRIGGER cdrs_immutable BEFORE UPDATE OR DELETE ON cdrs
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The newest record of each operator's chain; locked while a record is appended.
CREATE TABLE cdr_chain_heads (
    operator_id  text PRIMARY KEY,
    seq          bigint NOT NULL,
    hash         text NOT NULL
);
