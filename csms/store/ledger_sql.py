"""The ledger's SQL: set-based statements that apply a whole batch of messages at once.

Kept apart from the pipeline (csms/store/ledger.py) so the rules read in one place; the rules
themselves are written down in docs/ledger.md.
"""

from __future__ import annotations

from csms.store.metering import ENERGY_WH

SAMPLE_COLUMNS = (
    "station_id",
    "evse_id",
    "connector_id",
    "transaction_id",
    "sampled_at",
    "received_at",
    "measurand",
    "phase",
    "location",
    "context",
    "unit",
    "value",
    "raw_value",
    "signed_data",
)
_COLS = ", ".join(SAMPLE_COLUMNS)
_PLAIN = ", ".join(SAMPLE_COLUMNS[:-1])
_KEY = "station_id, evse_id, sampled_at, measurand, phase, location, context"
_ON_KEY = " AND ".join(f"m.{c} = r.{c}" for c in _KEY.split(", "))


# The batch travels as one parameter, JSON text, an array of rows (each an array in SAMPLE_COLUMNS
# order: numbers as their exact text, times in RFC 3339): asyncpg's binary encoding of an array
# of composite rows cost the CSMS process about 6 us per sample, about 5x the JSON's.
_SAMPLE_FIELDS = """r->>0 AS station_id, (r->>1)::integer AS evse_id,
    (r->>2)::integer AS connector_id, (r->>3)::bigint AS transaction_id,
    (r->>4)::timestamptz AS sampled_at, (r->>5)::timestamptz AS received_at,
    r->>6 AS measurand, r->>7 AS phase, r->>8 AS location, r->>9 AS context, r->>10 AS unit,
    (r->>11)::numeric AS value, r->>12 AS raw_value, r->>13 AS signed_data"""


def _stage(param: int) -> str:
    """The batch's sample rows as a relation, from one jsonb parameter (see _SAMPLE_FIELDS).
    signed_data comes as text: it is cast to jsonb when stored."""
    return f"stage AS (SELECT {_SAMPLE_FIELDS} FROM jsonb_array_elements(${param}::text::jsonb) r)"


_UPSERT = f"""
    ON CONFLICT ({_KEY}) DO UPDATE SET transaction_id = EXCLUDED.transaction_id
    WHERE meter_samples.transaction_id IS NULL AND EXCLUDED.transaction_id IS NOT NULL
      AND meter_samples.value IS NOT DISTINCT FROM EXCLUDED.value
      AND meter_samples.unit = EXCLUDED.unit
    RETURNING 1"""
_STORED_CLASH = f"""
    SELECT r.station_id, r.evse_id, r.connector_id,
           COALESCE(r.transaction_id, m.transaction_id) AS transaction_id, r.sampled_at,
           r.received_at, r.measurand, r.phase, r.location, r.context, r.unit, r.value,
           r.raw_value, r.signed_data, m.value AS stored_value, m.unit AS stored_unit
    FROM {{rows}} r JOIN meter_samples m ON {_ON_KEY}
    WHERE {{only}} (m.value IS DISTINCT FROM r.value OR m.unit IS DISTINCT FROM r.unit
                    OR (r.value IS NULL AND m.raw_value IS DISTINCT FROM r.raw_value))"""
_KEEP = f"""kept AS (
    INSERT INTO meter_sample_conflicts ({_COLS}, stored_value, stored_unit)
    SELECT {_PLAIN}, signed_data::jsonb, stored_value, stored_unit FROM clashes
    ON CONFLICT DO NOTHING
    RETURNING 1
)"""
# Rows naming a station or transaction that does not exist: the check meter_samples' foreign
# keys made per row, made once per batch (migration 0014); the final SELECT raises on any.
_MISSING = """missing AS (
    SELECT count(*) AS n FROM (SELECT DISTINCT station_id, transaction_id FROM stage) s
    WHERE NOT EXISTS (SELECT 1 FROM stations st WHERE st.id = s.station_id)
       OR (s.transaction_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = s.transaction_id))
)"""

