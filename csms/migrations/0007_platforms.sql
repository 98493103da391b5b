-- Government monitoring platforms (T/CEC 102) the CSMS reports to, the durable outbox of what
-- it pushes to them, the last connector status code they were told, and the bearer tokens the
-- CSMS issued to platforms that query it.

-- Secrets the CSMS must use in the clear (to sign, encrypt and log in) are sealed with the node's
-- secret key (AES-256-GCM); the secret a platform presents to us is kept only as a hash.
CREATE TABLE platforms (
    id                     text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    enabled                boolean NOT NULL DEFAULT true,
    base_url               text NOT NULL CHECK (base_url ~ '^https?://'),
    operator_id            text NOT NULL CHECK (length(operator_id) BETWEEN 1 AND 32),
    platform_operator_id   text NOT NULL UNIQUE
                           CHECK (length(platform_operator_id) BETWEEN 1 AND 32),
    operator_secret_sealed bytea NOT NULL,
    data_secret_sealed     bytea NOT NULL,
    data_iv_sealed         bytea NOT NULL,
    sig_secret_sealed      bytea NOT NULL,
    inbound_secret_hash    text,
    spelling               text NOT NULL DEFAULT 'Sevice' CHECK (spelling IN ('Sevice', 'Service')),
    methods                jsonb NOT NULL DEFAULT '{}',
    kinds                  text[] NOT NULL
                           DEFAULT '{station_info,connector_status,charge_order,station_stats}',
    service_tel            text CHECK (length(service_tel) <= 32),
    last_success_at        timestamptz,
    last_failure_at        timestamptz,
    last_ret               integer,
    last_msg               text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- One row per record per platform, written in the transaction of the event that causes it
-- (a disabled platform is paused: its records wait).
-- `data` is our own platform-neutral JSON of the facts; the T/CEC Data is rendered per platform
-- (operator id, spelling) when it is sent. Records of one stream (a charging station, or a
-- site's information) are sent in id order, one at a time.
CREATE TABLE platform_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform_id      text NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    stream           text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('station_info', 'connector_status',
                         'charge_order', 'station_stats')),
    dedupe_key       text,
    data             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    sent_at          timestamptz,
    last_ret         integer,
    last_msg         text,
    answer           jsonb,
    -- a failed record sent again lives on as this newer record (at the end of its stream)
    requeued_as      bigint REFERENCES platform_outbox (id)
);
CREATE UNIQUE INDEX platform_outbox_dedupe ON platform_outbox (platform_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
-- The sender's look for stream heads: the oldest pending records, and per stream.
CREATE INDEX platform_outbox_pending ON platform_outbox (platform_id, id) WHERE state = 'pending';
CREATE INDEX platform_outbox_pending_streams ON platform_outbox (platform_id, stream, id)
    WHERE state = 'pending';
CREATE INDEX platform_outbox_failed ON platform_outbox (platform_id, id) WHERE state = 'failed';
CREATE INDEX platform_outbox_listing ON platform_outbox (platform_id, id);
CREATE INDEX platform_outbox_sent ON platform_outbox (sent_at) WHERE state = 'sent';

-- The status code platforms were last told per connector (0 offline .. 255 fault); a status
-- notification that does not change the code is not pushed.
CREATE TABLE platform_connector_codes (
    station_id    text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id       integer NOT NULL CHECK (evse_id > 0),
    connector_id  integer NOT NULL CHECK (connector_id >= 0),
    code          smallint NOT NULL CHECK (code IN (0, 1, 2, 3, 4, 255)),
    code_at       timestamptz NOT NULL,
    PRIMARY KEY (station_id, evse_id, connector_id)
);

-- What each site's information looked like when last pushed: a change is pushed once.
CREATE TABLE platform_site_digests (
    site_code   text PRIMARY KEY,
    digest      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens the CSMS issued to platforms (query_token); only their hashes are kept.
CREATE TABLE platform_tokens (
    token_hash   text PRIMARY KEY,
    platform_id  text NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX platform_tokens_expiry ON platform_tokens (expires_at);
