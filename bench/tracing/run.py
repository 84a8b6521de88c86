"""Tracing benchmark (issue 15, item 3: "exported over OTLP when configured, off by default, at no
measurable cost when off"): the same authenticated HTTP request on identity processes of three
kinds, side by side in one run, on one stack.

    uv run python bench/tracing/run.py [options]            (from the repository root)

Variants (each ONE `python -m identity serve`, LOG_LEVEL=WARNING, the default pool of 10, all
started at once on the same database and left running for the whole run):

  before   the code of commit cba7598, the last one without tracing: a `git worktree add` of it in
           a temporary folder, the service run with PYTHONPATH putting that worktree's runtime/src,
           contracts/src and services/identity/src first (the venv's editable installs point at
           this repository; PYTHONPATH comes before them). Checked at start: service_runtime,
           wse_contracts and identity import from the worktree, and service_runtime.tracing does
           not exist there. The worktree is removed at the end;
  off      HEAD (the commit checked out when the run starts), from a worktree of its own in the
           same way, so that what others have uncommitted in this checkout is not measured
           (--head-from checkout runs this checkout instead); no OTEL_* variables: the default,
           tracing off;
  off-2    (unless --no-control) a second process of the same code as `off`: an A/A control, so
           the run itself says how far two identical processes differ (the noise floor);
  on       HEAD as `off`, with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<mail sink HTTP port>:
           a server span per request, batched by the SDK and exported over OTLP/HTTP to the bench
           stack's mail sink (devstack's OTLP receiver), which parses and keeps them. The SDK's
           defaults otherwise (batch of 512, queue of 2048, parent-based always-on sampler).

Workload: GET /v1/check (identity's rights check: platform token, access guard, one indexed query)
with wrk -t2 -c32 (closed loop) for --seconds per run, the requests spread over --sample real
(person, organisation, role, context) tuples of a data set loaded by bench/identity/generate.py
(smaller than bench/identity's by default: the check is one index lookup either way). Rounds
alternate: round r runs the variants in an order rotated by r (before, off, off-2, on; then off,
off-2, on, before; ...), with a pause between runs, so slow drifts of the shared machine fall on
every variant alike. Per variant: the median over rounds of requests/s, p50/p99 latency and the
service's CPU per request, and the spread over rounds (min..max). Ratios: off/before and on/off,
from the medians and per round (the variants of one round ran seconds apart).

"on" is checked to be on: the mail sink's spans are cleared before the last "on" run, and counted
after it (once the SDK's 5 s export delay has passed): one "GET /v1/check" span per request
answered in that run is expected. The mail sink's CPU (the collector here) is measured apart:
in production the collector runs elsewhere, here it shares the two cores with the service.

It uses a stack of its own (devstack: PostgreSQL, Kafka, the mail sink) with
WSE_BENCH_PORT_BASE=49000 and WSE_BENCH_STATE_DIR=.run/bench-tracing unless those are set, and
stops it, the service processes and the worktrees at the end, also on an error or Ctrl-C. Prints a
table and writes bench/tracing/results/latest.json. Benchmarks only report: nothing here passes or
fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# A stack of its own, beside other people's (36000/46500/47000/48000/50000 bases are taken):
# set before StackConfig.bench() reads them.
os.environ.setdefault("WSE_BENCH_PORT_BASE", "49000")
os.environ.setdefault("WSE_BENCH_STATE_DIR", str(REPO_ROOT / ".run" / "bench-tracing"))

import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    BenchStack,
    CpuMeter,
    Deadline,
    Run,
    ServiceProcess,
    code_state,
    cpu_per_request,
    generate,
    print_code,
    results_head,
    run_wrk,
    settings_of,
    write_results,
    wrk_paths_script,
    wrk_run,
)
from bench.identity.run import OPERATOR, check_path  # noqa: E402
from devstack import postgres, processes, stack  # noqa: E402
from devstack.config import StackConfig  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
IDENTITY_DB = "bench_tracing_identity"
BEFORE_COMMIT = "cba7598"  # the commit before f4f56cb, which added service_runtime.tracing
CODE_PATHS = ("runtime/src", "contracts/src", "services/identity/src")  # what a variant imports from its worktree
CODE = ("runtime", "contracts", "services/identity")  # whose uncommitted changes the results name
SPAN_NAME = "GET /v1/check"
OTEL_PREFIXES = ("OTEL_", "IDENTITY_OTEL_")


# -- the variants -------------------------------------------------------------------------------


class Identity(ServiceProcess):
    """ONE `python -m identity serve` of one variant; it verifies the tokens it signs against its own JWKS."""

    def __init__(self, variant: str, config: StackConfig, database_url: str, extra_env: dict[str, str]) -> None:
        super().__init__("identity", config, database_url, config.logs_dir / f"identity-{variant}.log")
        self.variant = variant
        # Tracing only where asked for: whatever the caller's environment says.
        self.env = {k: v for k, v in self.env.items() if not k.startswith(OTEL_PREFIXES)}
        self.env.update(extra_env)
        self.env["IDENTITY_JWKS_URL"] = f"{self.url}/.well-known/jwks.json"

    def sign_in(self) -> str:
        proof = httpx.post(self.url + "/v1/dev-idp/proofs", json={"national_register_number": OPERATOR["national_register_number"]}, timeout=10)
        proof.raise_for_status()
        response = httpx.post(self.url + "/v1/sign-in", json={"proof": proof.json()["proof"]}, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])


class Worktree:
    """A `git worktree add --detach` of a commit in a temporary folder, removed by `remove`."""

    def __init__(self, commit: str, name: str) -> None:
        self.commit = commit
        self.parent = Path(tempfile.mkdtemp(prefix=f"wse-bench-tracing-{name}-"))
        self.path = self.parent / name
        self.added = False

    def add(self) -> None:
        subprocess.run(["git", "worktree", "add", "--detach", str(self.path), self.commit], cwd=REPO_ROOT, check=True, capture_output=True, timeout=120)
        self.added = True

    def remove(self) -> None:
        if self.added:
            subprocess.run(["git", "worktree", "remove", "--force", str(self.path)], cwd=REPO_ROOT, capture_output=True, timeout=60)
            subprocess.run(["git", "worktree", "prune"], cwd=REPO_ROOT, capture_output=True, timeout=60)
            self.added = False
        shutil.rmtree(self.parent, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """PYTHONPATH with this worktree's packages first: they win over the venv's editable installs."""
        return {"PYTHONPATH": os.pathsep.join([*(str(self.path / p) for p in CODE_PATHS), *filter(None, [os.environ.get("PYTHONPATH")])])}


def check_imports(env: dict[str, str], worktree: Worktree, *, tracing: bool) -> dict[str, Any]:
    """What a variant's process imports, asked of a Python started with its environment: the
    packages from the worktree, and service_runtime.tracing there or not, as expected."""
    probe = (
        "import importlib.util, json, service_runtime, wse_contracts, identity\n"
        "print(json.dumps({'files': {m.__name__: m.__file__ for m in (service_runtime, wse_contracts, identity)},"
        " 'has_tracing': importlib.util.find_spec('service_runtime.tracing') is not None}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    foreign = {name: file for name, file in found["files"].items() if not str(file).startswith(str(worktree.path))}
    if foreign or found["has_tracing"] != tracing:
        raise RuntimeError(f"a variant would not run commit {worktree.commit}'s code: {found}")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=worktree.path, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    return {**found, "worktree_commit": head}


# -- CPU: the shared meter plus the mail sink (the OTLP collector of the "on" variant) -------------


class Meter(CpuMeter):
    """Adds the mail sink as `collector` (and takes it out of `others`)."""

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        if pid := processes.running_pid(self.config, stack.MAILSINK):
            snap["pids"]["collector"] = {pid: self._tree_seconds(pid)}
        return snap

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any], *, child: bool = False) -> dict[str, float]:
        out = CpuMeter.delta(before, after, child=child)
        if "collector" in out and not math.isnan(out.get("others", math.nan)):
            out["others"] = round(out["others"] - out["collector"], 1)
        return out


# -- the mail sink's spans ------------------------------------------------------------------------


def sink_url(config: StackConfig) -> str:
    return f"http://127.0.0.1:{config.smtp_http_port}"


def clear_spans(config: StackConfig) -> None:
    httpx.delete(sink_url(config) + "/api/spans", timeout=30).raise_for_status()


def count_spans(config: StackConfig) -> dict[str, int]:
    response = httpx.get(sink_url(config) + "/api/spans", timeout=60)
    response.raise_for_status()
    spans = response.json()
    return {
        "all": len(spans),
        "check_spans": sum(1 for s in spans if s.get("service") == "identity" and s.get("name") == SPAN_NAME),
        "server_kind": sum(1 for s in spans if s.get("kind") == "server"),
    }


# -- the runs -----------------------------------------------------------------------------------


def wrk_script(work: Path, variant: Identity) -> Path:
    script = work / f"check-{variant.variant}.lua"
    script.write_text(
        wrk_paths_script(
            f"bench/tracing/run.py ({variant.variant}): spreads requests over the sample's check paths.",
            work / "paths.txt",
            offset_step=4999,
            headers={"Authorization": f"Bearer {variant.sign_in()}"},
        )
    )
    return script


def correctness(variant: Identity, tuples: list[dict[str, Any]], count: int) -> dict[str, int]:
    """`count` sample tuples through HTTP: every answer as expected."""
    headers = {"Authorization": f"Bearer {variant.sign_in()}"}
    wrong = errors = 0
    with httpx.Client(base_url=variant.url, headers=headers, timeout=10) as client:
        for t in tuples[:count]:
            response = client.get(check_path(t))
            if response.status_code != 200:
                errors += 1
            elif response.json()["allowed"] != t["allowed"]:
                wrong += 1
    return {"checked": min(count, len(tuples)), "wrong": wrong, "errors": errors}


def one_run(config: StackConfig, variant: Identity, script: Path, args: argparse.Namespace, deadline: Deadline, round_no: int) -> Run:
    run = wrk_run(
        variant.variant,
        Meter(config, lambda: variant.pid),
        variant.url,
        script,
        threads=args.wrk_threads,
        connections=args.wrk_connections,
        seconds=args.seconds,
        deadline=deadline,
    )
    run.name = "http"  # so cpu_per_request counts the service's CPU
    run.details["variant"] = variant.variant
    run.details["round"] = round_no
    run.details["cpu_us_per_request"] = cpu_per_request(run)
    return run


def fmt_run(run: Run) -> str:
    c = run.cpu
    per = run.details["cpu_us_per_request"]
    return (
        f"   round {run.details['round']} {run.details['variant']:<7} {run.per_s:>7.0f}/s  p50 {run.latency['p50_ms']:.2f} ms  p99 {run.latency['p99_ms']:.2f} ms  "
        f"err {run.errors}  service {per.get('client_or_service_us', math.nan):.0f} us/req; CPU % of a core: service {c.get('service', 0):.0f} pg {c.get('postgres', 0):.0f} "
        f"wrk {c.get('generator', 0):.0f} collector {c.get('collector', 0):.0f} others {c.get('others', math.nan):.0f}"
    )


# -- figures ------------------------------------------------------------------------------------

METRICS = {  # name -> (how to read it from a run, better when higher)
    "per_s": (lambda r: r.per_s, True),
    "p50_ms": (lambda r: r.latency["p50_ms"], False),
    "p99_ms": (lambda r: r.latency["p99_ms"], False),
    "service_cpu_us_per_req": (lambda r: r.details["cpu_us_per_request"].get("client_or_service_us", math.nan), False),
}


def summarise(runs: list[Run], variants: list[str]) -> dict[str, Any]:
    """Per variant: median, min, max and spread ((max - min) / median) of each metric over the rounds."""
    out: dict[str, Any] = {}
    for v in variants:
        mine = [r for r in runs if r.details["variant"] == v]
        figures: dict[str, Any] = {"rounds": len(mine), "errors": sum(r.errors for r in mine)}
        for name, (read, _) in METRICS.items():
            values = [read(r) for r in mine]
            median = statistics.median(values) if values else math.nan
            figures[name] = {
                "median": round(median, 3),
                "min": round(min(values), 3) if values else math.nan,
                "max": round(max(values), 3) if values else math.nan,
                "spread_pct": round(100 * (max(values) - min(values)) / median, 1) if values and median else math.nan,
            }
        figures["cpu_pct_median"] = {
            k: round(statistics.median([r.cpu.get(k, 0.0) for r in mine]), 1) for k in ("service", "postgres", "generator", "collector", "others") if mine
        }
        out[v] = figures
    return out


def ratios(runs: list[Run], summary: dict[str, Any], a: str, b: str) -> dict[str, Any]:
    """a/b of each metric: of the medians, and per round (the two ran seconds apart): median, min, max."""
    out: dict[str, Any] = {}
    if a not in summary or b not in summary:
        return out
    rounds = sorted({r.details["round"] for r in runs})
    for name, (read, _) in METRICS.items():
        per_round = []
        for n in rounds:
            ra = next((r for r in runs if r.details["round"] == n and r.details["variant"] == a), None)
            rb = next((r for r in runs if r.details["round"] == n and r.details["variant"] == b), None)
            if ra and rb and read(rb):
                per_round.append(read(ra) / read(rb))
        base = summary[b][name]["median"]
        out[name] = {
            "of_medians": round(summary[a][name]["median"] / base, 3) if base else math.nan,
            "per_round_median": round(statistics.median(per_round), 3) if per_round else math.nan,
            "per_round_min": round(min(per_round), 3) if per_round else math.nan,
            "per_round_max": round(max(per_round), 3) if per_round else math.nan,
        }
    return out


def table(summary: dict[str, Any], comparisons: dict[str, dict[str, Any]]) -> str:
    header = f"{'variant':<8} {'rounds':>6} {'req/s median (min..max)':<26} {'spread':>7} {'p50 ms':>7} {'p99 ms (min..max)':<22} {'svc us/req (min..max)':<22} {'spread':>7} {'err':>4}"
    lines = [header, "-" * len(header)]
    for v, f in summary.items():
        rps, p50, p99, cpu = f["per_s"], f["p50_ms"], f["p99_ms"], f["service_cpu_us_per_req"]
        lines.append(
            f"{v:<8} {f['rounds']:>6} {rps['median']:>7.0f} ({rps['min']:.0f}..{rps['max']:.0f}){'':<4} {rps['spread_pct']:>6.1f}% {p50['median']:>7.2f} "
            f"{p99['median']:>6.2f} ({p99['min']:.2f}..{p99['max']:.2f}){'':<3} {cpu['median']:>5.0f} ({cpu['min']:.0f}..{cpu['max']:.0f}){'':<6} {cpu['spread_pct']:>6.1f}% {f['errors']:>4}"
        )
    lines.append("")
    header = f"{'ratio':<16} {'req/s':<30} {'p50':<30} {'p99':<30} {'service CPU us/req':<30}"
    lines += [header, "-" * len(header)]
    for label, r in comparisons.items():
        if not r:
            continue
        cells = [f"{r[m]['of_medians']:.3f} (rounds {r[m]['per_round_min']:.3f}..{r[m]['per_round_max']:.3f})" for m in METRICS]
        lines.append(f"{label:<16} " + " ".join(f"{c:<30}" for c in cells))
    return "\n".join(lines)


# -- main ---------------------------------------------------------------------------------------


def measure(
    config: StackConfig,
    variants: list[Identity],
    work: Path,
    args: argparse.Namespace,
    tuples: list[dict[str, Any]],
    report: dict[str, Any],
    deadline: Deadline,
) -> list[Run]:
    print(f"-> correctness: {args.check} sample tuples through HTTP on each variant ...", flush=True)
    report["correctness"] = {v.variant: correctness(v, tuples, args.check) for v in variants}
    print(f"   {report['correctness']}", flush=True)
    if any(c["wrong"] or c["errors"] for c in report["correctness"].values()):
        raise RuntimeError(f"wrong answers before measuring: {report['correctness']}")

    scripts = {v.variant: wrk_script(work, v) for v in variants}
    for v in variants:
        print(f"-> warm-up {v.variant}: wrk {args.warmup_seconds:g} s (not counted) ...", flush=True)
        run_wrk(v.url, scripts[v.variant], threads=args.wrk_threads, connections=args.wrk_connections, seconds=args.warmup_seconds, deadline=deadline)

    runs: list[Run] = []
    on = next((v for v in variants if v.variant == "on"), None)
    print(
        f"-> {args.rounds} rounds of wrk -t{args.wrk_threads} -c{args.wrk_connections} -d{args.seconds:g}s per variant, order rotated each round ...",
        flush=True,
    )
    for n in range(args.rounds):
        order = variants[n % len(variants) :] + variants[: n % len(variants)]
        for v in order:
            last_on = v is on and n == args.rounds - 1
            if last_on:
                clear_spans(config)  # count what this run exports, after it
            time.sleep(args.pause)  # the previous run's backlog (the collector's too) drains
            run = one_run(config, v, scripts[v.variant], args, deadline, n + 1)
            runs.append(run)
            print(fmt_run(run), flush=True)
            if last_on:
                time.sleep(args.export_wait)  # the SDK's schedule delay (5 s by default): the last batch leaves
                spans = count_spans(config)
                report["spans_check"] = {
                    "round": n + 1,
                    "requests_answered": run.requests,
                    **spans,
                    "share_exported": round(spans["check_spans"] / run.requests, 4) if run.requests else math.nan,
                    "note": "spans of the last 'on' run as the mail sink received them (it keeps at most 50,000)",
                }
                print(f"   spans in the mail sink from that run: {spans} for {run.requests} requests", flush=True)
    return runs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/tracing/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="rounds; each runs every variant once, in an order rotated by the round (default 6)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each wrk run (default 8)")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between runs (default 1.5)")
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=32)
    parser.add_argument("--no-control", action="store_true", help="no off-2 (the A/A control: a second process of the 'off' code)")
    parser.add_argument("--export-wait", type=float, default=6.0, help="seconds after the last 'on' run before its spans are counted (default 6)")
    parser.add_argument("--organisations", type=int, default=2_000)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--rights", type=int, default=60_000)
    parser.add_argument("--sample", type=int, default=5_000, help="distinct check tuples the load is spread over (default 5000)")
    parser.add_argument("--check", type=int, default=300, help="sample tuples checked over HTTP on each variant before measuring (default 300)")
    parser.add_argument("--before-commit", default=BEFORE_COMMIT, help=f"the commit of the 'before' variant (default {BEFORE_COMMIT})")
    parser.add_argument(
        "--head-from",
        choices=["worktree", "checkout"],
        default="worktree",
        help="off, off-2 and on run HEAD's commit from a worktree of their own (default), or this checkout with whatever is uncommitted in it",
    )
    parser.add_argument("--timeout", type=float, default=540.0, help="hard limit in seconds after the stack is up (default 540)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    config = StackConfig.bench()
    work = config.state_dir / "tracing-bench"
    runs: list[Run] = []
    report: dict[str, Any] = {}
    names = ["before", "off", *([] if args.no_control else ["off-2"]), "on"]
    print(
        f"Benchmark stack '{config.name}' in {config.state_dir} (PostgreSQL 127.0.0.1:{config.postgres_port}, Kafka {config.kafka_bootstrap}, "
        f"mail sink / OTLP 127.0.0.1:{config.smtp_http_port})",
        flush=True,
    )
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    trees = {"before": Worktree(args.before_commit, "before"), "head": Worktree(head, "head")}
    with BenchStack(config) as run:
        for tree in trees.values():
            run.on_exit(tree.remove)  # the last to go: after the processes that run their code
        deadline = run.start(args.timeout)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)

        url = asyncio.run(postgres.recreate_database(config, IDENTITY_DB))
        print(f"-> generating {args.organisations} organisations, {args.persons} persons, {args.rights} rights (COPY) ...", flush=True)
        sample_path = work / "sample.json"
        report["data"] = generate(
            REPO_ROOT / "bench" / "identity" / "generate.py",
            [
                "--identity-url",
                url,
                "--organisations",
                str(args.organisations),
                "--persons",
                str(args.persons),
                "--rights",
                str(args.rights),
                "--sample",
                str(args.sample),
                "--sample-out",
                str(sample_path),
            ],
            deadline,
        )
        print(f"   {report['data']['counts']} in {report['data']['seconds']} s", flush=True)
        tuples = json.loads(sample_path.read_text())["tuples"]
        (work / "paths.txt").write_text("\n".join(check_path(t) for t in tuples) + "\n")

        print(f"-> git worktrees: {args.before_commit} for 'before', {head} (HEAD) for the others ...", flush=True)
        for tree in trees.values():
            tree.add()
        head_env = trees["head"].env() if args.head_from == "worktree" else {}
        env_of = {
            "before": trees["before"].env(),
            "off": head_env,
            "off-2": head_env,
            "on": {**head_env, "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url(config)},
        }
        variants = [Identity(name, config, url, env_of[name]) for name in names]
        for v in variants:
            run.on_exit(v.stop)
        report["imports"] = {"before": check_imports(variants[0].env, trees["before"], tracing=False)}
        if args.head_from == "worktree":
            report["imports"]["off, off-2, on"] = check_imports(variants[1].env, trees["head"], tracing=True)
        for which, found in report["imports"].items():
            print(f"   {which}: commit {found['worktree_commit']}, service_runtime.tracing there: {found['has_tracing']}; {found['files']}", flush=True)

        report["code_at_start"] = code_state(*CODE)
        variants[1].cli("bootstrap", *[f"--{k.replace('_', '-')}={v}" for k, v in OPERATOR.items()])
        for v in variants:
            v.start(deadline)
            print(f"   identity '{v.variant}' pid {v.pid} at {v.url}", flush=True)
        runs = measure(config, variants, work, args, tuples, report, deadline)
    error = run.error

    summary = summarise(runs, names)
    comparisons = {
        "off / before": ratios(runs, summary, "off", "before"),
        "off-2 / off": ratios(runs, summary, "off-2", "off"),
        "on / off": ratios(runs, summary, "on", "off"),
    }
    print()
    print(
        f"Results: GET /v1/check, one identity process per variant, wrk -t{args.wrk_threads} -c{args.wrk_connections} -d{args.seconds:g}s x {args.rounds} rounds"
    )
    print(table(summary, comparisons))
    print("  medians over rounds; spread = (max - min) / median; ratios: of the medians, and (in brackets) the range of the same ratio within each round.")
    print("  off-2 / off: two processes of the same code, the noise floor of this run. svc us/req: the service's CPU per answered request.")
    if spans := report.get("spans_check"):
        print(
            f"  'on' exported: {spans['check_spans']} '{SPAN_NAME}' spans in the mail sink for {spans['requests_answered']} requests of its last run "
            f"(share {spans['share_exported']:.1%})"
        )
    if args.head_from == "worktree":
        print(f"  Code measured: before = {args.before_commit}, off / off-2 / on = {head} (HEAD at start), each from a worktree of that commit")
    else:
        print_code(report.get("code_at_start"), code_state(*CODE))
    if error:
        print(f"FAILED: {error}")
    write_results(
        args.output,
        {
            **results_head(
                "tracing-overhead", "bench/tracing/run.py", argv, shared="wrk, four identity processes (one loaded at a time), PostgreSQL, Kafka, the mail sink"
            ),
            "code": {
                "head_commit": head,
                "head_from": args.head_from,
                "before_commit": args.before_commit,
                "checkout_at_start": report.pop("code_at_start", None),
                "checkout_at_end": code_state(*CODE),
            },
            "settings": settings_of(args),
            **report,
            "summary": summary,
            "ratios": comparisons,
            "runs": [asdict(r) for r in runs],
            "error": error,
        },
    )
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
