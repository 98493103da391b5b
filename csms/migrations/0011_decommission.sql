-- Decommissioned stations and deleted id tokens keep their rows: transactions, CDRs, meter
-- samples, platform records and the audit name them for as long as the history is kept.

-- A decommissioned station is refused at the handshake and left out of the plan's counts from
-- its decommissioning day on; re-commissioning clears these three columns.
ALTER TABLE stations
    ADD COLUMN decommissioned_at    timestamptz,
    ADD COLUMN decommissioned_by    text,
    ADD COLUMN decommission_reason  text;

-- A deleted token answers as unknown (Invalid). Creating the same id again revives the row
-- with the new settings; the deletion stays in operator_actions.
ALTER TABLE id_tokens
    ADD COLUMN deleted_at  timestamptz,
    ADD COLUMN deleted_by  text;

-- Who did what to a station or a token through the API or the CLI (commands sent to stations
-- have their own log, command_log).
CREATE TABLE operator_actions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    subject_kind  text NOT NULL CHECK (subject_kind IN ('station', 'token')),
    subject_id    text NOT NULL,
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX operator_actions_subject ON operator_actions (subject_kind, subject_id, at);
CREATE INDEX operator_actions_at ON operator_actions (at);
