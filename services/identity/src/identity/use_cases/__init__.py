"""The identity service's use cases, by area: each takes a connection inside the caller's
transaction and keyword arguments (the acting person, plain values); it asks the domain rules,
then writes the state, the audit entry and the events (through the outbox) together, so either
all of it happens or none. Route handlers run them with the runtime's `ctx.run`."""

from identity.use_cases.audit import audit_trail
from identity.use_cases.members import add_member, appoint_administrator, member_of, members_of, remove_administrator, remove_member
from identity.use_cases.organisations import (
    administrators_of,
    change_organisation,
    find_administrators,
    get_organisation,
    import_secondary_schools,
    refuse_public_search,
    register_organisation,
    search_organisations,
)
from identity.use_cases.persons import lookup_person, refuse_lookup, register_person, republish_persons
from identity.use_cases.right_requests import decide_right_request, my_right_requests, request_right, right_requests, withdraw_right_request
from identity.use_cases.rights import (
    catalogue,
    change_right_validity,
    check,
    grant_right,
    grant_theme,
    my_rights,
    revoke_right,
    revoke_theme,
    rights_report,
    themes,
)
from identity.use_cases.sign_in import bootstrap_department, choose_organisation, person_signing_in, rotate_signing_keys, tiles

__all__ = [
    "add_member",
    "administrators_of",
    "appoint_administrator",
    "audit_trail",
    "bootstrap_department",
    "catalogue",
    "change_organisation",
    "change_right_validity",
    "check",
    "choose_organisation",
    "decide_right_request",
    "find_administrators",
    "get_organisation",
    "grant_right",
    "grant_theme",
    "import_secondary_schools",
    "lookup_person",
    "member_of",
    "members_of",
    "my_right_requests",
    "my_rights",
    "person_signing_in",
    "refuse_lookup",
    "refuse_public_search",
    "register_organisation",
    "register_person",
    "republish_persons",
    "remove_administrator",
    "remove_member",
    "request_right",
    "revoke_right",
    "revoke_theme",
    "right_requests",
    "rights_report",
    "rotate_signing_keys",
    "search_organisations",
    "themes",
    "tiles",
    "withdraw_right_request",
]
