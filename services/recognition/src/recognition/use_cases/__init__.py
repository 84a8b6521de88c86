"""The recognition service's use cases, by area. Each takes a connection and keyword arguments,
loads what it decides on, asks `recognition.domain`, and writes the application, its history, the
events and the emails (through the outbox) together, so either all of it happens or none.

- `provider`: drafts and parts, submitting, answers, reconsideration requests, the provider's lists;
- `back_office`: the work queue, admissibility, information requests, advice and decisions;
- `recognitions`: granting, ending (expiry, inactivity, withdrawal), coaching assignments,
  reported changes, the public list, and the jobs that publish what the dates already say;
- `deliveries`: the notification service's delivery facts that start the terms (E-6, E-10).
"""
