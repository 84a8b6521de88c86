"""The notification templates and their catalogue (N-1..N-4, ID-8): every template renders the
example and variants of its model (wse_contracts.emails) in Dutch with the department's footer,
required keys are checked before rendering, user input is escaped in HTML only, and the catalogue
asks exactly the fields of the models the senders build. Pure: no stack, no database."""

from __future__ import annotations

import re
import shutil
from datetime import date
from typing import ClassVar

import pytest
from markupsafe import escape

from notification.templates import (
    TEMPLATES_DIR,
    Catalogue,
    CatalogueError,
    MissingPersonalisation,
    RenderFailed,
    UnknownTemplate,
    catalogue,
    datum,
    render,
)
from wse_contracts.emails import EMAILS, EmailPersonalisation

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Keys whose value is a code the email says in Dutch (approved -> goedgekeurd), never as sent:
# `outcome` in every template, and keys that are a code in one template only (elsewhere free text).
CODED_KEYS = {"outcome"}
CODED_KEYS_OF = {"recognition.ended": {"reason"}}

# The models are the one statement of what each template needs: senders build them, the
# notification service checks requests against them, and the catalogue derives its keys from them.
MODELS = sorted(EMAILS.values(), key=lambda model: (model.template_id, model.version))
RECOGNITION = {
    "recognition.application_confirmed",
    "recognition.admissibility",
    "recognition.information_requested",
    "recognition.decision",
    "recognition.reconsideration_outcome",
    "recognition.expiry_reminder",
    "recognition.ended",
    "recognition.subcontractor_ended",
}

EXAMPLES = [
    pytest.param(model.template_id, model.version, name, example.model_dump(mode="json"), id=f"{model.template_id}.v{model.version}:{name}")
    for model in MODELS
    for name, example in {"example": model.example(), **model.variants()}.items()
]


def test_the_catalogue_has_every_template_of_the_senders_and_recognition():
    # rule N-1, N-2, N-3, N-4, ID-8: a template for every model, a model for every template
    assert {(t.template_id, t.version) for t in catalogue()} == set(EMAILS)
    assert {t.template_id for t in catalogue()} >= RECOGNITION


@pytest.mark.parametrize(("template_id", "version", "name", "personalisation"), EXAMPLES)
def test_every_template_renders_its_examples(template_id, version, name, personalisation):
    # The example and each variant of the template's model, as a sender sends them (JSON).
    rendered = render(template_id, version, personalisation)

    assert rendered.subject.strip() and "\n" not in rendered.subject
    for part in (rendered.subject, rendered.text, rendered.html):
        for leftover in ("None", "{{", "}}", "{%", "%}", "Undefined"):
            assert leftover not in part, f"{leftover!r} left in {template_id} ({name})"
    for key, value in personalisation.items():
        if not isinstance(value, str) or not value:
            continue
        if key in CODED_KEYS | CODED_KEYS_OF.get(template_id, set()):
            assert value not in rendered.text and value not in rendered.html, f"{key}={value!r} shown as a code"
            continue
        shown = datum(value) if ISO_DATE.match(value) else value
        assert shown in rendered.text, f"{key}={shown!r} not in the text of {template_id} ({name})"
        assert str(escape(shown)) in rendered.html, f"{key}={shown!r} not in the HTML of {template_id} ({name})"
    for part in (rendered.text, rendered.html):
        assert "Departement Werk en Sociale Economie" in part
        assert "1700" in part
        if template_id.startswith("registration."):
            assert "opleidingsdatabank@vlaanderen.be" in part
    assert "\n\n\n" not in rendered.text, "an empty paragraph"
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>") and '<html lang="nl">' in rendered.html


