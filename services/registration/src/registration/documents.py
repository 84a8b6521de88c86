"""Uploaded documents (R-4 follow-up document, R-16 extra documents, R-19 answers): to be written."""

ROUTES: list = []
