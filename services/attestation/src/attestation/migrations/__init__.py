# Versioned SQL migrations of the attestation service: NNNN_description.sql, applied in order.
