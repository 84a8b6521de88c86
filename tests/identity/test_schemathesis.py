"""Property-based fuzzing of the identity service's HTTP API from its own OpenAPI document: no
generated request, valid or not, signed in or not, gets a server error (5xx) back.

Schemathesis reads `/schema/openapi.json` from the running service (the `world` fixture) and, per
operation, generates requests with Hypothesis. Only the `not_a_server_error` check runs: a 4xx
(401, 403, 404, 409, 422, ...) is a legitimate answer to random input, a 5xx is a bug.

The same run from the command line, against a service started with `python -m identity serve`:

    uv run schemathesis run http://127.0.0.1:8001/schema/openapi.json --checks not_a_server_error \\
        --header "Authorization: Bearer $TOKEN" --max-examples 25 --generation-deterministic

Generation is derandomized, so a failure reproduces on the next run; the budget (examples per
operation) keeps the module to a few minutes on a small machine.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import LoaderError

pytestmark = pytest.mark.slow

OPERATOR_EXAMPLES = 25  # per operation, valid data, signed in as the department's operator
DEPARTMENT_EXAMPLES = 15  # per operation with an organisation in its path, that organisation being the department
NEGATIVE_EXAMPLES = 10  # per operation, data that violates the schema, signed in as the operator
ANONYMOUS_EXAMPLES = 5  # per operation, valid data, without any token


def _settings(max_examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking: the first failing request is reported as it was sent, which bounds the run.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def _document_of_the_code() -> dict[str, Any]:
    """The OpenAPI document the identity app generates, without serving it."""
    from identity.definition import service

    return service.runtime().app().openapi_schema.to_schema()


@pytest.fixture(scope="module")
def schema(world) -> schemathesis.BaseSchema:
    """The document the running service serves; while it refuses to serve it (see the test
    below), the same document generated from the code, so that the fuzzing still runs."""
    try:
        return schemathesis.openapi.from_url(world.url + "/schema/openapi.json", timeout=10)
    except LoaderError:
        return schemathesis.openapi.from_dict(_document_of_the_code())


def test_the_service_serves_its_openapi_document_to_anyone(world):
    """What `schemathesis run <url>` (and any client generator) starts from."""
    response = requests.get(world.url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    assert set(response.json()["paths"]) == set(_document_of_the_code()["paths"])


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


def _fuzz(schema, base_url: str, session: requests.Session, *, examples: int, headers: dict[str, str],
          mode: GenerationMode = GenerationMode.POSITIVE, path_parameters: dict[str, Any] | None = None) -> tuple[int, list[str]]:
    """Every operation (or those with all of `path_parameters` in their path) with `examples`
    generated cases; the number of operations run and a description of each server error."""
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = None
        if path_parameters:
            names = {parameter.name for parameter in operation.path_parameters}
            if not set(path_parameters) <= names:
                continue
            fixed = path_parameters
        ran += 1

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        @_settings(examples)
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=15)
            if response.status_code >= 500:
                raise AssertionError(
                    f"{operation.label} answered {response.status_code}\n"
                    f"    {case.as_curl_command(headers=headers)}\n"
                    f"    response: {response.text[:2000]}"
                )
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"[{mode.value}] {error}")
    return ran, failures


def _report(failures: list[str]) -> str:
    return f"{len(failures)} operation(s) answered a server error:\n\n" + "\n\n".join(failures)


def test_no_operation_answers_a_server_error_to_the_operator(world, schema, http):
    ran, failures = _fuzz(schema, world.url, http, examples=OPERATOR_EXAMPLES, headers=world.operator.headers)
    assert ran >= 30, ran
    assert not failures, _report(failures)


def test_no_operation_on_the_department_answers_a_server_error_to_the_operator(world, schema, http):
    """Random organisation ids mostly end in a 404: with the department's own id, the operator
    gets past the look-up and the authorisation into the use cases themselves."""
    ran, failures = _fuzz(schema, world.url, http, examples=DEPARTMENT_EXAMPLES, headers=world.operator.headers,
                          path_parameters={"organisation_id": str(world.department_id)})
    assert ran >= 15, ran
    assert not failures, _report(failures)


def test_no_operation_answers_a_server_error_to_invalid_data(world, schema, http):
    ran, failures = _fuzz(schema, world.url, http, examples=NEGATIVE_EXAMPLES, headers=world.operator.headers,
                          mode=GenerationMode.NEGATIVE)
    assert ran >= 30, ran
    assert not failures, _report(failures)


def test_no_operation_answers_a_server_error_without_a_token(world, schema, http):
    ran, failures = _fuzz(schema, world.url, http, examples=ANONYMOUS_EXAMPLES, headers={})
    assert ran >= 30, ran
    assert not failures, _report(failures)
