#!/usr/bin/env bash
# Mints a development staff token (HS256, signed with the secret tools/run.sh made in
# ./data/secrets), valid for 8 hours:
#
#   bash tools/dev_token.sh admin                       # roles, comma-separated
#   bash tools/dev_token.sh ops hcm.district_pc.760     # roles and the unit it acts for
#   curl -H "Authorization: Bearer $(bash tools/dev_token.sh admin)" .../v1/admin/api-keys
#
# Production signs staff tokens with RS256 keys from its identity provider instead.
set -euo pipefail
cd "$(dirname "$0")/.."
roles="${1:?usage: dev_token.sh ROLES [UNIT_ID] [SECRET_FILE]}"
unit="${2:-}"
secret_file="${3:-./data/secrets/staff-hs256.key}"
[ -s "$secret_file" ] || { echo "dev_token: no secret in $secret_file; start the suite once with tools/run.sh" >&2; exit 2; }
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
roles_json=$(printf '%s' "$roles" | python3 -c 'import json,sys; print(json.dumps([r for r in sys.stdin.read().split(",") if r]))')
payload=$(python3 -c 'import json,sys; c={"sub":"dev:"+sys.argv[1],"roles":json.loads(sys.argv[2]),"iat":int(sys.argv[3]),"exp":int(sys.argv[3])+8*3600}
if sys.argv[4]: c["unit"]=sys.argv[4]
print(json.dumps(c,separators=(",",":")))' "$(whoami)" "$roles_json" "$now" "$unit")
header='{"alg":"HS256","typ":"JWT"}'
signing_input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
signature=$(printf '%s' "$signing_input" | openssl dgst -sha256 -hmac "$(cat "$secret_file")" -binary | b64url)
echo "$signing_input.$signature"
