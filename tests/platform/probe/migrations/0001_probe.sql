-- No unique key on event_id on purpose: an effect applied twice would show as two rows.
CREATE TABLE probe_effects (
    id             bigserial PRIMARY KEY,
    event_id       text NOT NULL,
    aggregate      text NOT NULL,
    seq            integer NOT NULL,
    correlation_id text NOT NULL,
    handled_by     integer NOT NULL,
    handled_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE probe_cures (event_id text PRIMARY KEY);
CREATE TABLE probe_job_runs (
    id     bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    runner integer NOT NULL
);
