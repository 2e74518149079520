#!/usr/bin/env bash
# Open loop without coordinated omission, proven against a server that
# freezes for 1 s once in a 10 s run at 100 requests/s: latency counted from
# the intended send time shows the freeze in p99, latency from the actual
# send (what a closed-loop tool reports) hides it.
. "$(dirname "$0")/lib.sh"

start_serve --model zero --freeze-at 4s --freeze 1s
lg --url "http://127.0.0.1:$SERVE_PORT/score" -R 100 -d 10s --max-inflight 1 --synthetic 10 \
   --out "$T/o.csv" --json "$T/o.json" -q >"$T/o.txt" 2>&1
expect_eq "frozen server, open loop: exit 0" "$?" 0
expect_range "100/s for 10 s: 1000 requests" "$(csv_col "$T/o.csv" requests)" 999 1001
expect_range "corrected p99 shows the 1 s freeze (>= 500 ms)" "$(csv_col "$T/o.csv" lat_p99_ms)" 500 1100
expect_range "uncorrected p99 does not (< 100 ms)" "$(csv_col "$T/o.csv" lat_uncorrected_p99_ms)" 0 100
expect_range "the sends held back by the freeze are counted late" "$(csv_col "$T/o.csv" late_sends)" 90 1000
check "timeline: some second has a p99 of 500 ms or more" python3 -c '
import json, sys
tl = json.load(open(sys.argv[1]))["levels"][0]["timeline"]
assert len(tl) >= 9, len(tl)
assert max(s["p99_ms"] for s in tl) >= 500, tl' "$T/o.json"
