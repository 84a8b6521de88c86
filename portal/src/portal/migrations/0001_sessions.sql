-- Server-side sessions: the platform token never reaches the browser. The cookie holds a random
-- secret; this table holds its SHA-256 only, so a copy of the table opens no session.
CREATE TABLE sessions (
    session_hash bytea PRIMARY KEY,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
