"""Every reason a service can give is shown in Dutch (`portal.messages.dutch`).

Fast and without a stack: the services' sources are read with `ast`, every literal reason and
detail is looked up, every f-string is rendered with sample values and looked up; Pydantic's
own messages are produced by Pydantic itself.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, ValidationError, field_validator

from portal.messages import EXACT, PATTERNS, dutch

ROOT = Path(__file__).resolve().parents[2]

# Calls whose second argument is a reason (field, reason, rule), and calls whose first is one.
SECOND_ARG = {"Violation", "FieldProblem"}
FIRST_ARG = {
    "Invalid",
    "Conflict",
    "Forbidden",
    "NotFound",
    "DomainError",
    "InvalidNumber",
    "BadCursor",
    "Refused",
    "NotAuthorizedException",
    "PermissionDeniedException",
    "ClientException",
    "_encoding",  # attestation.bulk: the first half of an encoding problem
}
THIRD_ARG = {"Admissibility"}  # registration: why an application is inadmissible (admissible, rule, reason)
# Names a reason is kept in before it is raised (`reason = "..." if ... else "..."`).
REASON_NAMES = {"reason", "explanation"}
# Texts the services already write in Dutch.
ALREADY_DUTCH = re.compile(r"\b(?:je|het|werd|niet|opnieuw|Gedurende)\b")

# A sample value for every expression an f-string reason puts in, by its source text. A new
# f-string with a new expression fails the test until it has a sample here (and a translation).
SAMPLES: dict[str, Any] = {
    "' or '.join(allowed)": "in_examination or awaiting_information",
    "', '.join(COLUMNS[column][1:3]) or column": "referentie, eigen_referentie",
    "', '.join(DOCUMENT_TYPES)": "application/pdf, image/png, image/jpeg, text/plain",
    "', '.join(OPEN_STATUSES)": "held, in_review, awaiting_information, forwarded",
    "', '.join(PURPOSES)": "follow_up, extra, answer",
    "', '.join(domain.PARTS)": "project, simplified, experience, territory, declaration",
    "', '.join(domain.QUEUE_STATUSES)": "submitted, in_examination, awaiting_information, advised",
    "', '.join(domain.SECTIONS)": "contact, training, self_analysis, deciding_body, documents",
    "', '.join(lacking)": "communicating, tailored_advice",
    "', '.join(sorted(training.modules))": "Module 1: basis, Module 2: gevorderd",
    "', '.join((f'v{v}' for v in known))": "v1, v2",
    "', '.join((f'v{v}' for v in self.known_versions))": "v1, v2",
    "ACCEPTED": "PDF, DOCX, ODT, PNG or JPEG",
    "LATEST_ASSIGNMENT_END.isoformat()": "9997-12-31",
    "LATEST_RECOGNITION_START.isoformat()": "9994-12-31",
    "MAX_DOCUMENT_BYTES // (1024 * 1024)": 10,
    "MAX_HEADER_BYTES": 65536,
    "MAX_SCHOOL_YEARS": 2,
    "MAX_TEXT": 200,
    "PART_TITLES[p]": "part 4 (territory and capacity)",
    "_known_columns()": "kind (type/soort), reference (referentie/eigen_referentie), module",
    "advanced[0]": "B2",
    "already_stopped_on": date(2027, 1, 31),
    "assignment['starts_on'].isoformat()": "2027-03-01",
    "column": "odb_number",
    "context": "department",
    "day": 32,
    "declared[:100]": "text/plain",
    "doing": "recording the hearing",
    "encoded_month": 13,
    "enrolment.odb_number": "ODB-Y1388",
    "error": "the token has expired",
    "holds_from": date(2026, 9, 1),
    "hours": Decimal("12"),
    "informed_on.isoformat()": "2027-02-01",
    "kind": "enrolment",
    "kind.content_type": "application/pdf",
    "kind.name": "PDF",
    "last_day.isoformat()": "2027-03-03",
    "len(content)": 12000000,
    "len(record)": 9,
    "len(years)": 3,
    "length": 11,
    "level.replace('_', ' ')": "local administrator",
    "limit": 10485760,
    "limit // (1024 * 1024)": 10,
    "limit // 1000000": 10,
    "line": 4,
    "max_bytes": 10485760,
    "max_bytes // (1024 * 1024)": 10,
    "module.name": "Excel voor gevorderden",
    "month": 2,
    "name": "budget",
    "open_one['dossier_number']": "PLATOS-2027-0042",
    "open_one['status']": "in_examination",
    "pillars": 2,
    "reason": "Expecting value: line 1 column 1 (char 0)",
    "refused.retry_after_seconds": 30,
    "role": "operator",
    "row['reconsideration_requested_on'].isoformat()": "2027-04-02",
    "row['reference_used_by']": "ODB-2027-0013",
    "rule.wording()": "dwse_organisation_officer in context training_database or training_leave",
    "s['enterprise_number']": "0403.170.701",
    "s['name']": "Werkbaar Werk vzw",
    "self.size - len(chunk) + error.start + 1": 1234,
    "starts_on": date(2027, 2, 1),
    "status": "forwarded",
    "submitted_on": date(2027, 1, 15),
    "template_id": "registration.submitted",
    "theme": "jaarverslagen",
    "training.holds_from.isoformat()": "2026-09-01",
    "training.replaced_by": "ODB-Y1388",
    "training.stop_on.isoformat()": "2027-06-30",
    "training['odb_number']": "ODB-Y1234",
    "training['replaced_by']": "ODB-Y1388",
    "training['stop_on']": date(2027, 6, 30),
    "value": "31/01/2027",
    "version": 3,
    "width": 8,
    "year": 2027,
}
# Where one name means different things in different files: (file name, expression) -> sample.
SAMPLES_IN_FILE: dict[tuple[str, str], Any] = {
    ("bulk.py", "what"): "the file is UTF-16 (or UTF-32)",
    ("queries.py", "what"): "recognition",
}


def _sources() -> Iterator[Path]:
    for root in [*sorted(ROOT.glob("services/*/src")), ROOT / "runtime" / "src", ROOT / "contracts" / "src"]:
        yield from sorted(root.rglob("*.py"))


def _call_name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _texts(node: ast.expr | None) -> Iterator[ast.Constant | ast.JoinedStr]:
    """The string literals and f-strings an expression can be (both sides of `a if c else b`)."""
    if (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr):
        yield node
    elif isinstance(node, ast.IfExp):
        yield from _texts(node.body)
        yield from _texts(node.orelse)


def _reason_nodes(tree: ast.AST, *, services: bool) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            keywords = {"detail"}
            if name in SECOND_ARG:
                yield from node.args[1:2]
                keywords.add("reason")
            elif name in FIRST_ARG:
                yield from node.args[:1]
                keywords.add("reason")
            elif name in THIRD_ARG:
                yield from node.args[2:3]
                keywords.add("reason")
            elif name == "ValueError" and services:  # a validator's reason, as Pydantic's "Value error, ..."
                yield from node.args[:1]
            elif name == "check_reason":
                keywords.add("explanation")
            yield from (k.value for k in node.keywords if k.arg in keywords)
        elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.IfExp)):
            if any(isinstance(t, ast.Name) and t.id in REASON_NAMES for t in node.targets):
                yield node.value
        elif isinstance(node, ast.FunctionDef) and node.name.endswith("_problem"):  # national_register_number_problem
            yield from (n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None)


def service_reasons() -> Iterator[tuple[str, ast.Constant | ast.JoinedStr]]:
    """(where, literal) for every reason and detail in the services, the runtime and the contracts."""
    for path in _sources():
        services = "services" in path.parts or "contracts" in path.parts
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _reason_nodes(tree, services=services):
            for text in _texts(node):
                yield f"{path.relative_to(ROOT)}:{text.lineno}", text


def render(text: ast.JoinedStr, missing: set[str], file: str = "") -> str:
    """An f-string as the service would write it, with SAMPLES for its expressions."""
    out = []
    for part in text.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
            continue
        assert isinstance(part, ast.FormattedValue)
        source = ast.unparse(part.value)
        value: Any = SAMPLES_IN_FILE.get((file, source), SAMPLES.get(source, missing))
        if value is missing:
            missing.add(f"{file}: {source}")
            out.append("x")
            continue
        value = repr(value) if part.conversion == ord("r") else str(value) if part.conversion == ord("s") else value
        spec = render(part.format_spec, missing, file) if isinstance(part.format_spec, ast.JoinedStr) else ""
        out.append(format(value, spec))
    return "".join(out)


def _all_reasons() -> tuple[list[tuple[str, str]], set[str]]:
    missing: set[str] = set()
    found = []
    for where, node in service_reasons():
        text = str(node.value) if isinstance(node, ast.Constant) else render(node, missing, where.split(":")[0].rsplit("/", 1)[-1])
        if text.strip() and not ALREADY_DUTCH.search(text):
            found.append((where, text))
    return found, missing


# ------------------------------------------------------------------------------- every reason translated


def test_the_scan_finds_the_services_reasons() -> None:
    """The scan itself works: multi-line calls, f-strings and reasons kept in a variable are found."""
    found = {text for _, text in _all_reasons()[0]}
    assert len(found) > 150
    assert "the end comes on or after the start" in found  # Violation(...) over several lines
    assert "a national register number has 11 digits (yymmdd-xxx-cc)" in found  # returned by *_problem
    assert "8 to 200 visible ASCII characters" in found  # reason = ... if ... else ...
    assert "say why you need the right" in found  # check_reason(explanation=...)
    assert "part 4 (territory and capacity) is not filled in yet" in found  # an f-string rendered


def test_every_reason_the_services_give_has_a_dutch_text() -> None:
    found, missing = _all_reasons()
    assert not missing, f"f-string expressions without a sample in SAMPLES: {sorted(missing)}"
    untranslated = sorted({f"{where}: {text!r}" for where, text in found if dutch(text) == text})
    assert not untranslated, f"{len(untranslated)} reasons without a Dutch text:\n" + "\n".join(untranslated)


def test_no_translation_adds_a_national_register_number() -> None:
    """A pattern puts back only what matched: no 11-digit number appears that was not sent."""
    eleven_digits = re.compile(r"(?<!\d)\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}(?!\d)")
    for text in EXACT.values():
        assert not eleven_digits.search(text), text
    for _, template in PATTERNS:
        if isinstance(template, str):
            assert not eleven_digits.search(template), template
    for _, text in _all_reasons()[0]:
        if not eleven_digits.search(text):
            assert not eleven_digits.search(dutch(text)), (text, dutch(text))


# ------------------------------------------------------------------------------- messages with variable parts


@pytest.mark.parametrize(
    ("english", "expected"),
    [
        (
            "the registration holds from 2026-09-01: a training starting before cannot be attested on it",
            "De registratie geldt vanaf 1 september 2026: een opleiding die vroeger start, kan je er niet op attesteren.",
        ),
        (
            "this registration was replaced by ODB-Y1388: new students are enrolled on the new number",
            "Deze registratie is vervangen door ODB-Y1388: schrijf nieuwe cursisten in op het nieuwe nummer.",
        ),
        (
            "a modular training is attested per module: one of Module 1, Module 2",
            "Een modulaire opleiding attesteer je per module. Kies een van deze modules: Module 1, Module 2.",
        ),
        ("no such attendance of this organisation", "Dit aanwezigheidsattest is niet gevonden bij je organisatie."),
        (
            "the column odb_number is missing (in Dutch: odb_nummer, odb)",
            "De kolom odb_number ontbreekt (in het Nederlands: odb_nummer, odb).",
        ),
        (
            "byte 1234 (line 4) is not UTF-8; save the file as UTF-8 (in a spreadsheet: CSV UTF-8)",
            "Byte 1234 (regel 4) is geen UTF-8. Bewaar het bestand als UTF-8 (in een rekenblad: CSV UTF-8).",
        ),
        (
            "9 values for 8 columns: check the separators and quotes",
            "9 waarden voor 8 kolommen: kijk de scheidingstekens en aanhalingstekens na.",
        ),
        ("at most 200 characters of text", "Gebruik hoogstens 200 tekens."),
        (
            "judging admissibility is only possible when the application is submitted; it is in_examination",
            "De ontvankelijkheid beoordelen kan alleen bij een aanvraag met de status 'ingediend'; deze aanvraag heeft de status 'in onderzoek'.",
        ),
        (
            "recording a coaching assignment is only possible while the recognition holds",
            "Een begeleidingsopdracht registreren kan alleen zolang de erkenning geldt.",
        ),
        (
            "a request for reconsideration is possible within 30 days of being informed of the decision (2027-02-01); the last day was 2027-03-03",
            "Een heroverweging vraag je aan binnen 30 dagen nadat je de beslissing kreeg (1 februari 2027); de laatste dag was 3 maart 2027.",
        ),
        (
            "a qualified coach shows all four core competences; missing: communicating, tailored_advice",
            "Een gekwalificeerde begeleider toont alle vier de kerncompetenties; nog niet aangeduid: communiceren, advies op maat.",
        ),
        ("part 2 (simplified-registration group) is not filled in yet", "Vul deel 2 (groep met vereenvoudigde registratie) nog in."),
        (
            "Werkbaar Werk vzw (0403.170.701) is not a recognised external service provider; subcontractors must be recognised themselves",
            "Werkbaar Werk vzw (0403.170.701) is geen erkende externe dienstverlener: een onderaannemer moet zelf erkend zijn.",
        ),
        ("the end comes on or after the start (2027-03-01)", "De einddatum mag niet voor de begindatum (1 maart 2027) liggen."),
        (
            "one of held, in_review, awaiting_information, forwarded",
            "Kies een van deze waarden: wacht op kwaliteitsregistratie, in behandeling, wacht op informatie of bij de beslissingsinstantie.",
        ),
        ("a dossier that is forwarded can no longer be amended", "Een dossier met de status 'bij de beslissingsinstantie' kan je niet meer aanpassen."),
        ("ODB-Y1234 stopped on 2027-06-30", "ODB-Y1234 is stopgezet op 30 juni 2027."),
        ("the registration only holds from 2026-09-01", "De registratie geldt pas vanaf 1 september 2026."),
        (
            "already used by ODB-2027-0013; the own reference is unique per provider",
            "Deze eigen referentie is al in gebruik bij ODB-2027-0013: elke opleiding van een opleidingsverstrekker heeft een eigen referentie.",
        ),
        (
            "the file is 12000000 bytes; at most 10485760 bytes (10 MB) are accepted",
            "Het bestand is 12000000 bytes groot; hoogstens 10485760 bytes (10 MB) worden aanvaard.",
        ),
        (
            "only PDF, DOCX, ODT, PNG or JPEG files are accepted; this file is none of these (judged by its content)",
            "Alleen deze bestandstypes worden aanvaard: PDF, DOCX, ODT, PNG of JPEG. Dit bestand is geen van die types (beoordeeld op de inhoud).",
        ),
        (
            "the training has 12.5 hours, fewer than 32, and is not a mentor training",
            "De opleiding telt 12,5 uur, minder dan 32, en is geen mentoropleiding.",
        ),
        ("The person is not a head administrator of this organisation.", "Deze persoon is geen hoofd lokale beheerder van deze organisatie."),
        ("the birth date 31/02/1985 does not exist", "De geboortedatum 31/02/1985 bestaat niet."),
        ("The request was already decided (approved).", "Over deze aanvraag is al beslist (goedgekeurd)."),
        ("operator@department is a right of the department only", "Het recht operator@department is alleen voor het departement."),
        (
            "You need the right dwse_organisation_officer in context training_database or training_leave for this organisation. "
            "Ask your organisation's local administrators for it: identity's POST /v1/organisations/{organisation_id}/right-requests.",
            "Je hebt voor deze organisatie het recht DWSE organisatieverantwoordelijke nodig, in de context opleidingsdatabank of opleidingsverlof. "
            "Vraag het aan bij de lokale beheerders van je organisatie.",
        ),
        ("the header parameter idempotency-key is required", "De parameter idempotency-key ontbreekt."),
        ("The body is not valid JSON (Expecting value: line 1 column 1 (char 0)).", "De gegevens zijn geen geldige JSON."),
        ("Expected `int` >= 1", "Geef een getal van 1 of meer."),
        ("Expected `int`, got `str`", "Geef een geheel getal, bv. 12."),
    ],
)
def test_messages_with_variable_parts(english: str, expected: str) -> None:
    assert dutch(english) == expected


# ------------------------------------------------------------------------------- Pydantic's own messages


class Colour(Enum):
    RED = "red"
    GREEN = "green"


class Form(BaseModel):
    """Fields with the constraints the services' models use, to get Pydantic's real messages."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=3, max_length=200)]
    short: Annotated[str, Field(max_length=5)]
    not_empty: Annotated[str, Field(min_length=1)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()./-]+$")]
    starts_on: date
    at: datetime
    kind: Literal["integral", "modular", "blended"]
    colour: Colour
    hours: Annotated[int, Field(ge=0)]
    most: Annotated[int, Field(le=100)]
    amount: Annotated[Decimal, Field(max_digits=7, decimal_places=2)]
    ratio: float
    email: EmailStr
    id: UUID
    flag: bool
    website: HttpUrl
    modules: Annotated[list[str], Field(min_length=1)]
    required_one: str
    number: str

    @field_validator("number")
    @classmethod
    def _eleven_digits(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("must be 11 digits (spaces, dots and dashes between them are allowed)")
        return value


BAD = {
    "name": "ab",
    "short": "too long text",
    "not_empty": "",
    "phone": "call me",
    "starts_on": "31/01/2027",
    "at": "tomorrow",
    "kind": "partly",
    "colour": "blue",
    "hours": -1,
    "most": 101,
    "amount": "12.345",
    "ratio": "a lot",
    "email": "info-at-organisatie.be",
    "id": "not-a-uuid",
    "flag": "perhaps",
    "website": "organisatie",
    "modules": [],
    "number": "85 07 30",
    "unexpected": 1,
}


def _errors(data: dict[str, Any], *, json: bool = False) -> list[dict[str, Any]]:
    try:
        if json:
            import json as json_module

            Form.model_validate_json(json_module.dumps(data), strict=True)
        else:
            Form.model_validate(data)
    except ValidationError as error:
        return [dict(e) for e in error.errors(include_url=False)]
    raise AssertionError("the bad input was accepted")


@pytest.mark.parametrize("json", [False, True], ids=["python", "strict-json"])
def test_pydantics_messages_are_translated(json: bool) -> None:
    errors = _errors(BAD, json=json)
    assert {e["type"] for e in errors} >= {"missing", "extra_forbidden", "string_too_short", "string_too_long", "string_pattern_mismatch", "greater_than_equal"}
    untranslated = [f"{e['loc']}: {e['msg']}" for e in errors if dutch(e["msg"]) == e["msg"]]
    assert not untranslated, "\n".join(untranslated)
    for e in errors:
        assert not re.search(r"\b(?:should|Input|String|valid|Field|required|permitted)\b", dutch(e["msg"])), (e["msg"], dutch(e["msg"]))


def test_strict_json_refuses_wrong_types_in_dutch() -> None:
    """As the runtime validates a body (strict JSON): numbers as text, text as numbers."""
    wrong_types = {**BAD, "hours": "12", "flag": 0, "name": 12, "modules": "one", "starts_on": 0}
    untranslated = [f"{e['loc']}: {e['msg']}" for e in _errors(wrong_types, json=True) if dutch(e["msg"]) == e["msg"]]
    assert not untranslated, "\n".join(untranslated)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "ab", "Geef minstens 3 tekens in."),
        ("short", "too long text", "Gebruik hoogstens 5 tekens."),
        ("not_empty", "", "Vul dit veld in."),
        ("required_one", None, "Vul dit veld in."),
        ("hours", -1, "Geef een getal van 0 of meer."),
        ("most", 101, "Geef een getal van hoogstens 100."),
        ("kind", "partly", "Kies een van deze waarden: 'integral', 'modular' of 'blended'."),
        ("starts_on", "31/01/2027", "Geef een geldige datum."),
        ("email", "info-at-organisatie.be", "Geef een geldig e-mailadres, bv. naam@organisatie.be."),
        ("flag", "perhaps", "Kies ja of nee."),
        ("id", "not-a-uuid", "Dit is geen geldige identificatie (UUID)."),
        ("unexpected", 1, "Dit veld is hier niet toegelaten."),
        ("amount", "12.345", "Gebruik hoogstens 2 cijfers na de komma."),
        ("modules", [], "Geef er minstens één."),
        ("number", "85 07 30", "Een rijksregisternummer heeft 11 cijfers (spaties, punten en streepjes ertussen mogen)."),
    ],
)
def test_one_pydantic_message(field: str, value: Any, expected: str) -> None:
    data = {k: v for k, v in BAD.items() if k != field}
    if value is not None:
        data[field] = value
    loc = (field,)
    [error] = [e for e in _errors(data) if e["loc"] == loc]
    assert dutch(error["msg"]) == expected


# ------------------------------------------------------------------------------- what is not known


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Something no service says yet",
        "Value error, a reason no one translated",
        "Je bent nog niet gekend op het platform. Vraag de lokale beheerder van je organisatie om je te registreren.",
        "the national register number 85073003328 is odd",
    ],
)
def test_unknown_text_comes_back_unchanged(text: str) -> None:
    assert dutch(text) == text


def test_the_runtimes_own_reasons() -> None:
    assert dutch("Correct the fields listed in errors.") == "Verbeter de gegevens die hieronder aangeduid zijn."
    assert dutch("the body must be a JSON object") != "the body must be a JSON object"
    assert dutch("required") == "Vul dit veld in."
    assert dutch("the end comes on or after the start") == "De einddatum mag niet voor de begindatum liggen."
