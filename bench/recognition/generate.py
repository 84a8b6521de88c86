"""Load a realistic recognition (Platos) data set for the queue and submission benchmark, fast (COPY).

    uv run python bench/recognition/generate.py --url postgresql://... [--applications 50000]
        [--organisations 8000] [--drafts 4500] [--handlers 20] [--seed 1] [--sample-out FILE]

Into the recognition database (migrated here with the runtime's and recognition's migrations, the
same files `python -m recognition migrate` applies; it must hold no applications yet):

  organisations_projection  N service providers as identity describes them (the runtime's projection),
                 with valid KBO enterprise numbers and Flemish names ("Jobcoaching Gent vzw",
                 "Werkkracht Kempen", ...), 90 % WSE quality-registered (E-2); and the department;
  rights_projection  case_handler@platos for --handlers persons of the department; for every
                 provider one staff member holding dwse_organisation_officer@platos (E-1), and for
                 one in ten a second person with the same role in context training_database only
                 (a right in another context gives nothing, ID-6);
  applications   N applications in every state, in the order they were started (dossier numbers
                 follow time), each with its five parts as the service stores them (every part
                 parsed by the service's own model, `recognition.use_cases.common.parse_part`, and
                 passed by its own rules, `recognition.domain.part_problems`):
                     draft 9 % (complete; the submission benchmark submits them), submitted 1.6 %,
                     inadmissible 13 %, in_examination 3 % (six in seven with the day the
                     admissibility email was delivered, examination_starts_on, the rest still
                     without it), awaiting_information 0.8 % (suspended_since, an open question),
                     advised 1.4 %, granted 52 %, refused 16 %, reconsideration_requested 1.2 %,
                     reconsideration_heard 1.2 %, reconsideration_advised 0.6 %;
                 one open application (draft .. advised) per organisation at most (E-5, the
                 table's unique index), the closed ones spread over 15 years, skewed (a few
                 organisations with many, many with few). The facts are dated around today so
                 that some terms are overdue: submitted in the last 12 days (7-day admissibility,
                 E-5), examination started in the last 60 days with 0-40 suspended days (45 days,
                 E-6), heard in the last 70 days (45 days for the commission's advice, E-10);
  application_history  the steps each application went through (started, submitted, admissible ...);
  information_requests  the open question of each application awaiting information, and the
                 answered ones whose suspended days the examining applications carry;
  recognitions   one per granted application (5 years from the decision's start date, ended by
                 expiry when past, a few by inactivity), so the submission's E-11 check finds the
                 subcontractors a tenth of the drafts name recognised today.

Every deadline (admissibility_due_on, examination_due_on, commission_advice_due_on, deadline) is the
table's generated column: PostgreSQL derives it on insert with term_end() from the facts loaded
here; nothing here computes a term. (The recognitions' valid_until is computed in Python because
the service computes it so, domain.valid_until, when it grants one.)

With --sample-out it writes a JSON file the benchmark uses: today, the facts of every application
in the queue (no deadline: the benchmark derives those itself, with the service's Python rules, to
judge the answers), the organisations' names, the drafts with their staff member, the case
handlers.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import brussels_today, copy, migrate_empty, new_uuid, report_load  # noqa: E402 - shared by the data generators
from recognition import domain  # noqa: E402
from recognition.domain import Status  # noqa: E402
from recognition.use_cases.common import parse_part  # noqa: E402
from service_runtime.calendar import start_of  # noqa: E402

# Share of each state among the applications (the queue: submitted .. reconsideration_advised, ~10 %).
SHARES: dict[str, float] = {
    "draft": 0.09,
    "submitted": 0.016,
    "inadmissible": 0.13,
    "in_examination": 0.026,  # with examination_starts_on
    "in_examination_not_started": 0.004,  # the admissibility email not delivered yet
    "awaiting_information": 0.008,
    "advised": 0.014,
    "granted": 0.522,
    "refused": 0.16,
    "reconsideration_requested": 0.012,
    "reconsideration_heard": 0.012,
    "reconsideration_advised": 0.006,
}
OPEN = {"draft", "submitted", "in_examination", "in_examination_not_started", "awaiting_information", "advised"}

PREFIXES = [
    "Jobcoaching",
    "Werkkracht",
    "Arbeidszorg",
    "Trajectbegeleiding",
    "Talentwerk",
    "Werkbaar",
    "Inclusief Werk",
    "Jobstap",
    "De Werkplek",
    "Begeleid Werken",
    "Samen aan de Slag",
    "Werkvloer",
    "Handicap en Arbeid",
    "Competentiecentrum",
    "Loopbaanwijzer",
    "Ergo Werk",
]
PLACES = {
    "antwerpen": ["Antwerpen", "Mechelen", "Turnhout", "Geel", "Lier", "Mol", "Herentals", "Boom"],
    "limburg": ["Hasselt", "Genk", "Sint-Truiden", "Tongeren", "Lommel", "Maasmechelen", "Beringen"],
    "oost-vlaanderen": ["Gent", "Aalst", "Sint-Niklaas", "Dendermonde", "Eeklo", "Oudenaarde", "Lokeren", "Ninove"],
    "vlaams-brabant": ["Leuven", "Vilvoorde", "Halle", "Tienen", "Aarschot", "Diest", "Zaventem"],
    "west-vlaanderen": ["Brugge", "Kortrijk", "Oostende", "Roeselare", "Ieper", "Waregem", "Tielt", "Torhout"],
    "brussel": ["Brussel", "Anderlecht", "Schaarbeek", "Jette", "Elsene"],
}
PROVINCE_NAMES = list(PLACES)
REGIONS = ["Kempen", "Westhoek", "Waasland", "Meetjesland", "Pajottenland", "Hageland", "Maasland", "Vlaamse Ardennen", "Noorderkempen"]
SUFFIXES = ["vzw", "vzw", "vzw", "bv", "cv", ""]
FIRST = ["An", "Bart", "Els", "Fatima", "Geert", "Hanne", "Ilse", "Jan", "Karim", "Lotte", "Marc", "Nele", "Omar", "Pieter", "Sofie", "Tom", "Wouter"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet", "Dubois", "Lambert", "El Amrani"]
QUALIFICATIONS = [
    ("diploma", "Bachelor orthopedagogie ({year}), {n} jaar jobcoach in de sociale economie"),
    ("diploma", "Master psychologie ({year}), arbeids- en organisatiepsychologie"),
    ("certified_training", "Opleiding jobcoaching bij VDAB ({year}), met praktijkstage van 120 uur"),
    ("work_experience", "{n} jaar begeleiding van werknemers met een arbeidsbeperking bij een maatwerkbedrijf"),
    ("evc_certificate", "EVC-attest begeleider werkvloer ({year})"),
]
QUESTIONS = [
    "Bezorg ons de diploma's van de begeleiders die u in deel 3 noemt.",
    "Hoe verdeelt u de capaciteit over de provincies van uw werkingsgebied?",
    "Welke ervaring heeft de onderaannemer met de begeleiding op de werkvloer?",
    "Geef een voorbeeld van een begeleidingstraject van het voorbije jaar.",
]


def enterprise_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct valid KBO numbers: 0 and seven digits, then 97 minus that mod 97."""
    out: set[str] = set()
    while len(out) < count:
        first = f"0{rng.randrange(2_000_000, 9_999_999):07d}"
        out.add(first + f"{97 - int(first) % 97:02d}")
    return sorted(out, key=lambda _: rng.random())


