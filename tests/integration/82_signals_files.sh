#!/usr/bin/env bash
# Signals and result files.
# - SIGINT/SIGTERM during start-up, mid-level, mid-sweep, between levels
#   and during warm-up: every completed level is written, the partial one
#   marked interrupted (CSV, JSON, requests log and history agree), exit
#   130, no process left in loadgen's session; a second signal exits at once.
# - Two processes appending 1000 rows each to one CSV (and history and
#   requests log) give 2000 whole rows under one header.
# - The JSON result is replaced atomically: a reader polling it during a
#   run never sees half a file, and no temporary file is left.
# - A full disk (a 64 KiB tmpfs) and a file-size limit (RLIMIT_FSIZE) give a
#   clear error and exit 1, and leave only whole rows behind.
# (10_run_nginx.sh covers SIGINT in the middle of a single level.)
. "$(dirname "$0")/lib.sh"

# make valgrind: the signalled runs go under memcheck (a leak or an error
# turns exit 130 into 99), and waits and time bounds stretch.
VG=(); S=1; UP=0.3; NSYN=600
if [ "${LOADGEN_VALGRIND:-0}" = 1 ]; then
  VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99); S=8
  UP=4; NSYN=75   # UP: past valgrind's start, inside the corpus build
fi

start_serve --model zero --fixed-latency 20ms
URL=http://127.0.0.1:$SERVE_PORT/score
COMMON=(--synthetic 20 --image-size 32x32)

# bg_run NAME ARGS...: loadgen in a session of its own (setsid), so that
# every process it might start can be found; sets BG (its pid, also the
# session id).
bg_run() {
  local name=$1; shift
  setsid "${VG[@]}" "$LOADGEN" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  BG=$!
}

# wait_rows FILE N SECS: wait until FILE has N data rows
wait_rows() {
  for _ in $(seq $(( $3 * 20 ))); do
    [ -f "$1" ] && [ "$(( $(wc -l <"$1") - 1 ))" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}

# finish NAME: wait for BG; sets RC and ELAPSED (seconds since SIG_AT)
finish() {
  wait "$BG"; RC=$?
  ELAPSED=$(echo "$(date +%s.%N) - $SIG_AT" | bc)
  sleep 0.1
  expect_eq "$1: no process left in loadgen's session" "$(pgrep -s "$BG" | wc -l)" 0
}
sig() { SIG_AT=$(date +%s.%N); kill -"$1" "$BG"; }

# json_levels FILE: "status,status,..." of the JSON result's levels
json_levels() {
  python3 -c 'import json,sys; print(",".join(l["status"] for l in json.load(open(sys.argv[1]))["levels"]))' "$1" 2>&1
}
csv_statuses() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i; next } { printf "%s%s", (NR > 2 ? "," : ""), $c }' "$1"; }

# --- 1. SIGTERM mid-level: every writer agrees ------------------------------
bg_run term --url "$URL" -c 10 -n 1000000 "${COMMON[@]}" --out "$T/term.csv" --json "$T/term.json" \
  --requests-log "$T/term.req" --history "$T/term.hist" -q
sleep $((2 * S))
sig TERM
finish "SIGTERM mid-level"
expect_eq "SIGTERM mid-level: exit 130" "$RC" 130
expect_eq "SIGTERM mid-level: one row, interrupted" "$(csv_statuses "$T/term.csv")" interrupted
expect_eq "SIGTERM mid-level: JSON level interrupted" "$(json_levels "$T/term.json")" interrupted
n=$(csv_col "$T/term.csv" requests)
expect_range "SIGTERM mid-level: requests were made" "$n" 10 999999
expect_eq "SIGTERM mid-level: the requests log has one row per counted request" "$(csv_rows "$T/term.req")" "$n"
expect_eq "SIGTERM mid-level: history.csv has the row" "$(csv_col "$T/term.hist" Records)" "$n"
expect_eq "SIGTERM mid-level: ok + errors = requests" \
  "$(( $(csv_col "$T/term.csv" ok) + $(csv_col "$T/term.csv" errors) ))" "$n"
