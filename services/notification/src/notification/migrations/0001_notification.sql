-- Notifications (N-1 to N-4, ID-8): one row per request and recipient, with its delivery log.

CREATE TABLE notifications (
    notification_id   uuid PRIMARY KEY,
    requested_by      text        NOT NULL,
    idempotency_key   text        NOT NULL,
    reference         text        NOT NULL,
    template_id       text        NOT NULL,
    template_version  integer     NOT NULL,
    recipient_email   text        NOT NULL,
    recipient_name    text,
    personalisation   jsonb       NOT NULL,
    subject           text,
    body_text         text,
    body_html         text,
    status            text        NOT NULL CHECK (status IN ('created', 'sending', 'delivered', 'temporary-failure',
                          'permanent-failure', 'technical-failure')),
    attempts          integer     NOT NULL DEFAULT 0,
    last_answer       text,                      -- the SMTP server's answer, or why it could not be sent
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    delivered_at      timestamptz,
    -- The same request again (same requesting service and key) creates nothing new.
    UNIQUE (requested_by, idempotency_key, recipient_email)
);
CREATE INDEX notifications_by_reference ON notifications (reference, created_at);
CREATE INDEX notifications_by_recipient ON notifications (lower(recipient_email), created_at);
CREATE INDEX notifications_by_status ON notifications (status, updated_at);

-- What happened to each notification, when, and what the server said.
CREATE TABLE delivery_log (
    id              bigserial PRIMARY KEY,
    notification_id uuid        NOT NULL REFERENCES notifications,
    at              timestamptz NOT NULL,
    status          text        NOT NULL,
    detail          text
);
CREATE INDEX delivery_log_by_notification ON delivery_log (notification_id, id);