def parts_for(rng: random.Random, n: int, org: dict[str, Any], subcontractors: list[tuple[str, str]]) -> dict[str, Any]:
    """The five parts (four for the simplified group) as sent, not yet parsed."""
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    home = org["province"]
    provinces = [home] + rng.sample([p for p in PROVINCE_NAMES if p != home], rng.choice([0, 0, 1, 1, 2]))
    municipalities = rng.sample(PLACES[home], rng.randint(1, 4)) if rng.random() < 0.3 else []
    simplified = org["simplified"]
    parts: dict[str, Any] = {
        "project": {
            "project_title": f"Begeleiding op de werkvloer in {org['place']}",
            "project_description": (
                f"{org['name']} begeleidt werknemers met een arbeidsbeperking, hun collega's en werkgevers op de werkvloer in "
                f"{org['place']} en omgeving. Dossier {n}."
            ),
            "contact": {
                "name": person,
                "email": f"contact{n}@{org['domain']}",
                "phone": f"+32 {rng.randint(2, 9)} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            },
            "address": f"{rng.choice(['Stationsstraat', 'Kerkstraat', 'Nieuwstraat', 'Industrieweg'])} {rng.randint(1, 200)}, {org['place']}",
            **({"website": f"https://www.{org['domain']}/"} if rng.random() < 0.7 else {}),
        },
        "simplified": {"simplified": simplified is not None, "group": simplified},
        "territory": {
            "provinces": provinces,
            "municipalities": municipalities,
            "territory_motivation": f"Onze kantoren in {org['place']} bereiken het hele werkingsgebied binnen het uur, ook met het openbaar vervoer.",
            "capacity": rng.choice([5, 10, 12, 20, 25, 40, 60, 80, 120, 200]),
            "capacity_motivation": "Elke begeleider volgt gemiddeld tien werknemers tegelijk op, zoals onze ervaring van de voorbije jaren aangeeft.",
            "subcontractors": [{"enterprise_number": number, "name": name} for number, name in subcontractors],
        },
        "declaration": {"truthful": True, "intervision": True, "report_changes": True, "signed_by": person},
    }
    if simplified is None:
        coaches = []
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6])):
            kind, details = rng.choice(QUALIFICATIONS)
            coaches.append(
                {
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "qualification": kind,
                    "qualification_details": details.format(year=rng.randint(1995, 2022), n=rng.randint(2, 25)),
                    "competences": ["working_together", "communicating", "person_centred_work", "tailored_advice"],
                }
            )
        parts["experience"] = {
            "motivation": f"Sinds {rng.randint(1998, 2020)} begeleiden wij jaarlijks {rng.randint(10, 300)} werknemers met een arbeidsbeperking op de werkvloer.",
            "coaches": coaches,
        }
    return parts


