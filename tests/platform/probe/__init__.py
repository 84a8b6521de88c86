"""A small service built on the runtime, used by the platform tests as a real process: it writes
events through the outbox (producer role), handles them into `probe_effects` (consumer role),
and runs scheduled jobs (scheduler role)."""
