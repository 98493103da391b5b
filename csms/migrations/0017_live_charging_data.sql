-- T/CEC 102 live charging data (notification_equip_charge_status) and the registry's rated
-- voltage and current limits of a pile (StationInfo ConnectorInfo VoltageUpperLimits,
-- VoltageLowerLimits, Current).

-- Live data is a fifth kind of push, on every platform unless its operator removes the kind.
ALTER TABLE platform_outbox DROP CONSTRAINT platform_outbox_kind_check;
ALTER TABLE platform_outbox ADD CONSTRAINT platform_outbox_kind_check CHECK (kind IN (
    'station_info', 'connector_status', 'charge_order', 'station_stats', 'charge_status'));
-- Only the latest live record of a connector matters: a newer one replaces the one that was
-- not sent yet (or was refused), so a platform that is down never piles up a backlog of them.
ALTER TABLE platform_outbox ADD COLUMN coalesce_key text;
CREATE INDEX platform_outbox_coalesce ON platform_outbox (platform_id, coalesce_key)
    WHERE coalesce_key IS NOT NULL;

ALTER TABLE platforms
    ALTER COLUMN kinds
        SET DEFAULT '{station_info,connector_status,charge_order,station_stats,charge_status}',
    -- seconds between two live records of a running session (T/CEC 102.4: every 50 s)
    ADD COLUMN live_interval integer NOT NULL DEFAULT 50
        CHECK (live_interval BETWEEN 1 AND 3600);
UPDATE platforms SET kinds = array_append(kinds, 'charge_status')
    WHERE NOT ('charge_status' = ANY (kinds));

-- A pile's rated output limits as registered (nameplate), for all of its connectors; NULL is
-- "not registered": the CSMS then derives them from the rated power and says so.
ALTER TABLE stations
    ADD COLUMN rated_voltage_max_v integer CHECK (rated_voltage_max_v BETWEEN 1 AND 2000),
    ADD COLUMN rated_voltage_min_v integer CHECK (rated_voltage_min_v BETWEEN 0 AND 2000),
    ADD COLUMN rated_current_a     integer CHECK (rated_current_a BETWEEN 1 AND 2000),
    ADD CONSTRAINT stations_rated_voltage_range
        CHECK (rated_voltage_min_v IS NULL OR rated_voltage_max_v IS NULL
               OR rated_voltage_min_v <= rated_voltage_max_v);
