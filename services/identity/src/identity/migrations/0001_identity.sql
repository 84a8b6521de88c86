-- Identity and rights (rules ID-1 to ID-14 in domain.md).

-- The catalogue of rights is data (context + role), not code: a new application's rights are rows.
CREATE TABLE catalogue (
    context         text    NOT NULL,
    role            text    NOT NULL,
    description     text    NOT NULL,
    department_only boolean NOT NULL DEFAULT false,  -- back-office rights, granted within the department only
    PRIMARY KEY (context, role)
);
INSERT INTO catalogue (context, role, description, department_only) VALUES
    ('training_database', 'dwse_organisation_officer', 'DWSE organisatieverantwoordelijke: opleidingsdatabank (ODB)', false),
    ('training_leave',    'dwse_organisation_officer', 'DWSE organisatieverantwoordelijke: Vlaams opleidingsverlof', false),
    ('platos',            'dwse_organisation_officer', 'DWSE organisatieverantwoordelijke: Platos', false),
    ('dual_workplace',    'administrator',             'Werkplek duaal gebruiker: beheerder', false),
    ('dual_workplace',    'pathway_coach',             'Werkplek duaal gebruiker: trajectbegeleider', false),
    ('mijn_onderwijs',    'user',                      'Mijn Onderwijs: gebruiker (toegang per thema)', false),
    ('mijn_onderwijs',    'administrator',             'Mijn Onderwijs: beheerder', false),
    ('training_database', 'case_handler',              'Departement: dossierbehandelaar opleidingsdatabank', true),
    ('training_leave',    'case_handler',              'Departement: dossierbehandelaar Vlaams opleidingsverlof', true),
    ('platos',            'case_handler',              'Departement: dossierbehandelaar erkenningen', true),
    ('department',        'operator',                  'Departement: helpdesk (organisaties, hoofdbeheerders)', true);

CREATE TABLE organisations (
    organisation_id     uuid PRIMARY KEY,
    name                text        NOT NULL,
    kind                text        NOT NULL CHECK (kind IN ('department', 'secondary_school', 'adult_education_centre',
                            'higher_education', 'syntra', 'training_provider', 'service_provider', 'employer', 'other')),
    enterprise_number   text UNIQUE CHECK (enterprise_number ~ '^[01][0-9]{9}$'),
    institution_number  text UNIQUE,
    contact_email       text,
    quality_status      text        NOT NULL DEFAULT 'none' CHECK (quality_status IN ('none', 'registered', 'suspended', 'withdrawn')),
    quality_valid_from  date,
    quality_valid_until date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE persons (
    person_id                uuid PRIMARY KEY,
    national_register_number text        NOT NULL UNIQUE CHECK (national_register_number ~ '^[0-9]{11}$'),
    last_name                text        NOT NULL,
    first_name               text        NOT NULL,
    gender                   text        NOT NULL CHECK (gender IN ('female', 'male', 'x')),
    date_of_birth            date        NOT NULL,
    email                    text        NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now()
);

-- ID-5: a person's relation to an organisation; ID-1/ID-2: heads and local administrators.
CREATE TABLE memberships (
    organisation_id uuid        NOT NULL REFERENCES organisations,
    person_id       uuid        NOT NULL REFERENCES persons,
    role            text        NOT NULL CHECK (role IN ('user', 'local_administrator', 'head_administrator')),
    added_by        uuid,
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, person_id)
);
CREATE INDEX memberships_person ON memberships (person_id);

-- ID-6, ID-14: role@context for one organisation with a validity period; revoked rows are kept.
CREATE TABLE rights (
    right_id        uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations,
    person_id       uuid        NOT NULL REFERENCES persons,
    context         text        NOT NULL,
    role            text        NOT NULL,
    valid_from      date        NOT NULL,
    valid_until     date,
    granted_by      uuid,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    revoked_by      uuid,
    revoked_at      timestamptz,
    FOREIGN KEY (context, role) REFERENCES catalogue,
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX rights_check ON rights (person_id, organisation_id, context, role) WHERE revoked_at IS NULL;
CREATE INDEX rights_organisation ON rights (organisation_id) WHERE revoked_at IS NULL;

-- ID-8
CREATE TABLE right_requests (
    request_id      uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations,
    person_id       uuid        NOT NULL REFERENCES persons,
    context         text        NOT NULL,
    role            text        NOT NULL,
    reason          text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused', 'cancelled')),
    requested_at    timestamptz NOT NULL DEFAULT now(),
    decided_by      uuid,
    decided_at      timestamptz,
    decision_reason text,
    FOREIGN KEY (context, role) REFERENCES catalogue
);
-- A second identical pending request is refused.
CREATE UNIQUE INDEX right_requests_one_pending ON right_requests (organisation_id, person_id, context, role) WHERE status = 'pending';

-- ID-13: Mijn Onderwijs themes given to a user of an organisation.
CREATE TABLE theme_grants (
    organisation_id uuid        NOT NULL REFERENCES organisations,
    person_id       uuid        NOT NULL REFERENCES persons,
    theme           text        NOT NULL,
    granted_by      uuid,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, person_id, theme)
);

-- ID-12: append-only audit trail.
CREATE TABLE audit_trail (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid,
    action          text        NOT NULL,
    subject         text,
    organisation_id uuid,
    outcome         text        NOT NULL CHECK (outcome IN ('done', 'denied')),
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    correlation_id  text
);
CREATE INDEX audit_trail_organisation ON audit_trail (organisation_id, id);
CREATE RULE audit_trail_no_update AS ON UPDATE TO audit_trail DO INSTEAD NOTHING;
CREATE RULE audit_trail_no_delete AS ON DELETE TO audit_trail DO INSTEAD NOTHING;

-- Platform token signing keys (Ed25519). Several are published at once during a rotation.
CREATE TABLE signing_keys (
    kid             text PRIMARY KEY,
    private_key_pem text        NOT NULL,
    public_jwk      jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz  -- no longer signs; published until its last tokens have expired
);

-- The development identity provider's own keys (local runs and tests only), apart from the
-- platform's: a proof is never a platform token.
CREATE TABLE development_provider_keys (LIKE signing_keys INCLUDING ALL);
