"""Property-based fuzzing of the identity service's HTTP API from its own OpenAPI document: no
generated request, valid or not, signed in or not, gets a server error (5xx) back.

Schemathesis reads `/schema/openapi.json` from the running service (the `world` fixture) and
generates requests for every operation with Hypothesis. Only the `not_a_server_error` check
runs: a 4xx (401, 403, 404, 409, 422, ...) is a legitimate answer to random input, a 5xx is a bug.

Five passes, each bounded (examples per operation below) and derandomized, so that a failure
reproduces on the next run and the module stays well within a few minutes on a small machine:

- valid data, signed in as the department's operator, with the department's own id as
  `organisation_id` and bodies without unknown fields, so that requests get past the look-up and
  the validation into the use cases;
- the same, with a NUL character in each string in turn (PostgreSQL refuses it in text);
- valid data as the served document describes it (random ids, unknown fields), as the operator;
- data that violates the schema, signed in as the operator;
- valid data without any token.

The operator passes also check that the operator is still the operator afterwards: the requests
are the operator's own, and a pass that takes the operator's powers away leaves the later passes
testing refusals only.

The same check from the command line, against a service started with `python -m identity serve`
(`TOKEN`: an operator's access token, see docs/identity-journey.sh):

    uv run schemathesis run http://127.0.0.1:8001/schema/openapi.json --checks not_a_server_error \\
        --header "Authorization: Bearer $TOKEN" --max-examples 25 --generation-deterministic

A failure names the operation, the request as a curl command (the token filtered) and the
response, whose correlation id finds the traceback in the service log (`IdentityProcess.log_path`).
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import LoaderError
from schemathesis.core.result import Err

pytestmark = pytest.mark.slow

OPERATOR_EXAMPLES = 25  # per operation: valid data, signed in as the department's operator
DEPARTMENT_EXAMPLES = 50  # per operation: the department's id as organisation_id, bodies without unknown fields
NUL_EXAMPLES = 10  # per operation: as the previous, each one sent with a NUL in each of its strings in turn
NEGATIVE_EXAMPLES = 15  # per operation: data that violates the schema, signed in as the operator
ANONYMOUS_EXAMPLES = 5  # per operation: valid data, without any token


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
def strict_schema(schema) -> schemathesis.BaseSchema:
    """The same document with `additionalProperties: false` on every body model: the service
    refuses unknown fields (StrictModel) but its document does not say so, and bodies with
    unknown fields never get past validation into the use cases."""
    document = copy.deepcopy(schema.raw_schema)
    for model in document.get("components", {}).get("schemas", {}).values():
        if model.get("type") == "object":
            model.setdefault("additionalProperties", False)
    return schemathesis.openapi.from_dict(document)


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


def test_no_operation_answers_a_server_error_to_the_operator_acting_on_the_department(world, strict_schema, http):
    """Random organisation ids and bodies with unknown fields mostly end in a 404 or a 422: with the
    department's own id and bodies the models accept, requests get into the use cases themselves."""
    statuses, failures = _fuzz(
        strict_schema, world, http, examples=DEPARTMENT_EXAMPLES, headers=world.operator.headers, path_parameters={"organisation_id": str(world.department_id)}
    )
    assert len(statuses) >= 30, sorted(statuses)
    assert sum(counter[200] + counter[201] + counter[204] for counter in statuses.values()) >= 50, statuses
    failures += _operator_lost_their_powers(world)
    assert not failures, _report(world, failures)


def test_no_operation_answers_a_server_error_to_a_nul_character_in_its_strings(world, strict_schema, http):
    """Random strings rarely hold a NUL, and whether a random run has one depends on its seed: here
    each string (query, path, body) of an otherwise valid request for the department gets one."""
    statuses, failures = _fuzz(
        strict_schema,
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


def test_no_operation_answers_a_server_error_to_the_operator(world, schema, http):
    statuses, failures = _fuzz(schema, world, http, examples=OPERATOR_EXAMPLES, headers=world.operator.headers)
    assert len(statuses) >= 30, sorted(statuses)
    failures += _operator_lost_their_powers(world)
    assert not failures, _report(world, failures)


def test_no_operation_answers_a_server_error_to_invalid_data(world, schema, http):
    statuses, failures = _fuzz(schema, world, http, examples=NEGATIVE_EXAMPLES, headers=world.operator.headers, mode=GenerationMode.NEGATIVE)
    assert len(statuses) >= 30, sorted(statuses)
    assert not failures, _report(world, failures)


def test_no_operation_answers_a_server_error_without_a_token(world, schema, http):
    statuses, failures = _fuzz(schema, world, http, examples=ANONYMOUS_EXAMPLES, headers={})
    assert len(statuses) >= 30, sorted(statuses)
    assert not failures, _report(world, failures)
