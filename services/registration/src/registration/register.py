"""The public register (R-20 to R-23): the registered trainings anyone may look up, no sign-in.

    GET /v1/register/trainings                 search and filter, paged
    GET /v1/register/trainings/{odb_number}    one training, with its modules

Only trainings in the register today are shown: R-23, a stopped training leaves the public register
on its stop date without anyone acting, so every query keeps `stop_on IS NULL OR stop_on > today`,
with today from the service's clock (Brussels). Answers carry public fields only (R-5: what the
training section says, the provider, the ODB number and dates), picked one by one: never the
self-analysis, the deciding body, documents, contact persons, flags or the stop reason.

Search by text `q` (websearch syntax: words, "a phrase", -word, or) ranks in three tiers:

  1. trainings whose NAME holds every word (Dutch full text, so 'lassen' finds 'TIG-lassen' and
     'Lassen MIG/MAG'; Dutch stemming does not split compounds: 'lassen' does not find
     'Lastechnieken', 'lastechniek' does), ranked by how well the name matches (ts_rank of the
     name, shorter names first);
  2. trainings where the words are in the provider's name or the content (the `search` column),
     by ts_rank;
  3. only when the words are found nowhere: names that look like every word (pg_trgm word
     similarity, threshold 0.6): typos ('heftruk'), prefixes ('lastech'), part of a compound
     ('kraan' finds 'Kraanbestuurder'), by similarity to the text;

then by ODB number. Items say which tier found them (`match`).

What keeps a search cheap whatever is typed (it is public):
- words are looked up among the trainings' names, each name once (`register_names`, kept by a
  trigger; many trainings share a name), and the trainings of a name come from a covering index
  (`trainings_register_by_name`: name, ODB number and every column R-23 and the filters read),
  without reading their rows. The names come best first, so only as many are visited as fill
  the page;
- a tier only runs when the tiers before it did not fill the page (UNION ALL under a LIMIT);
- bounds: tier 1 takes the NAME_CANDIDATES best names, tier 2 ranks at most CANDIDATES trainings
  (for a word in more contents than that, a bounded subset is ranked), tier 3 the SIMILAR_NAMES
  most similar names; together with the offset limit, one request's work has a ceiling;
- the provider filter by name finds the providers first (`organisations_projection`, trigram index), then
  filters on their ids, which the covering indexes hold;
- every statement has one text per combination of filters, so asyncpg prepares it once per
  connection and PostgreSQL plans it once (a generic plan) instead of at every request.

Without `q` the trainings come alphabetically by name, from the covering indexes (by name, or by
competence group and name). Paging: `limit` and either `cursor` (the previous page's
`next_cursor`, keyset: cheap at any depth; it refuses to continue another search) or `offset`
(at most MAX_OFFSET). A statement that runs longer than QUERY_TIMEOUT_SECONDS is cancelled: 503.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from service_runtime.errors import Invalid, NotFound, Violation, raise_if_any

NAME_CANDIDATES = 2_000  # names whose trainings make tier 1
CANDIDATES = 300  # trainings ranked in tier 2 (words in the provider's name or the content)
SIMILAR_NAMES = 200  # names whose trainings make tier 3
SIMILAR_WORDS = 3  # words of the text tier 3 looks for
MAX_OFFSET = 1_000
QUERY_TIMEOUT_SECONDS = 5.0
TS = "websearch_to_tsquery('dutch'::regconfig, {q})"

TIERS = {1: "name", 2: "text", 3: "similar_name"}

# The public fields, one by one: an addition to the training section is not published by accident.
ITEM = """json_build_object(
    'odb_number', t.odb_number, 'name', t.name, 'provider_id', t.organisation_id, 'provider_name', t.provider_name,
    'competence_group', t.competence_group, 'structure', t.structure, 'blended', t.blended, 'total_hours', t.total_hours,
    'hours_unit', t.public->'hours_unit', 'study_points', t.study_points, 'web_page', t.web_page, 'holds_from', t.holds_from,
    'stop_on', t.stop_on, 'school_years', t.school_years, 'own_reference', t.own_reference, 'target_group', t.public->'target_group',
    'content', t.public->'content', 'language', t.public->'language', 'workplace_learning', t.public->'workplace_learning',
    'separately_enrollable_parts', t.public->'separately_enrollable_parts', 'leads_to_qualification', t.public->'leads_to_qualification',
    'mentor_training', t.public->'mentor_training', 'final_assessment', t.public->'final_assessment', 'replaces', t.replaces,
    'replaced_by', t.replaced_by{extra})"""
# Without `q` no tier found the item: `match` is null, so every item has the same fields.
NO_MATCH = ", 'match', NULL::text"
MODULES = """'modules', (SELECT coalesce(json_agg(json_build_object(
    'name', m->'name', 'contact_hours', (m->>'contact_hours')::numeric, 'workplace_hours', (m->>'workplace_hours')::numeric,
    'distance_hours', (m->>'distance_hours')::numeric, 'study_points', (m->>'study_points')::numeric, 'blended', m->'blended',
    'starts_on', m->'starts_on', 'ends_on', m->'ends_on', 'cefr_level', m->'cefr_level') ORDER BY i), '[]'::json)
    FROM jsonb_array_elements(t.public->'modules') WITH ORDINALITY AS e(m, i))"""


# ------------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class Search:
    """What a search asks, normalised."""

    q: str | None = None
    provider: str | None = None
    competence_group: str | None = None
    odb_number: str | None = None
    blended: bool | None = None
    min_hours: float | None = None
    max_hours: float | None = None
    limit: int = 20
    offset: int = 0
    cursor: str | None = None

    @classmethod
    def of(cls, *, q: str | None = None, provider: str | None = None, **fields: Any) -> Search:
        """From the request's parameters: text with its white space collapsed, blank text as none."""
        return cls(q=_blank_is_none(q), provider=_blank_is_none(provider), **fields)

    @property
    def provider_by_name(self) -> bool:
        """The provider is given by part of its name (its ids are looked up first: provider_ids)."""
        return self.provider is not None and not _is_uuid(self.provider)

    def fingerprint(self) -> str:
        """Which search a cursor belongs to (paging fields aside)."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("limit", "offset", "cursor")}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Page:
    """After which row a page starts: (tier, score, odb_number) for text, (name, odb_number) otherwise."""

    tier: int
    score: float | None
    name: str | None
    odb_number: str


class BadCursor(Invalid):
    """A cursor this service did not give out, or one of another search."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="cursor")


