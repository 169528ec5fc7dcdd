# Sourced by the CLI end-to-end scripts: check NAME EXPECTED_EXIT PATTERN -- command...
# runs the command, and counts a failure in $fails unless it exits with EXPECTED_EXIT
# and its output matches the extended regex PATTERN.
fails=0
check() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $rc (wanted $want), output:"
    echo "$out" | head -20
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
