-- What 2.0.1 stations report in answer to a CSMS request, assembled, and what the EV tells them.

-- One row per request that leads to a multi-part report (NotifyReport, NotifyMonitoringReport,
-- NotifyCustomerInformation, NotifyDisplayMessages, ReportChargingProfiles): who asked, what
-- the station answered, and whether the last part (tbc = false) has arrived.
CREATE TABLE station_reports (
    station_id    text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('device_model', 'monitoring', 'customer_information',
                                                'display_messages', 'charging_profiles')),
    request_id    integer NOT NULL,
    command_id    bigint REFERENCES command_log (id) ON DELETE SET NULL,
    requested_by  text,
    requested_at  timestamptz,
    answer        text,                    -- the status the station answered the request with
    parts         integer NOT NULL DEFAULT 0,
    completed_at  timestamptz,             -- when the part with tbc = false arrived
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (station_id, kind, request_id)
);

-- Every part as sent; an identical replay of a part is kept once (same seqNo and digest).
CREATE TABLE station_report_parts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id    text NOT NULL,
    kind          text NOT NULL,
    request_id    integer NOT NULL,
    seq_no        integer NOT NULL,
    tbc           boolean NOT NULL,
    generated_at  timestamptz,
    received_at   timestamptz NOT NULL,
    digest        text NOT NULL,
    payload       jsonb NOT NULL,
    FOREIGN KEY (station_id, kind, request_id)
        REFERENCES station_reports (station_id, kind, request_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX station_report_parts_replay
    ON station_report_parts (station_id, kind, request_id, seq_no, digest);

-- The monitors a station reported (N02 NotifyMonitoringReport), one row per monitor id.
CREATE TABLE station_monitors (
    station_id          text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    monitor_id          integer NOT NULL,
    component           text NOT NULL,
    component_instance  text NOT NULL DEFAULT '',
    evse_id             integer NOT NULL DEFAULT -1,
    connector_id        integer NOT NULL DEFAULT -1,
    variable            text NOT NULL,
    variable_instance   text NOT NULL DEFAULT '',
    monitor_type        text NOT NULL,
    value               numeric NOT NULL,
    severity            integer NOT NULL,
    in_transaction      boolean NOT NULL,
    request_id          integer,                -- null: set by a SetVariableMonitoring command
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (station_id, monitor_id)
);

-- The display messages a station reported (O04 NotifyDisplayMessages), one row per message id.
CREATE TABLE station_display_messages (
    station_id      text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    message_id      integer NOT NULL,
    priority        text NOT NULL,
    state           text,
    starts_at       timestamptz,
    ends_at         timestamptz,
    transaction_id  text,
    message         jsonb NOT NULL,         -- MessageContentType: format, language, content
    display         jsonb,                  -- ComponentType of the display, when given
    request_id      integer,                -- null: set by a SetDisplayMessage command
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (station_id, message_id)
);

-- What the EV asked for and planned, per EVSE (K15-K17, ISO 15118): kept as sent.
CREATE TABLE ev_charging_needs (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id           text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id              integer NOT NULL,
    requested_transfer   text NOT NULL,
    departs_at           timestamptz,
    max_schedule_tuples  integer,
    needs                jsonb NOT NULL,
    received_at          timestamptz NOT NULL
);
CREATE INDEX ev_charging_needs_station ON ev_charging_needs (station_id, evse_id, id);

CREATE TABLE ev_charging_schedules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id   text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id      integer NOT NULL,
    time_base    timestamptz NOT NULL,
    schedule     jsonb NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE INDEX ev_charging_schedules_station ON ev_charging_schedules (station_id, evse_id, id);

-- Firmware a local controller publishes to its stations (L03 PublishFirmware), per request.
CREATE TABLE firmware_publications (
    station_id   text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    request_id   integer NOT NULL,              -- -1: a status without a requestId
    status       text NOT NULL,
    locations    text[] NOT NULL DEFAULT '{}',  -- the URIs once Published
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (station_id, request_id)
);