def stored_parts(raw: dict[str, Any]) -> dict[str, Any]:
    """What PUT .../parts/{name} stores: each part parsed by the service's own model and dumped as it
    dumps it, after the service's own rules found nothing wrong."""
    out = {}
    for name in domain.PARTS:
        if name not in raw:
            continue
        part = parse_part(name, raw[name])
        problems = domain.part_problems(name, part)
        if problems:
            raise RuntimeError(f"part {name} is not valid: {problems}")
        out[name] = part
    if domain.missing_parts(out):
        raise RuntimeError(f"incomplete parts: {domain.missing_parts(out)}")
    return out


def day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def moment(day: date, rng: random.Random) -> datetime:
    return start_of(day) + timedelta(hours=rng.randint(8, 17), minutes=rng.randint(0, 59))


FAVOURABLE = "De organisatie voldoet aan de voorwaarden van ervaring, begeleiders, werkingsgebied en capaciteit."
UNFAVOURABLE = "Onvoldoende aangetoonde ervaring met de begeleiding van werknemers met een arbeidsbeperking."


def timeline(rng: random.Random, state: str, today: date) -> dict[str, Any]:
    """The facts of an application in `state`, in the order they happened, counted back from the
    last one (dated around today for the states in the queue, over 15 years for the decided ones).
    Only facts: every term is left to the table's generated columns."""
    days = lambda low, high: timedelta(days=rng.randint(low, high))  # noqa: E731
    f: dict[str, Any] = {}

    def examined_from(starts: date, *, until: date) -> None:
        """Admissible and examined from `starts` (the admissibility email's delivery); some earlier
        question answered before `until` (its days suspended the term, E-6)."""
        f["examination_starts_on"] = starts
        f["admissibility_judged_on"] = starts - timedelta(days=rng.choice([0, 0, 0, 1, 2]))
        f["submitted_on"] = f["admissibility_judged_on"] - days(1, 7)
        suspended = rng.choice([0, 0, 0, 0, 3, 7, 12, 20, 40])
        asked = starts + days(1, 10)
        if suspended and asked + timedelta(days=suspended) < until:
            f["suspended_days"] = suspended
            f["answered_request"] = (asked, asked + timedelta(days=suspended))

    def decided_on(decided: date, outcome: str) -> None:
        f["outcome"], f["decided_on"] = outcome, decided
        f["decision_informed_on"] = decided + timedelta(days=rng.choice([0, 0, 1, 2]))
        f["advised_on"] = decided - days(5, 40)
        f["advice"] = "favourable" if outcome == "granted" and rng.random() < 0.95 else "unfavourable"
        f["advice_motivation"] = FAVOURABLE if f["advice"] == "favourable" else UNFAVOURABLE
        if outcome == "granted":
            f["recognition_starts_on"] = decided + timedelta(days=rng.choice([0, 1, 14, 30]))
        else:
            f["decision_reasons"] = UNFAVOURABLE
        examined_from(f["advised_on"] - days(20, 45), until=f["advised_on"])

    if state == "submitted":
        f["submitted_on"] = today - days(0, 12)
    elif state == "inadmissible":
        f["submitted_on"] = today - days(90, 15 * 365)
        f["admissibility_judged_on"] = f["submitted_on"] + days(1, 7)
        f["admissibility_reasons"] = "Deel 3 noemt geen gekwalificeerde begeleiders; het attest van de kwaliteitsregistratie ontbreekt."
    elif state == "in_examination_not_started":  # admissible, the email not delivered (yet)
        f["admissibility_judged_on"] = today - days(0, 4)
        f["submitted_on"] = f["admissibility_judged_on"] - days(1, 7)
    elif state == "in_examination":
        examined_from(today - days(1, 60), until=today)
    elif state == "awaiting_information":
        examined_from(today - days(3, 60), until=today - timedelta(days=1))
        earliest = f.get("answered_request", (None, f["examination_starts_on"]))[1] + timedelta(days=1)
        f["suspended_since"] = day_between(rng, min(earliest, today), today)
        f["open_request"] = f["suspended_since"]
    elif state == "advised":
        f["advised_on"] = today - days(0, 30)
        f["advice"] = rng.choice(["favourable"] * 4 + ["unfavourable"])
        f["advice_motivation"] = FAVOURABLE if f["advice"] == "favourable" else UNFAVOURABLE
        examined_from(f["advised_on"] - days(20, 45), until=f["advised_on"])
    elif state in ("granted", "refused"):
        decided_on(today - days(60, 15 * 365), state)
    else:  # reconsideration (E-10) of a refusal, asked within 30 days of being informed of it
        if state == "reconsideration_requested":
            requested = today - days(0, 60)
        else:
            if state == "reconsideration_advised":
                f["commission_advised_on"] = today - days(0, 40)
                f["heard_on"] = f["commission_advised_on"] - days(5, 40)
                f["commission_advice"] = rng.choice(["favourable", "unfavourable"])
                f["commission_motivation"] = "De commissie hoorde de aanvrager en volgt de bijkomende stukken."
            else:
                f["heard_on"] = today - days(1, 70)
            requested = f["heard_on"] - days(5, 40)
        f["reconsideration_requested_on"] = requested
        f["reconsideration_motivation"] = "Wij tonen met bijgevoegde attesten aan dat onze begeleiders de kerncompetenties wel degelijk hebben."
        informed = requested - days(1, 29)
        decided_on(informed - timedelta(days=rng.choice([0, 0, 1, 2])), "refused")
        f["decision_informed_on"] = informed
    return f


