"""Who may act for an organisation: organisations, local administrators, persons, rights, sign-in, audit trail."""
