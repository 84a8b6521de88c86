"""The email templates and their catalogue (N-1..N-4, ID-8).

What a template needs is its model in `wse_contracts.emails` (one Pydantic model per template
version: its fields are the personalisation, `example()` and `variants()` realistic values);
how it reads is files in the `templates/` directory next to this module. One template version
is three files sharing a stem `<template_id>.v<version>`:

- `<stem>.json`: what the back office shows and the subject line::

      {
        "description": "who gets it and when (shown in the back office)",
        "subject": "Jinja2 string, rendered without escaping and folded onto one line"
      }

- `<stem>.txt`: the plain-text body (no escaping).
- `<stem>.html`: the HTML body (autoescaped).

The catalogue takes the required and optional keys from the model's fields (an optional key
left out is null in the template), and the examples the back office previews and the tests
render from `example()` and `variants()`. Bodies usually `{% extends %}` a layout (`_layout.*`,
or `_layout_odb.*` for the training database's emails), which holds the department's footer.
Files starting with `_` are not templates. The catalogue is checked when it is loaded: every
template has its model and every model its files, both bodies present, every file compiles, and
the templates use no key the model does not declare.

`render` refuses before rendering anything when a required key is missing, so no half-empty
email can leave. The environment is sandboxed: personalisation is data from other services.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined, meta, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from service_runtime.calendar import brussels_date
from wse_contracts.emails import EMAILS, EmailPersonalisation

__all__ = [
    "TEMPLATES_DIR",
    "Catalogue",
    "CatalogueError",
    "MissingPersonalisation",
    "RenderFailed",
    "Rendered",
    "Template",
    "TemplateError",
    "UnknownTemplate",
    "catalogue",
    "datum",
    "render",
]

TEMPLATES_DIR = Path(__file__).with_name("templates")

_STEM = re.compile(r"^(?P<template_id>[a-z0-9_]+(?:\.[a-z0-9_]+)+)\.v(?P<version>[1-9][0-9]*)$")
_FIELDS = {"description", "subject"}
_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


# ------------------------------------------------------------------------------- errors


class TemplateError(Exception):
    """A notification cannot be rendered; retrying the same request will not help."""


class UnknownTemplate(TemplateError):
    def __init__(self, template_id: str, version: int | None = None, known_versions: Iterable[int] = ()) -> None:
        self.template_id = template_id
        self.version = version
        self.known_versions = sorted(known_versions)
        if self.known_versions:
            reason = f"template {template_id} has no version {version} (known: {', '.join(f'v{v}' for v in self.known_versions)})"
        else:
            reason = f"there is no template {template_id}"
        self.reason = reason
        super().__init__(reason)


class MissingPersonalisation(TemplateError):
    def __init__(self, template_id: str, missing: list[str], *, version: int | None = None) -> None:
        self.template_id = template_id
        self.version = version
        self.missing = list(missing)
        named = f"{template_id} v{version}" if version is not None else template_id
        self.reason = f"template {named} needs personalisation that was not sent: {', '.join(self.missing)}"
        super().__init__(self.reason)


class RenderFailed(TemplateError):
    """The personalisation has every required key but a value the template cannot use (an
    unknown outcome, a date that is not ISO, something the sandbox forbids)."""

    def __init__(self, template_id: str, version: int, reason: str) -> None:
        self.template_id = template_id
        self.version = version
        self.reason = f"template {template_id} v{version} could not be rendered: {reason}"
        super().__init__(self.reason)


class CatalogueError(Exception):
    """The files in the templates directory do not form a valid catalogue (a programming error,
    raised when the catalogue is loaded, never for a request)."""


# ------------------------------------------------------------------------------- filters


def datum(value: Any) -> str:
    """`2027-01-15` -> `15 januari 2027`. Takes ISO date strings (or datetimes, read in Brussels
    time), and `date`/`datetime` objects."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text)
        except ValueError:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO date") from None
    if isinstance(value, datetime):
        value = brussels_date(value) if value.tzinfo is not None else value.date()
    if not isinstance(value, date):
        raise TypeError(f"datum needs an ISO date, not {type(value).__name__}")
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def _finalize(value: Any) -> Any:
    # A null value prints as nothing, never as "None" (templates still say what a null means).
    return "" if value is None else value


def environment(directory: Path) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(directory),
        # .html is escaped; .txt bodies and subjects (strings) are not.
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["datum"] = datum
    return env


# ------------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Template:
    template_id: str
    version: int
    description: str
    subject: str
    text_file: str
    html_file: str
    model: type[EmailPersonalisation]
    required: frozenset[str]
    optional: frozenset[str]
    example: Mapping[str, Any]  # the model's example, as a sender sends it (JSON)
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # complete personalisations too

    def examples(self) -> dict[str, dict[str, Any]]:
        """The example and every variant, as complete personalisations (for previews and tests)."""
        return {"example": dict(self.example)} | {name: dict(personalisation) for name, personalisation in self.variants.items()}


@dataclass(frozen=True)
class _Compiled:
    subject: jinja2.Template
    text: jinja2.Template
    html: jinja2.Template


