"""Dutch emails to contact persons over SMTP, with a delivery log."""
