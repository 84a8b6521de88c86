-- The trace an email continues (W3C traceparent of the span that accepted its request), so its
-- delivery span joins the trace of the request that caused it. NULL when tracing is off.
ALTER TABLE notifications ADD COLUMN traceparent text;