def validate(search: Search) -> None:
    """Every problem of the request at once (Invalid), before anything is read."""
    problems = []
    if search.min_hours is not None and search.max_hours is not None and search.min_hours > search.max_hours:
        problems.append(Violation("max_hours", "must not be below min_hours"))
    if search.cursor is not None and search.offset:
        problems.append(Violation("offset", "give either a cursor or an offset"))
    if search.q is not None and not positive_words(search.q):
        problems.append(Violation("q", "give at least one word to find (a -word only leaves words out)"))
    try:
        decode_cursor(search)
    except BadCursor as error:
        problems += error.violations
    raise_if_any(problems)


def encode_cursor(search: Search, page: Page) -> str:
    raw = json.dumps([search.fingerprint(), page.tier, page.score, page.name, page.odb_number], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(search: Search) -> Page | None:
    if search.cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(search.cursor + "=" * (-len(search.cursor) % 4)))
        fingerprint, tier, score, name, odb_number = raw
    except (ValueError, TypeError):
        raise BadCursor("not a cursor this service gave out") from None
    if fingerprint != search.fingerprint():
        raise BadCursor("this cursor belongs to another search: repeat the search with the same filters")
    valid = (
        isinstance(odb_number, str)
        and len(odb_number) <= 30
        and (
            (tier == 0 and score is None and isinstance(name, str) and len(name) <= 1000)
            or (tier in TIERS and isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score) and name is None)
        )
    )
    if not valid or (tier == 0) != (search.q is None):
        raise BadCursor("not a cursor this service gave out")
    return Page(tier, float(score) if score is not None else None, name, odb_number)