# Any batch: rows with the same key in one batch are told apart here (the one with a
# transaction is stored, a different value beside it is a conflict).
_SAMPLE_CTES = f"""
ranked AS (
    SELECT s.*, row_number() OVER w AS rn, first_value(value) OVER w AS first_val,
           first_value(unit) OVER w AS first_unit, first_value(raw_value) OVER w AS first_raw
    FROM stage s
    WINDOW w AS (PARTITION BY {_KEY} ORDER BY transaction_id NULLS LAST)
), moved AS (
    INSERT INTO meter_samples ({_COLS})
    SELECT {_PLAIN}, signed_data::jsonb FROM ranked WHERE rn = 1{_UPSERT}
), clashes AS (
    -- each row probes the replay index once (the snapshot before this statement): robust under
    -- any plan, unlike joining the inserted rows back
    {_STORED_CLASH.format(rows="ranked", only="r.rn = 1 AND")}
    UNION ALL
    SELECT r.station_id, r.evse_id, r.connector_id, r.transaction_id, r.sampled_at,
           r.received_at, r.measurand, r.phase, r.location, r.context, r.unit, r.value,
           r.raw_value, r.signed_data, r.first_val, r.first_unit
    FROM ranked r
    WHERE r.rn > 1 AND (r.value IS DISTINCT FROM r.first_val OR r.unit IS DISTINCT FROM r.first_unit
                        OR (r.value IS NULL AND r.raw_value IS DISTINCT FROM r.first_raw))
), {_KEEP}, {_MISSING}"""
# A batch whose keys are all distinct (the caller checked: distinct_keys): no window to sort,
# and the replay index is probed a second time only for rows that may clash although they were
# inserted or attached: none of a batch whose rows all moved, except a row without a number
# (SignedData): NULL = NULL attaches it to its transaction even when its raw text differs, and
# that difference is a conflict to keep. One-time filters: a batch of new numbers never probes.
_DISTINCT_SAMPLE_CTES = f"""
moved AS (
    INSERT INTO meter_samples ({_COLS})
    SELECT {_PLAIN}, signed_data::jsonb FROM stage{_UPSERT}
), clashes AS (
    {
    _STORED_CLASH.format(
        rows="stage",
        only="((SELECT count(*) FROM moved) < (SELECT count(*) FROM stage) OR r.value IS NULL) AND",
    )
}
), {_KEEP}, {_MISSING}"""
_REFUSE_MISSING = "csms_refuse_missing_refs((SELECT n FROM missing)) AS missing"
_COUNTS = (
    "(SELECT count(*) FROM moved) AS inserted, (SELECT count(*) FROM kept) AS conflicts, "
    + _REFUSE_MISSING
)
MOVE_SAMPLES = f"WITH {_stage(1)}, {_SAMPLE_CTES} SELECT {_COUNTS}"
MOVE_DISTINCT_SAMPLES = f"WITH {_stage(1)}, {_DISTINCT_SAMPLE_CTES} SELECT {_COUNTS}"

# Samples seen for the first time, the usual case: a plain INSERT. ON CONFLICT probes the replay
# index once more per row before inserting and logs a second WAL record (the speculative
# insertion's confirmation): about a quarter of PostgreSQL's work per 1.6 MeterValues. A row
# whose key is stored already makes the unique index refuse the statement as a whole
# (REPLAY_INDEX); the ledger then applies the same batch by the statements above, which judge
# replays and conflicts, so the outcome is the same either way, only the cost differs.
REPLAY_INDEX = "meter_samples_replay"
_NEW_SAMPLE_CTES = f"""
moved AS (
    INSERT INTO meter_samples ({_COLS})
    SELECT {_PLAIN}, signed_data::jsonb FROM stage
    RETURNING 1
), {_MISSING}"""
_NEW_COUNTS = "(SELECT count(*) FROM moved) AS inserted, 0::bigint AS conflicts, " + _REFUSE_MISSING
INSERT_NEW_SAMPLES = f"WITH {_stage(1)}, {_NEW_SAMPLE_CTES} SELECT {_NEW_COUNTS}"


def distinct_keys(rows: list[tuple[object, ...]]) -> bool:
    """Whether no two sample rows share the replay key (station, EVSE, time, measurand,
    phase, location, context): then MOVE_DISTINCT_SAMPLES may store them. Equal here means
    equal in PostgreSQL (aware datetimes compare by instant, text byte for byte); were it
    wrong, ON CONFLICT would refuse to touch one row twice and the batch would be retried."""
    return len({(r[0], r[1], r[4], r[6], r[7], r[8], r[9]) for r in rows}) == len(rows)


# -- 2.0.1 TransactionEvent ----------------------------------------------------------------

