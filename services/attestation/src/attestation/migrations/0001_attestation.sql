-- Attestations for Flemish training leave: rules A-1 to A-9 in domain.md; seeds 003 and 004.
--
-- Students are people who never signed up: their national register number is stored encrypted
-- (nrn_encrypted, a key id inside each value, service_runtime.pii) with a keyed blind index for
-- look-up and de-duplication; everything else refers to the student by a keyed pseudonym.

-- Registration's trainings as its events describe them (A-3, A-4, A-5, A-7, A-8).
CREATE TABLE trainings_projection (
    odb_number      text PRIMARY KEY,
    organisation_id uuid        NOT NULL,
    name            text        NOT NULL,
    holds_from      date        NOT NULL,
    stop_on         date,
    replaced_by     text,
    structure       text        NOT NULL,
    blended         boolean     NOT NULL,
    modules         jsonb       NOT NULL,       -- [{name, hours, blended, starts_on, ends_on}]
    school_years    text[]      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE students (
    student_id      text PRIMARY KEY,            -- the pseudonym events carry
    nrn_index       bytea       NOT NULL UNIQUE, -- HMAC of the number: look-up, de-duplication
    nrn_encrypted   bytea       NOT NULL,        -- AES-GCM, key id inside
    key_id          text        NOT NULL,        -- which key: rotation walks the others
    last_name       text        NOT NULL,
    first_name      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX students_by_key ON students (key_id);

-- A-9: every submission, single or bulk, gets a receipt with its counts.
CREATE TABLE receipts (
    receipt_id      uuid PRIMARY KEY,
    receipt_seq     bigserial UNIQUE,
    receipt_number  text GENERATED ALWAYS AS ('ONT-' || lpad(receipt_seq::text, 8, '0')) STORED,
    organisation_id uuid        NOT NULL,
    submitted_by    uuid        NOT NULL,
    received_at     timestamptz NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('single', 'bulk')),
    filename        text,
    sha256          text,
    rows_total      integer     NOT NULL DEFAULT 0,
    accepted        integer     NOT NULL DEFAULT 0,
    held            integer     NOT NULL DEFAULT 0,
    refused         integer     NOT NULL DEFAULT 0,
    unchanged       integer     NOT NULL DEFAULT 0,   -- already attested with the same content (idempotent)
    status          text        NOT NULL DEFAULT 'done' CHECK (status IN ('processing', 'done', 'rejected'))
);
CREATE INDEX receipts_by_organisation ON receipts (organisation_id, received_at DESC);

-- A bulk file's report: every refused row, by row number, field, reason and rule.
CREATE TABLE receipt_problems (
    receipt_id  uuid    NOT NULL REFERENCES receipts,
    row_number  integer NOT NULL,
    field       text    NOT NULL,
    reason      text    NOT NULL,
    rule        text
);
CREATE INDEX receipt_problems_by_receipt ON receipt_problems (receipt_id, row_number);

-- A-2, A-4: a student's enrolment on a registered training (and module), with the provider's own
-- reference; A-5: for a blended module, whether the learning process was completed.
CREATE TABLE enrolments (
    enrolment_id    uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL,
    reference       text        NOT NULL,
    version         integer     NOT NULL DEFAULT 1,
    student_id      text        NOT NULL REFERENCES students,
    odb_number      text        NOT NULL,
    module          text        NOT NULL DEFAULT '',   -- '' for an integral training
    starts_on       date        NOT NULL,
    ends_on         date        NOT NULL,
    school_year     text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('accepted', 'held', 'refused', 'withdrawn')),
    refusal_rule    text,                              -- a held enrolment refused once the register knew the number
    refusal_reason  text,
    completed       boolean     NOT NULL DEFAULT false,
    receipt_id      uuid        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (organisation_id, reference)
);
CREATE INDEX enrolments_by_student ON enrolments (student_id);
CREATE INDEX enrolments_by_odb ON enrolments (odb_number);
CREATE INDEX enrolments_held ON enrolments (odb_number) WHERE status = 'held';

-- A-2, A-3: hours attended per period on the enrolment's ODB number (and module).
CREATE TABLE attendances (
    attendance_id   uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL,
    enrolment_id    uuid        NOT NULL REFERENCES enrolments,
    reference       text        NOT NULL,
    version         integer     NOT NULL DEFAULT 1,
    student_id      text        NOT NULL,
    odb_number      text        NOT NULL,
    module          text        NOT NULL DEFAULT '',
    period_from     date        NOT NULL,
    period_to       date        NOT NULL,
    hours           numeric(7, 2) NOT NULL CHECK (hours >= 0),
    school_year     text        NOT NULL,
    completed       boolean,                           -- A-5: blended modules only
    status          text        NOT NULL CHECK (status IN ('accepted', 'held', 'refused', 'withdrawn')),
    receipt_id      uuid        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (organisation_id, reference, module, period_from, period_to)
);
CREATE INDEX attendances_by_student_year ON attendances (student_id, school_year) WHERE status = 'accepted';
CREATE INDEX attendances_by_enrolment ON attendances (enrolment_id);

-- Corrections are new versions; the previous ones are kept here (without any national register number).
CREATE TABLE attestation_history (
    id              bigserial PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('enrolment', 'attendance')),
    attestation_id  uuid        NOT NULL,
    version         integer     NOT NULL,
    content         jsonb       NOT NULL,
    replaced_at     timestamptz NOT NULL,
    replaced_by     uuid,
    action          text        NOT NULL CHECK (action IN ('corrected', 'withdrawn'))
);
CREATE INDEX attestation_history_by_attestation ON attestation_history (attestation_id, id);

-- A-6: the training-leave minimum reached, once per student and school year (per training before 2021-2022).
CREATE TABLE entitlements (
    student_id      text        NOT NULL,
    school_year     text        NOT NULL,
    odb_number      text        NOT NULL DEFAULT '',   -- '' from 2021-2022 (across providers)
    hours           numeric(9, 2) NOT NULL,
    reached_at      timestamptz NOT NULL,
    PRIMARY KEY (student_id, school_year, odb_number)
);

-- ID-10: who a signed-in citizen is, as a student: identity's person -> the same pseudonym.
CREATE TABLE persons_projection (
    person_id       uuid PRIMARY KEY,
    student_id      text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_projection_by_student ON persons_projection (student_id);