class _Args:
    """Positional query arguments, numbered as they are added."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _filters(search: Search, arg: _Args, today: date, providers: list[UUID] | None) -> str:
    """In the register today (R-23), and the filters asked for. Every column here is in the
    covering indexes trainings_register_by_name and _by_group."""
    where = [f"(t.stop_on IS NULL OR t.stop_on > {arg(today)})"]
    if search.provider is not None:
        if _is_uuid(search.provider):
            where.append(f"t.organisation_id = {arg(UUID(search.provider))}")
        else:  # the providers whose name holds the text, found beforehand (provider_ids)
            where.append(f"t.organisation_id = ANY({arg(providers or [])}::uuid[])")
    if search.competence_group is not None:
        where.append(f"t.competence_group = {arg(search.competence_group)}")
    if search.odb_number is not None:
        where.append(f"upper(t.odb_number) = upper({arg(search.odb_number)})")
    if search.blended is not None:
        where.append(f"t.blended = {arg(search.blended)}")
    if search.min_hours is not None:
        where.append(f"t.total_hours >= {arg(Decimal(repr(search.min_hours)))}::numeric")
    if search.max_hours is not None:
        where.append(f"t.total_hours <= {arg(Decimal(repr(search.max_hours)))}::numeric")
    return " AND ".join(where)


def search_sql(search: Search, today: date, providers: list[UUID] | None = None) -> tuple[str, list[Any]]:
    """The one statement a search runs, and its arguments.
    Rows: tier, score, name, odb_number, item (JSON text), in page order, at most limit + 1.
    `providers`: for a provider given by part of its name, the ids `provider_ids` found."""
    arg = _Args()
    after = decode_cursor(search)
    where = _filters(search, arg, today, providers)
    take = search.limit + 1  # one more: is there a next page?
    deep = take + search.offset
    if search.q is None:
        after_name = ""
        if after is not None:
            after_name = f" AND (t.name, t.odb_number) > ({arg(after.name)}, {arg(after.odb_number)})"
        # The page from an index alone (trainings_register_by_name/_by_group), then its rows.
        sql = (
            f"WITH page AS MATERIALIZED (SELECT t.name, t.odb_number FROM trainings t WHERE {where}{after_name} "
            f"ORDER BY t.name, t.odb_number LIMIT {arg(take)} OFFSET {arg(search.offset)}) "
            f"SELECT 0 AS tier, NULL::float8 AS score, t.name, t.odb_number, {ITEM.format(extra=NO_MATCH)}::text AS item "
            f"FROM page p JOIN trainings t USING (odb_number) ORDER BY t.name, t.odb_number"
        )
        return sql, arg.values

    q = arg(search.q)
    tsq = TS.format(q=q)
    first = after.tier if after else 1

    def keyset(tier: int) -> str:
        if after is None or after.tier != tier:
            return ""
        score, odb = arg(after.score), arg(after.odb_number)
        return f" WHERE h.score < {score} OR (h.score = {score} AND h.odb_number > {odb})"

    ranked = "ORDER BY h.score DESC, h.odb_number LIMIT " + arg(deep)
    ctes, branches = [], []
    matching_names = (
        f"SELECT n.name, ts_rank(n.search, {tsq}, 1)::float8 AS score FROM register_names n "
        f"WHERE n.search @@ {tsq} ORDER BY score DESC, n.name LIMIT {NAME_CANDIDATES}"
    )
    if first <= 2:
        ctes.append(f"names AS MATERIALIZED ({matching_names})")
        # Tier 2: the words in the provider's name or the content, of trainings with other names.
        ctes.append(
            f"text_hits AS MATERIALIZED (SELECT t.odb_number, ts_rank(t.search, {tsq})::float8 AS score FROM trainings t "
            f"WHERE t.search @@ {tsq} AND {where} AND t.name NOT IN (SELECT name FROM names) LIMIT {CANDIDATES})"
        )
    if first <= 1:
        # Tier 1: names holding the words, best first (the name's own rank: shorter names first), and
        # their trainings from the covering index, name after name, until the page is full (the
        # names come sorted, so only the trainings of one score are sorted by ODB number).
        branches.append(
            f"(SELECT 1 AS tier, h.score, h.odb_number FROM (SELECT n.score, t.odb_number FROM ({matching_names}) n "
            f"CROSS JOIN LATERAL (SELECT t.odb_number FROM trainings t WHERE t.name = n.name AND {where}) t) h{keyset(1)} {ranked})"
        )
    if first <= 2:
        branches.append(f"(SELECT 2 AS tier, h.score, h.odb_number FROM text_hits h{keyset(2)} {ranked})")
    # Tier 3, similar names, only when the words are found nowhere (a typo, a prefix, part of a
    # compound): names that hold something like every word, ranked by their likeness to the text.
    nothing_found = ""
    if first <= 2:
        nothing_found = f"NOT EXISTS (SELECT FROM names n JOIN trainings t ON t.name = n.name WHERE {where}) AND NOT EXISTS (SELECT FROM text_hits) AND "
    words = similar_words(search.q)
    if words:
        alike = " AND ".join(f"{arg(word)} <% name" for word in words)
        branches.append(
            f"(SELECT 3 AS tier, h.score, h.odb_number FROM (SELECT t.odb_number, n.score FROM ("
            f"SELECT name, word_similarity({q}, name)::float8 AS score FROM register_names WHERE {alike} "
            f"ORDER BY score DESC, name LIMIT {SIMILAR_NAMES}) n JOIN trainings t ON t.name = n.name WHERE {nothing_found}{where}) h{keyset(3)} {ranked})"
        )
    # UNION ALL under a LIMIT: a tier only runs when those before it did not fill the page.
    ctes.append(
        f"page AS (SELECT row_number() OVER () AS position, p.* FROM (SELECT * FROM ({' UNION ALL '.join(branches)}) u "
        f"LIMIT {arg(take)} OFFSET {arg(search.offset)}) p)"
    )
    sql = (
        f"WITH {', '.join(ctes)} SELECT p.tier, p.score, t.name, t.odb_number, {ITEM.format(extra=', ' + repr('match') + ', ' + _match_sql())}::text AS item "
        f"FROM page p JOIN trainings t USING (odb_number) ORDER BY p.position"
    )
    return sql, arg.values


# PostgreSQL's Dutch stop words (tsearch_data/dutch.stop, from Snowball): full text ignores them, and
# as similar names they would match a third of the register ('voor beginners').
DUTCH_STOP_WORDS = frozenset(
    [
        "de",
        "en",
        "van",
        "ik",
        "te",
        "dat",
        "die",
        "in",
        "een",
        "hij",
        "het",
        "niet",
        "zijn",
        "is",
        "was",
        "op",
        "aan",
        "met",
        "als",
        "voor",
        "had",
        "er",
        "maar",
        "om",
        "hem",
        "dan",
        "zou",
        "of",
        "wat",
        "mijn",
        "men",
        "dit",
        "zo",
        "door",
        "over",
        "ze",
        "zich",
        "bij",
        "ook",
        "tot",
        "je",
        "mij",
        "uit",
        "der",
        "daar",
        "haar",
        "naar",
        "heb",
        "hoe",
        "heeft",
        "hebben",
        "deze",
        "u",
        "want",
        "nog",
        "zal",
        "me",
        "zij",
        "nu",
        "ge",
        "geen",
        "omdat",
        "iets",
        "worden",
        "toch",
        "al",
        "waren",
        "veel",
        "meer",
        "doen",
        "toen",
        "moet",
        "ben",
        "zonder",
        "kan",
        "hun",
        "dus",
        "alles",
        "onder",
        "ja",
        "eens",
        "hier",
        "wie",
        "werd",
        "altijd",
        "doch",
        "wordt",
        "wezen",
        "kunnen",
        "ons",
        "zelf",
        "tegen",
        "na",
        "reeds",
        "wil",
        "kon",
        "niets",
        "uw",
        "iemand",
        "geweest",
        "andere",
    ]
)


def positive_words(q: str) -> list[str]:
    """The words the text asks for (websearch syntax: not the -excluded ones, not 'or', no quotes)."""
    tokens = (token.strip(".,;:!?()'") for token in q.replace('"', " ").split() if not token.startswith("-") and token.lower() != "or")
    return [token for token in tokens if any(ch.isalnum() for ch in token)]


def similar_words(q: str) -> list[str]:
    """The words tier 3 looks for in names: the text's words of three letters or more that are not
    stop words, the SIMILAR_WORDS longest; none, and tier 3 does not run."""
    words = [w for w in positive_words(q) if sum(ch.isalnum() for ch in w) >= 3 and w.lower() not in DUTCH_STOP_WORDS]
    return sorted(dict.fromkeys(words), key=len, reverse=True)[:SIMILAR_WORDS]


def _match_sql() -> str:
    return "CASE p.tier " + " ".join(f"WHEN {tier} THEN '{name}'" for tier, name in TIERS.items()) + " END"


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


async def provider_ids(connection: asyncpg.Connection, text: str, *, statement_timeout: float | None = QUERY_TIMEOUT_SECONDS) -> list[UUID]:
    """The providers whose (current) name holds the text, any case (organisations_projection_name_trigram)."""
    rows = await connection.fetch("SELECT organisation_id FROM organisations_projection WHERE name ILIKE $1 LIMIT 1000", _like(text), timeout=statement_timeout)
    return [r["organisation_id"] for r in rows]


async def fetch_search(
    connection: asyncpg.Connection, search: Search, today: date, *, statement_timeout: float | None = QUERY_TIMEOUT_SECONDS
) -> list[asyncpg.Record]:
    """The rows of one page (limit + 1 at most)."""
    providers = None
    if search.provider is not None and search.provider_by_name:
        providers = await provider_ids(connection, search.provider, statement_timeout=statement_timeout)
        if not providers:
            return []
    sql, args = search_sql(search, today, providers)
    return await connection.fetch(sql, *args, timeout=statement_timeout)


def page_body(search: Search, rows: list[asyncpg.Record]) -> bytes:
    """The JSON answer, assembled from the items PostgreSQL wrote."""
    more = len(rows) > search.limit
    rows = rows[: search.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(search, Page(last["tier"], last["score"], last["name"] if last["tier"] == 0 else None, last["odb_number"]))
    return b'{"items":[' + ",".join(r["item"] for r in rows).encode() + b'],"next_cursor":' + json.dumps(next_cursor).encode() + b"}"


async def search_register(connection: asyncpg.Connection, *, search: Search, today: date) -> bytes:
    """A page of the register today, as the JSON answer (R-23)."""
    validate(search)
    return page_body(search, await fetch_search(connection, search, today))


DETAIL_SQL = (
    f"SELECT {ITEM.format(extra=', ' + MODULES)}::text FROM trainings t WHERE upper(t.odb_number) = upper($1) AND (t.stop_on IS NULL OR t.stop_on > $2)"
)


async def training_detail(connection: asyncpg.Connection, *, odb_number: str, today: date) -> bytes:
    """One training in the register today, as the JSON answer; NotFound when unknown, or stopped on or before today (R-23)."""
    found = None
    if len(odb_number) <= 30:
        found = await connection.fetchval(DETAIL_SQL, odb_number, today, timeout=QUERY_TIMEOUT_SECONDS)
    if found is None:
        raise NotFound("no training with this ODB number in the register")
    return found.encode()


def _blank_is_none(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None
