"""Property-based fuzzing of the identity service's HTTP API from its own OpenAPI document: no
generated request, valid or not, signed in or not, gets a server error (5xx) back.

Schemathesis reads `/schema/openapi.json` from the running service (the `world` fixture) and
generates requests for every operation with Hypothesis. Only the `not_a_server_error` check
runs: a 4xx (401, 403, 404, 409, 422, ...) is a legitimate answer to random input, a 5xx is a bug.

Four passes, each bounded (examples per operation below) and derandomized, so that a failure
reproduces on the next run and the module stays within a few minutes on a small machine:

- valid data, signed in as the department's operator;
- the same, with the department's own id as `organisation_id` and bodies without unknown fields,
  so that requests get past the look-up and validation into the use cases;
- data that violates the schema, signed in as the operator;
- valid data without any token.

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

pytestmark = pytest.mark.slow

OPERATOR_EXAMPLES = 25  # per operation: valid data, signed in as the department's operator
DEPARTMENT_EXAMPLES = 25  # per operation with an organisation in its path: the department's
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
) -> tuple[dict[str, Counter], list[str]]:
    """Every operation (only those with all of `path_parameters` in their path, if given) with up
    to `examples` generated requests: the status codes per operation, and each server error."""
    statuses: dict[str, Counter] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if path_parameters and not set(path_parameters) <= {parameter.name for parameter in operation.path_parameters}:
            continue
        statuses[operation.label] = Counter()

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        @_settings(examples)
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=world.url, session=session, headers=headers, timeout=15)
            statuses[operation.label][response.status_code] += 1
            if response.status_code >= 500:
                body = f"    body: {case.body!r}\n" if isinstance(case.body, (dict, list, str)) else ""
                raise AssertionError(
                    f"{operation.label} answered {response.status_code}\n"
                    f"    {case.as_curl_command(headers=headers)}\n{body}"
                    f"    response: {response.text[:2000]}"
                )
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        try:
            run()
        except Unsatisfiable:
            pass  # a negative pass on an operation with nothing to make invalid (no parameters, no body)
        except Exception as error:  # noqa: BLE001 - every operation's failure, then all of them reported
            failures.append(f"[{mode.value}] {error}")
    print(f"{mode.value} pass, {sum(sum(c.values()) for c in statuses.values())} requests:")
    for label, counter in statuses.items():
        print(f"    {label}: {dict(sorted(counter.items()))}")
    return statuses, failures


def _report(world, failures: list[str]) -> str:
    return (
        f"{len(failures)} operation(s) answered a server error (tracebacks under their correlation ids in "
        f"{world.identity.log_path}):\n\n" + "\n\n".join(failures)
    )


def test_the_service_serves_its_openapi_document_to_anyone(world):
    """What `schemathesis run <url>` (and any client generator) starts from."""
    response = requests.get(world.url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    assert set(response.json()["paths"]) == set(_document_of_the_code()["paths"])


def test_no_operation_answers_a_server_error_to_the_operator(world, schema, http):
    statuses, failures = _fuzz(schema, world, http, examples=OPERATOR_EXAMPLES, headers=world.operator.headers)
    assert len(statuses) >= 30, sorted(statuses)
    assert not failures, _report(world, failures)


def test_no_operation_on_the_department_answers_a_server_error_to_the_operator(world, strict_schema, http):
    """Random organisation ids mostly end in a 404: with the department's own id, the operator
    gets past the look-up and the authorisation into the use cases themselves."""
    statuses, failures = _fuzz(strict_schema, world, http, examples=DEPARTMENT_EXAMPLES, headers=world.operator.headers,
                               path_parameters={"organisation_id": str(world.department_id)})
    assert len(statuses) >= 15, sorted(statuses)
    assert any(200 <= status < 300 for counter in statuses.values() for status in counter), statuses
    assert not failures, _report(world, failures)


def test_no_operation_answers_a_server_error_to_invalid_data(world, schema, http):
    statuses, failures = _fuzz(schema, world, http, examples=NEGATIVE_EXAMPLES, headers=world.operator.headers,
                               mode=GenerationMode.NEGATIVE)
    assert len(statuses) >= 30, sorted(statuses)
    assert not failures, _report(world, failures)


def test_no_operation_answers_a_server_error_without_a_token(world, schema, http):
    statuses, failures = _fuzz(schema, world, http, examples=ANONYMOUS_EXAMPLES, headers={})
    assert len(statuses) >= 30, sorted(statuses)
    assert not failures, _report(world, failures)
