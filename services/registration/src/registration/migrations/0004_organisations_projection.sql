-- Identity's organisations now live in the runtime's organisations_projection (runtime migration
-- 0003), shared with recognition and attestation; its consumer keeps the name "organisations", so
-- the consumer group carries on from its offsets. What this service learnt so far is copied over
-- (rows the projection already has are newer), then its own table goes.
INSERT INTO organisations_projection (organisation_id, name, kind, quality_status, quality_valid_from, quality_valid_until, updated_at)
SELECT organisation_id, name, kind, quality_status, quality_valid_from, quality_valid_until, updated_at FROM organisations
ON CONFLICT (organisation_id) DO NOTHING;

DROP TABLE organisations;

-- The register's provider filter by part of the provider's name (ILIKE '%...%') finds the
-- providers first (registration.register.provider_ids), as it did on the old table.
CREATE INDEX organisations_projection_name_trigram ON organisations_projection USING gin (name gin_trgm_ops);
