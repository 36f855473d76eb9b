-- clawgate shared state, version 1: session index rows, append-only transcripts, per-session
-- turn leases, cooldown entries.
CREATE TABLE sessions (
    agent_id    text        NOT NULL,
    session_key text        NOT NULL,
    entry       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, session_key)
);

CREATE TABLE transcript_lines (
    agent_id   text   NOT NULL,
    session_id text   NOT NULL,
    seq        bigint NOT NULL,
    line       text   NOT NULL,
    PRIMARY KEY (agent_id, session_id, seq)
);

CREATE TABLE session_leases (
    agent_id    text        NOT NULL,
    session_key text        NOT NULL,
    holder      text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (agent_id, session_key)
);

CREATE TABLE cooldowns (
    name       text   PRIMARY KEY,
    entry      jsonb  NOT NULL,
    updated_at bigint NOT NULL
);