def test_outcomes_and_flags_are_said_in_dutch():
    decided = catalogue().get("identity.right_request_decided", 1)
    for outcome, word in {"approved": "goedgekeurd", "refused": "geweigerd", "cancelled": "geannuleerd"}.items():
        rendered = render("identity.right_request_decided", 1, {**decided.example, "outcome": outcome})
        assert word in rendered.subject and word in rendered.text and word in rendered.html

    submitted = catalogue().get("registration.application_submitted", 1).example
    held = render("registration.application_submitted", 1, {**submitted, "held_for_quality_registration": True})
    not_held = render("registration.application_submitted", 1, {**submitted, "held_for_quality_registration": False})
    assert "kwaliteitsdatabank" in held.text and "kwaliteitsdatabank" not in not_held.text  # rule R-2

    decision = catalogue().get("registration.application_decided", 1).example
    approved = render("registration.application_decided", 1, {**decision, "outcome": "approved", "odb_number": "ODB-Y77", "reasons": None})
    assert "ODB-Y77" in approved.text and "inschrijvingsattest" in approved.text and "aanwezigheidsattest" in approved.text  # rule
    rejected = render("registration.application_decided", 1, {**decision, "outcome": "rejected", "odb_number": None, "reasons": None})
    assert "afgewezen" in rejected.subject and "ODB-registratienummer" not in rejected.text


def test_an_unknown_outcome_fails_instead_of_sending_a_half_email():
    example = catalogue().get("registration.application_decided", 1).example
    with pytest.raises(RenderFailed) as raised:
        render("registration.application_decided", 1, {**example, "outcome": "maybe"})
    assert raised.value.template_id == "registration.application_decided"


def test_a_missing_required_key_is_refused_before_rendering_naming_exactly_the_missing_keys():
    example = dict(catalogue().get("identity.right_requested", 1).example)
    del example["reason"], example["request_id"]
    with pytest.raises(MissingPersonalisation) as raised:
        render("identity.right_requested", 1, example)
    assert raised.value.template_id == "identity.right_requested"
    assert raised.value.missing == ["reason", "request_id"]
    assert "reason, request_id" in str(raised.value)

    # checked before rendering: a bad value elsewhere does not mask the missing key
    with pytest.raises(MissingPersonalisation) as raised:
        render("registration.information_requested", 1, {"training_name": "x", "question": "?", "due_on": "not a date"})
    assert raised.value.missing == ["dossier_number"]


def test_optional_keys_may_be_left_out():
    rendered = render("recognition.decision", 1, {"dossier_number": "ERK-1", "organisation_name": "Werkkracht vzw", "outcome": "approved"})
    assert "5 jaar" in rendered.text  # rule E-8


def test_an_unknown_template_or_version_is_refused():
    with pytest.raises(UnknownTemplate) as raised:
        render("registration.no_such_template", 1, {})
    assert raised.value.template_id == "registration.no_such_template"
    with pytest.raises(UnknownTemplate) as raised:
        render("registration.application_submitted", 99, {})
    assert raised.value.known_versions == [1]


def test_user_input_is_escaped_in_html_and_raw_in_text():
    example = catalogue().get("registration.application_inadmissible", 1).example
    attack = "<script>alert(1)</script>"
    rendered = render("registration.application_inadmissible", 1, {**example, "reason": attack, "training_name": "A & B <i>"})
    assert attack not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "A &amp; B &lt;i&gt;" in rendered.html
    assert attack in rendered.text and "A & B <i>" in rendered.text
    assert "A & B <i>" in rendered.subject  # a header, not HTML


def test_personalisation_is_data_never_template_source():
    example = catalogue().get("identity.right_requested", 1).example
    rendered = render("identity.right_requested", 1, {**example, "reason": "{{ 7 * 7 }} {% raw %}"})
    assert "{{ 7 * 7 }} {% raw %}" in rendered.text and "49" not in rendered.text


def test_the_subject_is_one_line_whatever_the_data():
    example = catalogue().get("registration.training_stopped", 1).example
    rendered = render("registration.training_stopped", 1, {**example, "training_name": "Boekhouden\r\nBcc: someone@example.org"})
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


def test_datum_filter_writes_dates_in_dutch():
    assert datum("2027-01-15") == "15 januari 2027"
    assert datum("2027-03-01") == "1 maart 2027"
    months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"]
    assert [datum(f"2027-{m:02d}-10") for m in range(1, 13)] == [f"10 {name} 2027" for name in months]
    assert datum(date(2028, 2, 29)) == "29 februari 2028"
    assert datum("2027-12-31T23:30:00+00:00") == "1 januari 2028"  # read in Brussels time
    with pytest.raises(ValueError):
        datum("15/01/2027")
    example = catalogue().get("registration.training_stopped", 1).example
    with pytest.raises(RenderFailed):
        render("registration.training_stopped", 1, {**example, "stop_on": "15/01/2027"})


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.template_id)
def test_required_keys_are_exactly_what_the_senders_send(model):
    # What a sender must send is what its model requires: the catalogue takes it from there.
    template = catalogue().get(model.template_id, model.version)
    assert template.model is model
    assert template.required == set(model.required()) and template.optional == set(model.optional())
    assert template.examples() == {name: e.model_dump(mode="json") for name, e in {"example": model.example(), **model.variants()}.items()}


