# Shared by the end-to-end scripts: a scratch folder removed on exit, and checks that count
# passes and failures. Source it after setting `custos` and `src`.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {  # check NAME EXPECTED_EXIT CMD... ; output kept in $out
  local name="$1" expected="$2"
  shift 2
  out=$("$@" 2>&1)
  local code=$?
  if [ "$code" -eq "$expected" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: exit $code, expected $expected"
    echo "$out" | sed 's/^/    /'
  fi
}

contains() {  # contains NAME NEEDLE (in $out)
  if grep -qF -- "$2" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1: output lacks '$2'"
    echo "$out" | sed 's/^/    /'
  fi
}
