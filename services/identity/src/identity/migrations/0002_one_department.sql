-- There is one department: its operators' rights hang on it, so a second one must not exist.
CREATE UNIQUE INDEX organisations_one_department ON organisations ((kind)) WHERE kind = 'department';
