"""The public register (R-20 to R-23): to be written."""

ROUTES: list = []
