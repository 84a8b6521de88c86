"""The services' reasons in Dutch: `dutch(reason)` for every text a service answers with.

The services speak English in their problem+json answers (`detail`, and on a 422 `errors[].reason`),
the portal speaks Dutch to Flemish citizens and organisations. `dutch` turns one such text into
what the portal shows:

- exact texts from `EXACT` (the services' literal reasons and details, the runtime's, and the
  Pydantic and Litestar messages without variable parts);
- texts with variable parts (numbers, dates, lists, codes, column names) through `PATTERNS`: a
  compiled regular expression whose named groups are put back into the Dutch text, each group
  first through the converter its name says (`_CONVERTERS`: a date `2027-01-31` becomes
  "31 januari 2027", a status code its Dutch name, an inner reason its own translation);
- anything else comes back unchanged (an unknown text is shown as it came, never an error).

A pattern only ever puts back what matched in the text it was given: no translation adds a
number (let alone a national register number) that was not in the service's answer.

Usage: `dutch(problem.detail)`, `dutch(error["reason"])`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["EXACT", "PATTERNS", "dutch"]

# ------------------------------------------------------------------------------- words inside messages

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")

# Dossier, application, recognition and right-request statuses of every service, as the portal names them.
STATUSES = {
    "draft": "ontwerp",
    "submitted": "ingediend",
    "inadmissible": "onontvankelijk",
    "held": "wacht op kwaliteitsregistratie",
    "in_review": "in behandeling",
    "in_examination": "in onderzoek",
    "awaiting_information": "wacht op informatie",
    "forwarded": "bij de beslissingsinstantie",
    "advised": "advies bij de minister",
    "approved": "goedgekeurd",
    "rejected": "afgewezen",
    "granted": "erkend",
    "refused": "geweigerd",
    "reconsideration_requested": "heroverweging gevraagd",
    "reconsideration_heard": "heroverweging: aanvrager gehoord",
    "reconsideration_advised": "heroverweging: advies bij de minister",
    "pending": "wacht op een beslissing",
    "cancelled": "geannuleerd",
}
# What the recognition service says one was doing when the application's status did not allow it.
DOING = {
    "judging admissibility": "De ontvankelijkheid beoordelen",
    "asking for information": "Informatie vragen",
    "advising the minister": "De minister adviseren",
    "recording the hearing": "De hoorzitting registreren",
    "recording the commission's advice": "Het advies van de heroverwegingscommissie registreren",
    "recording the minister's decision": "De beslissing van de minister registreren",
    "recording the minister's new decision": "De nieuwe beslissing van de minister registreren",
    "recording a coaching assignment": "Een begeleidingsopdracht registreren",
    "reporting a change": "Een wijziging melden",
    "withdrawing a recognition": "Een erkenning intrekken",
}
PART_TITLES = {
    "part 1 (project, contact and organisation data)": "deel 1 (project-, contact- en organisatiegegevens)",
    "part 2 (simplified-registration group)": "deel 2 (groep met vereenvoudigde registratie)",
    "part 3 (experience and qualified coaches)": "deel 3 (ervaring en gekwalificeerde begeleiders)",
    "part 4 (territory and capacity)": "deel 4 (werkgebied en capaciteit)",
    "part 5 (declaration on honour)": "deel 5 (verklaring op erewoord)",
}
COMPETENCES = {
    "working_together": "samenwerken",
    "communicating": "communiceren",
    "person_centred_work": "persoonsgericht werken",
    "tailored_advice": "advies op maat",
}
# Choices a service lists ("one of ...") beyond the statuses: the purposes of a document.
CHOICES = {**STATUSES, "follow_up": "opvolgingsdocument", "extra": "extra document", "answer": "antwoord op een vraag"}
ROLES = {
    "dwse_organisation_officer": "DWSE organisatieverantwoordelijke",
    "case_handler": "dossierbehandelaar",
    "operator": "helpdeskmedewerker",
    "local_administrator": "lokale beheerder",
    "head_administrator": "hoofd lokale beheerder",
}
CONTEXTS = {
    "training_database": "opleidingsdatabank",
    "training_leave": "opleidingsverlof",
    "platos": "Platos",
    "department": "departement",
}
LEVELS = {"local administrator": "lokale beheerder", "head administrator": "hoofd lokale beheerder", "user": "gebruiker"}
ATTESTATION_KINDS = {"enrolment": "inschrijvingsattest", "attendance": "aanwezigheidsattest"}
OWNED = {"application": "aanvraag", "recognition": "erkenning"}
TYPES = {  # msgspec's type names (Litestar's query and path parameters)
    "int": "Geef een geheel getal, bv. 12.",
    "float": "Geef een getal, bv. 40 of 12,5.",
    "decimal": "Geef een getal, bv. 40 of 12,5.",
    "str": "Geef een tekst.",
    "bool": "Kies ja of nee.",
    "date": "Geef een geldige datum.",
    "datetime": "Geef een geldige datum en tijd.",
    "uuid": "Dit is geen geldige identificatie (UUID).",
}


def _date(text: str) -> str:
    """2027-01-31 -> 31 januari 2027; anything else as it is."""
    found = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if found is None or not 1 <= int(found[2]) <= 12:
        return text
    return f"{int(found[3])} {MONTHS[int(found[2]) - 1]} {found[1]}"


def _number(text: str) -> str:
    """A decimal point becomes the Flemish decimal comma: 7.5 -> 7,5."""
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text)


def _count(text: str) -> str:
    return "één" if text == "1" else text


def _in(words: dict[str, str]) -> Callable[[str], str]:
    return lambda text: words.get(text, text)


def _each(words: dict[str, str], separator: str, joiner: str, quote: str = "") -> Callable[[str], str]:
    """A list the service joined with `separator`, each item in Dutch where known, joined in Dutch."""

    def convert(text: str) -> str:
        items = [f"{quote}{words.get(item.strip(), item.strip())}{quote}" for item in text.split(separator)]
        if joiner == " of " and len(items) > 1:
            return ", ".join(items[:-1]) + " of " + items[-1]
        return joiner.join(items)

    return convert


def _or(text: str) -> str:
    """'a', 'b' or 'c' -> 'a', 'b' of 'c' (PDF, DOCX or JPEG -> PDF, DOCX of JPEG)."""
    return re.sub(r" or (?=[^ ]+$)", " of ", text)


def _listed(text: str) -> str:
    """ "field: reason; field: reason" with each reason in Dutch."""
    parts = []
    for item in text.split("; "):
        field, colon, reason = item.partition(": ")
        parts.append(f"{field}: {dutch(reason).rstrip('.')}" if colon else dutch(item).rstrip("."))
    return "; ".join(parts)


def _sentence(text: str) -> str:
    """An inner reason translated on its own, as the first part of a sentence; ValueError when it
    has no translation (then the whole text is shown as the service gave it)."""
    translated = dutch(text)
    if translated == text:
        raise ValueError(text)
    return translated.rstrip(".")


# A group's converter by its name (a trailing digit is ignored: date2 is a date).
_CONVERTERS: dict[str, Callable[[str], str]] = {
    "date": _date,
    "number": _number,
    "count": _count,
    "status": _in(STATUSES),
    "allowed": _each(STATUSES, " or ", " of ", "'"),
    "doing": lambda text: DOING.get(text, "Deze stap"),
    "part": lambda text: PART_TITLES.get(text, re.sub(r"^part (\d).*$", r"deel \1", text)),
    "competences": _each(COMPETENCES, ", ", ", "),
    "choices": _each(CHOICES, ", ", " of "),
    "options": _or,
    "kind": _in(ATTESTATION_KINDS),
    "owned": _in(OWNED),
    "level": _in(LEVELS),
    "role": _in(ROLES),
    "contexts": _each(CONTEXTS, " or ", " of "),
    "inner": _sentence,
    "listed": _listed,
}

# ------------------------------------------------------------------------------- exact texts

EXACT: dict[str, str] = {
    # --- the runtime (service_runtime.http, errors, paging)
    "Correct the fields listed in errors.": "Verbeter de gegevens die hieronder aangeduid zijn.",
    "Text must not contain a NUL character.": "De tekst bevat een ongeldig teken (NUL): verwijder het.",
    "must not contain a NUL character": "De tekst bevat een ongeldig teken (NUL): verwijder het.",
    "The error was logged with this request's correlation id.": "Er liep iets mis. De fout is genoteerd; probeer het later opnieuw.",
    "Unknown access rule.": "Deze pagina is niet toegankelijk.",
    "This route declares no access rule.": "Deze pagina is niet toegankelijk.",
    "A platform token is required (Authorization: Bearer ...).": "Meld je aan om verder te gaan.",
    "not found": "Niet gevonden.",
    "the body must be a JSON object": "De gegevens hebben niet de verwachte vorm (een JSON-object).",
    "a JSON body is required": "Stuur de gegevens mee (een JSON-object).",
    "invalid": "Dit is niet geldig.",
    "not a cursor of this list: pass the next_cursor of the previous page, or none for the first": (
        "Deze vervolgpagina hoort niet bij deze lijst: begin opnieuw bij de eerste pagina."
    ),
    # the runtime's titles (shown when an answer has no detail) and HTTP's reason phrases
    "Bad request": "Ongeldige vraag",
    "Bad Request": "Ongeldige vraag",
    "Not signed in": "Niet aangemeld",
    "Unauthorized": "Niet aangemeld",
    "Forbidden": "Niet toegestaan",
    "Not found": "Niet gevonden",
    "Not Found": "Niet gevonden",
    "Method not allowed": "Deze handeling kan hier niet",
    "Method Not Allowed": "Deze handeling kan hier niet",
    "Not acceptable": "Dit antwoordformaat is niet beschikbaar",
    "Not Acceptable": "Dit antwoordformaat is niet beschikbaar",
    "Conflict": "Niet mogelijk in deze toestand",
    "Request body too large": "Het bestand of bericht is te groot",
    "Request Entity Too Large": "Het bestand of bericht is te groot",
    "Content Too Large": "Het bestand of bericht is te groot",
    "Unsupported media type": "Dit bestandstype wordt niet aanvaard",
    "Unsupported Media Type": "Dit bestandstype wordt niet aanvaard",
    "The request is not valid": "De gegevens zijn niet geldig",
    "Unprocessable Entity": "De gegevens zijn niet geldig",
    "Unprocessable Content": "De gegevens zijn niet geldig",
    "Too many requests": "Te veel aanvragen na elkaar",
    "Too Many Requests": "Te veel aanvragen na elkaar",
    "Internal error": "Er liep iets mis",
    "Internal Server Error": "Er liep iets mis",
    "Service unavailable": "De dienst is tijdelijk niet beschikbaar",
    "Service Unavailable": "De dienst is tijdelijk niet beschikbaar",
    "Bad Gateway": "De dienst is tijdelijk niet beschikbaar",
    "Gateway Timeout": "De dienst antwoordde niet op tijd",
    # --- Pydantic's messages without variable parts (pydantic_core's error templates)
    "Field required": "Vul dit veld in.",
    "Extra inputs are not permitted": "Dit veld is hier niet toegelaten.",
    "Input should be a valid string": "Geef een tekst.",
    "String should contain only ASCII characters": "Gebruik alleen gewone letters, cijfers en leestekens (zonder accenten).",
    "Input should be a valid boolean": "Kies ja of nee.",
    "Input should be a valid boolean, unable to interpret input": "Kies ja of nee.",
    "Input should be a valid integer": "Geef een geheel getal, bv. 12.",
    "Input should be a valid integer, unable to parse string as an integer": "Geef een geheel getal, bv. 12.",
    "Input should be a valid integer, got a number with a fractional part": "Geef een geheel getal, zonder cijfers na de komma.",
    "Unable to parse input string as an integer, exceeded maximum size": "Dit getal is te groot.",
    "Input should be a valid number": "Geef een getal, bv. 40 of 12,5.",
    "Input should be a valid number, unable to parse string as a number": "Geef een getal, bv. 40 of 12,5.",
    "Input should be a finite number": "Geef een getal, bv. 40 of 12,5.",
    "Input should be a valid decimal": "Geef een getal, bv. 40 of 12,5.",
    "Decimal input should be an integer, float, string or Decimal object": "Geef een getal, bv. 40 of 12,5.",
    "Input should be a valid date": "Geef een geldige datum.",
    "Datetimes provided to dates should have zero time - e.g. be exact dates": "Geef een datum zonder tijd.",
    "Input should be a valid datetime": "Geef een geldige datum en tijd.",
    "Input should have timezone info": "Geef een tijd met tijdzone.",
    "Input should not have timezone info": "Geef een tijd zonder tijdzone.",
    "Date should be in the past": "Deze datum moet in het verleden liggen.",
    "Date should be in the future": "Deze datum moet in de toekomst liggen.",
    "Input should be in the past": "Dit moet in het verleden liggen.",
    "Input should be in the future": "Dit moet in de toekomst liggen.",
    "UUID input should be a string, bytes or UUID object": "Dit is geen geldige identificatie (UUID).",
    "Input should be a valid list": "Geef een lijst.",
    "Input should be a valid array": "Geef een lijst.",
    "Input should be a valid tuple": "Geef een lijst.",
    "Input should be a valid set": "Geef een lijst.",
    "Input should be a valid dictionary": "De gegevens hebben niet de verwachte vorm.",
    "Input should be a valid dictionary or object to extract fields from": "De gegevens hebben niet de verwachte vorm.",
    "Input should be None": "Laat dit veld leeg.",
    "URL input should be a string or URL": "Geef een geldig webadres, bv. https://www.organisatie.be.",
    "JSON input should be string, bytes or bytearray": "De gegevens zijn geen geldige JSON.",
    "Input should be a valid bytes": "Geef een bestand.",
    "Field is frozen": "Dit veld kan je niet wijzigen.",
    "Keys should be strings": "De gegevens hebben niet de verwachte vorm.",
    # --- Litestar's (msgspec's) messages for query and path parameters
    "Invalid UUID": "Dit is geen geldige identificatie (UUID).",
    "Invalid RFC3339 encoded date": "Geef een geldige datum.",
    "Invalid RFC3339 encoded datetime": "Geef een geldige datum en tijd.",
    "Invalid RFC3339 encoded time": "Geef een geldig tijdstip.",
    "Object contains unknown field": "Dit veld is hier niet toegelaten.",
    # --- attestation: bulk files (attestation.bulk)
    "the first line is not a JSON object: JSON Lines has one object per line": (
        "De eerste regel is geen JSON-object: een JSON Lines-bestand heeft één object per regel."
    ),
    "a value in a column without a header": "Er staat een waarde in een kolom zonder kolomnaam.",
    "the file is empty or its first line is: the first line names the columns": (
        "Het bestand of de eerste regel is leeg: de eerste regel geeft de namen van de kolommen."
    ),
    "unknown column": "Onbekende kolom.",
    "not a JSON object (JSON Lines: one object per line)": "Dit is geen JSON-object (JSON Lines: één object per regel).",
    "send the national register number as a JSON string: as a number it loses its leading zeros": (
        "Geef het rijksregisternummer als tekst (JSON-string): als getal verliest het de nullen vooraan."
    ),
    "text, a number, true/false or null": "Geef tekst, een getal, true/false of null.",
    "the file is UTF-16 (or UTF-32)": "Het bestand is in UTF-16 (of UTF-32) bewaard.",
    "the file holds NUL bytes: it is UTF-16 or not a text file": "Het bestand bevat NUL-tekens: het is in UTF-16 bewaard of het is geen tekstbestand.",
    # attestation: one row (attestation.rows) and the national register number (attestation.domain)
    "required": "Vul dit veld in.",
    "missing": "Vul dit veld in.",
    "enrolment or attendance (inschrijving or aanwezigheid)": "Kies inschrijving of aanwezigheid.",
    "a date: 2027-01-31 or 31/01/2027": "Geef een datum, bv. 31/01/2027 of 2027-01-31.",
    "ja or nee (true or false), or empty": "Geef ja of nee (true of false), of laat het leeg.",
    "a number of hours, e.g. 12 or 7,5": "Geef een aantal uren, bv. 12 of 7,5.",
    "a national register number has 11 digits (yymmdd-xxx-cc)": "Een rijksregisternummer heeft 11 cijfers (jjmmdd-xxx-cc).",
    "the check digits do not match; check the number for typos": "De controlecijfers kloppen niet: kijk het nummer na op tikfouten.",
    "the check digits do not match; please check the number for typos": "De controlecijfers kloppen niet: kijk het nummer na op tikfouten.",
    "the birth-date part is not a date": "Het deel met de geboortedatum is geen geldige datum.",
    # attestation: the rules (attestation.domain, use cases, views)
    "the training ends on or after its start": "De einddatum van de opleiding mag niet voor de begindatum liggen.",
    "this ODB number is a training of another organisation": "Dit ODB-nummer hoort bij een opleiding van een andere organisatie.",
    "the period ends on or after its start": "Het einde van de periode mag niet voor het begin liggen.",
    "no enrolment with this reference: attest the enrolment first": "Er is geen inschrijving met deze referentie: bezorg eerst het inschrijvingsattest.",
    "the enrolment with this reference is of another student": "De inschrijving met deze referentie is van een andere cursist.",
    "attendance is attested on the module of the enrolment": "Attesteer de aanwezigheid op de module van de inschrijving.",
    "completion of the learning process is attested for blended modules only": (
        "Dat het leerproces doorlopen is, attesteer je alleen voor modules met blended leren."
    ),
    "an integral training is attested as a whole, without a module": "Een integrale opleiding attesteer je als geheel, zonder module.",
    "more hours than the period has": "Dat zijn meer uren dan de periode telt.",
    "this reference is the enrolment of another student": "Deze referentie is de inschrijving van een andere cursist.",
    "no attestations for this national register number": "Er zijn geen attesten voor dit rijksregisternummer.",
    "no such student": "Deze cursist is niet gevonden.",
    "no such receipt of this organisation": "Dit ontvangstbewijs is niet gevonden bij je organisatie.",
    "another organisation's receipt": "Dit ontvangstbewijs is van een andere organisatie.",
    "already withdrawn": "Dit attest is al ingetrokken.",
    "attendance is attested on this enrolment: withdraw the attendance first": (
        "Op deze inschrijving is al aanwezigheid geattesteerd: trek eerst het aanwezigheidsattest in."
    ),
    "The file is refused as a whole and nothing of it is stored: correct what errors lists and send it again.": (
        "Het hele bestand is geweigerd en er is niets van bewaard: verbeter de fouten hieronder en stuur het opnieuw."
    ),
    "Send the file itself as text/csv or application/jsonl (application/x-ndjson); multipart forms are not accepted.": (
        "Stuur het bestand zelf als text/csv of application/jsonl (application/x-ndjson); multipart-formulieren worden niet aanvaard."
    ),
    "text/csv, application/jsonl or application/x-ndjson": "Gebruik text/csv, application/jsonl of application/x-ndjson.",
    "hours are a number, or text such as 7.5": "Geef de uren als getal, bv. 12 of 7,5.",
    "hours are written like 12 or 7.5: from 0 to 10000, with at most two decimals": (
        "Geef de uren als getal van 0 tot 10000, met hoogstens twee cijfers na de komma, bv. 12 of 7,5."
    ),
    # --- identity (identity.domain, numbers, queries, schemas, use cases, views)
    "must not be before valid_from": "De einddatum mag niet voor de begindatum liggen.",
    "must not be before today: the right would never grant anything": "De einddatum mag niet in het verleden liggen: dan geeft het recht nooit toegang.",
    "You act for another organisation (or for yourself): choose this organisation first.": (
        "Je handelt nu voor een andere organisatie (of voor jezelf): kies eerst deze organisatie."
    ),
    "Only a local administrator of this organisation may do this.": "Alleen een lokale beheerder van deze organisatie mag dit doen.",
    "Only a head local administrator of this organisation may appoint or remove administrators.": (
        "Alleen een hoofd lokale beheerder van deze organisatie kan lokale beheerders aanstellen of verwijderen."
    ),
    "The last head local administrator cannot be removed: appoint a successor first.": (
        "De laatste hoofd lokale beheerder kan je niet verwijderen: stel eerst een opvolger aan."
    ),
    "The person is a head local administrator; remove that first.": "Deze persoon is hoofd lokale beheerder: verwijder eerst die rol.",
    "Remove the person as administrator first (a head local administrator does that).": (
        "Verwijder deze persoon eerst als lokale beheerder (dat doet een hoofd lokale beheerder)."
    ),
    "The person is not a member of this organisation: add them first.": "Deze persoon is geen lid van deze organisatie: voeg de persoon eerst toe.",
    "You are not a member of this organisation: ask its local administrator to add you.": (
        "Je bent geen lid van deze organisatie: vraag de lokale beheerder om je toe te voegen."
    ),
    "there is one department; it is created by the bootstrap command": "Er is maar één departement, en dat wordt bij de installatie aangemaakt.",
    "an adult-education centre is added with its institution number (ID-11)": (
        "Een centrum voor volwassenenonderwijs voeg je toe met zijn instellingsnummer (ID-11)."
    ),
    "does not match the date in the national register number": "De geboortedatum komt niet overeen met de datum in het rijksregisternummer.",
    "the sequence number (digits 7 to 9) must be between 001 and 998": "Het volgnummer (cijfers 7 tot 9) moet tussen 001 en 998 liggen.",
    "the birth date lies in the future": "De geboortedatum ligt in de toekomst.",
    "must start with 0 or 1": "Het nummer moet met 0 of 1 beginnen.",
    "may contain only digits, spaces, dots and dashes": "Gebruik alleen cijfers, spaties, punten en streepjes.",
    "No organisation with this id.": "Deze organisatie is niet gevonden.",
    "No person with this id.": "Deze persoon is niet gevonden.",
    "must be a date written as YYYY-MM-DD": "Geef een datum in de vorm jjjj-mm-dd.",
    "must be 11 digits (spaces, dots and dashes between them are allowed)": (
        "Een rijksregisternummer heeft 11 cijfers (spaties, punten en streepjes ertussen mogen)."
    ),
    "Only the department's helpdesk (operator) may do this.": "Alleen de helpdesk van het departement mag dit doen.",
    "Only the department's helpdesk and the organisation's members may read it.": (
        "Alleen de helpdesk van het departement en de leden van de organisatie mogen dit lezen."
    ),
    "The person is not a member of this organisation.": "Deze persoon is geen lid van deze organisatie.",
    "give either the enterprise number or a part of the name": "Geef het ondernemingsnummer of een deel van de naam.",
    "An organisation with this number is already registered.": "Er is al een organisatie met dit nummer geregistreerd.",
    "say why you need the right": "Zeg waarvoor je het recht nodig hebt.",
    "say why the request is refused": "Zeg waarom je de aanvraag weigert.",
    "You already hold this right.": "Je hebt dit recht al.",
    "You have no right request with this id.": "Deze aanvraag voor een recht is niet gevonden.",
    "No right request with this id in this organisation.": "Deze aanvraag voor een recht is niet gevonden in deze organisatie.",
    "You already asked for this right; your request is waiting for a decision.": "Je vroeg dit recht al aan; je aanvraag wacht op een beslissing.",
    "No active right with this id in this organisation.": "Dit recht is niet gevonden of geldt niet meer in deze organisatie.",
    "The development identity provider is off.": "Aanmelden via de testomgeving staat uit.",
    "No person with this national register number: register them.": "Er is geen persoon met dit rijksregisternummer: registreer de persoon eerst.",
    # --- notification
    "not a JSON object": "Dit is geen JSON-object.",
    "no such notification": "Dit bericht is niet gevonden.",
    "not a field of this template": "Dit veld hoort niet bij dit e-mailsjabloon.",
    # --- recognition (recognition.domain, parts, queries, use cases, views)
    "the application was submitted; it can no longer be changed": "De aanvraag is ingediend: je kan ze niet meer wijzigen.",
    "the minister's decision is recorded once taken: not a day in the future": (
        "Registreer de beslissing van de minister pas als ze genomen is: geen datum in de toekomst."
    ),
    "a recognition starts on the date in the minister's decision": "Geef de datum uit de beslissing van de minister: vanaf dan geldt de erkenning.",
    "a refusal starts no recognition": "Een weigering start geen erkenning: laat de begindatum leeg.",
    "a refusal gives its reasons": "Geef de redenen van de weigering.",
    "name the group the organisation belongs to: gtb, gob, maatwerkbedrijf or lde": (
        "Kies de groep waartoe de organisatie behoort: gtb, gob, maatwerkbedrijf of lde."
    ),
    "only an organisation of the simplified-registration group names one": (
        "Alleen een organisatie uit de groep met vereenvoudigde registratie kiest een groep: laat dit leeg."
    ),
    "this subcontractor is named twice": "Deze onderaannemer staat er twee keer in.",
    "the declaration on honour must be given": "Bevestig de verklaring op erewoord.",
    "a recognised provider commits to take part in the department's intervision sessions": (
        "Een erkende externe dienstverlener engageert zich om deel te nemen aan de intervisies van het departement."
    ),
    "a recognised provider commits to report every change that affects the conditions": (
        "Een erkende externe dienstverlener engageert zich om elke wijziging te melden die de voorwaarden raakt."
    ),
    "an enterprise number has 10 digits, e.g. 0123.456.749": "Een ondernemingsnummer heeft 10 cijfers, bv. 0123.456.749.",
    "an enterprise number starts with 0 or 1": "Een ondernemingsnummer begint met 0 of 1.",
    "no such application": "Deze aanvraag is niet gevonden.",
    "no such recognition": "Deze erkenning is niet gevonden.",
    "this organisation is not known to Platos yet": "Deze organisatie is nog niet gekend in Platos.",
    "an inadmissible application is told why": "Zeg waarom de aanvraag onontvankelijk is.",
    "the organisation already has an open application; one at a time": (
        "Je organisatie heeft al een open aanvraag: je kan maar één aanvraag tegelijk indienen."
    ),
    "an organisation of the simplified-registration group is not asked part 3": (
        "Een organisatie uit de groep met vereenvoudigde registratie vult deel 3 niet in."
    ),
    "no such question on this application": "Deze vraag is niet gevonden bij deze aanvraag.",
    "this question was answered already": "Deze vraag is al beantwoord.",
    "reconsideration can be asked once, of a refusal by the minister": "Een heroverweging kan je één keer vragen, na een weigering door de minister.",
    "the document is empty": "Het document is leeg.",
    "not valid base64": "Het document is niet goed aangekomen (geen geldige base64): voeg het opnieuw toe.",
    "no such assignment of this recognition": "Deze begeleidingsopdracht is niet gevonden bij deze erkenning.",
    "no such reported change": "Deze gemelde wijziging is niet gevonden.",
    "this change was reviewed already": "Deze wijziging is al beoordeeld.",
    "an assignment is recorded once it has started": "Registreer een begeleidingsopdracht pas als ze begonnen is.",
    "after the recognition's last day": "Deze datum ligt na de laatste dag van de erkenning.",
    "the end comes on or after the start": "De einddatum mag niet voor de begindatum liggen.",
    "8 to 200 visible ASCII characters": "Gebruik 8 tot 200 zichtbare tekens, zonder accenten.",
    # --- registration (registration.domain, documents, register, use cases, views)
    "the file is empty": "Het bestand is leeg.",
    "give the SHA-256 of the file as base64 (sha-256=:...:) or as 64 hexadecimal digits": (
        "Geef de SHA-256 van het bestand als base64 (sha-256=:...:) of als 64 hexadecimale tekens."
    ),
    "the SHA-256 of what arrived differs from the one given: the file was changed or cut off on the way, send it again": (
        "Het bestand kwam gewijzigd of onvolledig aan (de SHA-256 verschilt): stuur het opnieuw."
    ),
    "Word documents with macros are not accepted; save it as a plain .docx": "Word-documenten met macro's worden niet aanvaard: bewaar het als gewoon .docx-bestand.",
    "OpenDocument files with macros or scripts are not accepted": "OpenDocument-bestanden met macro's of scripts worden niet aanvaard.",
    "this application has already been submitted": "Deze aanvraag is al ingediend.",
    "a submitted application can no longer be edited; ask the back office to amend it (R-17)": (
        "Een ingediende aanvraag kan je niet meer wijzigen: vraag het departement om ze aan te passen (R-17)."
    ),
    "only a draft can be cancelled; a submitted application can be stopped once registered": (
        "Alleen een ontwerp kan je annuleren; een ingediende aanvraag kan je stopzetten zodra de opleiding geregistreerd is."
    ),
    "held until the organisation has its WSE quality registration (R-2)": "Het dossier wacht tot de organisatie haar WSE-kwaliteitsregistratie heeft (R-2).",
    "a question to the provider is open: the dossier is forwarded once answered, or when its term lapses (R-19)": (
        "Er staat een vraag open bij de opleidingsverstrekker: het dossier gaat verder zodra die beantwoord is, of als de termijn verstreken is (R-19)."
    ),
    "choose 'commission' or 'joint_committee:<number>' of a committee that volunteered": (
        "Kies de Vlaamse opleidingscommissie of een paritair comité dat op de lijst staat."
    ),
    "a registration is stopped from today or a later date, not in the past": "Een registratie stop je vanaf vandaag of later, niet in het verleden.",
    "a rejection gives its reasons": "Geef de redenen van de afwijzing.",
    "a negative evaluation says why": "Zeg waarom de evaluatie negatief is.",
    "an integral training is described as one whole: give exactly one module": "Een integrale opleiding is één geheel: geef precies één module.",
    "a training with workplace learning gives its workplace-learning hours": "De opleiding heeft werkplekleren: geef de uren werkplekleren.",
    "one module per CEFR level": "Geef één module per ERK-niveau.",
    "below 32 hours, say whether this is a mentor training": "Onder 32 uur is deze vraag verplicht: is dit een mentoropleiding?",
    "a training over several school years is submitted as modules": "Een opleiding over meerdere schooljaren dien je in als modules.",
    "a joint committee can only be named for a training aimed at one profession": (
        "Een paritair comité kies je alleen voor een opleiding die gericht is op één beroep."
    ),
    "this joint committee is not on the list of committees that volunteered; choose the commission": (
        "Dit paritair comité staat niet op de lijst: kies de Vlaamse opleidingscommissie."
    ),
    "this section is still to be filled in": "Vul deze stap nog in.",
    "name the learning management system when choosing 'other'": "Geef de naam van het leerplatform (LMS) als je 'ander' kiest.",
    "only with lms 'other'": "Vul dit alleen in als je bij het leerplatform (LMS) 'ander' kiest.",
    "must not be before starts_on": "De einddatum mag niet voor de begindatum liggen.",
    "workplace-learning hours are part of the contact hours and cannot exceed them": (
        "De uren werkplekleren zijn een deel van de contacturen en kunnen die niet overschrijden."
    ),
    "the training has no workplace learning (workplace_learning is false)": "De opleiding heeft geen werkplekleren: laat de uren werkplekleren leeg.",
    "a module can only be blended in a blended training": "Een module kan alleen blended zijn in een opleiding met blended leren.",
    "a blended module needs its estimated distance-learning hours": "Geef de geschatte uren afstandsleren van deze blended module.",
    "only blended modules have distance-learning hours": "Alleen blended modules hebben uren afstandsleren: laat dit leeg.",
    "a language training has one module per CEFR level: give the level": "Een taalopleiding heeft één module per ERK-niveau: geef het ERK-niveau.",
    "only language trainings have a CEFR level": "Alleen taalopleidingen hebben een ERK-niveau: laat dit leeg.",
    "give the module's study points": "Geef de studiepunten van deze module.",
    "a blended training is integral unless every module is blended": "Een opleiding met blended leren is integraal, tenzij elke module blended is.",
    "the module of an integral blended training is blended": "De module van een integrale opleiding met blended leren is blended.",
    "only higher-education institutions express a training in study points": "Alleen instellingen voor hoger onderwijs drukken een opleiding uit in studiepunten.",
    "an EVC trajectory is registered with 16 hours": "Een EVC-traject registreer je met 16 uur.",
    "an EVC trajectory is marked as mentor training": "Duid een EVC-traject aan als mentoropleiding.",
    "name an EVC trajectory 'BK EVC-traject <name>' (recognised, professionally qualifying) or 'EVC-traject <name>'": (
        "Noem een EVC-traject 'BK EVC-traject <naam>' (erkend, beroepskwalificerend) of 'EVC-traject <naam>'."
    ),
    "a blended training is expressed in planned hours, not study points": "Een opleiding met blended leren druk je uit in geplande uren, niet in studiepunten.",
    "the self-analysis reaches no competence group": "De zelfanalyse bereikt geen enkele competentiegroep.",
    "a blended training needs the organisation's learning management system (organisation data)": (
        "Een opleiding met blended leren vraagt het leerplatform (LMS) van de organisatie (organisatiegegevens)."
    ),
    "a blended training needs a document on how the learning process is followed up, for the organisation or this training": (
        "Een opleiding met blended leren vraagt een document over de opvolging van het leerproces, voor de organisatie of voor deze opleiding."
    ),
    "this dossier belongs to another organisation": "Dit dossier is van een andere organisatie.",
    "this organisation is not known to the training database yet": "Deze organisatie is nog niet gekend in de opleidingsdatabank.",
    "this cursor belongs to another search: repeat the search with the same filters": (
        "Deze vervolgpagina hoort bij een andere zoekopdracht: zoek opnieuw met dezelfde filters."
    ),
    "not a cursor this service gave out": "Deze vervolgpagina bestaat niet: begin de zoekopdracht opnieuw.",
    "no training with this ODB number in the register": "Er is geen opleiding met dit ODB-nummer in de opleidingsdatabank.",
    "must not be below min_hours": "Het maximum aantal uren mag niet kleiner zijn dan het minimum.",
    "give either a cursor or an offset": "Gebruik een vervolgpagina of een beginpositie, niet allebei.",
    "give at least one word to find (a -word only leaves words out)": "Geef minstens één zoekwoord (een woord met een min ervoor sluit alleen woorden uit).",
    "there is no open question on this dossier": "Er staat geen vraag open bij dit dossier.",
    "no such document of this organisation": "Dit document is niet gevonden bij je organisatie.",
    "the dossier changed while this was being done; try again": "Het dossier is intussen gewijzigd: probeer het opnieuw.",
    "no such document": "Dit document is niet gevonden.",
    "this document belongs to another organisation": "Dit document is van een andere organisatie.",
    "give a general contact person first": "Geef eerst een algemene contactpersoon op.",
    "no such registered training": "Deze geregistreerde opleiding is niet gevonden.",
    "this training belongs to another organisation": "Deze opleiding is van een andere organisatie.",
    "not a registered training of this organisation": "Dit is geen geregistreerde opleiding van je organisatie.",
    "this idempotency key was used for another application": "Deze indiening hoort bij een andere aanvraag: begin opnieuw met een nieuwe aanvraag.",
    "Send the file itself: the body is the file, with the file's Content-Type; multipart forms are not accepted.": (
        "Stuur het bestand zelf, met zijn eigen bestandstype (Content-Type); multipart-formulieren worden niet aanvaard."
    ),
    "send the file's own type, e.g. application/pdf": "Stuur het eigen bestandstype mee, bv. application/pdf.",
    "required: a key of your own for this submission, e.g. a UUID": "Vul dit in: een eigen sleutel voor deze indiening, bv. een UUID.",
    "The register did not answer in time: narrow the search (more words or a filter) and try again.": (
        "De opleidingsdatabank antwoordde niet op tijd: verfijn je zoekopdracht (meer woorden of een filter) en probeer opnieuw."
    ),
}

# ------------------------------------------------------------------------------- texts with variable parts

_DAY = r"\d{4}-\d{2}-\d{2}"
_PATTERN_TEXTS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    # --- Pydantic's messages (pydantic_core's templates), and a validator's own reason
    (r"Value error, (?P<inner>.+)", "{inner}."),
    (r"Assertion failed, (?P<inner>.+)", "{inner}."),
    (r"String should have at least 1 character", "Vul dit veld in."),
    (r"String should have at least (?P<number>\d+) characters", "Geef minstens {number} tekens in."),
    (r"String should have at most (?P<number>\d+) characters?", "Gebruik hoogstens {number} tekens."),
    (r"String should match pattern '.*'", "Dit heeft niet de juiste vorm: kijk het na op tikfouten."),
    (
        r"Input should be (?P<choices>'.*')",
        lambda m: f"Kies een van deze waarden: {_or(m['choices'])}." if "', '" in m[0] or "' or '" in m[0] else "Kies een geldige waarde.",
    ),
    (r"Input should be a valid date or datetime, .*", "Geef een geldige datum."),
    (r"Input should be a valid date in the format YYYY-MM-DD, .*", "Geef een geldige datum."),
    (r"Input should be a valid datetime or date, .*", "Geef een geldige datum en tijd."),
    (r"Input should be a valid datetime, .*", "Geef een geldige datum en tijd."),
    (r"Input should be in a valid time format, .*", "Geef een geldig tijdstip."),
    (r"Input should be a valid UUID, .*", "Dit is geen geldige identificatie (UUID)."),
    (r"UUID version \d+ expected", "Dit is geen geldige identificatie (UUID)."),
    (r"Input should be a valid URL, .*", "Geef een geldig webadres, bv. https://www.organisatie.be."),
    (r"URL scheme should be .*", "Geef een geldig webadres dat begint met https:// of http://."),
    (r"URL should have at most (?P<number>\d+) characters?", "Een webadres heeft hoogstens {number} tekens."),
    (r"value is not a valid email address: .*", "Geef een geldig e-mailadres, bv. naam@organisatie.be."),
    (r"Input should be greater than or equal to (?P<number>[-\d.eE+]+)", "Geef een getal van {number} of meer."),
    (r"Input should be greater than (?P<number>[-\d.eE+]+)", "Geef een getal groter dan {number}."),
    (r"Input should be less than or equal to (?P<number>[-\d.eE+]+)", "Geef een getal van hoogstens {number}."),
    (r"Input should be less than (?P<number>[-\d.eE+]+)", "Geef een getal kleiner dan {number}."),
    (r"Input should be a multiple of (?P<number>[-\d.eE+]+)", "Geef een veelvoud van {number}."),
    (r"Decimal input should have no more than (?P<number>\d+) digits? in total", "Gebruik hoogstens {number} cijfers."),
    (r"Decimal input should have no more than (?P<number>\d+) decimal places?", "Gebruik hoogstens {number} cijfers na de komma."),
    (r"Decimal input should have no more than (?P<number>\d+) digits? before the decimal point", "Gebruik hoogstens {number} cijfers voor de komma."),
    (r"(?:List|Tuple|Set|Frozenset|Dictionary|Value|Data) should have at least (?P<count>\d+) items? after validation, not \d+", "Geef er minstens {count}."),
    (r"(?:List|Tuple|Set|Frozenset|Dictionary|Value|Data) should have at most (?P<count>\d+) items? after validation, not \d+", "Geef er hoogstens {count}."),
    (r"Data should have at least (?P<number>\d+) bytes?", "Het bestand is te klein: minstens {number} bytes."),
    (r"Data should have at most (?P<number>\d+) bytes?", "Het bestand is te groot: hoogstens {number} bytes."),
    (r"Input should be a valid dictionary or instance of .*", "De gegevens hebben niet de verwachte vorm."),
    (r"Input should be a valid (?:mapping|dictionary), .*", "De gegevens hebben niet de verwachte vorm."),
    (r"Input should be a valid string, .*", "Geef een tekst."),
    (r"Input should be a valid bytes, .*", "Geef een bestand."),
    (r"Input should be a valid timedelta.*", "Geef een geldige duur."),
    (r"Input tag '.*' found using '.*' does not match any of the expected tags: (?P<options>.*)", "Kies een van deze soorten: {options}."),
    (r"Unable to extract tag using discriminator '(?P<tag>.*)'", "Geef aan welke soort het is ({tag})."),
    (r"Invalid JSON: .*", "De gegevens zijn geen geldige JSON."),
    # Litestar's (msgspec's) words for query and path parameters
    (r"Expected `(?P<type>[^`|]+)(?: \| null)?`, got `[^`]+`", lambda m: TYPES.get(m["type"], "Deze waarde heeft niet de juiste vorm.")),
    (r"Expected `(?:int|float|decimal)` >= (?P<number>[-\d.]+)", "Geef een getal van {number} of meer."),
    (r"Expected `(?:int|float|decimal)` > (?P<number>[-\d.]+)", "Geef een getal groter dan {number}."),
    (r"Expected `(?:int|float|decimal)` <= (?P<number>[-\d.]+)", "Geef een getal van hoogstens {number}."),
    (r"Expected `(?:int|float|decimal)` < (?P<number>[-\d.]+)", "Geef een getal kleiner dan {number}."),
    (r"Expected `str` matching regex '.*'", "Dit heeft niet de juiste vorm: kijk het na op tikfouten."),
    (r"Expected `str` of length <= (?P<number>\d+)", "Gebruik hoogstens {number} tekens."),
    (r"Expected `str` of length >= (?P<number>\d+)", "Geef minstens {number} tekens in."),
    (r"Expected `(?:array|object)` of length [<>]= (?P<number>\d+)", "Dit zijn er te veel of te weinig."),
    (r"Invalid enum value .*", "Kies een van de voorgestelde waarden."),
    # --- the runtime
    (r"The body is not valid JSON \(.*\)\.", "De gegevens zijn geen geldige JSON."),
    (r"the (?P<kind>\w+) parameter (?P<name>\S+) is required", "De parameter {name} ontbreekt."),
    (r"The token is not valid: .*", "Je aanmelding is niet meer geldig: meld je opnieuw aan."),
    (
        r"You need the right (?P<role>\w+) in context (?P<contexts>.+?) for this organisation\. "
        r"Ask your organisation's local administrators for it: .*",
        "Je hebt voor deze organisatie het recht {role} nodig, in de context {contexts}. Vraag het aan bij de lokale beheerders van je organisatie.",
    ),
    # --- attestation: bulk files
    (r"(?P<inner>.+); save the file as UTF-8 \(in a spreadsheet: CSV UTF-8\)", "{inner}. Bewaar het bestand als UTF-8 (in een rekenblad: CSV UTF-8)."),
    (r"byte (?P<number>\d+) \(line (?P<line>\d+)\) is not UTF-8", "Byte {number} (regel {line}) is geen UTF-8."),
    (r"the column (?P<column>\S+) is missing \(in Dutch: (?P<names>.*)\)", "De kolom {column} ontbreekt (in het Nederlands: {names})."),
    (r"unknown column; the columns are (?P<columns>.+)", "Onbekende kolom. De kolommen zijn: {columns}."),
    (
        r"(?P<count>\d+) values for (?P<width>\d+) columns: check the separators and quotes",
        "{count} waarden voor {width} kolommen: kijk de scheidingstekens en aanhalingstekens na.",
    ),
    (r"a second column for (?P<column>\S+)", "De kolom {column} komt twee keer voor."),
    (r"a second key for (?P<column>\S+)", "De sleutel {column} komt twee keer voor."),
    (
        r"no line break in the first (?P<number>\d+) bytes: the first line names the columns",
        "Geen nieuwe regel in de eerste {number} bytes: de eerste regel geeft de namen van de kolommen.",
    ),
    (r"at most (?P<number>\d+) characters of text", "Gebruik hoogstens {number} tekens."),
    # attestation: the rules
    (
        r"this registration was replaced by (?P<odb>\S+): new students are enrolled on the new number",
        "Deze registratie is vervangen door {odb}: schrijf nieuwe cursisten in op het nieuwe nummer.",
    ),
    (
        rf"the registration holds from (?P<date>{_DAY}): a training starting before cannot be attested on it",
        "De registratie geldt vanaf {date}: een opleiding die vroeger start, kan je er niet op attesteren.",
    ),
    (
        rf"the registration stopped on (?P<date>{_DAY}): no new student after the stop",
        "De registratie is stopgezet op {date}: na de stopzetting kan je geen nieuwe cursisten inschrijven.",
    ),
    (
        r"the enrolment with this reference is on (?P<odb>\S+): attendance is attested on the same number",
        "De inschrijving met deze referentie staat op {odb}: attesteer de aanwezigheid op hetzelfde nummer.",
    ),
    (
        r"a training spanning more than (?P<count>\d+) school years cannot be processed for training leave",
        "Een opleiding over meer dan {count} schooljaren kan niet verwerkt worden voor opleidingsverlof.",
    ),
    (
        r"a modular training is attested per module: one of (?P<modules>.+)",
        "Een modulaire opleiding attesteer je per module. Kies een van deze modules: {modules}.",
    ),
    (
        r"no module of that name in this training; one of (?P<modules>.+)",
        "Deze opleiding heeft geen module met die naam. Kies een van deze modules: {modules}.",
    ),
    (r"no such (?P<kind>enrolment|attendance) of this organisation", "Dit {kind} is niet gevonden bij je organisatie."),
    (r"another organisation's (?P<kind>enrolment|attendance)", "Dit {kind} is van een andere organisatie."),
    (
        r"The file is too large: a bulk file is at most (?P<number>\d+) bytes \((?P<mb>\d+) MB\)\.",
        "Het bestand is te groot: een bulkbestand is hoogstens {mb} MB ({number} bytes).",
    ),
    (r"at most (?P<number>\d+) bytes", "Het bestand mag hoogstens {number} bytes groot zijn."),
    # --- identity
    (r"(?P<right>\w+@\w+) is a right of the department only", "Het recht {right} is alleen voor het departement."),
    (r"(?P<right>\w+@\w+) is not in the catalogue of rights", "Het recht {right} staat niet in de lijst van rechten."),
    (r"(?P<theme>.+) is not in the catalogue of themes", "Het thema {theme} staat niet in de lijst van thema's."),
    (r"The request was already decided \((?P<status>\w+)\)\.", "Over deze aanvraag is al beslist ({status})."),
    (r"the day (?P<day>\d+) is not a valid birth day", "De dag {day} is geen geldige geboortedag."),
    (
        r"the month (?P<month>\d+) is not a valid birth month \(expected 01 to 12, or 20 to 32 or 40 to 52 for a BIS number\)",
        "De maand {month} is geen geldige geboortemaand (verwacht: 01 tot 12, of 20 tot 32 of 40 tot 52 voor een BIS-nummer).",
    ),
    (r"the birth date (?P<birth>\d+/\d+/\d+) does not exist", "De geboortedatum {birth} bestaat niet."),
    (r"must be written as text of (?P<count>\d+) digits", "Schrijf het nummer als tekst van {count} cijfers."),
    (r"must be (?P<count>\d+) digits", "Het nummer moet {count} cijfers hebben."),
    (r"The person is not a (?P<level>[\w ]+) of this organisation\.", "Deze persoon is geen {level} van deze organisatie."),
    (r"The proof of identity is not valid: .*", "Je aanmelding kon niet bevestigd worden: meld je opnieuw aan."),
    # --- notification
    (
        r"template (?P<template>\S+) has no version (?P<version>\d+) \(known: (?P<versions>.*)\)",
        "Het e-mailsjabloon {template} heeft geen versie {version} (bekende versies: {versions}).",
    ),
    (r"there is no template (?P<template>\S+)", "Het e-mailsjabloon {template} bestaat niet."),
    (r"(?P<value>.+) is not an ISO date", "{value} is geen datum in de vorm jjjj-mm-dd."),
    (
        r"template (?P<template>\S+) v(?P<version>\d+): the personalisation does not match its contract: (?P<listed>.+)",
        "De gegevens voor het e-mailsjabloon {template} v{version} kloppen niet: {listed}.",
    ),
    # --- recognition
    (
        r"(?P<name>.+) \((?P<enterprise>[^()]+)\) is not a recognised external service provider; subcontractors must be recognised themselves",
        "{name} ({enterprise}) is geen erkende externe dienstverlener: een onderaannemer moet zelf erkend zijn.",
    ),
    (r"(?P<part>part \d \(.*\)) is not filled in yet", "Vul {part} nog in."),
    (
        r"(?P<doing>.+) is only possible when the application is (?P<allowed>.+); it is (?P<status>\w+)",
        "{doing} kan alleen bij een aanvraag met de status {allowed}; deze aanvraag heeft de status '{status}'.",
    ),
    (r"(?P<doing>.+) is only possible while the recognition holds", "{doing} kan alleen zolang de erkenning geldt."),
    (
        rf"a request for reconsideration is possible within 30 days of being informed of the decision \((?P<date>{_DAY})\); the last day was (?P<date2>{_DAY})",
        "Een heroverweging vraag je aan binnen 30 dagen nadat je de beslissing kreeg ({date}); de laatste dag was {date2}.",
    ),
    (
        r"a qualified coach shows all four core competences; missing: (?P<competences>.+)",
        "Een gekwalificeerde begeleider toont alle vier de kerncompetenties; nog niet aangeduid: {competences}.",
    ),
    (r"this (?P<owned>application|recognition) belongs to another organisation", "Deze {owned} is van een andere organisatie."),
    (r"one of (?P<choices>.+)", "Kies een van deze waarden: {choices}."),
    (
        rf"the hearing took place between the request \((?P<date>{_DAY})\) and today",
        "De hoorzitting vond plaats tussen de vraag tot heroverweging ({date}) en vandaag.",
    ),
    (r"no part '?(?P<name>[^';]*)'?; the parts are (?P<parts>.+)", "Er is geen deel '{name}'. De delen zijn: {parts}."),
    (
        r"the organisation already has an open application \((?P<dossier>[^,]+), (?P<status>\w+)\); one at a time",
        "Je organisatie heeft al een open aanvraag ({dossier}, {status}): je kan maar één aanvraag tegelijk indienen.",
    ),
    (r"at most (?P<number>\d+) MB per document", "Een document is hoogstens {number} MB groot."),
    (rf"the end comes on or after the start \((?P<date>{_DAY})\)", "De einddatum mag niet voor de begindatum ({date}) liggen."),
    (
        rf"at the latest (?P<date>{_DAY}): the 5 years would end beyond the calendar",
        "Ten laatste {date}: anders lopen de 5 jaar van de erkenning voorbij de kalender van het platform.",
    ),
    (
        rf"at the latest (?P<date>{_DAY}): the 2 years without coaching would end beyond the calendar",
        "Ten laatste {date}: anders lopen de 2 jaar zonder begeleiding voorbij de kalender van het platform.",
    ),
    # --- registration
    (
        r"the file is (?P<size>\d+) bytes; at most (?P<number>\d+) bytes \((?P<mb>\d+) MB\) are accepted",
        "Het bestand is {size} bytes groot; hoogstens {number} bytes ({mb} MB) worden aanvaard.",
    ),
    (
        r"only (?P<options>.+) files are accepted; this file is none of these \(judged by its content\)",
        "Alleen deze bestandstypes worden aanvaard: {options}. Dit bestand is geen van die types (beoordeeld op de inhoud).",
    ),
    (
        r"the file is a (?P<type>\S+) but was sent as (?P<declared>.*); send it as (?P<content_type>\S+)",
        "Het bestand is een {type}-bestand maar werd verstuurd als {declared}: stuur het als {content_type}.",
    ),
    (r"a dossier that is (?P<status>\w+) can no longer be amended", "Een dossier met de status '{status}' kan je niet meer aanpassen."),
    (
        r"information can be asked while the dossier is under review, not when it is (?P<status>\w+)",
        "Informatie vragen kan alleen zolang het dossier in behandeling is, niet bij de status '{status}'.",
    ),
    (r"a dossier that is (?P<status>\w+) cannot be forwarded", "Een dossier met de status '{status}' kan niet doorgestuurd worden."),
    (
        r"the deciding body decides on a forwarded dossier; this one is (?P<status>\w+)",
        "De beslissingsinstantie beslist over een doorgestuurd dossier; dit dossier heeft de status '{status}'.",
    ),
    (rf"the registration stopped on (?P<date>{_DAY})", "De registratie is stopgezet op {date}."),
    (rf"the registration only holds from (?P<date>{_DAY})", "De registratie geldt pas vanaf {date}."),
    (r"no section '?(?P<name>[^';]*)'?; the sections are (?P<sections>.+)", "Er is geen stap '{name}'. De stappen zijn: {sections}."),
    (r"(?P<odb>\S+) is already replaced by (?P<odb2>\S+)", "{odb} is al vervangen door {odb2}."),
    (rf"(?P<odb>\S+) stopped on (?P<date>{_DAY})", "{odb} is stopgezet op {date}."),
    (
        r"already used by (?P<other>.+); the own reference is unique per provider",
        "Deze eigen referentie is al in gebruik bij {other}: elke opleiding van een opleidingsverstrekker heeft een eigen referentie.",
    ),
    (r"(?P<odb>\S+) already has an evaluation for (?P<year>\S+)", "{odb} heeft al een evaluatie voor {year}."),
    (
        r"The file is too large: a document is at most (?P<number>\d+) bytes \((?P<mb>\d+) MB\)\.",
        "Het bestand is te groot: een document is hoogstens {mb} MB ({number} bytes).",
    ),
    # registration: why an application is inadmissible
    (
        r"the training has (?P<number>[\d.]+) hours, fewer than 32, and is not a mentor training",
        "De opleiding telt {number} uur, minder dan 32, en is geen mentoropleiding.",
    ),
    (
        r"only (?P<count>\d+) of the five general labour-market pillars and no basic or profession-specific competence; at least three pillars are needed",
        "Slechts {count} van de vijf pijlers van de algemene arbeidsmarktcompetenties en geen basiscompetentie of beroepsspecifieke competentie: "
        "er zijn minstens drie pijlers nodig.",
    ),
    (
        r"a language training at level (?P<level_code>\w+) or higher is not a basic competence and needs three general labour-market pillars; it has (?P<count>\d+)",
        "Een taalopleiding op ERK-niveau {level_code} of hoger is geen basiscompetentie en heeft drie pijlers van de algemene arbeidsmarktcompetenties nodig; "
        "deze opleiding heeft er {count}.",
    ),
    (
        r"module '(?P<module>.*)' spans (?P<count>\d+) school years; reimbursement beyond two school years cannot be processed",
        "De module '{module}' loopt over {count} schooljaren: een terugbetaling voor meer dan twee schooljaren kan niet verwerkt worden.",
    ),
    (
        rf"the changed training starts on (?P<date>{_DAY}), less than three months after this application \((?P<date2>{_DAY})\)",
        "De gewijzigde opleiding start op {date}, minder dan drie maanden na deze aanvraag ({date2}).",
    ),
]

PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(text, re.DOTALL), dutch_text) for text, dutch_text in _PATTERN_TEXTS
]


def _fill(template: str, found: re.Match[str]) -> str:
    values = {}
    for name, value in found.groupdict().items():
        convert = _CONVERTERS.get(name.rstrip("0123456789"))
        values[name] = convert(value or "") if convert else (value or "")
    return template.format_map(values)


def dutch(reason: str) -> str:
    """The Dutch text for a reason or detail a service gave; unknown text comes back unchanged."""
    if not isinstance(reason, str):
        return reason
    text = reason.strip()
    if text in EXACT:
        return EXACT[text]
    for pattern, dutch_text in PATTERNS:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        try:
            return dutch_text(found) if callable(dutch_text) else _fill(dutch_text, found)
        except (KeyError, ValueError, IndexError):  # a template without its group: show the service's words
            return reason
    return reason
