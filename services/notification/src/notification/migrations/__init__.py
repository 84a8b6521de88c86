# Versioned SQL migrations of the notification service: NNNN_description.sql, applied in order.
