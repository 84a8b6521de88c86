"""The registration service's use cases, by area. Each takes a connection and keyword arguments,
loads what it decides on, asks `registration.domain`, writes the dossier, its history, the events
and the emails (through the outbox) together, so either all of it happens or none.

- `provider`: organisation data, drafts, sections, submitting, the provider's lists;
- `back_office`: the work queue, information requests and their terms, amendments, forwarding, decisions;
- `register`: registered trainings, stopping, evaluations, the yearly contact verification;
- `organisations`: R-2, releasing held applications;
- `documents`: uploaded documents.
"""