def history_of(rng: random.Random, r: dict[str, Any]) -> list[tuple[str, datetime, dict[str, Any]]]:
    """The history rows the service would have written for these facts."""
    out: list[tuple[str, datetime, dict[str, Any]]] = [("started", r["created_at"], {}), ("submitted", r["submitted_at"], {})]
    if r.get("admissibility_judged_on"):
        out.append(("inadmissible" if r.get("admissibility_reasons") else "admissible", moment(r["admissibility_judged_on"], rng), {}))
    if r.get("examination_starts_on"):
        out.append(("examination_started", moment(r["examination_starts_on"], rng), {"on": r["examination_starts_on"].isoformat()}))
    if "answered_request" in r:
        asked, received = r["answered_request"]
        out.append(("information_requested", moment(asked, rng), {}))
        out.append(("information_received", moment(received, rng), {"suspended_days": r["suspended_days"]}))
    if r.get("suspended_since"):
        out.append(("information_requested", moment(r["suspended_since"], rng), {}))
    if r.get("advised_on"):
        out.append(("advised", moment(r["advised_on"], rng), {"advice": r["advice"]}))
    if r.get("decided_on"):
        out.append(("decided", moment(r["decided_on"], rng), {"outcome": r["outcome"], "decided_on": r["decided_on"].isoformat()}))
        out.append(("decision_delivered", moment(r["decision_informed_on"], rng), {"on": r["decision_informed_on"].isoformat()}))
    if r.get("reconsideration_requested_on"):
        out.append(("reconsideration_requested", moment(r["reconsideration_requested_on"], rng), {}))
    if r.get("heard_on"):
        out.append(("reconsideration_heard", moment(r["heard_on"], rng), {"heard_on": r["heard_on"].isoformat()}))
    if r.get("commission_advised_on"):
        out.append(("reconsideration_advised", moment(r["commission_advised_on"], rng), {"advice": r["commission_advice"]}))
    return out


