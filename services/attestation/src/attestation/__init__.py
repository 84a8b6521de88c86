"""Enrolment and attendance attestations for Flemish training leave."""
