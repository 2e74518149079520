#!/usr/bin/env bash
# loadgen merge: four clients started together against one `loadgen serve`
# merge into exactly the figures one histogram of all their samples gives,
# and into the throughput of one client with all their threads; mismatched
# inputs are refused, naming the files.
. "$(dirname "$0")/lib.sh"

if ! "$LOADGEN" merge --help 2>/dev/null | grep -q '^usage: loadgen merge'; then
  fail "loadgen merge is a subcommand" "add {\"merge\", merge_main} to harness/main.c"
  exit 1
fi

# A simulated GPU (batches, ~100 ms at 100 in flight): the server, not the
# client's 2 cores, sets the pace, so 4 x 25 and 1 x 100 are comparable.
start_serve --model resnet50 --device gpu
URL=http://127.0.0.1:$SERVE_PORT/score
SMALL=(--synthetic 50 --image-size 64x64 -q --no-out)
regions=(eastus eastus westeurope westeurope)

# four_clients DIR: 4 processes x 25 threads x 1000 requests, one start time
four_clients() {
  local dir=$1 at pids=()
  mkdir -p "$dir"
  at=$(python3 -c 'import time; print(f"{time.time() + 3:.3f}")')
  for i in 1 2 3 4; do
    "$LOADGEN" --url "$URL" --threads 25 -n 1000 --start-at "$at" --json "$dir/c$i.json" \
      --requests-log "$dir/req$i.csv" --label gpu-1 --region "${regions[i-1]}" "${SMALL[@]}" \
      >/dev/null 2>"$dir/c$i.err" &
    pids+=($!)
  done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

# 1. four clients, merged; the throughput of one client with 100 threads.
# The machine is shared with other tests, so a throughput outside 5% gets
# one more try; a merge that computes throughput wrongly misses both times.
for attempt in 1 2; do
  D=$T/a$attempt
  four_clients "$D"; clients_rc=$?
  lg merge "$D"/c1.json "$D"/c2.json "$D"/c3.json "$D"/c4.json -o "$D/merged.json" \
     --csv "$D/summary.csv" >"$D/merge.out" 2>"$D/merge.err"
  merge_rc=$?
  "$LOADGEN" --url "$URL" --threads 100 -n 4000 --json "$D/one.json" "${SMALL[@]}" >/dev/null 2>&1
  ratio=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["levels"][0]["throughput_rps"]
o = json.load(open(sys.argv[2]))["levels"][0]["throughput_rps"]
print(f"{m / o:.4f}")' "$D/merged.json" "$D/one.json" 2>/dev/null)
  echo "# attempt $attempt: merged/single throughput = ${ratio:-?}"
  awk -v r="${ratio:-0}" 'BEGIN { exit !(r >= 0.95 && r <= 1.05) }' && break
done
expect_eq "four clients finish (exit 0)" "$clients_rc" 0
expect_eq "merge of four results: exit 0" "$merge_rc" 0
expect_range "merged throughput is within 5% of one client with --threads 100" "$ratio" 0.95 1.05

check "merged: 4000 requests, 4000 ok (status 200 x4000), schema 1, merged_from the four files" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); l = d["levels"][0]
assert d["schema_version"] == 1 and len(d["levels"]) == 1, d.keys()
assert l["requests"] == 4000 and l["ok"] == 4000, (l["requests"], l["ok"])
assert l["statuses"] == {"200": 4000}, l["statuses"]
assert (l["concurrency"], l["client_concurrency"]) == (100, 25), (l["concurrency"], l["client_concurrency"])
assert l["histograms"]["latency"].startswith("v1:3:")
assert [f.rsplit("/", 1)[1] for f in d["merged_from"]] == ["c1.json", "c2.json", "c3.json", "c4.json"]
assert sum(c["requests"] for c in l["clients"]) == 4000
assert sum(t["completions"] for t in l["timeline"]) == 4000
' "$D/merged.json"

check "merged: bytes add up to the clients' and throughput = requests / union window" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["levels"][0]
cs = [json.load(open(f))["levels"][0] for f in sys.argv[2:]]
for k in ("bytes_sent", "bytes_recv", "images_ok"):
    assert m[k] == sum(c[k] for c in cs), k
start = min(c["start_wall_us"] for c in cs); end = max(c["end_wall_us"] for c in cs)
assert (m["start_wall_us"], m["end_wall_us"]) == (start, end)
assert abs(m["throughput_rps"] - 4000 / ((end - start) / 1e6)) < 1e-6 * m["throughput_rps"]
' "$D/merged.json" "$D"/c[1-4].json

# HdrHistogram at 3 significant digits, from the raw samples: the value at a
# percentile is the top of the bucket holding the ceil(p% x count)-th sample
# (2048 sub-buckets, so every value below 2048 us is its own bucket).
check "merged p50/p90/p99/p99.9 equal those of the union of the four requests logs" python3 -c '
import csv, json, math, sys
lat = []
for f in sys.argv[2:]:
    lat += [round(float(r["latency_ms"]) * 1000) for r in csv.DictReader(open(f))]
lat.sort()
assert len(lat) == 4000, len(lat)
def top(v):
    shift = max(0, (v | 2047).bit_length() - 11)
    return min(((v >> shift) << shift) + (1 << shift) - 1, lat[-1])
def pct(p):
    x = p * len(lat) / 100
    want = math.ceil(x - x * 8 * 2.220446049250313e-16)
    return top(lat[min(max(want, 1), len(lat)) - 1])
