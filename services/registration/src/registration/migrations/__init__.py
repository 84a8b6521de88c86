# Versioned SQL migrations of the registration service: NNNN_description.sql, applied in order.
