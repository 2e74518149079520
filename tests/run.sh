#!/usr/bin/env bash
# tests/run.sh [--unit-only|--integration-only] LOADGEN_BIN UNIT_TEST_DIR
# Runs the cmocka unit binaries, then every tests/integration/*.sh against
# real servers on loopback, and ends with the line "N passed, N failed".
# Integration scripts print TAP-style "ok - ..." / "not ok - ..." lines.
set -u
mode=all
case "${1:-}" in --unit-only) mode=unit; shift ;; --integration-only) mode=integration; shift ;; esac
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
unitdir=$2
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
failures=()

if [ "$mode" != integration ]; then
  for t in "$unitdir"/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
      printf '%s\n' "$out"
      failures+=("$(basename "$t")")
    else
      echo "unit $(basename "$t"): $p passed"
    fi
  done
fi

if [ "$mode" != integration ]; then
  # Each fuzz target's replay main over its seed corpus: one test each.
  for f in "$unitdir"/../fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    f=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
    name=$(basename "$f")
    corpus="$here/fuzz/corpus/${name#fuzz_}"
    [ -d "$corpus" ] || corpus="$here/fuzz/corpus/$name"
    files=("$corpus"/*)
    scratch=$(mktemp -d)   # fuzz_cli may create results/ where it runs
    if [ -e "${files[0]}" ] && out=$( (cd "$scratch" && "$f" "${files[@]}") 2>&1); then
      passed=$((passed + 1)); echo "fuzz replay $name: ${#files[@]} inputs ok"
    else
      failed=$((failed + 1)); failures+=("$name"); printf '%s\n' "$out" | tail -20
      echo "not ok - fuzz replay $name"
    fi
    rm -rf "$scratch"
  done
fi

if [ "$mode" != unit ]; then
  for s in "$here"/integration/[0-9]*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    log=$(mktemp)
    LOADGEN="$bin" timeout 900 bash "$s" >"$log" 2>&1; rc=$?
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      echo "not ok - $name exited $rc" >>"$log"; f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
      cat "$log"; failures+=("$name")
    else
      echo "integration $name: $p passed"
    fi
    rm -f "$log"
  done
fi

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
