"""The identity service's OpenAPI document is its contract: schemathesis, run as a portal team
would run it (`schemathesis run <document> --checks all`), finds no request whose answer differs
from the document (server errors, status codes, content types, response schemas and headers,
valid data accepted, invalid data refused, unsupported methods, ignored auth, ...):

- anonymously;
- as the department's operator (the helpdesk), with the department's id as `organisation_id`;
- as an organisation's officer: its head local administrator acting for it, with the ids of its
  own data (the organisation, a member, a right, a request of their own, a theme).

The identity service runs as its own process (the `world` fixture), schemathesis as another.
Every check runs; the few relaxations live in tests/identity/schemathesis.toml, each with its
reason; the caller's own ids are appended to a copy of it per pass. Bounded and derandomized (a
failure reproduces on the next run): MAX_EXAMPLES per operation and phase.

One more pass stays in this process: each string of otherwise valid requests gets a NUL
character (which PostgreSQL cannot store), and no answer may be a server error. The document
itself validates (openapi-spec-validator) and types every success answer.

By hand, against `./dev up` (TOKEN: an access token, see docs/identity-journey.sh):

    uv run schemathesis --config-file tests/identity/schemathesis.toml run \\
        http://127.0.0.1:8001/schema/openapi.json --checks all -H "Authorization: Bearer $TOKEN" \\
        --max-examples 10 --generation-deterministic

A failure names the operation, the request as a curl command and the response, whose correlation
id finds the traceback in the service log (`IdentityProcess.log_path`).
"""

from __future__ import annotations

import functools
import subprocess
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import LoaderError
from schemathesis.core.result import Err

from tests import contract
from tests.identity.conftest import national_register_number, sign_in

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 8  # per operation and phase, in each of the three passes of every check
NUL_EXAMPLES = 10  # per operation: valid requests for the department, each sent with a NUL in each of its strings in turn


def _settings(max_examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],  # shrinking: the simplest failing request is reported
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


@functools.cache
def _document_of_the_code() -> dict[str, Any]:
    """The OpenAPI document the identity app generates, without serving it."""
    from identity.definition import service

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Litestar's deprecation warnings about the route signatures
        return service.runtime().app().openapi_schema.to_schema()


@pytest.fixture(scope="module")
def schema(world) -> schemathesis.BaseSchema:
    """The document the running service serves; while it does not serve it (see the test
    below), the same document generated from the code, so that the fuzzing still runs."""
    try:
        return schemathesis.openapi.from_url(world.url + "/schema/openapi.json", timeout=10)
    except LoaderError as error:
        warnings.warn(f"fuzzing from the document generated from the code: {error}", stacklevel=1)
        return schemathesis.openapi.from_dict(_document_of_the_code())


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def _fuzz(
    schema: schemathesis.BaseSchema,
    world,
    session: requests.Session,
    *,
    examples: int,
    headers: dict[str, str],
    mode: GenerationMode = GenerationMode.POSITIVE,
    path_parameters: dict[str, Any] | None = None,
    variants: Callable[[schemathesis.Case, set[str]], Iterator[None]] | None = None,
) -> tuple[dict[str, Counter], list[str]]:
    """Every operation with up to `examples` generated requests (`path_parameters` fixed where the
    operation's path has them; with `variants`, each case is sent once per variant that function
    makes of it in place): the status codes per operation, and each server error."""
    statuses: dict[str, Counter] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken: nothing to fuzz
        operation = result.ok()
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {name: value for name, value in (path_parameters or {}).items() if name in names} or None
        statuses[operation.label] = Counter()
        run = _operation_run(
            operation, fixed, world, session, examples=examples, headers=headers, mode=mode, variants=variants, statuses=statuses[operation.label]
        )
        try:
            run()
        except Unsatisfiable:
            pass  # a negative pass on an operation with nothing to make invalid (no parameters, no body)
        except Exception as error:
            failures.append(f"[{mode.value}, {operation.label}] {_describe(error)}")
    print(f"{mode.value} pass, {sum(sum(c.values()) for c in statuses.values())} requests:")
    for label, counter in statuses.items():
        print(f"    {label}: {dict(sorted(counter.items()))}")
    return statuses, failures


def _operation_run(
    operation: Any,
    fixed: dict[str, Any] | None,
    world,
    session: requests.Session,
    *,
    examples: int,
    headers: dict[str, str],
    mode: GenerationMode,
    variants: Callable[[schemathesis.Case, set[str]], Iterator[None]] | None,
    statuses: Counter,
) -> Callable[[], None]:
    """The Hypothesis test of one operation: its generated requests, counted in `statuses`."""

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    @_settings(examples)
    def run(case: schemathesis.Case) -> None:
        for _ in variants(case, set(fixed or ())) if variants else [None]:
            response = case.call(base_url=world.url, session=session, headers=headers, timeout=15)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                body = f"    body: {case.body!r}\n" if isinstance(case.body, (dict, list, str)) else ""
                raise AssertionError(
                    f"{operation.label} answered {response.status_code}\n"
                    f"    {case.as_curl_command(headers=headers)}\n{body}"
                    f"    response: {response.text[:2000]}"
                )
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

    return run


def _describe(error: BaseException) -> str:
    """The error, and those inside it: Hypothesis reports a failure that did not happen again
    on replay (the service's state changed in between) as a group around the original one."""
    if isinstance(error, BaseExceptionGroup):
        return f"{error}:\n" + "\n".join(f"  - {_describe(inner)}" for inner in error.exceptions)
    return f"{type(error).__name__}: {error}" if not isinstance(error, AssertionError) else str(error)


