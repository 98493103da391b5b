-- Station password rotation (1.6J §6.2.2 / security whitepaper AuthorizationKey; 2.0.1 A01):
-- the new password's hash is kept next to the current one until the station connects with it,
-- then it replaces the current one. The password itself is never stored.
ALTER TABLE stations
    ADD COLUMN pending_password_hash  text,
    ADD COLUMN pending_password_state text
        CHECK (pending_password_state IN ('sent', 'accepted', 'unconfirmed')),
    ADD COLUMN pending_password_since timestamptz,
    ADD CONSTRAINT stations_pending_password_whole CHECK (
        (pending_password_hash IS NULL) = (pending_password_state IS NULL)
        AND (pending_password_hash IS NULL) = (pending_password_since IS NULL)
    );
