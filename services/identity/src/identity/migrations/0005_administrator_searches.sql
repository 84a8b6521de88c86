-- ID-9: public searches for an organisation's administrators are counted per caller's address in
-- the audit log (the allowance per window); this index keeps that count to the window's entries.
CREATE INDEX audit_log_administrator_searches ON audit_log (subject, at) WHERE action = 'organisation.administrators_searched';