expect_range "SIGTERM mid-level: exits within the 1 s grace (s)" "$ELAPSED" 0 $((3 * S))
expect_eq "SIGTERM mid-level: no temporary file left" "$(ls "$T" | grep -c '\.tmp\.')" 0

# --- 2. SIGINT in the second level of a sweep -------------------------------
bg_run sweep --url "$URL" --threads 2:4:1 -d 3s "${COMMON[@]}" --out "$T/sweep.csv" --json "$T/sweep.json" -q
if wait_rows "$T/sweep.csv" 1 $((15 * S)); then
  sleep 0.5
  sig INT
  finish "SIGINT mid-sweep"
  expect_eq "SIGINT mid-sweep: exit 130" "$RC" 130
  expect_eq "SIGINT mid-sweep: level 1 complete, level 2 interrupted, no level 3" \
    "$(csv_statuses "$T/sweep.csv")" "complete,interrupted"
  expect_eq "SIGINT mid-sweep: the JSON result agrees" "$(json_levels "$T/sweep.json")" "complete,interrupted"
  expect_eq "SIGINT mid-sweep: concurrency of the rows" "$(csv_col "$T/sweep.csv" concurrency 1),$(csv_col "$T/sweep.csv" concurrency 2)" "2,3"
else
  fail "SIGINT mid-sweep: the first level finished" "$(cat "$T/sweep.err")"; kill "$BG"
fi

# --- 3. SIGINT in the pause between levels ----------------------------------
bg_run pause --url "$URL" --threads 1:3:1 -n 20 --pause 10s "${COMMON[@]}" --out "$T/pause.csv" --json "$T/pause.json" -q
if wait_rows "$T/pause.csv" 1 $((15 * S)); then
  sleep 0.3
  sig INT
  finish "SIGINT between levels"
  expect_eq "SIGINT between levels: exit 130" "$RC" 130
  expect_eq "SIGINT between levels: the completed level only" "$(csv_statuses "$T/pause.csv")" complete
  expect_eq "SIGINT between levels: the JSON result agrees" "$(json_levels "$T/pause.json")" complete
  expect_range "SIGINT between levels: does not sit out the 10 s pause (s)" "$ELAPSED" 0 $((2 * S))
else
  fail "SIGINT between levels: the first level finished" "$(cat "$T/pause.err")"; kill "$BG"
fi

# --- 4. SIGINT during the warm-up -------------------------------------------
bg_run warm --url "$URL" -c 5 --warmup 100000 -n 10 "${COMMON[@]}" --out "$T/warm.csv" -q
sleep $((1 * S))
sig INT
finish "SIGINT during warm-up"
expect_eq "SIGINT during warm-up: exit 130" "$RC" 130
expect_eq "SIGINT during warm-up: no level row (nothing was measured)" "$( [ -f "$T/warm.csv" ] && csv_rows "$T/warm.csv" || echo 0)" 0
expect_range "SIGINT during warm-up: exits promptly (s)" "$ELAPSED" 0 $((3 * S))

# --- 5. SIGINT during start-up (building a large synthetic corpus) ----------
bg_run startup --url "$URL" -c 5 -n 10 --synthetic "$NSYN" --image-size 512x512 --out "$T/startup.csv" --json "$T/startup.json" -q
sleep "$UP"
sig INT
finish "SIGINT during start-up"
expect_eq "SIGINT during start-up: exit 130" "$RC" 130
expect_eq "SIGINT during start-up: no row, no JSON" "$(ls "$T" | grep -c '^startup\.\(csv\|json\)')" 0
expect_eq "SIGINT during start-up: nothing sent" "$(grep -c 'requests' "$T/startup.out")" 0

