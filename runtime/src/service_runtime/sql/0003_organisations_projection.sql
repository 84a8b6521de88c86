-- Identity's organisations as its events describe them, for the services that mount the
-- organisations projection (registration, recognition, attestation): who the organisation is and
-- whether it holds the WSE quality registration (R-2, E-2).
CREATE TABLE organisations_projection (
    organisation_id     uuid PRIMARY KEY,
    name                text        NOT NULL,
    kind                text        NOT NULL,
    enterprise_number   text,
    institution_number  text,
    contact_email       text,
    quality_status      text        NOT NULL DEFAULT 'none',
    quality_valid_from  date,
    quality_valid_until date,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
