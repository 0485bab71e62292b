# Shared by the end-to-end scripts that talk HTTP to a running `custos server` (after
# lib.sh and server_fixture.sh): requests with expected statuses, header and problem+json
# checks, and JSON evaluation of the last answer.
json() {  # json EXPR: evaluates EXPR on the JSON in $out (python, variable j)
  python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" <<<"$out"
}
# req NAME EXPECTED_STATUS METHOD URL [curl args...]: body in $out, headers in $headers.
req() {
  local name="$1" expected="$2" method="$3" target="$4"
  shift 4
  headers=$(mktemp -p "$work")
  local code
  code=$(curl -sS -o "$work/body" -D "$headers" -w '%{http_code}' --cacert "$work/ca.pem" \
    -X "$method" "$@" "$target" 2>"$work/curl.err")
  out=$(tr -d '\0' <"$work/body" 2>/dev/null)
  headers=$(cat "$headers")
  if [ "$code" = "$expected" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: HTTP $code, expected $expected"
    echo "$out" "$(cat "$work/curl.err")" | sed 's/^/    /'
  fi
}
has_header() {  # has_header NAME HEADER
  if grep -qi "^$2:" <<<"$headers"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $1: no $2 header"; echo "$headers" | sed 's/^/    /'; fi
}
problem() {  # problem NAME SLUG: $out is problem+json of that type, with its audit index
  contains "$1: type" "\"type\":\"https://custos.dev/problems/$2\""
  contains "$1: recorded" '"audit_index":'
  if grep -qi '^content-type: application/problem+json' <<<"$headers"; then
    passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1: not problem+json"; fi
}
J=(-H 'Content-Type: application/json')
