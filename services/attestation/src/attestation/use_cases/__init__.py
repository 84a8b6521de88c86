"""The attestation service's use cases, by area. Each takes a connection and keyword arguments,
loads what it decides on, asks `attestation.domain`, and writes the attestations, the receipt,
the events (through the outbox) together.

- `attest`: a batch of rows checked against the register and stored, idempotent on the reference;
- `provider`: single attestations, receipts (A-9), the provider's lists, corrections, withdrawals;
- `back_office`: search, a student's school years (A-6, audited), the reimbursement export;
- `citizen`: the student's own view (ID-10);
- `register`: registration's trainings kept, and held attestations judged when they arrive.
"""
