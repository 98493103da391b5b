-- Plan monitoring: the station registry's planning facts, connectors' equipment, the plans and
-- the reference places they count, EV registrations, utilization rollups, safety lockouts and
-- the monthly reports.

ALTER TABLE stations
    ADD COLUMN township         text CHECK (length(township) <= 100),
    ADD COLUMN village          text CHECK (length(village) <= 100),
    ADD COLUMN commissioned_on  date;
CREATE INDEX stations_county_township ON stations (county, township);

-- Facts of a site the plan's ratios need (stations name their site by site_name).
ALTER TABLE sites
    ADD COLUMN category        text CHECK (category IN (
        'urban_public_parking', 'commercial', 'transport_hub', 'residential_community',
        'government_enterprise_internal', 'scenic_4a_plus', 'scenic_a', 'scenic_below_a',
        'tourist_road_post', 'rv_camp', 'trunk_road_parking', 'highway_service_area',
        'bus_depot', 'logistics_industrial_park', 'other')),
    ADD COLUMN parking_spaces  integer CHECK (parking_spaces >= 0);

-- What each connector is, as registered (not as reported): power and AC/DC.
CREATE TABLE station_equipment (
    station_id    text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    connector_no  integer NOT NULL CHECK (connector_no >= 1),
    power_kw      numeric(8, 2) NOT NULL CHECK (power_kw > 0 AND power_kw <= 1000),
    current       text NOT NULL CHECK (current IN ('AC', 'DC')),
    PRIMARY KEY (station_id, connector_no)
);

-- Plans (targets documents in the shape of plan/*.targets.json); one is in force.
CREATE TABLE plans (
    plan_id     text PRIMARY KEY CHECK (plan_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    document    jsonb NOT NULL,
    active      boolean NOT NULL DEFAULT false,
    loaded_by   text,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX plans_one_active ON plans (active) WHERE active;

-- Places the plan counts: township seats, villages, trunk-road parking areas, highway service
-- areas, tourist-road posts, RV camps, urban core/outer reference points.
CREATE TABLE places (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('township_seat', 'village',
                         'trunk_road_parking', 'highway_service_area', 'tourist_road_post',
                         'rv_camp', 'urban_core', 'urban_outer')),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    county           text NOT NULL,
    township         text,
    latitude         double precision NOT NULL CHECK (latitude BETWEEN 3 AND 54),
    longitude        double precision NOT NULL CHECK (longitude BETWEEN 73 AND 136),
    small_car_spaces integer CHECK (small_car_spaces >= 0),
    UNIQUE (kind, county, name)
);

CREATE TABLE ev_registrations (
    county  text NOT NULL,
    as_of   date NOT NULL,
    evs     integer NOT NULL CHECK (evs >= 0),
    PRIMARY KEY (county, as_of)
);

-- Utilization by connector and hour, kept up to date by a rollup job, so a month of a
-- 4,000-pile network is a few hundred thousand rows to sum, not a scan of every sample.
CREATE TABLE utilization_hourly (
    station_id        text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id           integer NOT NULL,
    hour              timestamptz NOT NULL,
    sessions          integer NOT NULL DEFAULT 0,   -- sessions that started in the hour
    counted_sessions  integer NOT NULL DEFAULT 0,   -- of those: > 2 min and > 0.5 kWh
    busy_seconds      double precision NOT NULL DEFAULT 0,   -- a session in progress
    energy_wh         bigint NOT NULL DEFAULT 0,
    online_seconds    double precision NOT NULL DEFAULT 0,   -- the station was connected
    fault_seconds     double precision NOT NULL DEFAULT 0,   -- the connector was Faulted
    PRIMARY KEY (station_id, evse_id, hour)
);
CREATE INDEX utilization_hourly_hour ON utilization_hourly (hour);

-- Safety lockouts (plan 二(六)17): a hazardous station is out of use until rectified.
CREATE TABLE lockouts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id      text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    hazard          text NOT NULL CHECK (length(hazard) BETWEEN 1 AND 2000),
    locked_by       text NOT NULL,
    locked_at       timestamptz NOT NULL,
    rectification   text,
    lifted_by       text,
    lifted_at       timestamptz
);
CREATE UNIQUE INDEX lockouts_one_open ON lockouts (station_id) WHERE lifted_at IS NULL;

CREATE TABLE monthly_reports (
    month         text PRIMARY KEY CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    generated_at  timestamptz NOT NULL,
    generated_by  text NOT NULL,
    document      jsonb NOT NULL,
    html          text NOT NULL,
    csv           text NOT NULL
);
