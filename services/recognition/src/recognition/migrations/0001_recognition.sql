-- Recognition of external service providers (Platos): rules E-1 to E-13 and N-3 in domain.md; seed 002.
--
-- Every deadline is a generated column: derived by the runtime's term_end() (the Judicial Code's
-- counting, runtime migration 0004) from the facts stored beside it, so it moves when a fact
-- changes and the work queue sorts on an index instead of computing 50,000 terms per request.

CREATE TABLE applications (
    application_id              uuid PRIMARY KEY,
    dossier_seq                 bigserial UNIQUE,
    dossier_number              text GENERATED ALWAYS AS ('ERK-' || lpad(dossier_seq::text, 6, '0')) STORED,
    organisation_id             uuid        NOT NULL,
    created_by                  uuid        NOT NULL,
    idempotency_key             text,
    status                      text        NOT NULL CHECK (status IN ('draft', 'submitted', 'inadmissible', 'in_examination',
                                    'awaiting_information', 'advised', 'granted', 'refused',
                                    'reconsideration_requested', 'reconsideration_heard', 'reconsideration_advised')),
    parts                       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- E-4, E-5
    submitted_at                timestamptz,
    submitted_on                date,        -- the day in Brussels (a timestamptz's day is not immutable)
    submitted_by                uuid,
    admissibility_judged_on     date,
    admissibility_reasons       text,
    -- E-6: the day the admissibility email was delivered to the mail server (notification's fact)
    examination_starts_on       date,
    suspended_days              integer     NOT NULL DEFAULT 0,
    suspended_since             date,        -- an information request is open
    -- E-7
    advice                      text CHECK (advice IN ('favourable', 'unfavourable')),
    advice_motivation           text,
    advised_on                  date,
    outcome                     text CHECK (outcome IN ('granted', 'refused')),
    decided_on                  date,
    decision_reasons            text,
    recognition_starts_on       date,
    decision_informed_on        date,        -- E-10: the day the decision email was delivered
    -- E-10
    reconsideration_requested_on date,
    reconsideration_motivation  text,
    heard_on                    date,
    commission_advice           text CHECK (commission_advice IN ('favourable', 'unfavourable')),
    commission_motivation       text,
    commission_advised_on       date,
    reconsidered_outcome        text CHECK (reconsidered_outcome IN ('granted', 'refused')),
    reconsidered_on             date,
    reconsidered_reasons        text,
    version                     integer     NOT NULL DEFAULT 1,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    -- The derived terms (E-5, E-6, E-10); NULL while their starting fact is unknown.
    admissibility_due_on        date GENERATED ALWAYS AS (term_end(submitted_on, 7)) STORED,
    examination_due_on          date GENERATED ALWAYS AS (
                                    CASE WHEN suspended_since IS NULL THEN term_end(examination_starts_on, 45 + suspended_days) END) STORED,
    reconsideration_last_day    date GENERATED ALWAYS AS (term_end(decision_informed_on, 30)) STORED,
    commission_advice_due_on    date GENERATED ALWAYS AS (term_end(heard_on, 45)) STORED,
    -- The department's deadline now, for the queue: the term of the step it is to take.
    deadline                    date GENERATED ALWAYS AS (CASE
                                    WHEN status = 'submitted' THEN term_end(submitted_on, 7)
                                    WHEN status = 'in_examination' THEN term_end(examination_starts_on, 45 + suspended_days)
                                    WHEN status = 'reconsideration_heard' THEN term_end(heard_on, 45)
                                END) STORED,
    UNIQUE (organisation_id, idempotency_key)
);

-- One open application per organisation (E-5: a new one after an inadmissible or refused one).
CREATE UNIQUE INDEX applications_one_open ON applications (organisation_id)
    WHERE status IN ('draft', 'submitted', 'in_examination', 'awaiting_information', 'advised');
CREATE INDEX applications_by_organisation ON applications (organisation_id, updated_at DESC);
-- The work queue: overdue first, then the nearest deadline, those without one last.
CREATE INDEX applications_queue ON applications ((coalesce(deadline, 'infinity'::date)), dossier_seq)
    WHERE status IN ('submitted', 'in_examination', 'awaiting_information', 'advised',
                     'reconsideration_requested', 'reconsideration_heard', 'reconsideration_advised');
CREATE INDEX applications_queue_by_status ON applications (status, (coalesce(deadline, 'infinity'::date)), dossier_seq)
    WHERE status IN ('submitted', 'in_examination', 'awaiting_information', 'advised',
                     'reconsideration_requested', 'reconsideration_heard', 'reconsideration_advised');

CREATE TABLE application_history (
    id              bigserial PRIMARY KEY,
    application_id  uuid        NOT NULL REFERENCES applications,
    at              timestamptz NOT NULL,
    actor_id        uuid,
    action          text        NOT NULL,
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX application_history_by_application ON application_history (application_id, id);

-- E-6: a question of the department and its answer; the term is suspended in between.
CREATE TABLE information_requests (
    request_id      uuid PRIMARY KEY,
    application_id  uuid        NOT NULL REFERENCES applications,
    question        text        NOT NULL,
    asked_by        uuid        NOT NULL,
    asked_at        timestamptz NOT NULL,
    requested_on    date        NOT NULL,
    answer          text,
    answered_by     uuid,
    answered_at     timestamptz,
    received_on     date
);
CREATE INDEX information_requests_by_application ON information_requests (application_id, asked_at);

CREATE TABLE answer_documents (
    document_id     uuid PRIMARY KEY,
    request_id      uuid        NOT NULL REFERENCES information_requests,
    filename        text        NOT NULL,
    content_type    text        NOT NULL,
    size_bytes      integer     NOT NULL,
    sha256          text        NOT NULL,
    content         bytea       NOT NULL
);
CREATE INDEX answer_documents_by_request ON answer_documents (request_id);

-- E-8: a recognition, from the minister's decision; it holds from valid_from through valid_until
-- unless ended_on (the first day it no longer holds) comes first.
CREATE TABLE recognitions (
    recognition_id      uuid PRIMARY KEY,
    recognition_number  text        NOT NULL UNIQUE,
    organisation_id     uuid        NOT NULL,
    application_id      uuid        NOT NULL UNIQUE REFERENCES applications,
    enterprise_number   text,
    name                text        NOT NULL,
    valid_from          date        NOT NULL,
    valid_until         date        NOT NULL,
    ended_on            date,
    end_reason          text CHECK (end_reason IN ('expiry', 'inactivity', 'withdrawal')),
    end_explanation     text,
    provinces           text[]      NOT NULL,
    municipalities      text[]      NOT NULL DEFAULT '{}',
    capacity            integer     NOT NULL,
    subcontractors      text[]      NOT NULL DEFAULT '{}',   -- enterprise numbers (E-11)
    contact             jsonb       NOT NULL,
    granted_at          timestamptz NOT NULL
);
CREATE INDEX recognitions_by_organisation ON recognitions (organisation_id, valid_from DESC);
CREATE INDEX recognitions_by_enterprise ON recognitions (enterprise_number);
CREATE INDEX recognitions_subcontractors ON recognitions USING gin (subcontractors);
CREATE INDEX recognitions_provinces ON recognitions USING gin (provinces);
CREATE INDEX recognitions_public ON recognitions (lower(name), recognition_id) WHERE ended_on IS NULL;

-- E-9: the provider's coaching assignments: dates and the employer, no employee.
CREATE TABLE coaching_assignments (
    assignment_id               uuid PRIMARY KEY,
    recognition_id              uuid        NOT NULL REFERENCES recognitions,
    employer_name               text        NOT NULL,
    employer_enterprise_number  text,
    starts_on                   date        NOT NULL,
    ends_on                     date CHECK (ends_on IS NULL OR ends_on >= starts_on),
    recorded_by                 uuid        NOT NULL,
    recorded_at                 timestamptz NOT NULL
);
CREATE INDEX coaching_assignments_by_recognition ON coaching_assignments (recognition_id, starts_on);

-- E-12: changes the provider reported, for the department to review.
CREATE TABLE change_reports (
    report_id       uuid PRIMARY KEY,
    recognition_id  uuid        NOT NULL REFERENCES recognitions,
    organisation_id uuid        NOT NULL,
    description     text        NOT NULL,
    reported_by     uuid        NOT NULL,
    reported_at     timestamptz NOT NULL,
    reviewed_at     timestamptz,
    reviewed_by     uuid,
    review_outcome  text CHECK (review_outcome IN ('noted', 'withdrawn')),
    review_note     text
);
CREATE INDEX change_reports_open ON change_reports (reported_at, report_id) WHERE reviewed_at IS NULL;
CREATE INDEX change_reports_by_recognition ON change_reports (recognition_id, reported_at);
