-- Deliveries are claimed from the notifications table in batches (the service's delivery loop),
-- no longer one scheduler job per email.
--   next_attempt_at: when a created or retrying notification is due; for one that is `sending`,
--   when its lease runs out (the process that claimed it is presumed dead, and it is claimed again).
--   correlation_id: the requesting service's, carried on to the delivered and failed events.
ALTER TABLE notifications ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE notifications ADD COLUMN correlation_id text;

UPDATE notifications n SET next_attempt_at = COALESCE(
    (SELECT j.due_at FROM scheduled_jobs j
     WHERE j.job = 'notification.deliver' AND j.dedup_key = n.notification_id::text AND j.status = 'pending'),
    n.updated_at)
WHERE n.status IN ('created', 'temporary-failure', 'sending');

UPDATE scheduled_jobs SET status = 'cancelled' WHERE job = 'notification.deliver' AND status = 'pending';

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status IN ('created', 'temporary-failure', 'sending');