def _string_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_paths(item, (*path, index))


def _with_nul_at(value: Any, path: tuple) -> Any:
    if not path:
        return value[:1] + "\x00" + value[1:]
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: _with_nul_at(value[head], tuple(rest))}
    return [_with_nul_at(item, tuple(rest)) if index == head else item for index, item in enumerate(value)]


def _a_nul_in_each_string(case: schemathesis.Case, fixed: set[str]) -> Iterator[None]:
    """The case once per string in its query, path and body, with a NUL character in that string
    (one at a time: a NUL in a UUID, a date or a code is refused before the use case). Valid JSON
    and a valid query string, but PostgreSQL refuses it in text: it must be refused before."""
    for location in ("query", "path_parameters", "body"):
        original = getattr(case, location)
        if not isinstance(original, (dict, list, str)):
            continue
        for path in _string_paths(original):
            if location == "path_parameters" and path[0] in fixed:
                continue
            setattr(case, location, _with_nul_at(original, path))
            yield
        setattr(case, location, original)


def _report(world, failures: list[str]) -> str:
    return f"{len(failures)} failure(s) (tracebacks under their correlation ids in {world.identity.log_path}):\n\n" + "\n\n".join(failures)


def _operator_lost_their_powers(world) -> list[str]:
    """The passes below rely on the operator staying the operator: a pass that takes it away (the
    generated requests are the operator's own) makes every later pass test refusals only."""
    response = world.operator.get("/v1/audit")
    if response.status_code == 200:
        return []
    return [f"after this pass the operator is no longer the operator: GET /v1/audit answered {response.status_code} {response.text}"]


def test_the_service_serves_its_openapi_document_to_anyone(world):
    """What `schemathesis run <url>` (and any client generator) starts from."""
    response = requests.get(world.url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    assert set(response.json()["paths"]) == set(_document_of_the_code()["paths"])


def test_the_document_is_valid_openapi_and_types_every_success_answer(world):
    document = requests.get(world.url + "/schema/openapi.json", timeout=10).json()
    validate(document)  # openapi-spec-validator: raises on the first error
    assert not contract.untyped_success_answers(document)
    # Request models that refuse unknown fields say so.
    assert document["components"]["schemas"]["PersonIn"]["additionalProperties"] is False


@pytest.fixture(scope="module")
def officer(world) -> tuple[Any, dict[str, str]]:
    """An organisation's head local administrator acting for it, and the ids of its own data."""
    organisation_id, head = world.organisation_with_head("Fuzzcentrum", "Fien", sequence=801)
    member = world.register_person(head, born=date(1988, 8, 8), sequence=803, first_name="Mark")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(member)}).status_code == 204
    right = head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {"person_id": str(member), "role": "dwse_organisation_officer", "context": "training_database", "valid_from": date.today().isoformat()},
    )
    assert right.status_code == 201, right.text
    assert head.post(f"/v1/organisations/{organisation_id}/themes", {"person_id": str(member), "theme": "personeel"}).status_code == 204
    asked = head.post(f"/v1/organisations/{organisation_id}/right-requests", {"role": "user", "context": "mijn_onderwijs", "reason": "Documenten lezen"})
    assert asked.status_code == 201, asked.text
    assert sign_in(world.url, national_register_number(date(1988, 8, 8), 803)).get("/v1/me").status_code == 200
    return head, {
        "organisation_id": str(organisation_id),
        "person_id": str(member),
        "right_id": right.json()["right_id"],
        "request_id": asked.json()["request_id"],
        "theme": "personeel",
    }


@pytest.mark.parametrize("who", ["anonymous", "operator", "officer"])
def test_schemathesis_with_every_check_finds_nothing(world, officer, who, tmp_path):
    head, own = officer
    headers, parameters = {
        "anonymous": ({}, {}),
        "operator": (world.operator.headers, {"organisation_id": str(world.department_id)}),
        "officer": (head.headers, own),
    }[who]
    config = contract.config_with(CONFIG, parameters, tmp_path / f"{who}.toml")
    done = subprocess.run(contract.command(world.url, config, headers, max_examples=MAX_EXAMPLES), capture_output=True, text=True, timeout=900)
    code, output = done.returncode, done.stdout + done.stderr
    (tmp_path / f"{who}.out").write_text(output)
    print(f"{tmp_path / who}.out:\n{output[-3000:]}")
    assert code == 0, f"{who} (exit {code}; tracebacks under their correlation ids in {world.identity.log_path}):\n{contract.summary(output)}"
    if who == "operator":
        assert not _operator_lost_their_powers(world)


def test_no_operation_answers_a_server_error_to_a_nul_character_in_its_strings(world, schema, http):
    """Random strings rarely hold a NUL, and whether a random run has one depends on its seed: here
    each string (query, path, body) of an otherwise valid request for the department gets one."""
    statuses, failures = _fuzz(
        schema,
        world,
        http,
        examples=NUL_EXAMPLES,
        headers=world.operator.headers,
        path_parameters={"organisation_id": str(world.department_id)},
        variants=_a_nul_in_each_string,
    )
    assert len(statuses) >= 30, sorted(statuses)
    failures += _operator_lost_their_powers(world)
    assert not failures, _report(world, failures)