class Catalogue:
    """Every (template_id, version) found in a templates directory, checked against its model and compiled."""

    def __init__(self, directory: Path = TEMPLATES_DIR, models: Mapping[tuple[str, int], type[EmailPersonalisation]] = EMAILS) -> None:
        self.directory = Path(directory)
        self._models = models
        self._env = environment(self.directory)
        self._templates: dict[tuple[str, int], Template] = {}
        self._compiled: dict[tuple[str, int], _Compiled] = {}
        for path in sorted(self.directory.glob("*.json")):
            template = self._load(path)
            self._templates[(template.template_id, template.version)] = template
        if not self._templates:
            raise CatalogueError(f"no templates in {self.directory}")
        if without := sorted(set(models) - set(self._templates)):
            # A request for it would pass the contract check and then fail to render.
            raise CatalogueError(f"models without template files in {self.directory}: {', '.join(f'{t} v{v}' for t, v in without)}")

    def __iter__(self) -> Iterator[Template]:
        return iter(sorted(self._templates.values(), key=lambda t: (t.template_id, t.version)))

    def __len__(self) -> int:
        return len(self._templates)

    def __contains__(self, key: object) -> bool:
        return key in self._templates

    def versions(self, template_id: str) -> list[int]:
        return sorted(v for (t, v) in self._templates if t == template_id)

    def get(self, template_id: str, version: int) -> Template:
        try:
            return self._templates[(template_id, version)]
        except (KeyError, TypeError):
            raise UnknownTemplate(template_id, version, self.versions(template_id)) from None

    def render(self, template_id: str, version: int, personalisation: Mapping[str, Any]) -> Rendered:
        template = self.get(template_id, version)
        if not isinstance(personalisation, Mapping):
            raise RenderFailed(template_id, version, "the personalisation is not a mapping")
        missing = sorted(template.required.difference(personalisation.keys()))
        if missing:
            raise MissingPersonalisation(template_id, missing, version=version)
        context = dict.fromkeys(template.optional) | {k: v for k, v in personalisation.items() if isinstance(k, str)}
        compiled = self._compiled[(template_id, version)]
        try:
            subject = " ".join(compiled.subject.render(context).split())  # one header line, whatever the data
            text = compiled.text.render(context)
            html = compiled.html.render(context)
        except (jinja2.TemplateError, ValueError, TypeError, LookupError) as exc:
            raise RenderFailed(template_id, version, f"{type(exc).__name__}: {exc}") from exc
        if not subject:
            raise RenderFailed(template_id, version, "the subject is empty")
        return Rendered(subject=subject, text=text, html=html)

    # --------------------------------------------------------------------------- loading

    def _load(self, path: Path) -> Template:
        stem = path.name.removesuffix(".json")
        match = _STEM.match(stem)
        if match is None:
            raise CatalogueError(f"{path.name}: name it <template_id>.v<version>.json, e.g. registration.application_submitted.v1.json")
        template_id, version = match["template_id"], int(match["version"])
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CatalogueError(f"{path.name}: not valid JSON: {exc}") from exc
        if not isinstance(spec, dict):
            raise CatalogueError(f"{path.name}: must hold a JSON object")
        if unknown := set(spec) - _FIELDS:
            raise CatalogueError(f"{path.name}: unknown fields {sorted(unknown)}")
        subject = spec.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            raise CatalogueError(f"{path.name}: needs a subject")
        model = self._models.get((template_id, version))
        if model is None:
            raise CatalogueError(f"{path.name}: has no model in wse_contracts.emails (one with template_id {template_id!r} and version {version})")
        required, optional = set(model.required()), set(model.optional())
        declared = required | optional
        examples = {"example": model.example(), **model.variants()}
        if strangers := sorted(name for name, example in examples.items() if type(example) is not model):
            raise CatalogueError(f"{path.name}: {model.__name__}'s examples {strangers} are not {model.__name__}s")
        example, *_ = personalisations = [e.model_dump(mode="json") for e in examples.values()]
        variants = dict(zip(list(examples)[1:], personalisations[1:], strict=True))
        description = spec.get("description", "")
        if not isinstance(description, str):
            raise CatalogueError(f"{path.name}: description must be a string")

        text_file, html_file = f"{stem}.txt", f"{stem}.html"
        for name in (text_file, html_file):
            if not (self.directory / name).is_file():
                raise CatalogueError(f"{path.name}: {name} is missing (every template has a .txt and an .html body)")
        try:
            compiled = _Compiled(
                subject=self._env.from_string(subject),
                text=self._env.get_template(text_file),
                html=self._env.get_template(html_file),
            )
            used = meta.find_undeclared_variables(self._env.parse(subject))
            for name in (text_file, html_file):
                used |= self._variables(name)
        except jinja2.TemplateSyntaxError as exc:
            raise CatalogueError(f"{path.name}: {exc.filename or 'subject'} line {exc.lineno}: {exc.message}") from exc
        if undeclared := used - declared - set(self._env.globals):
            raise CatalogueError(f"{path.name}: the templates use keys the model {model.__name__} does not declare: {sorted(undeclared)}")
        self._compiled[(template_id, version)] = compiled
        return Template(
            template_id=template_id,
            version=version,
            description=description,
            subject=subject,
            text_file=text_file,
            html_file=html_file,
            model=model,
            required=frozenset(required),
            optional=frozenset(optional),
            example=MappingProxyType(dict(example)),
            variants=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in variants.items()}),
        )

    def _variables(self, name: str) -> set[str]:
        """The personalisation keys a template file uses, including the layouts it extends or includes."""
        source, _, _ = FileSystemLoader(self.directory).get_source(self._env, name)
        ast = self._env.parse(source)
        used = set(meta.find_undeclared_variables(ast))
        for parent in meta.find_referenced_templates(ast):
            if parent is not None:
                used |= self._variables(parent)
        return used


@functools.cache
def catalogue() -> Catalogue:
    """The service's catalogue, loaded (and checked) once."""
    return Catalogue(TEMPLATES_DIR)


def render(template_id: str, version: int, personalisation: Mapping[str, Any]) -> Rendered:
    """Render one template version. Raises UnknownTemplate, MissingPersonalisation (before any
    rendering) or RenderFailed; all are TemplateError, and none gets better on a retry."""
    return catalogue().render(template_id, version, personalisation)