# The applications table's columns this generator fills (the deadlines are generated by PostgreSQL).
COLUMNS = [
    "application_id",
    "dossier_seq",
    "organisation_id",
    "created_by",
    "idempotency_key",
    "status",
    "parts",
    "submitted_at",
    "submitted_on",
    "submitted_by",
    "admissibility_judged_on",
    "admissibility_reasons",
    "examination_starts_on",
    "suspended_days",
    "suspended_since",
    "advice",
    "advice_motivation",
    "advised_on",
    "outcome",
    "decided_on",
    "decision_reasons",
    "recognition_starts_on",
    "decision_informed_on",
    "reconsideration_requested_on",
    "reconsideration_motivation",
    "heard_on",
    "commission_advice",
    "commission_motivation",
    "commission_advised_on",
    "version",
    "created_at",
    "updated_at",
]


def build(*, applications: int, organisations: int, drafts: int | None, handlers: int, seed: int, today: date) -> dict[str, Any]:
    rng = random.Random(seed)
    counts = {state: round(share * applications) for state, share in SHARES.items()}
    if drafts is not None:
        counts["draft"] = drafts
    counts["granted"] += applications - sum(counts.values())
    opened = sum(n for state, n in counts.items() if state in OPEN)
    if opened > organisations:
        raise SystemExit(f"{opened} open applications need as many organisations (one open application each, E-5); --organisations is {organisations}")

    # -- organisations, the department and the rights
    numbers = enterprise_numbers(rng, organisations)
    orgs: list[dict[str, Any]] = []
    org_rows: list[tuple[Any, ...]] = []
    right_rows: list[tuple[Any, ...]] = []
    valid_from = today - timedelta(days=400)
    for i in range(organisations):
        province = rng.choices(PROVINCE_NAMES, weights=[22, 14, 22, 17, 19, 6])[0]
        place = rng.choice(PLACES[province])
        where = place if rng.random() < 0.75 else rng.choice(REGIONS)
        name = f"{rng.choice(PREFIXES)} {where} {rng.choice(SUFFIXES)}".strip()
        simplified = rng.choice(["gtb", "gob", "maatwerkbedrijf", "lde"]) if rng.random() < 0.15 else None
        org = {
            "id": new_uuid(rng),
            "name": name,
            "number": numbers[i],
            "province": province,
            "place": place,
            "domain": f"{name.split()[0].lower()}{i}.bench.example",
            "simplified": simplified,
            "staff": new_uuid(rng),
        }
        orgs.append(org)
        quality = rng.random() < 0.9
        org_rows.append(
            (
                org["id"],
                name,
                "employer" if simplified == "maatwerkbedrijf" else "service_provider",
                org["number"],
                f"info@{org['domain']}",
                "registered" if quality else "none",
                date(2015, 1, 1) + timedelta(days=rng.randint(0, 2500)) if quality else None,
                None,
                datetime.now(UTC),
            )
        )
        right_rows.append((new_uuid(rng), org["staff"], org["id"], "dwse_organisation_officer", "platos", valid_from))
        if rng.random() < 0.1:
            right_rows.append((new_uuid(rng), new_uuid(rng), org["id"], "dwse_organisation_officer", "training_database", valid_from))
    department = new_uuid(rng)
    org_rows.append((department, "Departement Werk en Sociale Economie", "department", "0316381039", None, "none", None, None, datetime.now(UTC)))
    case_handlers = [new_uuid(rng) for _ in range(handlers)]
    right_rows += [(new_uuid(rng), person, department, "case_handler", "platos", valid_from) for person in case_handlers]

    # -- which organisation each application is of: the open ones one each, the others skewed
    states = [state for state, n in counts.items() for _ in range(n)]
    rng.shuffle(states)
    open_orgs = iter(rng.sample(range(organisations), opened))
    weights = [1 / (1 + i) ** 0.6 for i in range(organisations)]
    others = iter(rng.choices(range(organisations), weights=weights, k=len(states)))

    # Subcontractors (E-11) must hold a recognition today: a tenth of the drafts name one or two of the
    # organisations whose recognition runs today.
    recent_grants: list[int] = []

    rows: list[dict[str, Any]] = []
    for state in states:
        org_index = next(open_orgs) if state in OPEN else next(others)
        org = orgs[org_index]
        r: dict[str, Any] = {"state": state, "org": org_index}
        status = {"in_examination_not_started": "in_examination"}.get(state, state)
        r["status"] = status
        if state == "draft":
            created = day_between(rng, today - timedelta(days=60), today - timedelta(days=1))
            r["created_at"] = moment(created, rng)
            r["updated_at"] = r["created_at"] + timedelta(days=rng.randint(0, max(0, (today - created).days - 1)), hours=1)
            rows.append(r)
            continue
        facts = timeline(rng, state, today)
        r.update(facts)
        r["created_at"] = moment(facts["submitted_on"] - timedelta(days=rng.randint(1, 40)), rng)
        r["submitted_at"] = moment(facts["submitted_on"], rng)
        r["history"] = history_of(rng, r)
        last = max(at for _, at, _ in r["history"])
        if r["state"] == "granted":
            # E-8: 5 years from the decision's start date; ended by expiry once past, a few earlier by inactivity (E-9).
            valid_from = r["recognition_starts_on"]
            r["valid_until"] = domain.valid_until(valid_from)
            r["ended"] = None
            if r["valid_until"] < today:
                r["ended"] = (r["valid_until"] + timedelta(days=1), "expiry")
            elif rng.random() < 0.02 and valid_from + timedelta(days=731) < today:
                r["ended"] = (valid_from + timedelta(days=731), "inactivity")
            elif valid_from < today - timedelta(days=2) and r["valid_until"] > today + timedelta(days=2):
                recent_grants.append(org_index)  # recognised today (and for some days either side)
        r["updated_at"] = max(last, r["created_at"])
        rows.append(r)

    # In the order they were started: dossier numbers follow time.
    rows.sort(key=lambda r: r["created_at"])
    recent = sorted(set(recent_grants))
    app_rows: list[tuple[Any, ...]] = []
    history_rows: list[tuple[Any, ...]] = []
    request_rows: list[tuple[Any, ...]] = []
    recognition_rows: list[tuple[Any, ...]] = []
    queue, draft_list = [], []
    validated = 0
    for seq, r in enumerate(rows, start=1):
        org = orgs[r["org"]]
        application_id = new_uuid(rng)
        subcontractors: list[tuple[str, str]] = []
        if r["state"] == "draft" and recent and rng.random() < 0.1:
            subcontractors = [(orgs[i]["number"], orgs[i]["name"]) for i in rng.sample(recent, rng.choice([1, 1, 2])) if i != r["org"]]
        parts = stored_parts(parts_for(rng, seq, org, subcontractors))
        validated += 1
        version = 1 + len(parts) + sum(1 for _ in r.get("history", [])[1:])
        app_rows.append(
            (
                application_id,
                seq,
                org["id"],
                org["staff"],
                None,
                r["status"],
                json.dumps(parts),
                r.get("submitted_at"),
                r.get("submitted_on"),
                org["staff"] if "submitted_on" in r else None,
                r.get("admissibility_judged_on"),
                r.get("admissibility_reasons"),
                r.get("examination_starts_on"),
                r.get("suspended_days", 0),
                r.get("suspended_since"),
                r.get("advice"),
                r.get("advice_motivation"),
                r.get("advised_on"),
                r.get("outcome"),
                r.get("decided_on"),
                r.get("decision_reasons"),
                r.get("recognition_starts_on"),
                r.get("decision_informed_on"),
                r.get("reconsideration_requested_on"),
                r.get("reconsideration_motivation"),
                r.get("heard_on"),
                r.get("commission_advice"),
                r.get("commission_motivation"),
                r.get("commission_advised_on"),
                version,
                r["created_at"],
                r["updated_at"],
            )
        )
        history = r.get("history", [("started", r["created_at"], {})])
        if r["state"] == "draft":
            history = [("started", r["created_at"], {})]
        for action, at, details in history:
            history_rows.append(
                (application_id, at, org["staff"] if action not in ("examination_started", "decision_delivered") else None, action, json.dumps(details))
            )
        if "answered_request" in r:
            asked, received = r["answered_request"]
            request_rows.append(
                (
                    new_uuid(rng),
                    application_id,
                    rng.choice(QUESTIONS),
                    org["staff"],
                    moment(asked, rng),
                    asked,
                    "Zie de bijlagen.",
                    org["staff"],
                    moment(received, rng),
                    received,
                )
            )
        if "open_request" in r:
            request_rows.append(
                (new_uuid(rng), application_id, rng.choice(QUESTIONS), org["staff"], moment(r["open_request"], rng), r["open_request"], None, None, None, None)
            )
        if r["state"] == "granted":
            ended_on, reason = r["ended"] or (None, None)
            territory = parts["territory"]
            recognition_rows.append(
                (
                    new_uuid(rng),
                    f"ERK-{seq:06d}",
                    org["id"],
                    application_id,
                    org["number"],
                    org["name"],
                    r["recognition_starts_on"],
                    r["valid_until"],
                    ended_on,
                    reason,
                    territory["provinces"],
                    territory["municipalities"],
                    territory["capacity"],
                    [s["enterprise_number"] for s in territory["subcontractors"]],
                    json.dumps(parts["project"]["contact"]),
                    moment(r["decided_on"], rng),
                )
            )
        if r["status"] in domain.QUEUE_STATUSES:
            queue.append(
                {
                    "application_id": str(application_id),
                    "dossier_seq": seq,
                    "organisation_id": str(org["id"]),
                    "status": r["status"],
                    "submitted_on": r["submitted_on"].isoformat(),
                    "examination_starts_on": r["examination_starts_on"].isoformat() if r.get("examination_starts_on") else None,
                    "suspended_days": r.get("suspended_days", 0),
                    "suspended_since": r["suspended_since"].isoformat() if r.get("suspended_since") else None,
                    "heard_on": r["heard_on"].isoformat() if r.get("heard_on") else None,
                }
            )
        if r["state"] == "draft":
            draft_list.append(
                {
                    "application_id": str(application_id),
                    "organisation_id": str(org["id"]),
                    "organisation_name": org["name"],
                    "person_id": str(org["staff"]),
                    "contact": parts["project"]["contact"],
                    "simplified_group": parts["simplified"]["group"],
                    "subcontractors": len(parts["territory"]["subcontractors"]),
                }
            )
    return {
        "organisations": org_rows,
        "rights": right_rows,
        "applications": app_rows,
        "history": history_rows,
        "requests": request_rows,
        "recognitions": recognition_rows,
        "counts_by_state": counts,
        "validated": validated,
        "sample": {
            "today": today.isoformat(),
            "department": str(department),
            "case_handlers": [str(p) for p in case_handlers],
            "organisations": {str(o["id"]): o["name"] for o in orgs},
            "queue": queue,
            "drafts": draft_list,
        },
    }


