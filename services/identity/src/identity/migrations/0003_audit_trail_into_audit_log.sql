-- ID-12: identity's own audit trail joins the runtime's one audit log (runtime migration 0002),
-- so a refusal and a change look the same wherever they were recorded. The old rows keep their
-- time, actor, organisation, action, subject, outcome, details and correlation id. Which
-- organisation the actor was acting for was never recorded, so acting_for stays NULL for them
-- (their organisation_id is what the action concerned, not whom the actor acted for). A
-- refusal's reason was kept in details; it is also copied to the log's own reason column, where
-- new refusals have it.
INSERT INTO audit_log (at, actor_id, acting_for, organisation_id, action, subject, outcome, reason, details, correlation_id)
SELECT at, actor_id, NULL, organisation_id, action, subject, outcome, CASE WHEN outcome = 'denied' THEN details ->> 'reason' END, details, correlation_id
FROM audit_trail ORDER BY id;
DROP TABLE audit_trail;
