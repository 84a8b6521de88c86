#!/usr/bin/env bash
# The seed's journey of the recognition service (Platos, seed 002, rules E-1..E-13 and N-3), over
# HTTP with curl against `./dev up` (needs curl and jq): an external service provider applies for
# a recognition, the department handles the application, the minister decides, the provider shows
# in the public list, and five years later (`./dev clock advance`) it is gone from it.
#
# Run: ./dev up -d && ./docs/recognition-journey.sh
# Each run registers a new organisation and new persons (valid numbers made up for the run), so it
# can run again on the same stack. The ports are `./dev up`'s; a stack started on other ports
# (WSE_IDENTITY_PORT, WSE_RECOGNITION_PORT, WSE_SMTP_HTTP_PORT ...) is found through the same
# variables. The script moves the stack's clock (`./dev clock`) and puts it back at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
I=http://127.0.0.1:${WSE_IDENTITY_PORT:-8001}     # identity
E=http://127.0.0.1:${WSE_RECOGNITION_PORT:-8003}  # recognition (Platos)
MAIL=http://127.0.0.1:${WSE_SMTP_HTTP_PORT:-8025} # the mail sink's view
STAMP=$(date +%H%M%S)
ANSWER=$(mktemp)
# Whatever stops the journey, the stack's clock goes back to real time if the journey moved it.
trap 'rm -f "$ANSWER"; [ -z "${MOVED:-}" ] || ./dev clock reset >/dev/null' EXIT

# ------------------------------------------------------------------------------- helpers

step() { printf '\n== %s\n' "$*"; }

