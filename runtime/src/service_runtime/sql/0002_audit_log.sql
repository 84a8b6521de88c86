-- One append-only audit log for every service (ID-12): who, acting for which organisation, did or
-- tried what, about which organisation and subject, when, the outcome and why. It replaces the
-- runtime's access_audit (denials at the door) and identity's own audit_trail (its changes and
-- refusals), so a refusal looks the same wherever it was made.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid,                 -- the person (platform id); NULL for the platform itself
    acting_for      uuid,                 -- the organisation their token acts for; NULL: for themselves
    organisation_id uuid,                 -- the organisation the action concerns
    action          text        NOT NULL, -- "right.granted", or "POST /v1/..." for a refused request
    subject         text,                 -- what it was about (a person id, a dossier), never a national register number
    outcome         text        NOT NULL CHECK (outcome IN ('done', 'denied')),
    reason          text,
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    correlation_id  text
);
CREATE INDEX audit_log_organisation ON audit_log (organisation_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE RULE audit_log_no_update AS ON UPDATE TO audit_log DO INSTEAD NOTHING;
CREATE RULE audit_log_no_delete AS ON DELETE TO audit_log DO INSTEAD NOTHING;

INSERT INTO audit_log (at, actor_id, acting_for, organisation_id, action, outcome, reason, correlation_id)
SELECT at, person_id, organisation_id, organisation_id, action, CASE decision WHEN 'denied' THEN 'denied' ELSE 'done' END, reason, correlation_id
FROM access_audit ORDER BY id;
DROP TABLE access_audit;
