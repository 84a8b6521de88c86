# Versioned SQL migrations of the identity service: NNNN_description.sql, applied in order.
