-- The public register's search (registration.register): what its queries read.

-- The names of registered trainings, each once. Many trainings share a name ('Heftruckchauffeur',
-- 'EHBO', 'Excel voor gevorderden'), so text search and typo tolerance look words up among names
-- here, then take the trainings of those names from the index below, without reading their rows.
CREATE TABLE register_names (
    name    text PRIMARY KEY,
    search  tsvector GENERATED ALWAYS AS (to_tsvector('dutch'::regconfig, name)) STORED
);
CREATE INDEX register_names_search ON register_names USING gin (search);
CREATE INDEX register_names_trigram ON register_names USING gin (name gin_trgm_ops);

CREATE FUNCTION register_names_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO register_names (name) VALUES (NEW.name) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER trainings_register_names AFTER INSERT OR UPDATE OF name ON trainings
    FOR EACH ROW EXECUTE FUNCTION register_names_add();
INSERT INTO register_names (name) SELECT DISTINCT name FROM trainings ON CONFLICT DO NOTHING;

-- Trainings by name, holding what R-23 and the filters look at: the listing (by name) and the
-- trainings of matching names are read from these indexes alone (index-only scans).
CREATE INDEX trainings_register_by_name ON trainings (name, odb_number)
    INCLUDE (stop_on, competence_group, blended, total_hours, organisation_id, provider_name);
CREATE INDEX trainings_register_by_group ON trainings (competence_group, name, odb_number)
    INCLUDE (stop_on, blended, total_hours, organisation_id, provider_name);

-- The provider filter by part of the provider's name (ILIKE '%...%'): the providers first.
CREATE INDEX organisations_name_trigram ON organisations USING gin (name gin_trgm_ops);
