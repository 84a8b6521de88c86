"""The runtime every WSE service is built on.

One service = one `Service` definition (its name, migrations, HTTP routes, event handlers and
scheduled jobs); the runtime turns it into a process with health, metrics, logs, an outbox relay,
idempotent consumers with dead letters, a durable scheduler and token verification.
"""