# call STATUS METHOD URL [TOKEN] [JSON] [more curl arguments]: prints the answer's body; any other
# status than the one expected stops the journey with the problem the service answered.
call() {
  local expected=$1 method=$2 url=$3 token=${4:-} body=${5:-}
  local args=(-s -o "$ANSWER" -w '%{http_code}' -X "$method" "$url" "${@:6}")
  [ -n "$token" ] && args+=(-H "authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' -d "$body")
  local status
  status=$(curl "${args[@]}")
  if [ "$status" != "$expected" ]; then
    printf 'FAILED: %s %s answered %s (expected %s):\n%s\n' "$method" "$url" "$status" "$expected" "$(cat "$ANSWER")" >&2
    exit 1
  fi
  cat "$ANSWER"
}

# eventually WHAT COMMAND...: runs the command every 0.2 s until it succeeds (at most 30 s).
eventually() {
  local what=$1
  shift
  for _ in $(seq 1 150); do
    ("$@") >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "FAILED: timed out waiting for $what" >&2
  exit 1
}

last_email() { curl -s "$MAIL/api/messages?to=$CONTACT" | jq -r '.[-1].subject'; }
has_email() { curl -s "$MAIL/api/messages?to=$1" | jq -e --arg s "$2" 'any(.[]; .subject | contains($s))'; }
examination_started() { call 200 GET "$E/v1/back-office/applications/$APP" "$D" | jq -e '.examination_due_on != null'; }

# Valid made-up numbers, as in docs/identity-journey.sh: a national register number for someone
# born on YYMMDD (before 2000), an enterprise number (0 + 7 digits + mod-97 check).
nrn() {
  local base=$((10#$1 * 1000 + RANDOM % 997 + 1))
  printf "%09d%02d" $base $((97 - base % 97))
}
enterprise_number() {
  local base=$(((10000000 + RANDOM * 30 + RANDOM % 30) % 10000000))
  printf "0%07d%02d" $base $((97 - base % 97))
}
day() { printf "%02d" $((RANDOM % 28 + 1)); }

signin() { # national register number -> a platform token acting for oneself (development identity provider)
  local proof
  proof=$(call 201 POST "$I/v1/dev-idp/proofs" "" "{\"national_register_number\": \"$1\"}" | jq -r .proof)
  call 200 POST "$I/v1/sign-in" "" "{\"proof\": \"$proof\"}" | jq -r .access_token
}
act_for() { # token, organisation id -> a token acting for that organisation
  call 200 POST "$I/v1/me/organisation" "$1" "{\"organisation_id\": \"$2\"}" | jq -r .access_token
}
person() { # token, national register number, first name, last name, gender, date of birth, email -> person id
  call 201 POST "$I/v1/persons" "$1" "{\"national_register_number\": \"$2\", \"first_name\": \"$3\", \"last_name\": \"$4\",
    \"gender\": \"$5\", \"date_of_birth\": \"$6\", \"email\": \"$7\"}" | jq -r .person_id
}

# The journey starts on real time, whatever an earlier run or tester left.
./dev clock reset >/dev/null

# ------------------------------------------------------------------------------- identity: who may act

step "1. The helpdesk registers the provider (with its WSE quality registration, E-2) and its head local administrator"
T=$(signin 85073003328)
DEPT=$(call 200 GET "$I/v1/me" "$T" | jq -r '.tiles[] | select(.kind=="organisation") | .organisation_id')
OP=$(act_for "$T" "$DEPT")
NAME="Jobcoaching Leie $STAMP vzw"
ORG=$(call 201 POST "$I/v1/organisations" "$OP" \
  "{\"name\": \"$NAME\", \"kind\": \"service_provider\", \"enterprise_number\": \"$(enterprise_number)\", \"contact_email\": \"info@leie.example\"}" |
  jq -r .organisation_id)
call 200 PUT "$I/v1/organisations/$ORG/quality-registration" "$OP" "{\"status\": \"registered\", \"valid_from\": \"2024-01-01\"}" |
  jq -c '{name, kind, quality_registration}'
D1=$(day) D2=$(day) D3=$(day) D4=$(day)
HEAD_NRN=$(nrn "7803$D1") LOTTE_NRN=$(nrn "8411$D2") SOFIE_NRN=$(nrn "9107$D3") DIRK_NRN=$(nrn "8209$D4")
HEAD=$(person "$OP" "$HEAD_NRN" Katrien Claes female "1978-03-$D1" katrien@leie.example)
call 204 POST "$I/v1/organisations/$ORG/head-administrators" "$OP" "{\"person_id\": \"$HEAD\"}"
echo "organisation $ORG, head local administrator Katrien"

step "2. Katrien appoints Lotte local administrator; Lotte gives Sofie dwse_organisation_officer@platos (E-1)"
H=$(act_for "$(signin "$HEAD_NRN")" "$ORG")
LOTTE=$(person "$H" "$LOTTE_NRN" Lotte Lambrecht female "1984-11-$D2" lotte@leie.example)
call 204 POST "$I/v1/organisations/$ORG/administrators" "$H" "{\"person_id\": \"$LOTTE\"}"
L=$(act_for "$(signin "$LOTTE_NRN")" "$ORG")
SOFIE=$(person "$L" "$SOFIE_NRN" Sofie Smet female "1991-07-$D3" sofie@leie.example)
call 204 POST "$I/v1/organisations/$ORG/members" "$L" "{\"person_id\": \"$SOFIE\"}"
call 201 POST "$I/v1/organisations/$ORG/rights" "$L" \
  "{\"person_id\": \"$SOFIE\", \"role\": \"dwse_organisation_officer\", \"context\": \"platos\", \"valid_from\": \"$(date +%F)\"}" |
  jq -c '{role, context, valid_from}'
P=$(act_for "$(signin "$SOFIE_NRN")" "$ORG") # Sofie acting for the provider

step "3. The department's head administrator (the helpdesk operator) gives Dirk case_handler@platos"
DIRK=$(person "$OP" "$DIRK_NRN" Dirk Desmet male "1982-09-$D4" dirk@wse.example)
call 204 POST "$I/v1/organisations/$DEPT/members" "$OP" "{\"person_id\": \"$DIRK\"}"
call 201 POST "$I/v1/organisations/$DEPT/rights" "$OP" \
  "{\"person_id\": \"$DIRK\", \"role\": \"case_handler\", \"context\": \"platos\", \"valid_from\": \"$(date +%F)\"}" |
  jq -c '{role, context, valid_from}'
D=$(act_for "$(signin "$DIRK_NRN")" "$DEPT") # Dirk acting for the department

# Platos learns both rights and the organisation from identity's events on Kafka, a moment later.
eventually "Platos to learn Sofie's right" call 200 GET "$E/v1/provider/applications" "$P"
eventually "Platos to learn Dirk's right" call 200 GET "$E/v1/back-office/queue" "$D"
echo "Platos knows Sofie's and Dirk's rights"

# ------------------------------------------------------------------------------- the provider applies

step "4. Sofie starts an application (E-13: at any time)"
KEY="journey-$ORG"
start() { call 201 POST "$E/v1/provider/applications" "$P" "" -H "idempotency-key: $KEY"; }
eventually "Platos to learn the organisation" start # a 404 until identity's event about it arrived
APP=$(start | jq -r .application_id)                # the same key again answers the same application
call 200 GET "$E/v1/provider/applications/$APP" "$P" | jq -c '{dossier_number, status, missing_parts}'

step "5. The five parts (E-3), each saved and validated on its own"
CONTACT="erkenning-$STAMP-$RANDOM@leie.example" # the contact person: gets the emails (N-3)
part() { call 200 PUT "$E/v1/provider/applications/$APP/parts/$1" "$P" "$2" | jq -r --arg p "$1" '"part \($p) saved; missing: \(.missing_parts)"'; }
part project '{"project_title": "Begeleiding op de werkvloer in de Leiestreek",
  "project_description": "Wij begeleiden werknemers met een arbeidsbeperking, hun collega'"'"'s en werkgevers op de werkvloer.",
  "contact": {"name": "An Peeters", "email": "'"$CONTACT"'", "phone": "+32 9 123 45 67"},
  "address": "Kortrijksesteenweg 1, 9000 Gent", "website": "https://leie.example"}'
part simplified '{"simplified": false}' # not GTB, GOB, maatwerkbedrijf or LDE: part 3 is asked
part experience '{"motivation": "Sinds 2012 begeleiden wij jaarlijks meer dan honderd werknemers met een arbeidsbeperking op de werkvloer.",
  "coaches": [{"name": "Els Maes", "qualification": "diploma", "qualification_details": "Bachelor orthopedagogie (2012), 10 jaar jobcoach",
               "competences": ["working_together", "communicating", "person_centred_work", "tailored_advice"]}]}'
part territory '{"provinces": ["oost-vlaanderen", "west-vlaanderen"], "municipalities": ["Gent", "Kortrijk"],
  "territory_motivation": "Onze kantoren in Gent en Kortrijk bereiken beide provincies binnen het uur met het openbaar vervoer.",
  "capacity": 40, "capacity_motivation": "Vier begeleiders met elk een caseload van tien werknemers tegelijk, zoals onze ervaring aangeeft."}'
