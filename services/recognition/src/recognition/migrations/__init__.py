# Versioned SQL migrations of the recognition service: NNNN_description.sql, applied in order.
