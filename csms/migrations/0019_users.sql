-- Named operator accounts that sign in with a password (the operator console, issue 18), their
-- sessions, and a scope for users and API keys. A scope is a set of counties (stations.county)
-- or one owner unit (stations.owner_unit); both scope columns NULL = the whole network.

CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login                text NOT NULL CHECK (length(login) BETWEEN 1 AND 64),
    display_name         text CHECK (length(display_name) BETWEEN 1 AND 200),
    role                 text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    password_hash        text NOT NULL,           -- scrypt, self-describing; never the password
    scope_counties       text[] CHECK (cardinality(scope_counties) >= 1),
    scope_owner_unit     text CHECK (length(scope_owner_unit) BETWEEN 1 AND 200),
    disabled_at          timestamptz,
    created_at           timestamptz NOT NULL,
    password_changed_at  timestamptz NOT NULL,
    CONSTRAINT users_one_scope CHECK (scope_counties IS NULL OR scope_owner_unit IS NULL)
);
-- logins are unique whatever their case: "Alice" and "alice" are one account
CREATE UNIQUE INDEX users_login ON users (lower(login));

-- A signed-in browser. Only a SHA-256 of the session token (256 random bits, in an HttpOnly
-- cookie) is stored; the CSRF token is no secret on its own (the browser shows it to scripts).
CREATE TABLE user_sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash    text NOT NULL UNIQUE,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    source        text,                          -- the client address at sign-in
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL           -- the absolute end; idleness ends it sooner
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires ON user_sessions (expires_at);

ALTER TABLE api_keys
    ADD COLUMN scope_counties    text[] CHECK (cardinality(scope_counties) >= 1),
    ADD COLUMN scope_owner_unit  text CHECK (length(scope_owner_unit) BETWEEN 1 AND 200),
    ADD CONSTRAINT api_keys_one_scope CHECK (scope_counties IS NULL OR scope_owner_unit IS NULL);

-- user changes, sign-ins and sign-outs go to the operator audit too
ALTER TABLE operator_actions DROP CONSTRAINT operator_actions_subject_kind_check;
ALTER TABLE operator_actions ADD CONSTRAINT operator_actions_subject_kind_check
    CHECK (subject_kind IN ('station', 'token', 'user'));
