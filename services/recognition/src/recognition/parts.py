"""The five parts of a recognition application (E-3), in the order of Platos, each saved and
validated on its own. Field types and lengths are checked here; the rules between fields (a group
named when simplified, every core competence shown, every commitment given) are in `domain`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import AfterValidator, EmailStr, Field, HttpUrl

from wse_contracts import StrictModel

Text = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=10_000)]
# E-2 asks for a *motivated* estimate and proven experience: a few sentences, not a word.
Motivation = Annotated[str, Field(min_length=40, max_length=10_000, description="at least a few sentences (40 characters or more)")]
Phone = Annotated[str, Field(min_length=6, max_length=30, pattern=r"^\+?[0-9 ()./-]+$")]

# E-3, part 2: the organisations that enjoy a simplified registration and skip part 3.
SimplifiedGroup = Literal["gtb", "gob", "maatwerkbedrijf", "lde"]
SIMPLIFIED_GROUPS: tuple[str, ...] = get_args(SimplifiedGroup)

# The four core competences of a qualified coach (seed 002, "Gekwalificeerde begeleider").
CoreCompetence = Literal["working_together", "communicating", "person_centred_work", "tailored_advice"]
CORE_COMPETENCES: tuple[str, ...] = get_args(CoreCompetence)
# How a coach shows the core competences.
QualificationKind = Literal["diploma", "certified_training", "work_experience", "evc_certificate"]

# E-3, part 4: the Flemish provinces and the Brussels-Capital Region.
Province = Literal["antwerpen", "limburg", "oost-vlaanderen", "vlaams-brabant", "west-vlaanderen", "brussel"]
PROVINCES: tuple[str, ...] = get_args(Province)


def enterprise_number(raw: str) -> str:
    """A KBO enterprise number (0123.456.749, BE0123456749, ...) as its 10 digits: first digit 0 or
    1, the last two 97 minus the first eight mod 97."""
    digits = "".join(c for c in raw.upper().removeprefix("BE") if c.isdigit())
    if len(digits) != 10 or any(c not in "0123456789 .-" for c in raw.upper().removeprefix("BE").strip()):
        raise ValueError("an enterprise number has 10 digits, e.g. 0123.456.749")
    if digits[0] not in "01":
        raise ValueError("an enterprise number starts with 0 or 1")
    if int(digits[8:]) != 97 - int(digits[:8]) % 97:
        raise ValueError("the check digits do not match; please check the number for typos")
    return digits


EnterpriseNumber = Annotated[str, Field(min_length=10, max_length=16, examples=["0123.456.749"]), AfterValidator(enterprise_number)]


class Contact(StrictModel):
    """The contact person: gets the confirmation, the questions and the decisions (N-3)."""

    name: Text
    email: EmailStr
    phone: Phone


class ProjectPart(StrictModel):
    """Part 1: the project, the contact person and the organisation's data."""

    rule: ClassVar[str] = "E-3"

    project_title: Text
    project_description: LongText
    contact: Contact
    address: Text = Field(description="the organisation's postal address")
    website: HttpUrl | None = None


class SimplifiedPart(StrictModel):
    """Part 2: whether the organisation belongs to the simplified-registration group (GTB, GOB,
    maatwerkbedrijf, LDE); such an organisation is not asked part 3."""

    rule: ClassVar[str] = "E-3"

    simplified: bool
    group: SimplifiedGroup | None = Field(default=None, description="required when simplified, absent otherwise")


class Coach(StrictModel):
    name: Text
    qualification: QualificationKind = Field(description="how the coach shows the core competences")
    qualification_details: LongText = Field(description="the diploma, training or experience, with its dates")
    competences: list[CoreCompetence] = Field(min_length=1, max_length=4, description="the core competences shown: all four are needed (E-2)")


class ExperiencePart(StrictModel):
    """Part 3 (only when not simplified): the motivation of the organisation's experience coaching
    employees with an occupational disability, and its qualified coaches."""

    rule: ClassVar[str] = "E-2"

    motivation: Motivation
    coaches: list[Coach] = Field(min_length=1, max_length=500)


class Subcontractor(StrictModel):
    enterprise_number: EnterpriseNumber
    name: Text


class TerritoryPart(StrictModel):
    """Part 4: the territory (provinces, municipalities, Brussels) and the coaching capacity, each
    motivated; subcontractors, if any, must themselves be recognised (E-11)."""

    rule: ClassVar[str] = "E-2"
    field_rules: ClassVar[dict[str, str]] = {"subcontractors": "E-11"}

    provinces: list[Province] = Field(min_length=1, max_length=6)
    municipalities: list[Text] = Field(default_factory=list, max_length=400, description="when the territory is narrower than whole provinces")
    territory_motivation: Motivation
    capacity: int = Field(ge=1, le=100_000, description="employees with an occupational disability the provider can coach at the same time")
    capacity_motivation: Motivation
    subcontractors: list[Subcontractor] = Field(default_factory=list, max_length=50)


class DeclarationPart(StrictModel):
    """Part 5: the declaration on honour, with the commitments to take part in intervision (E-2)
    and to report every change that affects the conditions (E-12)."""

    rule: ClassVar[str] = "E-3"
    field_rules: ClassVar[dict[str, str]] = {"intervision": "E-2", "report_changes": "E-12"}

    truthful: bool = Field(description="the application is complete and true")
    intervision: bool = Field(description="E-2: takes part in the department's intervision sessions")
    report_changes: bool = Field(description="E-12: reports every change that affects the conditions")
    signed_by: Text


PART_MODELS: dict[str, type[StrictModel]] = {
    "project": ProjectPart,
    "simplified": SimplifiedPart,
    "experience": ExperiencePart,
    "territory": TerritoryPart,
    "declaration": DeclarationPart,
}
