-- R-5's check that the provider's own reference is unique among its open dossiers, by an index
-- of its own: without it, stale statistics let the planner read every open dossier instead.
CREATE INDEX applications_open_reference ON applications (organisation_id, (sections->'training'->>'own_reference'))
    WHERE status IN ('held', 'in_review', 'awaiting_information', 'forwarded');
