"""Who may call the registration service's routes.

Provider staff act for the organisation their token names and need `dwse_organisation_officer`
in context `training_database` (R-1); case handlers act for the department with
`case_handler@training_database`; the register is public. A dossier of another organisation is
refused and audited (the runtime's UseCases).
"""

from __future__ import annotations

from service_runtime.http import Public, RightRequired, access

PROVIDER = access(RightRequired(role="dwse_organisation_officer", context="training_database"))
CASE_HANDLER = access(RightRequired(role="case_handler", context="training_database"))
PUBLIC = access(Public())