# Transactions not yet known: created by their first event (an orphan unless it is Started;
# an Ended-first one has no start). Then every id of the batch, old and new.
CREATE_TRANSACTIONS = """
INSERT INTO transactions (station_id, ocpp_version, station_tx_id, orphan, started_at)
SELECT k.station_id, '2.0.1', k.station_tx_id, k.orphan, k.started_at
FROM unnest($1::text[], $2::text[], $3::boolean[], $4::timestamptz[])
    AS k(station_id, station_tx_id, orphan, started_at)
ON CONFLICT (station_id, ocpp_version, station_tx_id)
    WHERE station_tx_id IS NOT NULL AND ocpp_version = '2.0.1'
DO NOTHING"""
FIND_TRANSACTIONS = """
SELECT t.id, t.station_id, t.station_tx_id
FROM unnest($1::text[], $2::text[]) AS k(station_id, station_tx_id)
JOIN transactions t ON t.station_id = k.station_id AND t.station_tx_id = k.station_tx_id
    AND t.ocpp_version = '2.0.1'"""

# A round of events, one jsonb parameter like the samples: an array of rows in this order, the
# request itself nested as an object (parsed once, by PostgreSQL).
_EVENT_INPUT = """
    SELECT (r->>0)::bigint AS tx, (r->>1)::integer AS seq_no, r->>2 AS event_type,
        r->>3 AS trigger_reason, (r->>4)::timestamptz AS event_at,
        (r->>5)::timestamptz AS received_at, (r->>6)::boolean AS offline, r->7 AS payload,
        (r->>8)::integer AS evse_id, (r->>9)::integer AS connector_id, r->>10 AS id_token,
        r->>11 AS id_token_type, r->>12 AS charging_state, (r->>13)::integer AS remote_start_id,
        (r->>14)::integer AS reservation_id, (r->>15)::timestamptz AS first_at,
        (r->>16)::bigint AS first_wh, (r->>17)::timestamptz AS last_at,
        (r->>18)::bigint AS last_wh, r->>19 AS stopped_reason
    FROM jsonb_array_elements($1::text::jsonb) r"""

# A Started event starts the session only when it is not dated after the session's end: a
# station that reuses a transactionId after a reboot must not rewrite a session already ended
# (and billed) with another start and token. Such an event is kept, noted on the transaction
# (reused_transaction_id) and changes nothing of its start; a late Started delivered after
# its Ended (an offline queue) is dated before the end and still completes the session.
_STARTS = "(n.started AND (t.stopped_at IS NULL OR n.event_at <= t.stopped_at))"