part declaration '{"truthful": true, "intervision": true, "report_changes": true, "signed_by": "An Peeters"}'

step "6. Sofie submits: the confirmation in the answer (E-4), admissibility due in 7 days (E-5), and by email (N-3)"
CONFIRMATION=$(call 200 POST "$E/v1/provider/applications/$APP/submit" "$P")
echo "$CONFIRMATION" | jq -c '{dossier_number, status, submitted_on, admissibility_due_on}'
TODAY=$(echo "$CONFIRMATION" | jq -r .submitted_on) # the services' today (Brussels, on their clock)
eventually "the confirmation email" has_email "$CONTACT" "Ontvangstbevestiging"
echo "email to $CONTACT: $(last_email)"

# ------------------------------------------------------------------------------- the department

step "7. Dirk's work queue: the application with its deadline, the nearest first"
call 200 GET "$E/v1/back-office/queue?organisation_id=$ORG" "$D" |
  jq -c '.items[] | {dossier_number, organisation_name, status, deadline, overdue}'
call 200 GET "$E/v1/back-office/applications/$APP" "$D" | jq -c '{quality_registration}' # E-2, as a fact from identity

step "8. Dirk judges it admissible (E-5); the examination term (E-6) starts when that email is delivered"
call 200 POST "$E/v1/back-office/applications/$APP/admissibility" "$D" '{"outcome": "admissible"}' |
  jq -c '{status, admissibility_judged_on, examination_due_on}'
# Kafka -> notification service -> SMTP; its NotificationDeliveredV1 -> Kafka -> Platos.
eventually "the admissibility email to be delivered and the examination term to start" examination_started
echo "email to $CONTACT: $(last_email)"
call 200 GET "$E/v1/back-office/applications/$APP" "$D" | jq -c '{status, examination_starts_on, examination_due_on}'