got = json.load(open(sys.argv[1]))["levels"][0]["latency_ms"]
for key, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
    print(f"# {key}: merged {got[key]} ms, union of logs {pct(p) / 1000} ms")
    assert round(got[key] * 1000) == pct(p), (key, got[key], pct(p))
assert round(got["max"] * 1000) == lat[-1]
' "$D/merged.json" "$D"/req[1-4].csv
python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))["levels"][0]
print("# merged: %d requests, %.1f req/s, p50 %.3f ms, p99 %.3f ms" % (l["requests"], l["throughput_rps"], l["latency_ms"]["p50"], l["latency_ms"]["p99"]))
o = json.load(open(sys.argv[2]))["levels"][0]
print("# single 100-thread client: %.1f req/s, p50 %.3f ms, p99 %.3f ms" % (o["throughput_rps"], o["latency_ms"]["p50"], o["latency_ms"]["p99"]))
' "$D/merged.json" "$D/one.json"

expect_eq "summary CSV: the four client rows, then the combined row" "$(csv_rows "$D/summary.csv")" 5
expect_eq "summary CSV: client rows keep their region" \
  "$(csv_col "$D/summary.csv" region 1),$(csv_col "$D/summary.csv" region 3)" "eastus,westeurope"
expect_eq "summary CSV: the combined row joins the regions" \
  "$(csv_col "$D/summary.csv" region 5),$(csv_col "$D/summary.csv" label 5)" "eastus+westeurope,gpu-1"
expect_eq "summary CSV: the combined row has 4000 requests, 100 in flight" \
  "$(csv_col "$D/summary.csv" requests 5),$(csv_col "$D/summary.csv" concurrency 5)" 4000,100
check "stdout: the combined summary and a line per client" \
  grep -q "from .*c4.json (gpu-1, westeurope): 1000 requests" "$D/merge.out"

# 2. merges of merges: (c1 + c2) + (c3 + c4) is the merge of all four
lg merge "$D/c1.json" "$D/c2.json" -o "$T/east.json" -q && lg merge "$D/c3.json" "$D/c4.json" -o "$T/west.json" -q &&
  lg merge "$T/east.json" "$T/west.json" -o "$T/both.json" -q
expect_eq "merging two merges: exit 0" "$?" 0
check "a merge of merges has the figures of the merge of all four" python3 -c '
import json, sys
a, b = (json.load(open(f))["levels"][0] for f in sys.argv[1:])
for k in ("requests", "ok", "bytes_sent", "start_wall_us", "end_wall_us", "throughput_rps", "latency_ms", "percentiles"):
    assert a[k] == b[k], (k, a[k], b[k])
assert a["histograms"]["latency"] == b["histograms"]["latency"]
' "$T/both.json" "$D/merged.json"

# 3. refusals, exit 2, naming the files and the reason
edit() { # edit SRC DST PYTHON-STATEMENTS (d is the document, l its first level)
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); l=d['levels'][0]; $3; json.dump(d, open(sys.argv[2], 'w'))" "$1" "$2"
}
refused() { # refused NAME WANT-IN-MESSAGE ARGS...
  local name=$1 want=$2; shift 2
  lg merge "$@" >/dev/null 2>"$T/refused.err"
  local rc=$?
  if [ "$rc" = 2 ] && grep -qF -- "$want" "$T/refused.err"; then ok "$name"
  else fail "$name" "exit $rc, stderr: $(cat "$T/refused.err")"; fi
}
C1=$D/c1.json C2=$D/c2.json
edit "$C2" "$T/v2.json" 'd["schema_version"] = 2'
refused "refuses different schema versions" \
  "loadgen merge: $C1 and $T/v2.json: different schema versions (1 vs 2); results from the same loadgen version merge" \
  "$C1" "$T/v2.json" -o "$T/x.json"
edit "$C2" "$T/sig2.json" 'd["histogram"]["sig"] = 2'
refused "refuses different histogram settings" \
  "loadgen merge: $C1 and $T/sig2.json: different histogram settings (sig 3 vs 2); results from the same loadgen version merge" \
  "$C1" "$T/sig2.json" -o "$T/x.json"
# one.json ran after the four clients; at 25 threads it is a client that
# started too late
edit "$D/one.json" "$T/later.json" 'l["concurrency"] = 25'
refused "refuses disjoint windows, naming both files and the times" \
  "loadgen merge: $C1 and $T/later.json: level closed 25 in flight, cycle 1 did not run at the same time ($C1 ended at " \
  "$C1" "$T/later.json" -o "$T/x.json"
refused "refuses levels that differ (100 threads vs 25)" \
  "has level closed 25 in flight, cycle 1 and $D/one.json does not" "$C1" "$D/one.json" -o "$T/x.json"
refused "refuses the same result twice" "the same run (run_id" "$C1" "$C1" -o "$T/x.json"
refused "refuses a merge together with one of its inputs" "both hold run" \
  "$D/merged.json" "$C2" -o "$T/x.json"
printf 'not json' >"$T/bad.json"
refused "refuses a file that is not JSON" "$T/bad.json: not JSON" "$C1" "$T/bad.json" -o "$T/x.json"
edit "$C2" "$T/nostart.json" 'del l["start_wall_us"]'
refused "refuses a level without its window" "'start_wall_us' is missing" \
  "$C1" "$T/nostart.json" -o "$T/x.json"
refused "refuses a missing file" "$T/none.json: cannot open" "$C1" "$T/none.json" -o "$T/x.json"
refused "refuses an output that is also an input" "is an input and an output" "$C1" "$C2" -o "$C2"
refused "refuses without -o" "give -o FILE" "$C1" "$C2"
check "a refused merge writes no output" test ! -e "$T/x.json"
