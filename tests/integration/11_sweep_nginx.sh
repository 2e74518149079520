#!/usr/bin/env bash
# Sweeps, cycles and warm-up against nginx: a row per level and cycle in
# order, exact counts per level, warm-up requests sent but not counted.
. "$(dirname "$0")/lib.sh"

start_nginx '
    location = /score { return 200 "{\"result\": []}"; default_type application/json; }
'
URL=http://127.0.0.1:$NGINX_PORT/score
closed=$(free_port)

: >"$NGINX_LOG"
lg --url "$URL" --threads 20:50:10 --cycles 2 -n 300 --warmup 40 --synthetic 20 \
   --out "$T/s.csv" -q >/dev/null 2>&1
expect_eq "sweep: exit 0" "$?" 0
sleep 0.2
expect_eq "sweep: 4 levels x 2 cycles = 8 rows" "$(csv_rows "$T/s.csv")" 8
expect_eq "sweep: levels in order, cycles inside levels" \
  "$(awk -F, 'NR > 1 { printf "%s/%s ", $9, $11 }' "$T/s.csv")" "20/1 20/2 30/1 30/2 40/1 40/2 50/1 50/2 "
expect_eq "sweep: every row counts exactly 300 requests" \
  "$(awk -F, 'NR > 1 { print $12 }' "$T/s.csv" | sort -u)" 300
expect_eq "warm-up: nginx saw 8 x (40 + 300) requests" "$(grep -c '"POST /score' "$NGINX_LOG")" $((8 * 340))
expect_eq "sweep: one run_id for every row" "$(awk -F, 'NR > 1 { print $1 }' "$T/s.csv" | sort -u | wc -l)" 1

# A level whose requests all fail at once must not cut the next level short
# (--fail-fast 0: without it the run stops in the first warm-up, 18_habits.sh).
lg --url "http://127.0.0.1:$closed/score" --threads 20:50:10 -n 500 --warmup 50 --synthetic 5 --fail-fast 0 \
   --out "$T/c.csv" -q >/dev/null 2>&1
expect_eq "refused sweep: exit 3" "$?" 3
expect_eq "refused sweep: every level counts all 500" \
  "$(awk -F, 'NR > 1 { print $12 }' "$T/c.csv" | sort -u)" 500

# Open loop: a constant rate sweep, achieved rate close to the intended one.
lg --url "$URL" -R 100:200:100 -d 2s --synthetic 5 --out "$T/o.csv" -q >/dev/null 2>&1
expect_eq "open loop: exit 0" "$?" 0
expect_eq "open loop: mode and rates" "$(awk -F, 'NR > 1 { printf "%s/%s ", $8, $10 }' "$T/o.csv")" "open/100 open/200 "
expect_range "open loop: 100/s for 2 s sends 200" "$(csv_col "$T/o.csv" requests 1)" 199 201
expect_range "open loop: 200/s for 2 s sends 400" "$(csv_col "$T/o.csv" requests 2)" 399 401
expect_range "open loop: throughput matches the rate" "$(csv_col "$T/o.csv" throughput_rps 2)" 195 205
