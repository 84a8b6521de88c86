#!/usr/bin/env bash
# A provider submits a training for the ODB register, against `./dev up` (needs curl and jq), and
# its contact person's confirmation arrives in the mail sink.
# Run: ./docs/registration-journey.sh. It runs docs/identity-journey.sh first: a new organisation
# whose member Bram holds dwse_organisation_officer in training_database; he acts for it here.
set -e
cd "$(dirname "$0")/.."
source docs/identity-journey.sh
R=http://127.0.0.1:8002
MAIL=http://127.0.0.1:8025
CONTACT="opleidingen-$(date +%H%M%S)@vcg.example"
P=(-H "authorization: Bearer $B" -H 'content-type: application/json')

# 1. The registration service learns Bram's right from identity's events (a moment after the grant).
for _ in $(seq 1 50); do
  code=$(curl -s -o /dev/null -w "%{http_code}" "${P[@]}" $R/v1/provider/applications)
  [ "$code" = 200 ] && break
  sleep 0.2
done
echo "registration knows Bram's right: $code"
# 2. The organisation's data (the manual's first step): its contact for trainings.
curl -s -o /dev/null -w "organisation data: %{http_code}\n" -X PUT $R/v1/provider/organisation "${P[@]}" \
  -d "{\"contact\": {\"name\": \"Dienst Opleidingen\", \"email\": \"$CONTACT\", \"phone\": \"+32 9 123 45 67\"},
       \"general_contact\": {\"name\": \"Onthaal\", \"email\": \"info@vcg.example\", \"phone\": \"+32 9 123 45 00\"}}"
# 3. A draft, filled section by section (the manual's steps 2-6); each save is validated.
APP=$(curl -s -X POST $R/v1/provider/applications "${P[@]}" | jq -r .application_id)
echo "draft $APP"
put() { curl -s -o /dev/null -w "section $1: %{http_code}\n" -X PUT $R/v1/provider/applications/$APP/sections/$1 "${P[@]}" -d "$2"; }
put contact "{\"name\": \"Dienst Opleidingen\", \"email\": \"$CONTACT\", \"phone\": \"+32 9 123 45 67\"}"
put training '{"name": "Lastechnieken voor beginners", "own_reference": "LAS-'"$(date +%s)"'",
  "target_group": "Werknemers in de metaalsector zonder voorkennis", "workplace_learning": false, "blended": false,
  "separately_enrollable_parts": false, "leads_to_qualification": true, "final_assessment": true,
  "web_page": "https://vcg.example/lassen", "content": "Booglassen, MIG/MAG en TIG; veilig werken; lasplannen lezen.",
  "structure": "integral", "competence_group": "profession_specific",
  "modules": [{"name": "Lassen basis", "contact_hours": "40", "starts_on": "'"$(date -d '+3 months' +%Y-%m-01)"'", "ends_on": "'"$(date -d '+6 months' +%Y-%m-01)"'"}]}'
put self_analysis '{"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": []}'
put deciding_body '{"aim": "several_professions"}'
# 4. Submit: the automatic admissibility rules run; the contact person is emailed.
curl -s -X POST $R/v1/provider/applications/$APP/submit "${P[@]}" -H "idempotency-key: $(uuidgen 2>/dev/null || date +%s%N)" \
  | jq -c '{status, dossier_number, decision_due_on}'
# 5. The confirmation in the mail sink (http://127.0.0.1:8025), through Kafka, notification and SMTP.
for _ in $(seq 1 50); do
  subject=$(curl -s "$MAIL/api/messages?to=$CONTACT" | jq -r '.[0].subject // empty')
  [ -n "$subject" ] && break
  sleep 0.2
done
echo "email to $CONTACT: ${subject:-none arrived}"
curl -s "$MAIL/api/messages?to=griet@vcg.example" | jq -r '.[-1].subject // "none"' | sed 's/^/last email to the head administrator: /'