# One statement applies a round of events (at most one per transaction). An event is a replay
# only when an identical one (same seqNo and content) is stored; anything else is kept and
# applied, in timestamp order: the charging state is the newest one by the station's clock,
# Started sets the start, the first Ended ends the session for good (a later Updated is kept
# and does not reopen it), the meter start/stop are the registers at the earliest and latest
# sampled moments within the session. Sequence anomalies are noted on the transaction.
_EVENT_CTES = f"""
i AS ({_EVENT_INPUT}
), ins AS (
    INSERT INTO transaction_events (transaction_id, seq_no, event_type, trigger_reason,
        event_at, received_at, offline, payload, digest)
    SELECT tx, seq_no, event_type, trigger_reason, event_at, received_at, offline,
           payload, md5((payload - 'offline')::text)::uuid
    FROM i
    ON CONFLICT (transaction_id, seq_no, digest) DO NOTHING
    RETURNING transaction_id
), n AS (
    -- LATERAL ... LIMIT 1: one index probe per event, never a scan of all events (a hashed
    -- EXISTS would read the whole table on every batch)
    SELECT i.*, i.event_type = 'Started' AS started, i.event_type = 'Ended' AS ended,
        seen.tx IS NOT NULL AS repeated
    FROM i JOIN ins ON ins.transaction_id = i.tx
    LEFT JOIN LATERAL (SELECT e.transaction_id AS tx FROM transaction_events e
                       WHERE e.transaction_id = i.tx AND e.seq_no = i.seq_no LIMIT 1) seen
        ON true
), upd AS (
    UPDATE transactions t SET
        orphan = t.orphan AND NOT {_STARTS},
        started_at = CASE WHEN {_STARTS} THEN n.event_at
                          WHEN n.ended OR NOT t.orphan THEN t.started_at
                          ELSE LEAST(t.started_at, n.event_at) END,
        evse_id = COALESCE(n.evse_id, t.evse_id),
        connector_id = COALESCE(n.connector_id, t.connector_id),
        -- the start's token pays; a token on Ended is the one that stopped it
        id_token = CASE WHEN {_STARTS} AND n.id_token IS NOT NULL THEN n.id_token
                        WHEN n.ended THEN t.id_token
                        ELSE COALESCE(t.id_token, n.id_token) END,
        id_token_type = CASE WHEN {_STARTS} AND n.id_token IS NOT NULL THEN n.id_token_type
                             WHEN n.ended THEN t.id_token_type
                             ELSE COALESCE(t.id_token_type, n.id_token_type) END,
        stop_id_token = CASE WHEN n.ended AND n.id_token IS NOT NULL THEN n.id_token
                             ELSE t.stop_id_token END,
        charging_state = CASE WHEN n.charging_state IS NOT NULL
                               AND (t.state_at IS NULL OR n.event_at >= t.state_at)
                              THEN n.charging_state ELSE t.charging_state END,
        state_at = CASE WHEN n.charging_state IS NOT NULL
                         AND (t.state_at IS NULL OR n.event_at >= t.state_at)
                        THEN n.event_at ELSE t.state_at END,
        remote_start_id = COALESCE(t.remote_start_id, n.remote_start_id),
        reservation_id = COALESCE(t.reservation_id, n.reservation_id),
        first_register_at = CASE WHEN n.first_at < t.first_register_at
                                   OR t.first_register_at IS NULL
                                 THEN n.first_at ELSE t.first_register_at END,
        meter_start_wh = CASE WHEN n.first_at < t.first_register_at
                                OR (t.first_register_at IS NULL AND n.first_at IS NOT NULL)
                              THEN n.first_wh ELSE t.meter_start_wh END,
        last_register_at = CASE WHEN n.last_at IS NOT NULL AND n.last_at >= t.last_register_at
                                  OR t.last_register_at IS NULL
                                THEN COALESCE(n.last_at, t.last_register_at)
                                ELSE t.last_register_at END,
        last_register_wh = CASE WHEN n.last_at IS NOT NULL AND n.last_at >= t.last_register_at
                                  OR t.last_register_at IS NULL
                                THEN COALESCE(n.last_wh, t.last_register_wh)
                                ELSE t.last_register_wh END,
        status = CASE WHEN n.ended THEN 'closed' ELSE t.status END,
        stopped_at = CASE WHEN n.ended AND t.stopped_at IS NULL THEN n.event_at
                          ELSE t.stopped_at END,
        stop_reason = CASE WHEN n.ended AND t.stopped_at IS NULL
                           THEN COALESCE(n.stopped_reason, 'Local') ELSE t.stop_reason END,
        last_seq_no = GREATEST(t.last_seq_no, n.seq_no),
        offline = t.offline OR n.offline,
        seq_anomalies = t.seq_anomalies
            || CASE WHEN n.repeated AND NOT 'repeated_seq_no' = ANY(t.seq_anomalies)
                    THEN ARRAY['repeated_seq_no'] ELSE '{{}}'::text[] END
            || CASE WHEN n.seq_no < t.last_seq_no AND NOT n.repeated
                         AND NOT 'out_of_order' = ANY(t.seq_anomalies)
                    THEN ARRAY['out_of_order'] ELSE '{{}}'::text[] END
            || CASE WHEN n.started AND NOT {_STARTS}
                         AND NOT 'reused_transaction_id' = ANY(t.seq_anomalies)
                    THEN ARRAY['reused_transaction_id'] ELSE '{{}}'::text[] END
            || CASE WHEN t.stopped_at IS NOT NULL AND n.ended
                         AND NOT 'conflicting_end' = ANY(t.seq_anomalies)
                    THEN ARRAY['conflicting_end'] ELSE '{{}}'::text[] END,
        -- only a start, an end or a first sight moves updated_at: an Updated event then changes
        -- no indexed column and its row update stays on the page (HOT)
        updated_at = CASE WHEN {_STARTS} OR n.ended OR t.orphan THEN now()
                          ELSE t.updated_at END
    -- SET reads t, the row as it is when this update locks it (another node's batch may have
    -- changed it meanwhile); o, the snapshot, serves only to tell what it was before
    FROM n, transactions o
    WHERE t.id = n.tx AND o.id = n.tx
    RETURNING t.id, t.orphan, t.evse_id, t.connector_id, t.status, o.status AS was_status,
        t.meter_start_wh, t.last_register_wh, t.stopped_at, t.auth_status
)"""
_EVENT_RESULT = """SELECT i.tx, upd.id IS NULL AS replayed,
    COALESCE(upd.orphan, t.orphan) AS orphan,
    COALESCE(upd.evse_id, t.evse_id) AS evse_id,
    COALESCE(upd.connector_id, t.connector_id) AS connector_id,
    COALESCE(upd.status, t.status) AS status,
    COALESCE(upd.was_status, t.status) AS was_status,
    COALESCE(upd.meter_start_wh, t.meter_start_wh) AS meter_start_wh,
    COALESCE(upd.last_register_wh, t.last_register_wh) AS last_register_wh,
    CASE WHEN upd.id IS NULL THEN t.stopped_at ELSE upd.stopped_at END AS stopped_at,
    CASE WHEN upd.id IS NULL THEN t.auth_status ELSE upd.auth_status END AS auth_status
FROM i
LEFT JOIN upd ON upd.id = i.tx
JOIN transactions t ON t.id = i.tx"""
APPLY_EVENTS = f"WITH {_EVENT_CTES} {_EVENT_RESULT}"
# The hot path in one statement (one round trip, its own transaction): a round of events on
# known, open transactions and every sample of the batch. Events are $1, samples $2.


