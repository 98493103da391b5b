-- Each station's Local Authorization List as the CSMS last learnt it (1.6 §3.5/§5.15, 2.0.1
-- D01/D02): the version the station holds, from an Accepted SendLocalList or its own answer to
-- GetLocalListVersion, and the entries when every change went through the CSMS.
CREATE TABLE local_lists (
    station_id     text PRIMARY KEY REFERENCES stations (id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 0),
    -- false: the station's list changed in ways the CSMS did not see (a differential update to
    -- a list never seen whole, or a version the station reported); the entries are not shown
    entries_known  boolean NOT NULL,
    source         text NOT NULL CHECK (source IN ('SendLocalList', 'GetLocalListVersion')),
    command_id     bigint REFERENCES command_log (id) ON DELETE SET NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE local_list_entries (
    station_id  text NOT NULL REFERENCES local_lists (station_id) ON DELETE CASCADE,
    id_token    text NOT NULL,
    token_type  text,
    status      text NOT NULL,   -- as sent: Accepted, Blocked, Expired, Invalid, ...
    PRIMARY KEY (station_id, id_token)
);
