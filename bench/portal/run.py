"""Portal page-render benchmark: pages of the portal at a steady 20 requests/s, each beside the
service calls the page makes, made directly (the baseline), in the same run.

    uv run python bench/portal/run.py [--rate 20] [--seconds 30] [--trainings 20000]   (from the repository root)

It starts the bench stack of its own (devstack, .run/bench, on the bench ports, 127.0.0.1 only) with
the five services and the portal as `./dev up` runs them (processes, LOG_LEVEL=WARNING), loads a
public register of `--trainings` trainings into registration's database with
bench/registration/generate.py, registers an organisation and its head local administrator through
identity's API as the helpdesk does, and signs that person in to the portal 8 times (8 sessions, as
8 browsers: each request picks one in turn). Then, for each page below, an open loop (each request
sent at its scheduled time whatever happened to the others; latency from the schedule) at `--rate`
for `--seconds`:

  portal   GET of the page with a session cookie: the portal loads the session from its database,
           calls the services with the person's platform token, renders the template;
  api      the same service calls the page makes, one after the other, straight to the services
           with the same token (what any portal has to wait for; the baseline).

Every answer is checked (status 200, and a text the page must show). Prints a table and writes
bench/portal/results/latest.json. Target (issue 14): page render p95 at most 150 ms at 20 requests/s
including the service calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import (  # noqa: E402
    BenchStack,
    CpuMeter,
    Run,
    code_state,
    make_run,
    open_loop,
    print_verdicts,
    results_head,
    run_table,
    settings_of,
    write_results,
)
from devstack import postgres, processes, stack  # noqa: E402
from devstack.config import SERVICES, StackConfig  # noqa: E402

RESULTS = Path(__file__).with_name("results") / "latest.json"
TARGET_P95_MS = 150.0
SESSIONS = 8


@dataclass
class PageUnderTest:
    name: str
    path: str  # the portal's page
    calls: list[tuple[str, str]]  # the service calls it makes: (service, path with query)
    expect: str  # a text the page must show


def _nrn() -> str:
    base = int(f"{80 + int(uuid.uuid4().int % 19):02d}0{1 + uuid.uuid4().int % 9}{10 + uuid.uuid4().int % 18:02d}") * 1000 + 1 + uuid.uuid4().int % 997
    return f"{base:09d}{97 - base % 97:02d}"


def _enterprise_number() -> str:
    body = 1_000_000 + uuid.uuid4().int % 8_999_999
    return f"0{body:07d}{97 - body % 97:02d}"


async def _platform_token(identity: str, number: str, organisation_id: str | None = None) -> str:
    async with httpx.AsyncClient(base_url=identity) as client:
        proof = (await client.post("/v1/dev-idp/proofs", json={"national_register_number": number})).json()["proof"]
        token: str = (await client.post("/v1/sign-in", json={"proof": proof})).json()["access_token"]
        if organisation_id:
            chosen = await client.post("/v1/me/organisation", json={"organisation_id": organisation_id}, headers={"authorization": f"Bearer {token}"})
            token = chosen.json()["access_token"]
        return token


async def _organisation(identity: str) -> tuple[str, str, str]:
    """(organisation id, name, its head's national register number), registered by the helpdesk."""
    operator_number = stack.DEVELOPMENT_OPERATOR["national_register_number"]
    token = await _platform_token(identity, operator_number)
    async with httpx.AsyncClient(base_url=identity, headers={"authorization": f"Bearer {token}"}) as client:
        department = next(t["organisation_id"] for t in (await client.get("/v1/me")).json()["tiles"] if t["kind"] == "organisation")
    operator = await _platform_token(identity, operator_number, department)
    name = f"Vormingscentrum Bench {uuid.uuid4().hex[:4]}"
    head_number = _nrn()
    async with httpx.AsyncClient(base_url=identity, headers={"authorization": f"Bearer {operator}"}) as client:
        organisation = (
            await client.post(
                "/v1/organisations",
                json={"name": name, "kind": "training_provider", "enterprise_number": _enterprise_number(), "contact_email": "info@bench.example"},
            )
        ).json()
        born = f"19{head_number[:2]}-{head_number[2:4]}-{head_number[4:6]}"
        person = await client.post(
            "/v1/persons",
            json={
                "national_register_number": head_number,
                "first_name": "Griet",
                "last_name": "Bench",
                "gender": "female",
                "date_of_birth": born,
                "email": "griet@bench.example",
            },
        )
        person.raise_for_status()
        appointed = await client.post(
            f"/v1/organisations/{organisation['organisation_id']}/head-administrators", json={"person_id": person.json()["person_id"]}
        )
        appointed.raise_for_status()
    return organisation["organisation_id"], name, head_number


async def _portal_session(portal: str, number: str, organisation_id: str) -> str:
    """Sign in through the portal's pages as a browser does; returns the session cookie."""
    async with httpx.AsyncClient(base_url=portal) as client:
        form = (await client.get("/aanmelden")).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf, "no CSRF token on the sign-in page"
        signed = await client.post("/aanmelden", data={"csrf_token": csrf.group(1), "national_register_number": number, "volgende": "/"})
        assert signed.status_code == 303, signed.text
        tiles = (await client.get("/kies")).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', tiles)
        assert csrf
        chosen = await client.post("/kies", data={"csrf_token": csrf.group(1), "organisation_id": organisation_id})
        assert chosen.status_code == 303, chosen.text
        cookie = client.cookies.get("wse_portal_session")
        assert cookie
        return cookie


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (open loop)")
    parser.add_argument("--seconds", type=float, default=30.0, help="per page and client")
    parser.add_argument("--trainings", type=int, default=20_000, help="trainings in the public register")
    parser.add_argument("--timeout", type=float, default=1500.0, help="the whole run's time limit, seconds")
    args = parser.parse_args(argv)
    config = StackConfig.bench()
    document: dict[str, Any] = results_head(
        "portal", "bench/portal/run.py", argv, shared="the load generator, the portal, the five services, PostgreSQL and Kafka"
    )
    document["settings"] = settings_of(args)
    document["code"] = code_state("portal", "services", "runtime")
    runs: list[Run] = []
    checks: list[dict[str, Any]] = []
    with BenchStack(config) as bench:
        deadline = bench.start(args.timeout)
        for database in (*SERVICES, stack.PORTAL):  # every run from empty databases: the register is loaded anew
            asyncio.run(postgres.recreate_database(config, database))
        stack.migrate_services(config)
        sample = Path(config.state_dir) / "register-sample.json"
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                str(REPO_ROOT / "bench" / "registration" / "generate.py"),
                "--url",
                config.database_url("registration"),
                "--trainings",
                str(args.trainings),
                "--providers",
                str(max(50, args.trainings // 30)),
                "--sample-out",
                str(sample),
            ],
            check=True,
            cwd=REPO_ROOT,
            timeout=deadline.left(),
            capture_output=True,
        )
        print(f"Register of {args.trainings} trainings loaded in {time.monotonic() - started:.0f} s.", flush=True)
        stack.bootstrap_identity(config)
        os.environ["LOG_LEVEL"] = "WARNING"
        stack.start_services(config)
        identity = f"http://127.0.0.1:{config.service_ports['identity']}"
        portal = f"http://127.0.0.1:{config.portal_port}"
        document["figures"] = asyncio.run(_measure(args, config, identity, portal, sample, runs, checks, deadline))
    if bench.error:
        document["error"] = bench.error
        print(f"\nThe run failed: {bench.error}")
    document["runs"] = [asdict(r) | {"latency": r.latency} for r in runs]
    document["checks"] = checks
    if runs:
        print("\n" + run_table(runs, first="page", width=28))
    print_verdicts(checks)
    write_results(RESULTS, document)
    return 0 if not bench.error and all(c.get("met", True) for c in checks) else 1


async def _measure(
    args: Any, config: StackConfig, identity: str, portal: str, sample: Path, runs: list[Run], checks: list[dict[str, Any]], deadline: Any
) -> dict[str, Any]:
    register = json.loads(sample.read_text())
    odb_number = _first_odb_number(register)
    organisation_id, name, head = await _organisation(identity)
    cookies = [await _portal_session(portal, head, organisation_id) for _ in range(SESSIONS)]
    token = await _platform_token(identity, head, organisation_id)
    pages = [
        PageUnderTest("register search", "/register?q=lassen", [("registration", "/v1/register/trainings?q=lassen")], "lassen"),
        PageUnderTest("register training", f"/register/{odb_number}", [("registration", f"/v1/register/trainings/{odb_number}")], odb_number),
        PageUnderTest("tiles", "/kies", [("identity", "/v1/me")], name),
        PageUnderTest(
            "members (users)",
            "/organisatie/gebruikers",
            [
                ("identity", f"/v1/organisations/{organisation_id}/members?limit=50"),
                ("identity", f"/v1/organisations/{organisation_id}/right-requests?status=pending&limit=100"),
                ("identity", "/v1/catalogue?limit=100"),
            ],
            "Griet",
        ),
    ]
    bases = {s: f"http://127.0.0.1:{p}" for s, p in config.service_ports.items()}
    portal_pid = processes.running_pid(config, stack.PORTAL)
    figures: dict[str, Any] = {"odb_number": odb_number, "sessions": SESSIONS}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=portal, limits=limits, timeout=10) as browser, httpx.AsyncClient(limits=limits, timeout=10) as api:
        for page in pages:
            probe = await browser.get(page.path, cookies={"wse_portal_session": cookies[0]})
            if probe.status_code != 200 or page.expect not in probe.text:
                checks.append(
                    {
                        "target": f"{page.name}: the page answers 200 with '{page.expect}'",
                        "met": False,
                        "measured": f"status {probe.status_code}",
                        "baseline": None,
                    }
                )
                print(f"Skipping {page.name}: {probe.status_code}", flush=True)
                continue

            async def fire_portal(i: int, page: PageUnderTest = page) -> tuple[float, bool]:
                sent = time.perf_counter()
                answer = await browser.get(page.path, cookies={"wse_portal_session": cookies[i % SESSIONS]})
                return sent, answer.status_code == 200 and page.expect in answer.text

            async def fire_api(i: int, page: PageUnderTest = page) -> tuple[float, bool]:
                sent = time.perf_counter()
                ok = True
                for service, path in page.calls:
                    answer = await api.get(bases[service] + path, headers={"authorization": f"Bearer {token}"})
                    ok = ok and answer.status_code == 200
                return sent, ok

            for client, fire in (("portal", fire_portal), ("api", fire_api)):
                for _ in range(int(args.rate)):  # warm-up: a second's worth
                    await fire(0)
                meter = CpuMeter(config, lambda: portal_pid)  # "service": the portal
                measured, cpu = await meter.measure(open_loop(fire, rate=args.rate, seconds=args.seconds, deadline=deadline))
                run = make_run(f"{client} {page.name}", "steady", "httpx", measured, cpu, rate=args.rate, calls=len(page.calls))
                runs.append(run)
                print(
                    f"{run.name}: p95 {run.latency['p95_ms']:.1f} ms, p99 {run.latency['p99_ms']:.1f} ms, errors {run.errors}, wrong {run.wrong_answers}",
                    flush=True,
                )
            portal_run, api_run = runs[-2], runs[-1]
            ratio = round(portal_run.latency["p95_ms"] / max(api_run.latency["p95_ms"], 0.001), 2)
            checks.append(
                {
                    "target": f"{page.name}: page p95 at most {TARGET_P95_MS:.0f} ms at {args.rate:g}/s",
                    "met": portal_run.latency["p95_ms"] <= TARGET_P95_MS and not portal_run.errors and not portal_run.wrong_answers,
                    "measured": f"p95 {portal_run.latency['p95_ms']:.1f} ms (errors {portal_run.errors}, wrong {portal_run.wrong_answers})",
                    "baseline": f"its {len(page.calls)} service call(s) directly: p95 {api_run.latency['p95_ms']:.1f} ms (ratio {ratio})",
                }
            )
    return figures


def _first_odb_number(register: dict[str, Any]) -> str:
    """An ODB number in the register today, from the generator's sample."""
    for training in register["trainings"]:
        if training["in_register"]:
            return str(training["odb_number"])
    raise RuntimeError("the generator's sample has no training in the register")


if __name__ == "__main__":
    sys.exit(main())
