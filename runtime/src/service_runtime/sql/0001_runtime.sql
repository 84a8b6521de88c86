-- Tables every service has: outbox, inbox, dead letters, durable scheduler, rights projection.

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text        NOT NULL,
    key          bytea,
    value        bytea       NOT NULL,
    headers      jsonb       NOT NULL,            -- [[name, text value], ...] (CloudEvents ce_ headers)
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- The relay reads only what is still to publish, in id order.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    consumer    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    key         bytea,
    value       bytea,
    headers     jsonb       NOT NULL,
    event_id    text,
    event_type  text,
    error       text        NOT NULL,
    attempts    integer     NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
CREATE INDEX dead_letters_open ON dead_letters (failed_at) WHERE replayed_at IS NULL;

CREATE TABLE scheduled_jobs (
    id         bigserial PRIMARY KEY,
    job        text        NOT NULL,
    dedup_key  text        NOT NULL,
    due_at     timestamptz NOT NULL,
    payload    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status     text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'cancelled')),
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at    timestamptz,
    UNIQUE (job, dedup_key)
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (due_at) WHERE status = 'pending';

-- Rights as identity publishes them; the guard answers "may P do R in C for O" from here.
CREATE TABLE rights_projection (
    right_id        uuid PRIMARY KEY,
    person_id       uuid        NOT NULL,
    organisation_id uuid        NOT NULL,
    role            text        NOT NULL,
    context         text        NOT NULL,
    valid_from      date        NOT NULL,
    valid_until     date,
    revoked_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rights_projection_holder ON rights_projection (person_id, organisation_id, context, role);

-- Access decisions this service made that matter (denials above all), append-only.
CREATE TABLE access_audit (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    person_id       uuid,
    organisation_id uuid,
    action          text        NOT NULL,
    decision        text        NOT NULL CHECK (decision IN ('allowed', 'denied')),
    reason          text        NOT NULL,
    correlation_id  text
);
CREATE RULE access_audit_no_update AS ON UPDATE TO access_audit DO INSTEAD NOTHING;
CREATE RULE access_audit_no_delete AS ON DELETE TO access_audit DO INSTEAD NOTHING;