# --- 6. a second Ctrl-C exits at once ---------------------------------------
bg_run twice --url "$URL" -c 5 -n 10 --synthetic 2000 --image-size 512x512 --out "$T/twice.csv" -q
sleep "$UP"
kill -INT "$BG"
sleep 0.3
sig INT
finish "second SIGINT"
expect_eq "second SIGINT: exit 130" "$RC" 130
expect_range "second SIGINT: exits at once (s)" "$ELAPSED" 0 0.5

# --- 7. two processes append 1000 rows each to one CSV ----------------------
start_serve --model zero
URL0=http://127.0.0.1:$SERVE_PORT/score
for p in a b; do
  "$LOADGEN" --url "$URL0" -c 1 -n 1 --cycles 1000 --synthetic 1 --image-size 8x8 --label "proc-$p" \
    --out "$T/shared.csv" --history "$T/shared.hist" --requests-log "$T/shared.req" -q >/dev/null 2>"$T/append-$p.err" &
  eval "pid_$p=$!"
done
wait "$pid_a"; rc_a=$?
wait "$pid_b"; rc_b=$?
expect_eq "concurrent appends: both runs exit 0" "$rc_a,$rc_b" "0,0"
expect_eq "concurrent appends: 2000 rows under one header" \
  "$(grep -c '^run_id,' "$T/shared.csv"),$(csv_rows "$T/shared.csv")" "1,2000"
fields=$(head -1 "$T/shared.csv" | awk -F, '{ print NF }')
expect_eq "concurrent appends: every row has the header's $fields fields" \
  "$(awk -F, -v n="$fields" 'NF != n' "$T/shared.csv" | wc -l)" 0
expect_eq "concurrent appends: 1000 rows from each process" \
  "$(grep -c ',proc-a,' "$T/shared.csv"),$(grep -c ',proc-b,' "$T/shared.csv")" "1000,1000"
expect_eq "concurrent appends: history.csv has 2000 rows under one header" \
  "$(grep -c '^TestNo,' "$T/shared.hist"),$(csv_rows "$T/shared.hist")" "1,2000"
expect_eq "concurrent appends: requests log has 2000 rows of 13 fields under one header" \
  "$(grep -c '^offset_ms,' "$T/shared.req"),$(csv_rows "$T/shared.req"),$(awk -F, 'NF != 13' "$T/shared.req" | wc -l)" "1,2000,0"

# --- 8. the JSON result is replaced atomically -----------------------------
python3 - "$T/atomic.json" "$T/atomic.verdict" <<'PY' &
import json, os, sys, time
path, verdict = sys.argv[1], sys.argv[2]
reads = bad = 0
end = time.time() + 30
while time.time() < end and not os.path.exists(path + ".done"):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        continue
    reads += 1
    try:
        json.loads(text)
    except ValueError:
        bad += 1
open(verdict, "w").write("%d %d" % (reads, bad))
PY
reader=$!
"$LOADGEN" --url "$URL0" -c 2 -n 20 --cycles 200 --synthetic 5 --image-size 8x8 --no-out --json "$T/atomic.json" -q >/dev/null 2>&1
rc=$?
touch "$T/atomic.json.done"
wait "$reader"
read -r reads bad <"$T/atomic.verdict"
expect_eq "JSON while being rewritten 200 times: the run exits 0" "$rc" 0
expect_range "JSON while being rewritten: the reader read it many times" "$reads" 50 100000000
expect_eq "JSON while being rewritten: every read parsed" "$bad" 0
expect_eq "JSON: 200 levels, no temporary file left" "$(json_levels "$T/atomic.json" | tr ',' '\n' | wc -l),$(ls "$T" | grep -c 'atomic.json.tmp')" "200,0"

