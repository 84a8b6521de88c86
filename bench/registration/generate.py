"""Load a realistic public register for the search benchmark, fast (COPY).

    uv run python bench/registration/generate.py --url postgresql://... [--trainings 100000]
        [--providers 3000] [--seed 1] [--sample-out FILE]

Into the registration database (migrated here with the runtime's and registration's migrations,
the same files `python -m registration migrate` applies; it must hold no trainings yet):

  organisations_projection  N providers as identity describes them (the runtime's projection): training providers (about half),
                 adult-education centres, SYNTRA, higher education, employers, others, with
                 Flemish-sounding names ("Vormingscentrum Gent", "CVO De Oranjerie",
                 "Hogeschool Kortrijk", "Peeters Opleidingen bv" ...), all WSE quality-registered;
  applications   one approved application per registered training, with the sections a provider
                 fills in: contact, training, self_analysis (back office only), deciding_body,
                 documents. The contact e-mail addresses and the self-analysis explanation carry
                 a marker (SECRET_MARKERS) so the benchmark can check no answer ever shows them;
  trainings      N registered trainings made from word lists: about 90 Dutch topics (lassen,
                 heftruck, boekhouding, Nederlands tweede taal, Python, zorgkundige ...), each
                 with its competence group, typical hours, modules and a content text of 3-5
                 Dutch sentences; integral or modular (1-5 modules), ~25 % blended (R-7), a few
                 mentor trainings below 32 hours and EVC trajectories (R-8, R-10), study points
                 for some higher-education trainings (R-5); ODB numbers with the prefix of the
                 provider's kind (R-20); a skewed number of trainings per provider (a few big
                 ones, many small); 8 % stopped in the past (out of the register, R-23), 3 %
                 with a stop date in the future (still in it). Dates stay at least two days away
                 from today, so what is in the register does not depend on the time zone.

1 % of the training sections are checked with the service's own models and rules
(registration.sections, registration.domain) while building, so the data is what the service
itself would have registered.

With --sample-out it writes a JSON file the benchmark uses: today, the topics and their search
words, a sample of trainings (ODB number, name, provider, group, blended, hours, in the register
or not) and the providers (id, name), to build requests and check the answers.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import brussels_today, copy, migrate_empty, new_uuid, report_load  # noqa: E402 - shared by both data generators
from registration import domain  # noqa: E402
from registration.sections import DecidingBodySection, SelfAnalysisSection, TrainingSection  # noqa: E402
from service_runtime.calendar import add_months  # noqa: E402

# What must never appear in a public answer: contact addresses, the self-analysis, the deciding body.
SECRET_MARKERS = ["vertrouwelijk-zelfanalyse", "@contact.bench.example", "joint_committee:", "decision_reasons_bench"]

# topic: (name variants, competence group, (min, max) hours, search words, content keywords, language)
TOPICS: list[tuple[list[str], str, tuple[int, int], list[str], list[str], str | None]] = [
    (
        ["Lassen MIG/MAG", "Lastechnieken", "TIG-lassen", "Elektrodelassen"],
        "profession_specific",
        (40, 320),
        ["lassen", "lastechnieken", "lasser"],
        ["lasnaden", "plaatstaal", "lasapparaat", "veiligheid bij het lassen", "lasposities"],
        None,
    ),
    (
        ["Heftruckchauffeur", "Heftruck en reachtruck", "Veilig werken met de heftruck"],
        "profession_specific",
        (16, 60),
        ["heftruck", "reachtruck"],
        ["heftruck", "laden en lossen", "magazijn", "stabiliteit van de last"],
        None,
    ),
    (
        ["Boekhouding", "Boekhouden voor kmo's", "Dubbel boekhouden"],
        "profession_specific",
        (40, 200),
        ["boekhouding", "boekhouden"],
        ["balans", "resultatenrekening", "btw-aangifte", "journaalposten"],
        None,
    ),
    (
        ["Nederlands tweede taal", "NT2 Nederlands voor anderstaligen", "Nederlands op de werkvloer"],
        "basic",
        (60, 480),
        ["nederlands", "nt2"],
        ["spreken", "luisteren", "schrijven", "woordenschat", "taalvaardigheid"],
        "Nederlands",
    ),
    (["Frans voor beginners", "Frans in de zorg", "Zakelijk Frans"], "basic", (40, 240), ["frans"], ["spreken", "lezen", "communicatie in het Frans"], "Frans"),
    (
        ["Engels voor beginners", "Business English", "Engels op de werkvloer"],
        "basic",
        (40, 240),
        ["engels", "english"],
        ["e-mails", "vergaderen", "presenteren in het Engels"],
        "Engels",
    ),
    (["Duits voor beginners", "Zakelijk Duits"], "basic", (40, 200), ["duits"], ["gesprekken", "correspondentie", "Duitse grammatica"], "Duits"),
    (["Spaans voor beginners"], "basic", (40, 160), ["spaans"], ["gesprekken", "reizen", "Spaanse grammatica"], "Spaans"),
    (
        ["Excel voor gevorderden", "Excel basis", "Rekenbladen met Excel"],
        "basic",
        (12, 60),
        ["excel", "rekenblad"],
        ["formules", "draaitabellen", "grafieken", "gegevensanalyse"],
        None,
    ),
    (
        ["Word en Outlook", "Kantoorsoftware", "Microsoft 365 in de praktijk"],
        "basic",
        (12, 60),
        ["kantoorsoftware", "word", "outlook"],
        ["tekstverwerking", "e-mail", "agenda", "samenwerken in de cloud"],
        None,
    ),
    (
        ["Digitale basisvaardigheden", "Werken met de computer", "Digitaal vaardig"],
        "basic",
        (20, 80),
        ["digitale", "computer"],
        ["internet", "veilig online", "bestanden beheren", "e-mail"],
        None,
    ),
    (["Rekenvaardigheid", "Rekenen op de werkvloer"], "basic", (30, 120), ["rekenen", "rekenvaardigheid"], ["procenten", "breuken", "meten", "schatten"], None),
    (
        ["Leren leren", "Studievaardigheden"],
        "basic",
        (32, 80),
        ["leren", "studievaardigheden"],
        ["plannen", "samenvatten", "motivatie", "leerstrategieën"],
        None,
    ),
    (
        ["Programmeren in Python", "Python voor data-analyse", "Softwareontwikkeling met Java"],
        "profession_specific",
        (60, 400),
        ["python", "programmeren", "java"],
        ["programmeertaal", "algoritmen", "testen", "versiebeheer met Git"],
        None,
    ),
    (
        ["Webontwikkeling", "Front-end developer", "Full-stack webdeveloper"],
        "profession_specific",
        (80, 600),
        ["webontwikkeling", "webdeveloper", "javascript"],
        ["HTML", "CSS", "JavaScript", "toegankelijkheid van websites"],
        None,
    ),
    (
        ["Cyberbeveiliging", "Informatiebeveiliging voor kmo's", "Ethisch hacken"],
        "profession_specific",
        (40, 300),
        ["cyberbeveiliging", "informatiebeveiliging", "hacken"],
        ["phishing", "netwerkbeveiliging", "wachtwoordbeleid", "incidentrespons"],
        None,
    ),
    (
        ["Netwerkbeheer", "Systeembeheerder Linux", "Cloudbeheer met Azure"],
        "profession_specific",
        (60, 400),
        ["netwerkbeheer", "systeembeheer", "cloud"],
        ["servers", "netwerken", "virtualisatie", "monitoring"],
        None,
    ),
    (
        ["Data-analyse", "Business intelligence", "Datawetenschap"],
        "profession_specific",
        (60, 360),
        ["data-analyse", "datawetenschap", "intelligence"],
        ["dashboards", "statistiek", "SQL", "datavisualisatie"],
        None,
    ),
    (
        ["AutoCAD", "Technisch tekenen met CAD", "BIM-modelleur"],
        "profession_specific",
        (40, 240),
        ["autocad", "cad", "bim"],
        ["bouwplannen", "3D-modellen", "technische tekeningen"],
        None,
    ),
    (
        ["CNC-frezen", "CNC-draaien", "CNC-operator"],
        "profession_specific",
        (80, 480),
        ["cnc", "frezen", "draaien"],
        ["freesmachine", "programmeren van CNC-machines", "meettechniek"],
        None,
    ),
    (
        ["Mechatronica", "Onderhoudstechnicus", "Industriële elektriciteit"],
        "profession_specific",
        (80, 600),
        ["mechatronica", "onderhoudstechnicus", "elektriciteit"],
        ["sensoren", "aandrijvingen", "storingen opsporen", "preventief onderhoud"],
        None,
    ),
    (
        ["PLC-programmeren", "Industriële automatisering"],
        "profession_specific",
        (40, 240),
        ["plc", "automatisering"],
        ["besturingen", "Siemens", "ladderlogica", "procesautomatisering"],
        None,
    ),
    (
        ["Pneumatiek en hydrauliek", "Hydraulische systemen"],
        "profession_specific",
        (32, 120),
        ["pneumatiek", "hydrauliek"],
        ["cilinders", "kleppen", "schema's lezen"],
        None,
    ),
    (
        ["Elektrotechniek", "Residentieel elektrotechnisch installateur", "AREI-keuring voorbereiden"],
        "profession_specific",
        (60, 480),
        ["elektrotechniek", "elektricien", "arei"],
        ["AREI", "bekabeling", "schakelschema's", "veiligheid"],
        None,
    ),
    (
        ["Zonnepanelen installeren", "Installateur fotovoltaïsche systemen"],
        "profession_specific",
        (32, 160),
        ["zonnepanelen", "fotovoltaïsche"],
        ["omvormers", "dakmontage", "hernieuwbare energie"],
        None,
    ),
    (
        ["Warmtepompen", "Installateur warmtepompen", "Koeltechniek"],
        "profession_specific",
        (32, 200),
        ["warmtepompen", "warmtepomp", "koeltechniek"],
        ["koelmiddelen", "energiezuinig verwarmen", "F-gassen"],
        None,
    ),
    (
        ["Sanitair installateur", "Loodgieterij", "Centrale verwarming"],
        "profession_specific",
        (60, 400),
        ["sanitair", "loodgieter", "verwarming"],
        ["leidingen", "sanitaire toestellen", "ketels", "waterdichtheid"],
        None,
    ),
    (
        ["Metselen", "Ruwbouw", "Gevelrenovatie"],
        "profession_specific",
        (80, 600),
        ["metselen", "metselaar", "ruwbouw"],
        ["metselwerk", "funderingen", "bouwplaats", "gevelsteen"],
        None,
    ),
    (
        ["Tegelzetten", "Vloerder-tegelzetter"],
        "profession_specific",
        (60, 400),
        ["tegelzetten", "tegelzetter", "vloerder"],
        ["vloeren", "wandtegels", "voegen"],
        None,
    ),
    (
        ["Dakwerken", "Platte daken", "Dakdekker"],
        "profession_specific",
        (60, 400),
        ["dakwerken", "dakdekker", "daken"],
        ["dakbedekking", "isolatie", "werken op hoogte"],
        None,
    ),
    (
        ["Schilder-decorateur", "Binnenschilderwerk"],
        "profession_specific",
        (60, 400),
        ["schilder", "schilderwerk"],
        ["verf", "behang", "ondergronden voorbereiden"],
        None,
    ),
    (
        ["Schrijnwerker", "Meubelmaker", "Houtbewerking"],
        "profession_specific",
        (60, 480),
        ["schrijnwerker", "meubelmaker", "houtbewerking"],
        ["hout", "machines", "afwerking", "maatwerk"],
        None,
    ),
    (
        ["Duurzaam bouwen", "Energieprestatie en binnenklimaat", "Renovatie en isolatie"],
        "profession_specific",
        (32, 160),
        ["duurzaam", "isolatie", "renovatie"],
        ["EPB", "luchtdichtheid", "circulair bouwen"],
        None,
    ),
    (
        ["Vrachtwagenchauffeur rijbewijs C", "Vakbekwaamheid chauffeur", "Code 95 nascholing"],
        "profession_specific",
        (35, 280),
        ["vrachtwagenchauffeur", "chauffeur", "rijbewijs"],
        ["rijvaardigheid", "tachograaf", "defensief rijden", "lading zekeren"],
        None,
    ),
    (
        ["Buschauffeur", "Autocarchauffeur"],
        "profession_specific",
        (60, 280),
        ["buschauffeur", "autocar"],
        ["passagiers", "veilig rijden", "klantvriendelijkheid"],
        None,
    ),
    (
        ["Logistiek medewerker", "Magazijnbeheer", "Supply chain management"],
        "profession_specific",
        (40, 240),
        ["logistiek", "magazijn", "supply"],
        ["voorraadbeheer", "orderpicking", "transport", "planning"],
        None,
    ),
    (
        ["Zorgkundige", "Verzorgende", "Thuisverpleging"],
        "profession_specific",
        (120, 1200),
        ["zorgkundige", "verzorgende", "verpleging"],
        ["zorg", "hygiëne", "patiënten", "communicatie met zorgvragers"],
        None,
    ),
    (
        ["Kinderbegeleider", "Begeleider buitenschoolse opvang"],
        "profession_specific",
        (120, 800),
        ["kinderbegeleider", "kinderopvang"],
        ["kinderen", "ontwikkeling", "veiligheid", "ouders"],
        None,
    ),
    (
        ["Begeleiden van personen met dementie", "Dementiezorg"],
        "profession_specific",
        (32, 120),
        ["dementie", "dementiezorg"],
        ["zorg", "communicatie", "familie", "gedrag"],
        None,
    ),
    (
        ["EHBO", "Bedrijfshulpverlener", "Reanimatie en AED"],
        "general",
        (8, 40),
        ["ehbo", "hulpverlener", "reanimatie"],
        ["eerste hulp", "reanimatie", "AED", "wondzorg"],
        None,
    ),
    (
        ["VCA basisveiligheid", "VCA voor operationeel leidinggevenden"],
        "profession_specific",
        (8, 24),
        ["vca", "basisveiligheid", "veiligheid"],
        ["veiligheid", "risico's", "persoonlijke beschermingsmiddelen"],
        None,
    ),
    (
        ["Brandpreventie", "Eerste interventieploeg brand"],
        "general",
        (8, 32),
        ["brandpreventie", "brand"],
        ["blusmiddelen", "evacuatie", "brandveiligheid"],
        None,
    ),
    (
        ["Koken voor beginners", "Keukenmedewerker", "Chef-kok"],
        "profession_specific",
        (60, 600),
        ["koken", "kok", "keuken"],
        ["bereidingen", "hygiëne in de keuken", "HACCP", "menuplanning"],
        None,
    ),
    (
        ["Bakker", "Banketbakker", "Chocolatier"],
        "profession_specific",
        (80, 600),
        ["bakker", "banketbakker", "chocolatier"],
        ["deeg", "gebak", "chocolade", "voedselveiligheid"],
        None,
    ),
    (["Slager-spekslager", "Traiteur"], "profession_specific", (80, 480), ["slager", "traiteur"], ["vlees", "charcuterie", "voedselveiligheid"], None),
    (
        ["Kapper", "Barbier", "Schoonheidsspecialist"],
        "profession_specific",
        (120, 800),
        ["kapper", "barbier", "schoonheidsspecialist"],
        ["haarverzorging", "knippen", "huidverzorging", "klantgesprek"],
        None,
    ),
    (
        ["Horeca-ober", "Barista", "Zaalmedewerker"],
        "profession_specific",
        (32, 200),
        ["horeca", "ober", "barista"],
        ["bediening", "dranken", "gastvrijheid"],
        None,
    ),
    (
        ["Hygiëne en voedselveiligheid", "HACCP in de praktijk"],
        "profession_specific",
        (8, 32),
        ["haccp", "voedselveiligheid", "hygiëne"],
        ["autocontrole", "FAVV", "allergenen"],
        None,
    ),
    (
        ["Projectmanagement", "Projectleider", "Agile en Scrum"],
        "general",
        (24, 160),
        ["projectmanagement", "projectleider", "scrum"],
        ["planning", "risicobeheer", "stakeholders", "agile werken"],
        None,
    ),
    (
        ["Leidinggeven", "Coachend leidinggeven", "Teamleider in de productie"],
        "general",
        (24, 160),
        ["leidinggeven", "leiderschap", "teamleider"],
        ["feedback", "motiveren", "teams", "conflicten"],
        None,
    ),
    (
        ["Timemanagement", "Efficiënt werken", "Stressbeheersing"],
        "general",
        (12, 48),
        ["timemanagement", "stress", "efficiënt"],
        ["prioriteiten", "plannen", "werkdruk", "veerkracht"],
        None,
    ),
    (
        ["Communicatievaardigheden", "Assertiviteit", "Presentatietechnieken"],
        "general",
        (12, 60),
        ["communicatie", "assertiviteit", "presenteren"],
        ["gesprekken", "feedback", "spreken in het openbaar"],
        None,
    ),
    (
        ["Klantvriendelijkheid", "Klantgericht werken", "Omgaan met klachten"],
        "general",
        (12, 48),
        ["klantvriendelijkheid", "klantgericht", "klachten"],
        ["klanten", "service", "moeilijke gesprekken"],
        None,
    ),
    (["Samenwerken in teams", "Teamwerking"], "general", (12, 48), ["samenwerken", "teamwerking"], ["rollen", "vertrouwen", "overleg"], None),
    (
        ["Probleemoplossend denken", "Creatief denken", "Lean denken"],
        "general",
        (12, 60),
        ["probleemoplossend", "creatief", "lean"],
        ["analyse", "verbeteren", "oplossingen"],
        None,
    ),
    (
        ["Loopbaanbegeleiding", "Solliciteren", "Werken aan je loopbaan"],
        "general",
        (12, 60),
        ["loopbaan", "solliciteren"],
        ["cv", "sollicitatiegesprek", "talenten"],
        None,
    ),
    (
        ["Lean management", "Six Sigma Green Belt", "Kwaliteitszorg"],
        "profession_specific",
        (24, 160),
        ["lean", "sigma", "kwaliteitszorg"],
        ["procesverbetering", "verspilling", "ISO 9001"],
        None,
    ),
    (
        ["Sociale media marketing", "Digitale marketing", "Contentmarketing"],
        "profession_specific",
        (24, 160),
        ["marketing", "socialemedia", "content"],
        ["campagnes", "sociale media", "zoekmachines", "analytics"],
        None,
    ),
    (
        ["Verkoopstechnieken", "Onderhandelen", "Accountmanagement"],
        "general",
        (16, 80),
        ["verkoop", "onderhandelen", "accountmanagement"],
        ["klanten", "offertes", "gesprekstechnieken"],
        None,
    ),
    (
        ["Personeelsbeleid", "Payroll en loonadministratie", "HR-medewerker"],
        "profession_specific",
        (40, 240),
        ["personeelsbeleid", "loonadministratie", "payroll"],
        ["arbeidsrecht", "lonen", "sociale wetgeving", "rekrutering"],
        None,
    ),
    (
        ["Fiscaliteit", "Vennootschapsbelasting", "Btw in de praktijk"],
        "profession_specific",
        (24, 160),
        ["fiscaliteit", "belasting", "btw"],
        ["aangifte", "wetgeving", "fiscale planning"],
        None,
    ),
    (
        ["Bedrijfsbeheer", "Ondernemerschap", "Een eigen zaak starten"],
        "general",
        (40, 200),
        ["bedrijfsbeheer", "ondernemerschap", "ondernemer"],
        ["ondernemingsplan", "financiering", "marketing", "wetgeving"],
        None,
    ),
    (
        ["Administratief medewerker", "Office manager", "Onthaalmedewerker"],
        "profession_specific",
        (40, 240),
        ["administratief", "onthaal", "office"],
        ["administratie", "telefoon", "planning", "archief"],
        None,
    ),
    (
        ["Tuinaanleg", "Groenonderhoud", "Hovenier"],
        "profession_specific",
        (60, 400),
        ["tuinaanleg", "groenonderhoud", "hovenier"],
        ["planten", "machines", "bestrating", "snoeien"],
        None,
    ),
    (
        ["Landbouw en veeteelt", "Melkveehouderij"],
        "profession_specific",
        (60, 300),
        ["landbouw", "veeteelt", "melkvee"],
        ["dieren", "gewassen", "bedrijfsvoering"],
        None,
    ),
    (
        ["Automechanica", "Onderhoud elektrische voertuigen", "Autotechnicus"],
        "profession_specific",
        (80, 600),
        ["automechanica", "autotechnicus", "voertuigen"],
        ["motoren", "diagnose", "hoogspanning", "onderhoud"],
        None,
    ),
    (
        ["Fietshersteller", "Onderhoud van elektrische fietsen"],
        "profession_specific",
        (32, 160),
        ["fietshersteller", "fietsen"],
        ["herstellingen", "e-bikes", "onderdelen"],
        None,
    ),
    (
        ["Kraanbestuurder", "Grondverzetmachines", "Torenkraan"],
        "profession_specific",
        (40, 320),
        ["kraanbestuurder", "grondverzet", "kraan"],
        ["machines", "veiligheid", "hijsen"],
        None,
    ),
    (["Schoonmaak", "Professioneel reinigen"], "profession_specific", (16, 80), ["schoonmaak", "reinigen"], ["producten", "hygiëne", "ergonomie"], None),
    (
        ["Beveiligingsagent", "Bewakingsagent"],
        "profession_specific",
        (60, 200),
        ["beveiligingsagent", "bewaking"],
        ["toezicht", "wetgeving", "conflicthantering"],
        None,
    ),
    (
        ["Grafisch ontwerp", "Adobe Photoshop en Illustrator", "Webdesign"],
        "profession_specific",
        (40, 240),
        ["grafisch", "ontwerp", "webdesign"],
        ["vormgeving", "typografie", "beeldbewerking"],
        None,
    ),
    (["Fotografie", "Videomontage"], "profession_specific", (24, 120), ["fotografie", "video"], ["camera", "belichting", "montage"], None),
    (
        ["Opleiding tot mentor", "Mentor op de werkvloer"],
        "general",
        (8, 24),
        ["mentor", "werkplekleren"],
        ["begeleiden", "feedback geven", "werkplekleren"],
        None,
    ),
    (["Duaal leren voor begeleiders"], "general", (8, 24), ["duaal", "begeleiders"], ["leerlingen", "werkplek", "evaluatie"], None),
    (
        ["Artificiële intelligentie in de praktijk", "Generatieve AI voor kantoorwerk"],
        "profession_specific",
        (12, 120),
        ["ai", "intelligentie", "generatieve"],
        ["taalmodellen", "automatisering", "ethiek", "prompts"],
        None,
    ),
    (
        ["Diversiteit op de werkvloer", "Inclusief leidinggeven"],
        "general",
        (8, 40),
        ["diversiteit", "inclusief"],
        ["vooroordelen", "inclusie", "communicatie"],
        None,
    ),
    (
        ["Preventieadviseur niveau 2", "Welzijn op het werk"],
        "profession_specific",
        (40, 200),
        ["preventieadviseur", "welzijn"],
        ["risicoanalyse", "wetgeving", "ergonomie", "psychosociale risico's"],
        None,
    ),
    (
        ["Energiedeskundige", "Energieconsulent"],
        "profession_specific",
        (40, 200),
        ["energiedeskundige", "energie"],
        ["EPC", "energieprestatie", "advies"],
        None,
    ),
    (["Vastgoedmakelaar", "Syndicus"], "profession_specific", (60, 300), ["vastgoed", "makelaar", "syndicus"], ["verkoop", "verhuur", "wetgeving"], None),
    (["Verpleegkunde bijscholing", "Wondzorg"], "profession_specific", (16, 120), ["verpleegkunde", "wondzorg"], ["zorg", "patiënten", "medicatie"], None),
    (["Opvoedingsondersteuning", "Jeugdwerk"], "profession_specific", (24, 160), ["opvoeding", "jeugdwerk"], ["gezinnen", "jongeren", "begeleiding"], None),
    (["Textielverwerking", "Naaiatelier"], "profession_specific", (40, 240), ["textiel", "naaien"], ["stoffen", "naaimachines", "patronen"], None),
    (["Drukkerij en prepress"], "profession_specific", (40, 240), ["drukkerij", "prepress"], ["drukpersen", "kleurbeheer", "afwerking"], None),
    (["Juwelen maken", "Goudsmid"], "profession_specific", (60, 400), ["juwelen", "goudsmid"], ["edelmetalen", "solderen", "ontwerp"], None),
]

QUALIFIERS = [
    "",
    "",
    "",
    " voor beginners",
    " voor gevorderden",
    " basis",
    " - opfrissing",
    " in de praktijk",
    " intensief",
    " (avondcursus)",
    " module 1",
    " deel 2",
    " - verdieping",
    " traject",
    " voor kmo's",
    " op maat",
    " - online",
    " (dagopleiding)",
]
CONTENT_OPENINGS = [
    "In deze opleiding leer je",
    "Tijdens deze cursus verwerf je",
    "Deze training behandelt",
    "In dit traject werk je aan",
    "De deelnemers leren",
    "Je maakt kennis met",
]
CONTENT_BODIES = [
    "de kennis en vaardigheden om zelfstandig te werken rond {k1} en {k2}.",
    "de basis van {k1}, en gaat daarna dieper in op {k2} en {k3}.",
    "praktische opdrachten over {k1}, {k2} en {k3}, in kleine groepen.",
    "hoe je {k1} toepast in je dagelijkse werk, met aandacht voor {k2}.",
]
CONTENT_TAILS = [
    "De lessen wisselen theorie en praktijk af; je oefent op echte situaties uit de werkvloer.",
    "Een ervaren lesgever volgt je leerproces op en geeft regelmatig feedback.",
    "Na afloop ontvang je een certificaat van deelname.",
    "De opleiding sluit af met een praktijkproef en een evaluatiegesprek.",
    "Je werkt in een leeromgeving die zowel klassikaal als digitaal is opgebouwd.",
    "Deze opleiding bereidt voor op een erkend beroepskwalificerend certificaat.",
    "Er is ruimte voor vragen uit je eigen organisatie.",
    "Werkzoekenden en werknemers zijn welkom; voorkennis is niet vereist.",
]
TARGET_GROUPS = [
    "Werkzoekenden en werknemers zonder voorkennis.",
    "Werknemers die hun kennis willen opfrissen.",
    "Leidinggevenden en teamleiders.",
    "Starters op de arbeidsmarkt.",
    "Zelfstandigen en medewerkers van kmo's.",
    "Anderstaligen die in Vlaanderen werken.",
    "Technici met enkele jaren ervaring.",
    "Iedereen die in de sector aan de slag wil.",
]
CITIES = [
    "Gent",
    "Antwerpen",
    "Brugge",
    "Leuven",
    "Mechelen",
    "Hasselt",
    "Kortrijk",
    "Aalst",
    "Sint-Niklaas",
    "Genk",
    "Roeselare",
    "Oostende",
    "Turnhout",
    "Dendermonde",
    "Lier",
    "Geel",
    "Vilvoorde",
    "Ieper",
    "Tienen",
    "Lokeren",
    "Mol",
    "Beringen",
    "Herentals",
    "Waregem",
    "Tongeren",
    "Oudenaarde",
    "Eeklo",
    "Ninove",
    "Diest",
    "Halle",
    "Zaventem",
    "Bilzen",
    "Maaseik",
    "Lommel",
    "Knokke",
    "Torhout",
    "Tielt",
    "Deinze",
    "Wetteren",
    "Zottegem",
    "Menen",
    "Poperinge",
    "Diksmuide",
    "Veurne",
    "Brasschaat",
    "Schoten",
    "Boom",
    "Ronse",
    "Harelbeke",
    "Izegem",
    "Asse",
    "Temse",
    "Hamme",
    "Zele",
    "Heist-op-den-Berg",
    "Westerlo",
    "Overpelt",
    "Maasmechelen",
    "Sint-Truiden",
    "Landen",
]
PROVIDER_PREFIXES = [
    "Vormingscentrum",
    "Opleidingscentrum",
    "Leercentrum",
    "Academie",
    "Kenniscentrum",
    "Competentiecentrum",
    "Instituut",
    "Talentencentrum",
    "Vakschool",
    "Praktijkcentrum",
    "Opleidingshuis",
    "Leerhuis",
]
PROVIDER_SUFFIXES = ["", " vzw", " bv", " Noord", " Zuid", " Oost", " West", " Centrum"]
CVO_NAMES = [
    "De Oranjerie",
    "Vitant",
    "Crescendo",
    "Lethas",
    "Kisp",
    "Groeipunt",
    "Miras",
    "Scala",
    "Taalgrenzeloos",
    "De Verdieping",
    "Ivo",
    "Sperregem",
    "Creo",
    "Cvolt",
    "Encora",
    "Volt",
    "Leerdorp",
    "Horizont",
]
SURNAMES = [
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
    "Vermeulen",
    "Aerts",
    "Hermans",
    "Pauwels",
    "Van den Broeck",
    "De Clercq",
    "Desmet",
    "Michiels",
    "Martens",
    "Smets",
    "Verstraete",
    "Van Damme",
    "Cools",
    "De Backer",
    "Stevens",
    "Segers",
    "Verhoeven",
    "Van Dyck",
]
BUSINESS_WORDS = ["Tech", "Bouw", "Zorg", "Logistics", "Consult", "Metaal", "Groen", "Food", "Data", "Energie", "Mobility", "Care", "Steel", "Print"]
BUSINESS_FORMS = [" nv", " bv", " & Zonen nv", " Groep", " Solutions bv"]
KIND_WEIGHTS = {"training_provider": 50, "adult_education_centre": 15, "syntra": 3, "higher_education": 5, "employer": 17, "service_provider": 5, "other": 5}
STOPPED_PAST, STOPPED_FUTURE = 0.08, 0.03


def provider_names(rng: random.Random, kinds: list[str]) -> list[str]:
    """One unique, Flemish-sounding name per provider, by kind."""
    used: set[str] = set()
    names = []
    syntra_regions = ["West", "Vlaanderen", "AB", "Limburg", "Midden-Vlaanderen", "Antwerpen", "Brussel"]
    for i, kind in enumerate(kinds):
        for attempt in range(50):
            city = rng.choice(CITIES)
            if kind == "syntra":
                name = f"SYNTRA {rng.choice(syntra_regions)}" + (f" campus {city}" if attempt or rng.random() < 0.7 else "")
            elif kind == "adult_education_centre":
                name = f"CVO {rng.choice(CVO_NAMES)}" + (f" {city}" if attempt or rng.random() < 0.6 else "")
            elif kind == "higher_education":
                name = rng.choice([f"Hogeschool {city}", f"Hogeschool {rng.choice(CVO_NAMES)}", f"Universiteit {city}", f"Postgraduaat {city}"])
            elif kind == "employer":
                name = rng.choice(
                    [f"{rng.choice(SURNAMES)}{rng.choice(BUSINESS_FORMS)}", f"{rng.choice(BUSINESS_WORDS)}{rng.choice(CITIES)}{rng.choice(BUSINESS_FORMS)}"]
                )
            elif kind == "training_provider":
                name = rng.choice(
                    [
                        f"{rng.choice(PROVIDER_PREFIXES)} {city}{rng.choice(PROVIDER_SUFFIXES)}",
                        f"{rng.choice(SURNAMES)} Opleidingen{rng.choice([' bv', '', ' vzw'])}",
                        f"{rng.choice(BUSINESS_WORDS)} Academy {city}",
                        f"{rng.choice(PROVIDER_PREFIXES)} {rng.choice(SURNAMES)}",
                    ]
                )
            else:
                name = rng.choice([f"{rng.choice(PROVIDER_PREFIXES)} {city} vzw", f"Sectorfonds {rng.choice(BUSINESS_WORDS)}", f"Werkwinkel {city}"])
            if attempt > 20:
                name += f" {i}"
            if name not in used:
                break
        used.add(name)
        names.append(name)
    return names


def money(value: float) -> Decimal:
    return Decimal(int(round(value)))


def build(*, trainings: int, providers: int, seed: int, today: date) -> dict[str, Any]:
    """All rows, in memory, reproducible from the seed."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    kinds = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=providers)
    names = provider_names(rng, kinds)
    org_rows = []
    for i in range(providers):
        org_rows.append((new_uuid(rng), names[i], kinds[i], "registered", today - timedelta(days=rng.randint(400, 3000)), None, now))
    weights_by_provider = [int(providers * rng.random() ** 2) for _ in range(trainings)]  # a few big providers, many small

    app_rows, training_rows, sample = [], [], []
    own_refs: dict[uuid.UUID, int] = {}
    odb_sequence = 100_001
    checked = 0
    for t in range(trainings):
        org_id, provider_name, kind = org_rows[weights_by_provider[t]][0], org_rows[weights_by_provider[t]][1], org_rows[weights_by_provider[t]][2]
        topic_index = rng.randrange(len(TOPICS))
        variants, group, (low_h, high_h), words, keywords, language = TOPICS[topic_index]
        evc = rng.random() < 0.01
        mentor = not evc and rng.random() < 0.04
        base_name = rng.choice(variants)
        name = f"{'BK ' if evc and rng.random() < 0.5 else ''}EVC-traject {base_name}" if evc else base_name + rng.choice(QUALIFIERS)
        blended = not evc and rng.random() < 0.25
        study_points = kind == "higher_education" and not blended and not evc and not mentor and rng.random() < 0.3
        structure = "integral" if evc or mentor or rng.random() < 0.55 else "modular"
        holds_from = today - timedelta(days=rng.randint(10, 6 * 365))
        # Modules: integral = one module in one school year; modular = 2-5 modules, each in at most two school years.
        count = 1 if structure == "integral" else rng.randint(2, 5)
        if language:
            count = min(count, 4)
        target_hours = 16 if evc else rng.randint(8, 30) if mentor else rng.randint(max(low_h, 32), max(high_h, 33))
        modules: list[dict[str, Any]] = []
        section_modules: list[dict[str, Any]] = []
        start = holds_from + timedelta(days=rng.randint(0, 60))
        levels = ["A1", "A2", "B1", "B2"]
        for m in range(count):
            hours = Decimal(max(1, -(-target_hours // count)))  # rounded up: never below the training's hours
            distance = Decimal(0)
            if blended and (structure == "modular" or m == 0):
                distance = Decimal(max(2, int(hours) // rng.choice([3, 4, 5])))
                hours = max(Decimal(1), hours - distance)
            if start.month in (7, 8):
                start = date(start.year, 9, 1)
            year_end = date(start.year if start.month < 9 else start.year + 1, 8, 31)
            end = min(year_end, start + timedelta(days=rng.randint(14, 200)))
            module_name = f"{base_name} {('niveau ' + levels[m]) if language else ('module ' + str(m + 1)) if count > 1 else ''}".strip()
            module = {
                "name": module_name,
                "contact_hours": str(hours),
                "workplace_hours": "0",
                "distance_hours": str(distance),
                "study_points": str(rng.choice([3, 4, 5, 6])) if study_points else None,
                "blended": bool(distance),
                "starts_on": start.isoformat(),
                "ends_on": end.isoformat(),
                "cefr_level": levels[m] if language else None,
            }
            section_modules.append(module)
            modules.append(
                {"name": module_name, "hours": str(hours + distance), "blended": bool(distance), "starts_on": start.isoformat(), "ends_on": end.isoformat()}
            )
            start = end + timedelta(days=rng.randint(1, 30))
        total = sum((Decimal(m["contact_hours"]) + Decimal(m["distance_hours"]) for m in section_modules), Decimal(0))
        if not evc:  # providers set their trainings apart: hours, place, edition (about 40 % of names carry one)
            roll = rng.random()
            if roll < 0.14:
                name += f" ({total}u)"
            elif roll < 0.26:
                name += f" - {rng.choice(CITIES)}"
            elif roll < 0.34:
                name += f" editie {rng.randint(2019, 2026)}"
            elif roll < 0.40:
                name += f" - {provider_name.split()[0]}"
        if structure == "integral" and blended and not section_modules[0]["blended"]:
            raise AssertionError("an integral blended training has a blended module")
        k = rng.sample(keywords, min(3, len(keywords))) + [keywords[0]] * 3
        content = " ".join(
            [f"{rng.choice(CONTENT_OPENINGS)} {rng.choice(CONTENT_BODIES).format(k1=k[0], k2=k[1], k3=k[2])}", *rng.sample(CONTENT_TAILS, rng.randint(2, 4))]
        )
        if blended:
            content += " Een deel van de opleiding volg je op afstand via de digitale leeromgeving."
        own_refs[org_id] = own_refs.get(org_id, 0) + 1
        own_reference = f"{''.join(w[0] for w in base_name.split() if w[0].isalnum()).upper()}-{own_refs[org_id]:04d}"
        slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")[:60]
        web_page = f"https://www.{provider_name.split()[0].lower().strip('&')}.bench.example/opleidingen/{slug}"
        training_section = {
            "name": name,
            "own_reference": own_reference,
            "target_group": rng.choice(TARGET_GROUPS),
            "workplace_learning": False,
            "blended": blended,
            "separately_enrollable_parts": structure == "modular",
            "leads_to_qualification": rng.random() < 0.3,
            "hours_unit": "study_points" if study_points else "contact_hours",
            "mentor_training": True if (mentor or evc) else (None if total >= 32 else False),
            "final_assessment": rng.random() < 0.6,
            "web_page": web_page,
            "content": content,
            "structure": structure,
            "competence_group": group,
            "language": language,
            "follow_up_document_id": None,
            "modules": section_modules,
        }
        self_analysis = {
            "basic": ["basic_ict"] if group == "basic" else [],
            "profession_specific": ["shortage_occupation"] if group == "profession_specific" else [],
            "general_pillars": ["communication", "cooperation", "problem_solving"] if group == "general" else [],
            "explanation": f"vertrouwelijk-zelfanalyse {t}",
        }
        deciding_body = {"aim": "several_professions", "joint_committee": None}
        if t % 100 == 0:  # the service's own models and rules agree this is a valid training
            parsed = TrainingSection.model_validate(training_section)
            problems = domain.validate_section("training", parsed, organisation_kind=kind, known_committees=set())
            assert not problems, (training_section, problems)
            SelfAnalysisSection.model_validate(self_analysis)
            DecidingBodySection.model_validate(deciding_body)
            assert domain.total_hours(parsed) == total
            checked += 1
        starts_on = min(date.fromisoformat(m["starts_on"]) for m in section_modules)
        ends_on = max(date.fromisoformat(m["ends_on"]) for m in section_modules)
        years = domain.school_years(starts_on, ends_on)
        stop_on, stop_reason = None, None
        roll = rng.random()
        if roll < STOPPED_PAST and holds_from <= today - timedelta(days=3):
            stop_on = holds_from + timedelta(days=rng.randint(1, max(1, (today - holds_from).days - 2)))
            stop_reason = rng.choice(["Opleiding wordt niet meer aangeboden", "Vervangen door een nieuwe registratie", "Lesgever niet meer beschikbaar"])
        elif roll < STOPPED_PAST + STOPPED_FUTURE:
            stop_on = today + timedelta(days=rng.randint(2, 200))
            stop_reason = "Laatste sessie dit schooljaar"
        prefix = domain.odb_number(organisation_kind=kind, sequence=odb_sequence)
        odb_sequence += 1
        application_id = new_uuid(rng)
        submitted_at = datetime.combine(holds_from, datetime.min.time(), UTC) + timedelta(hours=9)
        decided_at = submitted_at + timedelta(days=rng.randint(20, 80))
        contact = {
            "name": f"{rng.choice(['An', 'Bram', 'Els', 'Jan', 'Lies', 'Tom'])} {rng.choice(SURNAMES)}",
            "email": f"dossier{t}@contact.bench.example",
            "phone": "+32 9 123 45 67",
        }
        sections = {
            "contact": contact,
            "training": training_section,
            "self_analysis": self_analysis,
            "deciding_body": deciding_body,
            "documents": {"document_ids": []},
        }
        app_rows.append(
            (
                application_id,
                t + 1,
                org_id,
                new_uuid(rng),
                "approved",
                json.dumps(sections),
                submitted_at,
                new_uuid(rng),
                domain.decision_due_on(holds_from),
                ["longer_than_12_months"] if ends_on > add_months(starts_on, 12) else [],
                rng.choice(["commission", "commission", "joint_committee:200"]),
                decided_at,
                "decision_reasons_bench",
                prefix,
                decided_at,
            )
        )
        public = {key: value for key, value in training_section.items() if key != "follow_up_document_id"}
        training_rows.append(
            (
                prefix,
                application_id,
                org_id,
                provider_name,
                name,
                own_reference,
                group,
                structure,
                blended,
                total,
                sum((Decimal(m["study_points"]) for m in section_modules if m["study_points"]), Decimal(0)) or None,
                web_page,
                json.dumps(public),
                json.dumps(modules),
                years,
                holds_from,
                stop_on,
                stop_reason,
                decided_at,
            )
        )
        sample.append(
            {
                "odb_number": prefix,
                "name": name,
                "provider_id": str(org_id),
                "provider_name": provider_name,
                "competence_group": group,
                "blended": blended,
                "total_hours": float(total),
                "topic": topic_index,
                "in_register": stop_on is None or stop_on > today,
            }
        )
    return {
        "organisations": org_rows,
        "applications": app_rows,
        "trainings": training_rows,
        "sample": sample,
        "checked": checked,
        "next_odb": odb_sequence,
        "next_dossier": trainings + 1,
    }


async def load(args: argparse.Namespace) -> dict[str, Any]:
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(args.url)
    try:
        timings["migrate_s"] = await migrate_empty(connection, "registration", empty="trainings")
        started = time.monotonic()
        today = brussels_today()
        data = build(trainings=args.trainings, providers=args.providers, seed=args.seed, today=today)
        timings["build_s"] = time.monotonic() - started
        async with connection.transaction():
            timings["copy_organisations_s"] = await copy(
                connection,
                "organisations_projection",
                ["organisation_id", "name", "kind", "quality_status", "quality_valid_from", "quality_valid_until", "updated_at"],
                data["organisations"],
            )
            timings["copy_applications_s"] = await copy(
                connection,
                "applications",
                [
                    "application_id",
                    "dossier_number",
                    "organisation_id",
                    "created_by",
                    "status",
                    "sections",
                    "submitted_at",
                    "submitted_by",
                    "decision_due_on",
                    "flags",
                    "deciding_body",
                    "decided_at",
                    "decision_reasons",
                    "odb_number",
                    "updated_at",
                ],
                data["applications"],
            )
            timings["copy_trainings_s"] = await copy(
                connection,
                "trainings",
                [
                    "odb_number",
                    "application_id",
                    "organisation_id",
                    "provider_name",
                    "name",
                    "own_reference",
                    "competence_group",
                    "structure",
                    "blended",
                    "total_hours",
                    "study_points",
                    "web_page",
                    "public",
                    "modules",
                    "school_years",
                    "holds_from",
                    "stop_on",
                    "stop_reason",
                    "registered_at",
                ],
                data["trainings"],
            )
            # Registrations made later (the submission benchmark, the service) continue after these.
            await connection.execute("SELECT setval('odb_numbers', $1, false)", data["next_odb"])
            await connection.execute("SELECT setval(pg_get_serial_sequence('applications', 'dossier_number'), $1, false)", data["next_dossier"])
        started = time.monotonic()
        await connection.execute("VACUUM ANALYZE organisations_projection")
        await connection.execute("VACUUM ANALYZE applications")
        await connection.execute("VACUUM ANALYZE trainings")  # the visibility map too: index-only scans, no hint-bit writes while measuring
        await connection.execute("VACUUM ANALYZE register_names")
        timings["vacuum_analyze_s"] = time.monotonic() - started
        counts = {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in ("organisations_projection", "applications", "trainings")}
        counts["in_register_today"] = await connection.fetchval("SELECT count(*) FROM trainings WHERE stop_on IS NULL OR stop_on > $1", today)
        counts["distinct_names"] = await connection.fetchval("SELECT count(*) FROM register_names")
        sizes = {
            r["relname"]: r["size"]
            for r in await connection.fetch(
                "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) AS size FROM pg_class c "
                "WHERE c.relname IN ('trainings', 'applications', 'register_names', 'trainings_search', 'trainings_register_by_name') ORDER BY 1"
            )
        }
    finally:
        await connection.close()
    report: dict[str, Any] = {
        "counts": counts,
        "sizes": sizes,
        "today": today.isoformat(),
        "seed": args.seed,
        "validated_with_service_rules": data["checked"],
        "by_group": {g: sum(s["competence_group"] == g for s in data["sample"]) for g in ("basic", "profession_specific", "general")},
        "blended": sum(s["blended"] for s in data["sample"]),
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    if args.sample_out:
        args.sample_out.parent.mkdir(parents=True, exist_ok=True)
        args.sample_out.write_text(
            json.dumps(
                {
                    "today": today.isoformat(),
                    "topics": [{"names": t[0], "group": t[1], "words": t[3]} for t in TOPICS],
                    "providers": [{"id": str(r[0]), "name": r[1], "kind": r[2]} for r in data["organisations"]],
                    "trainings": data["sample"],
                    "secret_markers": SECRET_MARKERS,
                }
            )
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the registration database (empty or freshly migrated)")
    parser.add_argument("--trainings", type=int, default=100_000)
    parser.add_argument("--providers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample-out", type=Path, help="write what the benchmark needs to build requests and check answers (JSON) here")
    args = parser.parse_args(argv)
    return report_load(load, args)


if __name__ == "__main__":
    sys.exit(main())