async def load(args: argparse.Namespace) -> dict[str, Any]:
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(args.url)
    try:
        timings["migrate_s"] = await migrate_empty(connection, "recognition", empty="applications")
        started = time.monotonic()
        today = brussels_today()
        data = build(applications=args.applications, organisations=args.organisations, drafts=args.drafts, handlers=args.handlers, seed=args.seed, today=today)
        timings["build_and_validate_s"] = time.monotonic() - started
        async with connection.transaction():
            timings["copy_organisations_s"] = await copy(
                connection,
                "organisations_projection",
                [
                    "organisation_id",
                    "name",
                    "kind",
                    "enterprise_number",
                    "contact_email",
                    "quality_status",
                    "quality_valid_from",
                    "quality_valid_until",
                    "updated_at",
                ],
                data["organisations"],
            )
            timings["copy_rights_s"] = await copy(
                connection, "rights_projection", ["right_id", "person_id", "organisation_id", "role", "context", "valid_from"], data["rights"]
            )
            timings["copy_applications_s"] = await copy(connection, "applications", COLUMNS, data["applications"])
            # Dossiers made later (the submission benchmark, the service) continue after these.
            await connection.execute("SELECT setval(pg_get_serial_sequence('applications', 'dossier_seq'), $1)", len(data["applications"]))
            timings["copy_history_s"] = await copy(
                connection, "application_history", ["application_id", "at", "actor_id", "action", "details"], data["history"]
            )
            timings["copy_information_requests_s"] = await copy(
                connection,
                "information_requests",
                ["request_id", "application_id", "question", "asked_by", "asked_at", "requested_on", "answer", "answered_by", "answered_at", "received_on"],
                data["requests"],
            )
            timings["copy_recognitions_s"] = await copy(
                connection,
                "recognitions",
                [
                    "recognition_id",
                    "recognition_number",
                    "organisation_id",
                    "application_id",
                    "enterprise_number",
                    "name",
                    "valid_from",
                    "valid_until",
                    "ended_on",
                    "end_reason",
                    "provinces",
                    "municipalities",
                    "capacity",
                    "subcontractors",
                    "contact",
                    "granted_at",
                ],
                data["recognitions"],
            )
        started = time.monotonic()
        for table in ("organisations_projection", "rights_projection", "applications", "application_history", "information_requests", "recognitions"):
            await connection.execute(f"VACUUM ANALYZE {table}")  # the visibility map too: no hint-bit writes while measuring
        timings["vacuum_analyze_s"] = time.monotonic() - started
        counts = {
            t: await connection.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("organisations_projection", "rights_projection", "applications", "application_history", "information_requests", "recognitions")
        }
        by_status = {r[0]: r[1] for r in await connection.fetch("SELECT status, count(*) FROM applications GROUP BY status ORDER BY 2 DESC")}
        queue = await connection.fetchrow(
            f"""
            SELECT count(*) AS in_queue, count(deadline) AS with_deadline, count(*) FILTER (WHERE deadline < $1) AS overdue,
                   count(*) FILTER (WHERE status = '{Status.IN_EXAMINATION}' AND examination_starts_on IS NULL) AS examination_not_started
            FROM applications WHERE status = ANY($2::text[])
            """,
            today,
            list(domain.QUEUE_STATUSES),
        )
        sizes = {
            r["relname"]: r["size"]
            for r in await connection.fetch(
                "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) AS size FROM pg_class c "
                "WHERE c.relname IN ('applications', 'application_history', 'applications_queue', 'applications_queue_by_status', 'recognitions') ORDER BY 1"
            )
        }
    finally:
        await connection.close()
    report: dict[str, Any] = {
        "counts": counts,
        "by_status": by_status,
        "queue": dict(queue),
        "sizes": sizes,
        "today": today.isoformat(),
        "seed": args.seed,
        "parts_validated_with_service_models": data["validated"],
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    if args.sample_out:
        args.sample_out.parent.mkdir(parents=True, exist_ok=True)
        args.sample_out.write_text(json.dumps(data["sample"]))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the recognition database (empty or freshly migrated)")
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--organisations", type=int, default=8_000)
    parser.add_argument("--drafts", type=int, help="complete drafts among the applications (default 9 %%)")
    parser.add_argument("--handlers", type=int, default=20, help="case handlers of the department (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample-out", type=Path, help="write what the benchmark needs to build requests and check answers (JSON) here")
    args = parser.parse_args(argv)
    return report_load(load, args)


if __name__ == "__main__":
    sys.exit(main())
