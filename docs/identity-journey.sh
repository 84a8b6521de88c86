#!/usr/bin/env bash
# The main journeys of the identity service, over HTTP, against `./dev up` (needs curl and jq).
# Run: ./docs/identity-journey.sh. Every run registers a new organisation and new persons (valid
# numbers made up for the run), so it can run again on the same database.
set -e
I=http://127.0.0.1:8001
nrn() {  # a valid national register number for someone born on YYMMDD $1 (before 2000): sequence + mod-97 check
  local base=$(( 10#$1 * 1000 + RANDOM % 997 + 1 ))
  printf "%09d%02d" $base $(( 97 - base % 97 ))
}
enterprise_number() {  # 0 + 7 digits + mod-97 check
  local base=$(( 10000000 + RANDOM * 30 + RANDOM % 30 ))
  printf "0%07d%02d" $(( base % 10000000 )) $(( 97 - (base % 10000000) % 97 ))
}
day() { printf "%02d" $(( RANDOM % 28 + 1 )); }  # a random day of birth: 28 x 997 numbers per month
HEAD_DAY=$(day); BRAM_DAY=$(day)
HEAD_NRN=$(nrn 9002$HEAD_DAY)
BRAM_NRN=$(nrn 9305$BRAM_DAY)
signin() {  # national register number -> platform token acting for oneself
  proof=$(curl -s -X POST $I/v1/dev-idp/proofs -H 'content-type: application/json' -d "{\"national_register_number\": \"$1\"}" | jq -r .proof)
  curl -s -X POST $I/v1/sign-in -H 'content-type: application/json' -d "{\"proof\": \"$proof\"}" | jq -r .access_token
}
act_for() {  # token, organisation id -> token acting for that organisation
  curl -s -X POST $I/v1/me/organisation -H "authorization: Bearer $1" -H 'content-type: application/json' -d "{\"organisation_id\": \"$2\"}" | jq -r .access_token
}
# 1. The helpdesk operator signs in and chooses the department.
T=$(signin 85073003328)
curl -s $I/v1/me -H "authorization: Bearer $T" | jq -c '.tiles'
DEPT=$(curl -s $I/v1/me -H "authorization: Bearer $T" | jq -r '.tiles[] | select(.kind=="organisation") | .organisation_id')
OP=$(act_for $T $DEPT)
# 2. Register an organisation.
ORG=$(curl -s -X POST $I/v1/organisations -H "authorization: Bearer $OP" -H 'content-type: application/json' \
  -d "{\"name\": \"Vormingscentrum Gent $(date +%H%M%S)\", \"kind\": \"training_provider\", \"enterprise_number\": \"$(enterprise_number)\", \"contact_email\": \"info@vcg.example\"}" | jq -r .organisation_id)
echo "organisation $ORG"
# 3. Register its head local administrator and record the designation (ID-1).
HEAD=$(curl -s -X POST $I/v1/persons -H "authorization: Bearer $OP" -H 'content-type: application/json' \
  -d "{\"national_register_number\": \"$HEAD_NRN\", \"first_name\": \"Griet\", \"last_name\": \"Goossens\", \"gender\": \"female\", \"date_of_birth\": \"1990-02-$HEAD_DAY\", \"email\": \"griet@vcg.example\"}" | jq -r .person_id)
curl -s -o /dev/null -w "head appointed: %{http_code}\n" -X POST $I/v1/organisations/$ORG/head-administrators -H "authorization: Bearer $OP" -H 'content-type: application/json' -d "{\"person_id\": \"$HEAD\"}"
# 4. The head signs in, chooses the organisation, adds a person and grants a right.
H=$(act_for $(signin $HEAD_NRN) $ORG)
BRAM=$(curl -s -X POST $I/v1/persons -H "authorization: Bearer $H" -H 'content-type: application/json' \
  -d "{\"national_register_number\": \"$BRAM_NRN\", \"first_name\": \"Bram\", \"last_name\": \"Baert\", \"gender\": \"male\", \"date_of_birth\": \"1993-05-$BRAM_DAY\", \"email\": \"bram@vcg.example\"}" | jq -r .person_id)
curl -s -o /dev/null -w "member added: %{http_code}\n" -X POST $I/v1/organisations/$ORG/members -H "authorization: Bearer $H" -H 'content-type: application/json' -d "{\"person_id\": \"$BRAM\"}"
curl -s -X POST $I/v1/organisations/$ORG/rights -H "authorization: Bearer $H" -H 'content-type: application/json' \
  -d "{\"person_id\": \"$BRAM\", \"role\": \"dwse_organisation_officer\", \"context\": \"training_database\", \"valid_from\": \"$(date +%F)\"}" | jq -c '{right_id, role, context, valid_from}'
# 5. Bram requests a right; the head approves it.
B=$(act_for $(signin $BRAM_NRN) $ORG)
REQ=$(curl -s -X POST $I/v1/organisations/$ORG/right-requests -H "authorization: Bearer $B" -H 'content-type: application/json' \
  -d '{"role": "dwse_organisation_officer", "context": "training_leave", "reason": "Ik dien de attesten opleidingsverlof in."}' | jq -r .request_id)
curl -s -X POST $I/v1/organisations/$ORG/right-requests/$REQ/decision -H "authorization: Bearer $H" -H 'content-type: application/json' -d '{"approve": true}' | jq -c .
# 6. An application checks; anyone asks who the administrators are.
curl -s "$I/v1/check?person_id=$BRAM&organisation_id=$ORG&role=dwse_organisation_officer&context=training_leave" -H "authorization: Bearer $B" | jq -c .
curl -s "$I/v1/check?person_id=$BRAM&organisation_id=$ORG&role=dwse_organisation_officer&context=platos" -H "authorization: Bearer $B" | jq -c .
curl -s $I/v1/organisations/$ORG/administrators | jq -c .
# 7. The helpdesk finds the organisation again (by a part of its name; also enterprise_number=,
#    institution_number=); every list is a page: {"items": [...], "next_cursor": ...}, pass
#    cursor=<next_cursor> for the next one.
curl -s "$I/v1/organisations?name=vormingscentrum%20gent&limit=5" -H "authorization: Bearer $OP" | jq -c '[.items[].name], .next_cursor'
curl -s $I/v1/organisations/$ORG -H "authorization: Bearer $H" | jq -c '{name, kind, quality_registration}'
# 8. The head lists the members with their current rights; Bram lists his own rights and requests,
#    asks for another right and withdraws the request.
curl -s $I/v1/organisations/$ORG/members -H "authorization: Bearer $H" | jq -c '[.items[] | {first_name, membership, rights: [.rights[] | "\(.role)@\(.context)"]}]'
curl -s $I/v1/me/rights -H "authorization: Bearer $B" | jq -c '[.items[] | "\(.role)@\(.context) (\(.organisation_name))"]'
REQ2=$(curl -s -X POST $I/v1/organisations/$ORG/right-requests -H "authorization: Bearer $B" -H 'content-type: application/json' \
  -d '{"role": "dwse_organisation_officer", "context": "platos", "reason": "Erkenningsaanvraag"}' | jq -r .request_id)
curl -s -X POST $I/v1/me/right-requests/$REQ2/withdraw -H "authorization: Bearer $B" | jq -c '{request_id, status}'
curl -s $I/v1/me/right-requests -H "authorization: Bearer $B" | jq -c '[.items[] | {context, status}]'
# 9. Another organisation's administrator who types Bram's number sees only enough to confirm the
#    match (person id, initials, whether the names typed match); every such look-up is audited and
#    limited per administrator (429 with Retry-After beyond 20 in 10 minutes).
curl -s $I/v1/themes | jq -c '[.items[].theme]'
