-- Internal-unit piles shared with the public: owner units, their members, opening schedules,
-- the holiday calendar, access modes, prices by class, and the log of refused starts.

CREATE TABLE units (
    unit_id              text PRIMARY KEY CHECK (unit_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind                 text NOT NULL CHECK (kind IN ('government', 'enterprise', 'school',
                             'hospital', 'public_institution', 'other')),
    county               text,
    -- When a window closes on running public sessions: let them finish, or stop them after
    -- the grace period (2.0.1 stations first show close_message).
    close_policy         text NOT NULL DEFAULT 'finish' CHECK (close_policy IN ('finish', 'stop')),
    close_grace_minutes  integer NOT NULL DEFAULT 15 CHECK (close_grace_minutes BETWEEN 0 AND 1440),
    close_message        text CHECK (length(close_message) <= 256),
    opened_on            date,   -- the day the unit opened its piles to the public
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Members charge at any time: an id token, or every token of a token group.
CREATE TABLE unit_members (
    unit_id  text NOT NULL REFERENCES units (unit_id) ON DELETE CASCADE,
    kind     text NOT NULL CHECK (kind IN ('token', 'group')),
    value    text NOT NULL CHECK (length(value) BETWEEN 1 AND 36),
    PRIMARY KEY (unit_id, kind, value)
);
CREATE INDEX unit_members_value ON unit_members (kind, value);

-- When the public may charge: a unit's schedule, or one station's own.
CREATE TABLE schedules (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id          text NOT NULL REFERENCES units (unit_id) ON DELETE CASCADE,
    station_id       text REFERENCES stations (id) ON DELETE CASCADE,
    time_zone        text NOT NULL,
    effective_from   date NOT NULL,
    effective_to     date CHECK (effective_to IS NULL OR effective_to >= effective_from),
    windows          jsonb NOT NULL,
    exceptions       jsonb NOT NULL,
    holidays_open    boolean NOT NULL DEFAULT true,
    workday_pattern  smallint NOT NULL DEFAULT 0 CHECK (workday_pattern BETWEEN 0 AND 6),
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_unit ON schedules (unit_id, effective_from);

-- The working-day calendar in force (one row; absent = the shipped China calendar).
CREATE TABLE holiday_calendar (
    id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    document    jsonb NOT NULL,
    updated_by  text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE stations
    ADD COLUMN access_mode text NOT NULL DEFAULT 'public'
        CHECK (access_mode IN ('public', 'private', 'shared'));

-- Members and the public may pay different prices (internal at cost, public at the
-- published price).
ALTER TABLE tariff_assignments
    ADD COLUMN audience text NOT NULL DEFAULT 'all'
        CHECK (audience IN ('all', 'member', 'public'));

-- Who started a session and why they were let in; whether the CSMS asked the station to stop it.
ALTER TABLE transactions
    ADD COLUMN price_class        text CHECK (price_class IN ('member', 'public')),
    ADD COLUMN access_reason      text,
    ADD COLUMN stop_requested_at  timestamptz,
    ADD COLUMN stop_attempts      integer NOT NULL DEFAULT 0;

-- Every start the sharing rules refused, and every stop they asked for.
CREATE TABLE access_decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    station_id      text NOT NULL,
    unit_id         text,
    id_token        text,
    context         text NOT NULL,   -- Authorize, StartTransaction, TransactionEvent, remote-start,
                                     -- backstop-stop, window-close-stop
    allowed         boolean NOT NULL,
    reason          text NOT NULL,
    transaction_id  bigint
);
CREATE INDEX access_decisions_station ON access_decisions (station_id, at);
CREATE INDEX access_decisions_unit ON access_decisions (unit_id, at);
