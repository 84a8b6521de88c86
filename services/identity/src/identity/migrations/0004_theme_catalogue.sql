-- ID-13: the Mijn Onderwijs themes an administrator can give are the department's catalogue, not
-- free text: a theme typed wrongly ("personel") would give nothing and say nothing. The department
-- keeps this table (a new theme is a row, like a right in the catalogue of rights).
CREATE TABLE themes (
    theme       text PRIMARY KEY,  -- new ones snake_case, as the API's pattern says
    description text NOT NULL
);
INSERT INTO themes (theme, description) VALUES
    ('financiering',          'Financiering en werkingsmiddelen'),
    ('infrastructuur',        'Infrastructuur en gebouwen'),
    ('kwaliteitszorg',        'Kwaliteitszorg en doorlichting'),
    ('leerlingenbegeleiding', 'Leerlingenbegeleiding'),
    ('leerlingengegevens',    'Leerlingengegevens en inschrijvingen'),
    ('onderwijsaanbod',       'Onderwijsaanbod en programmatie'),
    ('personeel',             'Personeel'),
    ('duaal_leren',           'Duaal leren');
-- Themes given before the catalogue existed stay valid: they join it, marked for the department
-- to review, so that no grant is lost and the foreign key below holds.
INSERT INTO themes (theme, description)
SELECT DISTINCT theme, 'Overgenomen uit eerdere toekenningen (na te kijken)' FROM theme_grants
ON CONFLICT (theme) DO NOTHING;
ALTER TABLE theme_grants ADD FOREIGN KEY (theme) REFERENCES themes;
