-- Utilization by connector and local day (the CSMS time zone), summed from utilization_hourly by
-- the same rollup job, so a month of a 4,000-pile network is ~250k rows to sum, not 3 million.
-- Same columns and meanings as utilization_hourly: evse_id 0 carries the station's
-- online_seconds (and sessions whose EVSE is unknown).
CREATE TABLE utilization_daily (
    station_id        text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id           integer NOT NULL,
    day               date NOT NULL,
    sessions          integer NOT NULL DEFAULT 0,
    counted_sessions  integer NOT NULL DEFAULT 0,
    busy_seconds      double precision NOT NULL DEFAULT 0,
    energy_wh         bigint NOT NULL DEFAULT 0,
    online_seconds    double precision NOT NULL DEFAULT 0,
    fault_seconds     double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, evse_id, day)
);
CREATE INDEX utilization_daily_day ON utilization_daily (day);

-- What the rollup reads by time: connections and statuses overlapping a window.
CREATE INDEX station_connections_open ON station_connections (station_id)
    WHERE disconnected_at IS NULL;
CREATE INDEX station_connections_disconnected ON station_connections (disconnected_at);
CREATE INDEX status_history_at ON status_history (status_at);