step "9. A question suspends the term (E-6); Sofie's answer lets it run again"
ASKED=$(call 201 POST "$E/v1/back-office/applications/$APP/information-requests" "$D" '{"question": "Bezorg het diploma van Els Maes."}')
echo "$ASKED" | jq -c '{status, suspended_since, examination_due_on}'
REQUEST=$(echo "$ASKED" | jq -r '.information_requests[0].request_id')
eventually "the email with the question" has_email "$CONTACT" "Vraag om aanvullende informatie"
echo "email to $CONTACT: $(last_email)"
DIPLOMA=$(printf 'Diploma bachelor orthopedagogie, Els Maes, 2012' | base64 | tr -d '\n')
call 200 POST "$E/v1/provider/applications/$APP/information-requests/$REQUEST/answer" "$P" \
  '{"answer": "In bijlage het diploma.", "documents": [{"filename": "diploma.txt", "content_type": "text/plain", "content_base64": "'"$DIPLOMA"'"}]}' |
  jq -c '{status, suspended_days, examination_due_on, documents: [.information_requests[0].documents[].filename]}'

step "10. Dirk advises the minister (E-7)"
call 200 POST "$E/v1/back-office/applications/$APP/advice" "$D" \
  '{"advice": "favourable", "motivation": "Voldoet aan alle voorwaarden: kwaliteitsregistratie, ervaring, gekwalificeerde begeleiders."}' |
  jq -c '{status, advice, advised_on}'

step "11. The minister's decision: granted, 5 years from the date in the decision (E-8); emailed (N-3)"
DECISION=$(call 200 POST "$E/v1/back-office/applications/$APP/decision" "$D" \
  "{\"outcome\": \"granted\", \"decided_on\": \"$TODAY\", \"recognition_starts_on\": \"$TODAY\"}")
echo "$DECISION" | jq -c '{status, decided_on, recognition: (.recognition | {recognition_number, valid_from, valid_until})}'
RECOGNITION=$(echo "$DECISION" | jq -r .recognition.recognition_id)
UNTIL=$(echo "$DECISION" | jq -r .recognition.valid_until)
eventually "the decision email" has_email "$CONTACT" "Beslissing"
echo "email to $CONTACT: $(last_email)"

# ------------------------------------------------------------------------------- recognised

step "12. The public list (no sign-in) shows the provider"
NAME_Q=$(jq -rn --arg n "$NAME" '$n | @uri')
call 200 GET "$E/v1/recognised-providers?name=$NAME_Q" | jq -c '.items[] | {recognition_number, name, provinces, capacity, valid_until}'

step "13. Sofie records a coaching assignment that goes on (without one for 2 years it would end early, E-9)"
call 201 POST "$E/v1/provider/recognitions/$RECOGNITION/assignments" "$P" \
  "{\"employer_name\": \"Bakkerij Janssens\", \"starts_on\": \"$TODAY\"}" |
  jq -c '{recognition_number, valid_until, inactivity_end_on, assignments: [.assignments[].employer_name]}'

step "14. Five years later (E-8): ./dev clock moves every running service, without a restart"
# The last valid day is the day before the fifth anniversary of the date in the decision.
DAYS=$((($(date -u -d "$UNTIL" +%s) - $(date -u -d "$TODAY" +%s)) / 86400))
echo "\$ ./dev clock advance ${DAYS}d   # to $UNTIL, the last valid day"
MOVED=1
./dev clock advance "${DAYS}d"
call 200 GET "$E/v1/recognised-providers?name=$NAME_Q" | jq -c '[.items[] | {recognition_number, valid_until}]'
# The reminder to apply again in time was due six months before the end: the service's scheduler
# runs it as soon as its clock has passed that moment.
eventually "the reminder email" has_email "$CONTACT" "geldt nog tot en met"
echo "email to $CONTACT: $(last_email)"
echo "\$ ./dev clock advance 1d   # the day after"
./dev clock advance 1d
call 200 GET "$E/v1/recognised-providers?name=$NAME_Q" | jq -c '{items}'
# The answer needs no job (it is derived from today); the service's expiry job then publishes the
# end and emails the provider.
eventually "the email about the end" has_email "$CONTACT" "verlopen"
echo "email to $CONTACT: $(last_email)"

step "15. Back to real time (./dev clock reset)"
# A reset is not a rewind: what ran stays done (the end was published and emailed), but the public
# list is derived from today, so in real time the provider shows in it again.
./dev clock reset
MOVED=
