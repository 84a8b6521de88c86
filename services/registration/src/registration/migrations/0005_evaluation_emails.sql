-- R-26: what became of an evaluation's email, kept with the evaluation so the back office sees
-- whether anyone was told. A role, never the address (the notification log has the delivery):
--   emailed_to          'general_contact' when the email was requested (R-25's general contact);
--   not_emailed_reason  why not: 'positive' (only a negative evaluation is emailed) or
--                       'no_general_contact' (the provider named none, R-25).
-- Evaluations from before this was kept: a positive one was never emailed; of a negative one it
-- is not known (both columns null).
ALTER TABLE evaluations
    ADD COLUMN emailed_to text CHECK (emailed_to IN ('general_contact')),
    ADD COLUMN not_emailed_reason text CHECK (not_emailed_reason IN ('positive', 'no_general_contact')),
    ADD CONSTRAINT evaluations_email_one_way CHECK (emailed_to IS NULL OR not_emailed_reason IS NULL);

UPDATE evaluations SET not_emailed_reason = 'positive' WHERE outcome = 'positive';