# --- 9. a full disk ---------------------------------------------------------
FULL=$T/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=64k tmpfs "$FULL" 2>/dev/null; then
  trap 'umount "$FULL" 2>/dev/null; cleanup' EXIT
  # Rows until the CSV's last page has less room than a row, so that the
  # next row is written in part before the disk is full.
  for _ in $(seq 60); do
    "$LOADGEN" --url "$URL0" -c 1 -n 1 --synthetic 1 --image-size 8x8 --out "$FULL/s.csv" \
      --json "$FULL/r.json" -q >/dev/null 2>&1
    room=$(( 4096 - $(stat -c %s "$FULL/s.csv") % 4096 ))
    [ "$room" -lt $(( $(tail -1 "$FULL/s.csv" | wc -c) - 30 )) ] && break
  done
  rows_before=$(csv_rows "$FULL/s.csv")
  size_before=$(stat -c %s "$FULL/s.csv")
  json_before=$(md5sum <"$FULL/r.json")
  dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
  "$LOADGEN" --url "$URL0" -c 1 -n 5 --synthetic 1 --image-size 8x8 --out "$FULL/s.csv" \
    --json "$FULL/r.json" --history "$FULL/h.csv" -q >"$T/full.out" 2>"$T/full.err"
  rc=$?
  expect_eq "full disk: exit 1 (results could not be written)" "$rc" 1
  check "full disk: the error names the CSV and says the disk is full" \
    grep -q -- "--out $FULL/s.csv: .*No space left on device" "$T/full.err"
  check "full disk: the error names the JSON file" grep -q -- "--json $FULL/r.json" "$T/full.err"
  expect_eq "full disk: every stderr line is a loadgen: line" "$(grep -vc '^loadgen: ' "$T/full.err")" 0
  check "full disk: the summary still reaches stdout" grep -q "requests       5" "$T/full.out"
  expect_eq "full disk: the CSV keeps its whole rows, no partial row" \
    "$(csv_rows "$FULL/s.csv"),$(stat -c %s "$FULL/s.csv")" "$rows_before,$size_before"
  expect_eq "full disk: the old JSON result is left whole" "$(md5sum <"$FULL/r.json")" "$json_before"
  expect_eq "full disk: no temporary file left" "$(ls "$FULL" | grep -c '\.tmp\.')" 0
  umount "$FULL"
else
  ok "full disk # SKIP cannot mount a tmpfs here (see the RLIMIT_FSIZE case below)"
fi

# --- 10. a file-size limit (RLIMIT_FSIZE) -----------------------------------
# The row is longer than the limit allows: write() must fail with EFBIG and
# be reported, not kill loadgen with SIGXFSZ.
"$LOADGEN" --url "$URL0" -c 1 -n 1 --synthetic 1 --image-size 8x8 --out "$T/fsize.csv" -q >/dev/null 2>&1
size=$(stat -c %s "$T/fsize.csv")
prlimit --fsize=$((size + 100)) "$LOADGEN" --url "$URL0" -c 1 -n 1 --synthetic 1 --image-size 8x8 \
  --out "$T/fsize.csv" -q >/dev/null 2>"$T/fsize.err"
rc=$?
expect_eq "file-size limit: exit 1, not killed by SIGXFSZ (153)" "$rc" 1
check "file-size limit: the error names the file" grep -q -- "--out $T/fsize.csv: .*File too large" "$T/fsize.err"
expect_eq "file-size limit: the CSV keeps its one whole row" "$(csv_rows "$T/fsize.csv"),$(stat -c %s "$T/fsize.csv")" "1,$size"

# --- a FIFO as --out: written plainly (no truncate, no lock), header once ----
# The shell holds the FIFO open read-write, so each level's open() finds a
# reader and the rows wait in the pipe (a few hundred bytes) until read.
mkfifo "$T/out.fifo"
exec 3<>"$T/out.fifo"
timeout 60 "$LOADGEN" --url "$URL" --threads 1:2 -n 20 --out "$T/out.fifo" -q >/dev/null 2>"$T/fifo.err"
expect_eq "a FIFO as --out: exit 0" "$?" 0
timeout 1 cat <&3 >"$T/fifo.txt"
exec 3<&-
expect_eq "a FIFO as --out: one header and a row per level" \
  "$(grep -c '^run_id,' "$T/fifo.txt"),$(grep -vc '^run_id,' "$T/fifo.txt")" "1,2"
check "a FIFO as --out stays a FIFO" test -p "$T/out.fifo"
