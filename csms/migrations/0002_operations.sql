-- Operating the network: API keys, the command audit log, cluster nodes, station metadata.

CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    key_hash      text NOT NULL UNIQUE,   -- sha256 of a 256-bit random key; the key is never stored
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- Every command sent to a station: who, what, when, through which node, and the answer.
-- Also the mailbox between nodes: the node holding the socket reads the request from here.
CREATE TABLE command_log (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requested_by       text NOT NULL,
    station_id         text NOT NULL,
    command            text NOT NULL,           -- API name (remote-start, ...) or 'ocpp'
    action             text,                    -- the OCPP action (NULL: station was offline)
    request            jsonb NOT NULL,
    origin_node        text NOT NULL,
    target_node        text,
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'answered', 'callerror', 'timeout',
                                         'offline', 'failed')),
    response           jsonb,
    error_code         text,
    error_description  text,
    requested_at       timestamptz NOT NULL DEFAULT now(),
    answered_at        timestamptz
);
CREATE INDEX command_log_station ON command_log (station_id, requested_at);

-- CSMS processes sharing this database; a node whose heartbeat is stale is dead and its
-- stations' claims are released by any live node.
CREATE TABLE nodes (
    node_id     text PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    ocpp_port   integer,
    http_port   integer
);

ALTER TABLE stations
    ADD COLUMN county      text,
    ADD COLUMN site_name   text,
    ADD COLUMN address     text,
    ADD COLUMN latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN notes       text;
CREATE INDEX stations_county ON stations (county);
