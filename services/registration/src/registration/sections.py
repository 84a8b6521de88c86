"""The sections of an application, in the order of the manual's steps 2 to 6, and the organisation
data (R-3, R-4, R-25). Their field types and lengths are checked here; the rules between fields
are in `domain`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import EmailStr, Field, HttpUrl

from wse_contracts import StrictModel

Text = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=10_000)]
Hours = Annotated[Decimal, Field(ge=0, le=10_000, max_digits=7, decimal_places=2)]
Phone = Annotated[str, Field(min_length=6, max_length=30, pattern=r"^\+?[0-9 ()./-]+$")]

CEFR_ORDER = ("A1", "A2", "B1", "B2", "C1", "C2")
CefrLevel = Literal["A1", "A2", "B1", "B2", "C1", "C2"]

# the learning management systems the portal lists; anything else is 'other' with free text.
LMS_CHOICES = ("canvas", "moodle", "blackboard", "smartschool", "docebo", "totara", "brightspace", "other")

# the self-analysis. Basic and profession-specific competences as the manual and the
# assessment system name them; the general labour-market group has five pillars.
BASIC_COMPETENCES = ("dutch_language", "other_language", "numeracy", "basic_ict", "learning_to_learn")
PROFESSION_SPECIFIC = ("shortage_occupation", "stem_occupation", "legally_required_certificate", "future_skills_shortage")
GENERAL_PILLARS = ("communication", "cooperation", "problem_solving", "self_management", "career_skills")


class Contact(StrictModel):
    name: Text
    email: EmailStr
    phone: Phone


class ContactSection(Contact):
    """Step 2. R-3: the contact person gets the questions and the decision; may differ from the
    submitter; a general mailbox is recommended."""


class Module(StrictModel):
    name: Text
    contact_hours: Hours = Field(description="contact hours, workplace-learning hours included (R-9)")
    # The default as a number (validated into a Decimal): the document shows it as the number it is.
    workplace_hours: Hours = Field(default=0, validate_default=True)
    distance_hours: Hours = Field(default=0, validate_default=True, description="blended modules: estimated distance-learning hours (R-7)")
    study_points: Decimal | None = Field(default=None, gt=0, le=240)
    blended: bool = False
    starts_on: date
    ends_on: date
    cefr_level: CefrLevel | None = Field(default=None, description="language trainings: one module per level (R-13)")


class TrainingSection(StrictModel):
    """Step 3: what the public register shows once registered (R-5 to R-11)."""

    name: Text
    own_reference: Annotated[str, Field(min_length=1, max_length=100)]
    target_group: LongText
    workplace_learning: bool
    blended: bool
    separately_enrollable_parts: bool
    leads_to_qualification: bool
    hours_unit: Literal["contact_hours", "study_points"] = "contact_hours"
    mentor_training: bool | None = Field(default=None, description="mandatory below 32 hours (R-8)")
    final_assessment: bool
    web_page: HttpUrl
    content: LongText
    structure: Literal["integral", "modular"]
    competence_group: Literal["basic", "profession_specific", "general"]
    language: str | None = Field(default=None, min_length=2, max_length=40, description="language trainings: one application per language (R-13)")
    follow_up_document_id: UUID | None = Field(default=None, description="blended: follow-up specific to this training (R-7)")
    modules: Annotated[list[Module], Field(min_length=1, max_length=50)]


class SelfAnalysisSection(StrictModel):
    """Step 4 (back office only): the competences the student acquires (R-12 to R-14)."""

    basic: list[Literal[BASIC_COMPETENCES]] = Field(default_factory=list, max_length=len(BASIC_COMPETENCES))  # type: ignore[valid-type]  # a Literal of the tuple above: pydantic checks the choices, mypy cannot expand it
    profession_specific: list[Literal[PROFESSION_SPECIFIC]] = Field(default_factory=list, max_length=len(PROFESSION_SPECIFIC))  # type: ignore[valid-type]  # a Literal of the tuple above: pydantic checks the choices, mypy cannot expand it
    general_pillars: list[Literal[GENERAL_PILLARS]] = Field(default_factory=list, max_length=len(GENERAL_PILLARS))  # type: ignore[valid-type]  # a Literal of the tuple above: pydantic checks the choices, mypy cannot expand it
    explanation: str | None = Field(default=None, max_length=10_000)


class DecidingBodySection(StrictModel):
    """Step 5 (R-15)."""

    aim: Literal["several_professions", "one_profession"]
    joint_committee: str | None = Field(default=None, min_length=1, max_length=10)


class DocumentsSection(StrictModel):
    """Step 6 (R-16): brochure, programme; seen by the back office only."""

    document_ids: Annotated[list[UUID], Field(max_length=20)] = Field(default_factory=list)


class OrganisationData(StrictModel):
    """Entered once, editable at any time (R-3, R-4, R-25)."""

    contact: Contact | None = None
    general_contact: Contact | None = None
    voucher_contact: Contact | None = None
    lms: Literal[LMS_CHOICES] | None = None  # type: ignore[valid-type]  # a Literal of the tuple above: pydantic checks the choices, mypy cannot expand it
    lms_other: str | None = Field(default=None, min_length=1, max_length=200)
    follow_up_document_id: UUID | None = None


SECTION_MODELS_BY_NAME: dict[str, type[StrictModel]] = {
    "contact": ContactSection,
    "training": TrainingSection,
    "self_analysis": SelfAnalysisSection,
    "deciding_body": DecidingBodySection,
    "documents": DocumentsSection,
}