def _apply_all(sample_ctes: str, counts: str) -> str:
    """Events ($1) and samples ($2) in one statement: each event's result row also carries the
    batch's sample counts."""
    result = _EVENT_RESULT.replace("SELECT i.tx,", f"SELECT {counts}, i.tx,", 1)
    return f"WITH {_EVENT_CTES}, {_stage(2)}, {sample_ctes} {result}"


APPLY_ALL = _apply_all(_SAMPLE_CTES, _COUNTS)
APPLY_ALL_DISTINCT = _apply_all(_DISTINCT_SAMPLE_CTES, _COUNTS)
# The same with samples seen for the first time (INSERT_NEW_SAMPLES): a stored key refuses the
# whole statement, events included, and the batch is applied again by APPLY_ALL(_DISTINCT).
APPLY_ALL_NEW = _apply_all(_NEW_SAMPLE_CTES, _NEW_COUNTS)

# The meter stop of an ended session: the register at the latest sampled moment up to its end
# (a sample after the end belongs to no session), read from the samples the batch just stored.
SET_METER_STOP = f"""
UPDATE transactions t SET meter_stop_wh = COALESCE((
        SELECT {ENERGY_WH}
        FROM meter_samples ms
        WHERE ms.transaction_id = t.id AND ms.measurand = 'Energy.Active.Import.Register'
          AND ms.phase = '' AND ms.location IN ('', 'Outlet') AND ms.unit IN ('', 'Wh', 'kWh')
          AND ms.value IS NOT NULL AND ms.sampled_at <= t.stopped_at
        ORDER BY ms.sampled_at DESC, ms.id DESC LIMIT 1), t.last_register_wh)
WHERE t.id = ANY($1::bigint[]) AND t.status = 'closed'
RETURNING t.id, t.meter_start_wh, t.meter_stop_wh"""

# Gaps in an ended transaction's seqNo run (events that never arrived), judged again whenever
# a late event arrives for it: a gap an offline queue fills later is no gap.
NOTE_MISSING = """
UPDATE transactions t SET seq_anomalies = CASE
        WHEN g.gap THEN t.seq_anomalies || ARRAY['missing_seq_no']
        ELSE array_remove(t.seq_anomalies, 'missing_seq_no') END
FROM (SELECT transaction_id,
             count(DISTINCT seq_no) < max(seq_no) - min(seq_no) + 1 AS gap
      FROM transaction_events WHERE transaction_id = ANY($1::bigint[])
      GROUP BY transaction_id) g
WHERE t.id = g.transaction_id AND g.gap <> ('missing_seq_no' = ANY(t.seq_anomalies))"""

# An EVSE runs one transaction at a time: an older one still open there lost its Ended event;
# close it so its token is not held (ConcurrentTx) forever.
SUPERSEDE_V201 = """
UPDATE transactions o SET status = 'closed', stop_reason = 'Superseded', updated_at = now()
FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::timestamptz[])
    AS s(station_id, evse_id, tx, started_at)
WHERE o.station_id = s.station_id AND o.ocpp_version = '2.0.1' AND o.evse_id = s.evse_id
  AND o.status = 'open' AND o.id <> s.tx AND o.started_at <= s.started_at"""

