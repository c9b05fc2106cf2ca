-- 0002: page sessions ended server-side at logout.

CREATE TABLE revoked_sessions (
    session_hash text PRIMARY KEY,
    expires_at   timestamptz NOT NULL
);

COMMENT ON TABLE revoked_sessions IS
    'Page sessions ended by a logout before they expire: a hash of the session nonce only';
