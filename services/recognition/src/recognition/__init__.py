"""Platos: recognition of external service providers that coach employees with a disability."""
