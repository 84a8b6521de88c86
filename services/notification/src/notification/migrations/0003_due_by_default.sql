-- A row written without a due time (by a replica of the version before 0002, during a rolling
-- deploy) is due at once instead of never. Old replicas still deliver through their scheduler
-- jobs, so stop them before this version takes over (README, Notification).
ALTER TABLE notifications ALTER COLUMN next_attempt_at SET DEFAULT now();