# ------------------------------------------------------------------------------- the catalogue is files


def _directory_with_layouts(tmp_path):
    for layout in TEMPLATES_DIR.glob("_*"):
        shutil.copy(layout, tmp_path / layout.name)
    return tmp_path


def _write(directory, stem, spec, text, html):
    (directory / f"{stem}.json").write_text(spec, encoding="utf-8")
    if text is not None:
        (directory / f"{stem}.txt").write_text(text, encoding="utf-8")
    if html is not None:
        (directory / f"{stem}.html").write_text(html, encoding="utf-8")


class OnlyForTests(EmailPersonalisation):
    template_id: ClassVar[str] = "recognition.test_only"
    version: ClassVar[int] = 2

    dossier_number: str
    note: str | None = None

    @classmethod
    def example(cls) -> OnlyForTests:
        return cls(dossier_number="ERK-9")


class Broken(EmailPersonalisation):
    template_id: ClassVar[str] = "registration.broken"

    a: int

    @classmethod
    def example(cls) -> Broken:
        return cls(a=1)


def test_a_new_template_is_only_files(tmp_path):
    # ...and its model in wse_contracts.emails (here one of the test's own).
    directory = _directory_with_layouts(tmp_path)
    _write(
        directory,
        "recognition.test_only.v2",
        '{"subject": "Test {{ dossier_number }}"}',
        '{% extends "_layout.txt" %}{% block body %}Dossier {{ dossier_number }}{% if note %} {{ note }}{% endif %}\n{% endblock %}',
        '{% extends "_layout.html" %}{% block body %}<p>Dossier {{ dossier_number }}{% if note %} {{ note }}{% endif %}</p>{% endblock %}',
    )
    found = Catalogue(directory, models={("recognition.test_only", 2): OnlyForTests})
    assert ("recognition.test_only", 2) in found and len(found) == 1
    assert found.get("recognition.test_only", 2).required == {"dossier_number"} and found.get("recognition.test_only", 2).optional == {"note"}
    rendered = found.render("recognition.test_only", 2, {"dossier_number": "ERK-9"})
    assert rendered.subject == "Test ERK-9" and "Dossier ERK-9" in rendered.text and "Departement Werk en Sociale Economie" in rendered.html


@pytest.mark.parametrize(
    ("spec", "text", "html", "models", "complaint"),
    [
        ('{"subject": "S"}', "{{ a }} {{ b }}", "{{ a }}", {("registration.broken", 1): Broken}, "does not declare: ['b']"),
        ('{"subject": "S"}', "{{ a }}", "{{ a }}", {}, "has no model in wse_contracts.emails"),
        ('{"subject": "S"}', "{{ a }}", None, {("registration.broken", 1): Broken}, ".html is missing"),
        ('{"subject": "S"}', "{{ a }", "{{ a }}", {("registration.broken", 1): Broken}, "line 1"),
        ('{"subject": "S", "required": ["a"]}', "{{ a }}", "{{ a }}", {("registration.broken", 1): Broken}, "unknown fields ['required']"),
        (
            '{"subject": "S"}',
            "{{ a }}",
            "{{ a }}",
            {("registration.broken", 1): Broken, ("recognition.test_only", 2): OnlyForTests},
            "models without template files",
        ),
    ],
    ids=["undeclared key", "no model", "no html body", "syntax error", "keys in the JSON", "model without files"],
)
def test_a_broken_template_is_refused_when_the_catalogue_loads(tmp_path, spec, text, html, models, complaint):
    _write(tmp_path, "registration.broken.v1", spec, text, html)
    with pytest.raises(CatalogueError, match=re.escape(complaint)):
        Catalogue(tmp_path, models=models)