# -- 1.6 StartTransaction / StopTransaction ------------------------------------------------
# A 1.6 row's created_at and updated_at are when its start and its stop arrived, on the CSMS
# clock (not the database's now()): the metering rules judge the station's clock by them.

START_V16 = """
INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id, id_token,
    auth_status, started_at, meter_start_wh, reservation_id, created_at, updated_at)
VALUES ($1, '1.6', $2, $3, $4, $5, $6, $7, $8, $9, $9)
ON CONFLICT (station_id, evse_id, id_token, started_at, meter_start_wh)
    WHERE ocpp_version = '1.6' AND NOT orphan AND stopped_at IS NULL
DO NOTHING RETURNING id"""
# Only a start still waiting for its stop can be replayed (a superseded one included).
FIND_START_V16 = """
SELECT id FROM transactions WHERE station_id = $1 AND evse_id = $2 AND id_token = $3
    AND started_at = $4 AND meter_start_wh = $5 AND ocpp_version = '1.6' AND NOT orphan
    AND stopped_at IS NULL"""
SUPERSEDE_V16 = """
UPDATE transactions SET status = 'closed', stop_reason = 'Superseded', updated_at = now()
WHERE station_id = $1 AND evse_id = $2 AND status = 'open' AND id <> $3
  AND ocpp_version = '1.6' AND started_at <= $4"""

FIND_STOP_TARGET = """
SELECT id, status, stopped_at, meter_stop_wh, stop_reason, stop_id_token, evse_id,
       meter_start_wh
FROM transactions
WHERE id = $1 AND station_id = $2 AND ocpp_version = '1.6' AND NOT orphan
FOR UPDATE"""
CLOSE_V16 = """
UPDATE transactions SET status = 'closed', stopped_at = $2, meter_stop_wh = $3,
    stop_reason = $4, stop_id_token = $5, linked_to = COALESCE($6, linked_to),
    updated_at = $7
WHERE id = $1"""
# A stop that is neither its transaction's first nor a replay of it: kept beside it. The
# transaction's updated_at stays its stop's receipt time (clock-skew evidence).
NOTE_CONFLICTING_STOP = """
UPDATE transactions SET seq_anomalies = seq_anomalies || ARRAY['conflicting_stop']
WHERE id = $1 AND NOT 'conflicting_stop' = ANY(seq_anomalies)"""
INSERT_ORPHAN_V16 = """
INSERT INTO transactions (station_id, ocpp_version, station_tx_id, status, orphan, stopped_at,
    meter_stop_wh, stop_reason, stop_id_token, meter_start_wh, linked_to)
VALUES ($1, '1.6', $2, 'closed', true, $3, $4, $5, $6, $7, $8)
ON CONFLICT (station_id, station_tx_id, stopped_at, COALESCE(meter_stop_wh, -1),
             COALESCE(stop_id_token, ''), COALESCE(stop_reason, ''))
    WHERE ocpp_version = '1.6' AND orphan
DO NOTHING RETURNING id"""
FIND_ORPHAN_V16 = """
SELECT o.id, o.linked_to, l.evse_id AS linked_evse FROM transactions o
LEFT JOIN transactions l ON l.id = o.linked_to
WHERE o.station_id = $1 AND o.ocpp_version = '1.6' AND o.orphan AND o.station_tx_id = $2
  AND o.stopped_at = $3 AND COALESCE(o.meter_stop_wh, -1) = COALESCE($4::bigint, -1)
  AND COALESCE(o.stop_id_token, '') = COALESCE($5::text, '')
  AND COALESCE(o.stop_reason, '') = COALESCE($6::text, '')"""
# The start a stop for a never-issued id belongs to, when the evidence is clear: a start on
# this station still open (not superseded by a newer start on its connector: that one's energy
# may be billed already), begun before the stop, whose meterStart is not above the meterStop,
# and with the stop's idTag when it names one. Two candidates: not clear.
STOP_CANDIDATES = """
SELECT id, evse_id, meter_start_wh FROM transactions
WHERE station_id = $1 AND ocpp_version = '1.6' AND NOT orphan AND status = 'open'
  AND started_at <= $2 AND meter_start_wh <= $3 AND ($4::text IS NULL OR id_token = $4)
ORDER BY started_at DESC LIMIT 2
FOR UPDATE"""
LINK_ORPHAN = "UPDATE transactions SET linked_to = $2 WHERE id = $1"
