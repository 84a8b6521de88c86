-- Training registration in the ODB (rules R-1 to R-26 and N-1 in domain.md; seed 003).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Identity's organisations as its events describe them (name, kind, WSE quality registration).
CREATE TABLE organisations (
    organisation_id     uuid PRIMARY KEY,
    name                text        NOT NULL,
    kind                text        NOT NULL,
    quality_status      text        NOT NULL DEFAULT 'none',
    quality_valid_from  date,
    quality_valid_until date,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- What the provider keeps once and edits later (R-3, R-4, R-25).
CREATE TABLE organisation_data (
    organisation_id        uuid PRIMARY KEY,
    contact                jsonb,            -- R-3 {name, email, phone}: questions and decisions go here
    general_contact        jsonb,            -- R-25 {name, email, phone}
    voucher_contact        jsonb,            -- R-25, for training vouchers (optional)
    lms                    text,             -- R-4: one of the list, or 'other'
    lms_other              text,
    follow_up_document_id  uuid,             -- R-4/R-7: how the learning process is followed up
    contacts_confirmed_on  date,             -- R-25: the yearly verification
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Uploaded files (R-4, R-16, R-19): in this service's database, limited in size and type.
CREATE TABLE documents (
    document_id     uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL,
    purpose         text        NOT NULL CHECK (purpose IN ('follow_up', 'extra', 'answer')),
    filename        text        NOT NULL,
    content_type    text        NOT NULL,
    size_bytes      integer     NOT NULL,
    sha256          text        NOT NULL,
    content         bytea       NOT NULL,
    uploaded_by     uuid        NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_by_organisation ON documents (organisation_id, uploaded_at);

-- The joint committees (paritaire comités) that volunteered to decide on applications (R-15).
CREATE TABLE joint_committees (
    number  text PRIMARY KEY,
    name    text NOT NULL
);
INSERT INTO joint_committees (number, name) VALUES
    ('118', 'PC 118 voedingsnijverheid'),
    ('124', 'PC 124 bouwbedrijf'),
    ('200', 'PC 200 bedienden'),
    ('302', 'PC 302 hotelbedrijf'),
    ('330', 'PC 330 gezondheidsinrichtingen en -diensten');

-- An application, from draft to decision. Sections are stored as the provider saved them, each
-- validated on saving (R-18: going back keeps them); status says where the dossier is.
CREATE TABLE applications (
    application_id       uuid PRIMARY KEY,
    dossier_number       bigserial UNIQUE,
    organisation_id      uuid        NOT NULL,
    created_by           uuid        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('draft', 'inadmissible', 'held', 'in_review',
                             'awaiting_information', 'forwarded', 'approved', 'rejected')),
    sections             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    replaces_odb_number  text,                          -- R-24: an application for a replacement
    idempotency_key      text,
    submitted_at         timestamptz,
    submitted_by         uuid,
    decision_due_on      date,                          -- submission + 3 months
    inadmissible_rule    text,
    inadmissible_reason  text,
    flags                text[]      NOT NULL DEFAULT '{}',   -- e.g. 'longer_than_12_months' (R-11)
    deciding_body        text,                          -- 'commission' or 'joint_committee:<number>'
    advice               text,                          -- e.g. 'negative: insufficient information' (R-19)
    forwarded_at         timestamptz,
    decided_at           timestamptz,
    decision_reasons     text,
    odb_number           text,
    version              integer     NOT NULL DEFAULT 1,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, idempotency_key)
);
CREATE INDEX applications_by_organisation ON applications (organisation_id, status);
CREATE INDEX applications_queue ON applications (status, decision_due_on) WHERE status NOT IN ('draft', 'inadmissible', 'approved', 'rejected');

-- What happened to a dossier, by whom (R-17: amendments are kept).
CREATE TABLE application_history (
    id             bigserial PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications,
    at             timestamptz NOT NULL,
    actor_id       uuid,
    action         text        NOT NULL,
    details        jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX application_history_by_application ON application_history (application_id, id);

-- Requests for more information (R-19): one month to answer.
CREATE TABLE information_requests (
    request_id     uuid PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications,
    question       text        NOT NULL,
    asked_by       uuid        NOT NULL,
    asked_at       timestamptz NOT NULL,
    due_on         date        NOT NULL,
    answered_at    timestamptz,
    answer         text,
    answer_documents uuid[]    NOT NULL DEFAULT '{}',
    lapsed_at      timestamptz
);
CREATE UNIQUE INDEX one_open_information_request ON information_requests (application_id) WHERE answered_at IS NULL AND lapsed_at IS NULL;

-- The register: approved applications as registered trainings (R-20, R-21, R-23, R-24).
CREATE SEQUENCE odb_numbers START 100001;
CREATE TABLE trainings (
    odb_number          text PRIMARY KEY,
    application_id      uuid        NOT NULL UNIQUE REFERENCES applications,
    organisation_id     uuid        NOT NULL,
    provider_name       text        NOT NULL,
    name                text        NOT NULL,
    own_reference       text        NOT NULL,
    competence_group    text        NOT NULL,
    structure           text        NOT NULL,
    blended             boolean     NOT NULL,
    total_hours         numeric     NOT NULL,      -- contact hours (incl. workplace) + distance-learning hours
    study_points        numeric,
    web_page            text        NOT NULL,
    public              jsonb       NOT NULL,      -- the public fields (R-5), as shown
    modules             jsonb       NOT NULL,
    school_years        text[]      NOT NULL,
    holds_from          date        NOT NULL,      -- R-21
    stop_on             date,                      -- R-23: leaves the register on this date
    stop_reason         text,
    replaces            text REFERENCES trainings (odb_number),
    replaced_by         text REFERENCES trainings (odb_number),
    registered_at       timestamptz NOT NULL,
    search              tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('dutch', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('dutch', coalesce(provider_name, '')), 'B') ||
        setweight(to_tsvector('dutch', coalesce(public->>'content', '')), 'C')
    ) STORED
);
CREATE INDEX trainings_search ON trainings USING gin (search);
CREATE INDEX trainings_name_trigram ON trainings USING gin (name gin_trgm_ops);
CREATE INDEX trainings_by_organisation ON trainings (organisation_id, own_reference);
CREATE INDEX trainings_by_group ON trainings (competence_group, total_hours);
CREATE INDEX trainings_current ON trainings (stop_on);
CREATE UNIQUE INDEX trainings_odb_upper ON trainings (upper(odb_number));

-- The yearly evaluation per training (R-26).
CREATE TABLE evaluations (
    odb_number  text        NOT NULL REFERENCES trainings,
    year        integer     NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('positive', 'negative')),
    remarks     text,
    recorded_by uuid        NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (odb_number, year)
);
