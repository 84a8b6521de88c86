"""Load a realistic identity data set for the check benchmark, fast (COPY).

    uv run python bench/identity/generate.py --identity-url postgresql://... [--projection-url postgresql://...]
        [--organisations 10000] [--persons 100000] [--rights 300000] [--seed 1] [--sample 10000 --sample-out FILE]

Into the identity database (migrated here with the runtime's and identity's migrations, the
same files `python -m identity migrate` applies; it must hold no persons yet):

  organisations  N organisations of the non-department kinds, valid KBO enterprise numbers
                 (mod-97), institution numbers for schools and adult-education centres;
  persons        N persons with valid, unique national register numbers (birth date + sequence
                 101-110 + mod-97 check, checked with identity.numbers), birth date and gender
                 matching the number;
  memberships    each person in 1-3 distinct organisations (50/30/20 %), skewed towards the
                 low-numbered organisations (a few big ones, many small ones); 90 % users,
                 8 % local administrators, 2 % head administrators;
  rights         N rights on (a subset of) those memberships, each a catalogue (context, role)
                 that is not department_only, no two rows on the same (person, organisation,
                 context, role); validity periods: 80 % current (half open-ended), 10 % expired,
                 8 % starting in the future, 2 % current but revoked. Periods stay at least two
                 days away from today, so the expected answer does not depend on the time zone.

and the same rights, as identity publishes them, into `rights_projection` of a second database
migrated with the runtime's migrations only (what any other service holds).

With --sample-out it writes a JSON sample of real (person, organisation, role, context) tuples
with the answer expected today: ~40 % allowed (held, current), and denied ones of three kinds
(held but expired/future/revoked; member without that right; person not a member at all).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import brussels_today, copy, migrate_empty, new_uuid, report_load  # noqa: E402 - shared by both data generators
from identity.numbers import parse_national_register_number  # noqa: E402
from service_runtime.migrations import apply_migrations, discover  # noqa: E402

ORGANISATION_KINDS = ["secondary_school", "adult_education_centre", "higher_education", "syntra", "training_provider", "service_provider", "employer", "other"]
FIRST_NAMES = [
    "Anna",
    "Bram",
    "Chloé",
    "Dries",
    "Elif",
    "Femke",
    "Gert",
    "Hanne",
    "Ilias",
    "Jana",
    "Kobe",
    "Lotte",
    "Mehdi",
    "Nina",
    "Omar",
    "Pieter",
    "Rania",
    "Sven",
    "Tine",
    "Wout",
]
LAST_NAMES = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Lambert",
    "El Amrani",
    "Vermeulen",
    "Aerts",
]
SEQUENCES_PER_DAY = 10  # national register sequence numbers 101..110 on each birth date
FIRST_BIRTH_DATE = date(1958, 1, 1)


def mod97_check(number: int) -> int:
    return 97 - number % 97


def national_register_number(born: date, sequence: int) -> str:
    base = f"{born:%y%m%d}{sequence:03d}"
    check = mod97_check(int(("2" if born.year >= 2000 else "") + base))
    return f"{base}{check:02d}"


def enterprise_number(index: int) -> str:
    base = f"0{2_000_000 + index:07d}"  # 8 digits, first 0
    return f"{base}{mod97_check(int(base)):02d}"


def build(*, organisations: int, persons: int, rights: int, seed: int, today: date) -> dict[str, Any]:
    """All rows, in memory (a few hundred MB at the default sizes), reproducible from the seed."""
    rng = random.Random(seed)
    now = datetime.now(UTC)

    org_rows = []
    for i in range(organisations):
        kind = rng.choice(ORGANISATION_KINDS)
        institution = f"{100_000 + i}" if kind in ("secondary_school", "adult_education_centre") else None
        org_rows.append((new_uuid(rng), f"Organisatie {i:05d}", kind, enterprise_number(i), institution, f"info{i}@org.example", now, now))
    org_ids = [row[0] for row in org_rows]

    person_rows = []
    numbers = set()
    for i in range(persons):
        born = FIRST_BIRTH_DATE + timedelta(days=i // SEQUENCES_PER_DAY)
        sequence = 101 + i % SEQUENCES_PER_DAY
        number = national_register_number(born, sequence)
        parsed = parse_national_register_number(number)  # the service's own rules (ID-4)
        assert parsed.birth_date == born and number not in numbers
        numbers.add(number)
        gender = "male" if sequence % 2 == 1 else "female"
        person_rows.append((new_uuid(rng), number, rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES), gender, born, f"person{i}@example.org", now))
    person_ids = [row[0] for row in person_rows]

    membership_rows = []
    memberships: list[tuple[uuid.UUID, uuid.UUID]] = []  # (person, organisation)
    member_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for person_id in person_ids:
        count = rng.choices((1, 2, 3), weights=(50, 30, 20))[0]
        chosen: list[uuid.UUID] = []
        while len(chosen) < count:
            organisation_id = org_ids[int(organisations * rng.random() ** 2)]  # skewed: few big, many small
            if organisation_id not in chosen:
                chosen.append(organisation_id)
        member_of[person_id] = chosen
        for organisation_id in chosen:
            role = rng.choices(("user", "local_administrator", "head_administrator"), weights=(90, 8, 2))[0]
            membership_rows.append((organisation_id, person_id, role, now))
            memberships.append((person_id, organisation_id))

    pairs = CATALOGUE_PAIRS
    right_rows = []
    held: dict[tuple[uuid.UUID, uuid.UUID, str, str], str] = {}  # (person, org, role, context) -> kind
    if rights > len(memberships) * len(pairs):
        raise SystemExit(f"{rights} rights do not fit on {len(memberships)} memberships x {len(pairs)} catalogue entries")
    while len(right_rows) < rights:
        person_id, organisation_id = memberships[rng.randrange(len(memberships))]
        context, role = pairs[rng.randrange(len(pairs))]
        key = (person_id, organisation_id, role, context)
        if key in held:
            continue
        kind = rng.choices(("current", "expired", "future", "revoked"), weights=(80, 10, 8, 2))[0]
        revoked_at = None
        if kind in ("current", "revoked"):
            valid_from = today - timedelta(days=rng.randint(2, 1500))
            valid_until = None if rng.random() < 0.5 else today + timedelta(days=rng.randint(2, 1000))
            if kind == "revoked":
                revoked_at = now - timedelta(days=rng.randint(0, 300), seconds=rng.randint(0, 86_399))
        elif kind == "expired":
            valid_until = today - timedelta(days=rng.randint(2, 700))
            valid_from = valid_until - timedelta(days=rng.randint(0, 700))
        else:
            valid_from = today + timedelta(days=rng.randint(2, 365))
            valid_until = None if rng.random() < 0.5 else valid_from + timedelta(days=rng.randint(30, 700))
        held[key] = kind
        granted_at = datetime.combine(valid_from, datetime.min.time(), UTC) - timedelta(days=1)
        right_rows.append((new_uuid(rng), organisation_id, person_id, context, role, valid_from, valid_until, granted_at, revoked_at))

    return {
        "organisations": org_rows,
        "persons": person_rows,
        "memberships": membership_rows,
        "rights": right_rows,
        "held": held,
        "member_of": member_of,
        "person_ids": person_ids,
        "org_ids": org_ids,
        "rng": rng,
    }


# Filled from the database's catalogue before building (department_only = false).
CATALOGUE_PAIRS: list[tuple[str, str]] = []


def sample_tuples(data: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """Real tuples with the answer expected today, shuffled. Allowed iff a current, unrevoked
    right is held for a membership (every generated right is on a membership)."""
    rng: random.Random = data["rng"]
    held: dict = data["held"]
    by_kind: dict[str, list] = {}
    for key, kind in held.items():
        by_kind.setdefault(kind, []).append(key)
    for keys in by_kind.values():
        keys.sort()  # dict order is insertion order; sort for a stable sample
    out: list[dict[str, Any]] = []

    def add(person_id, organisation_id, role, context, why: str) -> None:
        allowed = held.get((person_id, organisation_id, role, context)) == "current" and organisation_id in data["member_of"][person_id]
        out.append({"person_id": str(person_id), "organisation_id": str(organisation_id), "role": role, "context": context, "allowed": allowed, "kind": why})

    n_allowed, n_lapsed, n_member = round(size * 0.40), round(size * 0.10), round(size * 0.25)
    for key in rng.sample(by_kind["current"], n_allowed):
        add(*key, "held")
    lapsed = by_kind.get("expired", []) + by_kind.get("future", []) + by_kind.get("revoked", [])
    for key in rng.sample(lapsed, min(n_lapsed, len(lapsed))):
        add(*key, "lapsed")
    for _ in range(n_member):
        person_id = data["person_ids"][rng.randrange(len(data["person_ids"]))]
        organisation_id = rng.choice(data["member_of"][person_id])
        context, role = rng.choice(CATALOGUE_PAIRS)
        add(person_id, organisation_id, role, context, "member")
    while len(out) < size:
        person_id = data["person_ids"][rng.randrange(len(data["person_ids"]))]
        organisation_id = data["org_ids"][rng.randrange(len(data["org_ids"]))]
        context, role = rng.choice(CATALOGUE_PAIRS)
        add(person_id, organisation_id, role, context, "stranger")
    rng.shuffle(out)
    return out


async def load(args: argparse.Namespace) -> dict[str, Any]:
    timings: dict[str, float] = {}
    identity = await asyncpg.connect(args.identity_url)
    try:
        timings["migrate_identity_s"] = await migrate_empty(identity, "identity", empty="persons")
        CATALOGUE_PAIRS[:] = [
            (r["context"], r["role"]) for r in await identity.fetch("SELECT context, role FROM catalogue WHERE NOT department_only ORDER BY context, role")
        ]

        started = time.monotonic()
        today = brussels_today()
        data = build(organisations=args.organisations, persons=args.persons, rights=args.rights, seed=args.seed, today=today)
        timings["build_s"] = time.monotonic() - started

        async with identity.transaction():
            timings["copy_organisations_s"] = await copy(
                identity,
                "organisations",
                ["organisation_id", "name", "kind", "enterprise_number", "institution_number", "contact_email", "created_at", "updated_at"],
                data["organisations"],
            )
            timings["copy_persons_s"] = await copy(
                identity,
                "persons",
                ["person_id", "national_register_number", "last_name", "first_name", "gender", "date_of_birth", "email", "created_at"],
                data["persons"],
            )
            timings["copy_memberships_s"] = await copy(identity, "memberships", ["organisation_id", "person_id", "role", "added_at"], data["memberships"])
            timings["copy_rights_s"] = await copy(
                identity,
                "rights",
                ["right_id", "organisation_id", "person_id", "context", "role", "valid_from", "valid_until", "granted_at", "revoked_at"],
                data["rights"],
            )
        started = time.monotonic()
        await identity.execute("ANALYZE")
        timings["analyze_identity_s"] = time.monotonic() - started
        counts = {t: await identity.fetchval(f"SELECT count(*) FROM {t}") for t in ("organisations", "persons", "memberships", "rights")}
    finally:
        await identity.close()

    if args.projection_url:
        projection = await asyncpg.connect(args.projection_url)
        try:
            await apply_migrations(projection, discover("runtime", "service_runtime.sql"))
            if await projection.fetchval("SELECT count(*) FROM rights_projection"):
                raise SystemExit("the projection database already holds rights")
            rows = [(r[0], r[2], r[1], r[4], r[3], r[5], r[6], r[8], r[7]) for r in data["rights"]]
            async with projection.transaction():
                timings["copy_projection_s"] = await copy(
                    projection,
                    "rights_projection",
                    ["right_id", "person_id", "organisation_id", "role", "context", "valid_from", "valid_until", "revoked_at", "updated_at"],
                    rows,
                )
            await projection.execute("ANALYZE rights_projection")
            counts["rights_projection"] = await projection.fetchval("SELECT count(*) FROM rights_projection")
        finally:
            await projection.close()

    kinds: dict[str, int] = {}
    for kind in data["held"].values():
        kinds[kind] = kinds.get(kind, 0) + 1
    report: dict[str, Any] = {
        "counts": counts,
        "rights_by_validity": kinds,
        "today": today.isoformat(),
        "seed": args.seed,
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    if args.sample_out:
        sample = sample_tuples(data, args.sample)
        args.sample_out.parent.mkdir(parents=True, exist_ok=True)
        args.sample_out.write_text(json.dumps({"today": today.isoformat(), "tuples": sample}))
        report["sample"] = {
            "size": len(sample),
            "allowed": sum(t["allowed"] for t in sample),
            "by_kind": {k: sum(t["kind"] == k for t in sample) for k in ("held", "lapsed", "member", "stranger")},
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identity-url", required=True, help="the identity database (empty or freshly migrated)")
    parser.add_argument("--projection-url", help="a second database for rights_projection (runtime migrations)")
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--rights", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=10_000, help="tuples in the sample (default 10000)")
    parser.add_argument("--sample-out", type=Path, help="write the sample of check tuples (JSON) here")
    args = parser.parse_args(argv)
    if args.persons > SEQUENCES_PER_DAY * 15_000:
        parser.error("at most 150000 persons (birth dates from 1958 on, 10 sequence numbers a day)")
    return report_load(load, args)


if __name__ == "__main__":
    sys.exit(main())
