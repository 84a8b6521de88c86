-- A bulk file cut off before it all arrived, or whose processing stopped halfway: the whole
-- batches stored stay stored, the receipt says `incomplete`, and sending the same file again
-- completes it (attestations are idempotent on the provider's reference).
ALTER TABLE receipts DROP CONSTRAINT receipts_status_check;
ALTER TABLE receipts ADD CONSTRAINT receipts_status_check CHECK (status IN ('processing', 'done', 'rejected', 'incomplete'));
