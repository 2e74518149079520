#!/usr/bin/env bash
# 60_plot.sh: `loadgen plot`, `compare` and `report` on the fixtures that
# tests/fixtures/make-fixtures.sh made with loadgen against loadgen serve.
# gnuplot runs for real: every chart must exist, be a valid PNG (1280x720)
# or SVG or PDF, and be more than a few KB. compare's figures are checked
# against the same arithmetic done here in awk, straight from the CSV.
# Then the error cases: missing column, empty file, mixed schemas, bad
# flags, no gnuplot.
. "$(dirname "$0")/lib.sh"
F=$(cd "$(dirname "$0")/../fixtures" && pwd)
CSV=$F/sample-summary.csv
JSONS=("$F/sample-result.json" "$F/sample-result-gpu-1.json" "$F/sample-result-gpu-2.json"
       "$F/sample-result-cpu-35.json" "$F/sample-timeline.json")

# ---- charts -----------------------------------------------------------------

charts="1-throughput-resnet50 1-throughput-mobilenet_v2 2-throughput-by-model-eastus
2-throughput-by-model-westeurope 3-cost-eastus 3-cost-westeurope 4-regions-resnet50
4-regions-mobilenet_v2 5-latency-spectrum-resnet50 6-timeline-gpu-1-resnet50-eastus
6-timeline-gpu-2-resnet50-eastus 6-timeline-gpu-2-resnet50-eastus-2
6-timeline-gpu-3-resnet50-eastus 6-timeline-cpu-35-resnet50-eastus 7-gpu-scaling-eastus
7-gpu-scaling-westeurope 8-latency-vs-throughput-resnet50 8-latency-vs-throughput-mobilenet_v2"
ncharts=$(echo $charts | wc -w)

lg plot "$CSV" "${JSONS[@]}" -o "$T/png" >"$T/plot.out" 2>"$T/plot.err"
expect_eq "plot exits 0" "$?" 0
expect_eq "plot lists every chart it wrote" "$(wc -l <"$T/plot.out")" "$ncharts"
expect_eq "plot draws every chart, so says nothing on stderr" "$(cat "$T/plot.err")" ""

# png_ok FILE: PNG signature, 1280x720 in the IHDR chunk, more than 10 KB.
png_ok() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(head -c 24 "$1" | tail -c 8 | od -An -tx1 | tr -d ' \n')" = 00000500000002d0 ] &&
    [ "$(stat -c %s "$1")" -gt 10000 ]
}
bad=
for c in $charts; do
  png_ok "$T/png/$c.png" || bad="$bad $c"
done
expect_eq "all $ncharts charts are 1280x720 PNGs over 10 KB" "${bad:-none}" none

lg plot "$CSV" "${JSONS[@]}" --format svg -o "$T/svg" >/dev/null 2>&1
expect_eq "plot --format svg exits 0" "$?" 0
bad=
for c in $charts; do
  f=$T/svg/$c.svg
  { [ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -gt 5000 ] &&
    python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$f" 2>/dev/null; } ||
    bad="$bad $c"
done
expect_eq "every SVG parses as XML and is over 5 KB" "${bad:-none}" none

lg plot "$CSV" --format pdf --log -o "$T/pdf" >/dev/null 2>&1
expect_eq "plot --format pdf --log exits 0" "$?" 0
expect_eq "the PDF is a PDF" "$(head -c 5 "$T/pdf/2-throughput-by-model-eastus.pdf")" "%PDF-"

# One region, no JSON: the region, spectrum and timeline charts are
# skipped with a line each on stderr, not drawn empty.
awk -F, 'NR == 1 || $4 == "eastus"' "$CSV" >"$T/eastus.csv"
lg plot "$T/eastus.csv" -o "$T/one" >/dev/null 2>"$T/one.err"
expect_eq "plot of one region exits 0" "$?" 0
check "one region: says why there is no region chart" \
  grep -q "no region chart: the results come from one client region (eastus)" "$T/one.err"
check "no JSON: says why there is no spectrum" grep -q "no latency spectrum: no JSON results" "$T/one.err"
check "no JSON: says why there is no timeline" grep -q "no timeline: no JSON results" "$T/one.err"
expect_eq "one region: no region chart file" "$(ls "$T/one" | grep -c '^4-')" 0
expect_eq "one region: the other charts are there" "$(ls "$T/one" | wc -l)" 7

# ---- compare ----------------------------------------------------------------

# The study's arithmetic, independently: per model/region/label, the mean of
# images_per_s over cycles at the highest level, the 95% CI with t(0.975, 1)
# for two cycles, and the percent difference against cpu-35.
expected() {
  awk -F, -v want_threads="${1:-0}" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == "run_id" { next }
    {
      k = $col["model"] SUBSEP $col["region"] SUBSEP $col["label"]
      c = $col["concurrency"] + 0
      if (want_threads > 0 ? c != want_threads : c < top[k]) next
      if (c > top[k]) { top[k] = c; n[k] = 0; s[k] = 0; ss[k] = 0 }
      v = $col["images_per_s"]; n[k]++; s[k] += v; ss[k] += v * v
      cost[k] = $col["cost_per_hour"]
    }
    END {
      for (k in n) mean[k] = s[k] / n[k]
      for (k in n) {
        split(k, p, SUBSEP)
        b = p[1] SUBSEP p[2] SUBSEP "cpu-35"
        sd = n[k] > 1 ? sqrt((ss[k] - n[k] * mean[k] ^ 2) / (n[k] - 1)) : 0
        printf "%s,%s,%s,%.3f,%.3f,%.4f,%.0f\n", p[1], p[2], p[3], mean[k],
          12.7062 * sd / sqrt(2), (mean[k] / mean[b] - 1) * 100, mean[k] * 3600 / cost[k]
      }
    }' "$CSV" | sort
}
# got: the same columns from compare --csv
got() {
  awk -F, 'NR > 1 { printf "%s,%s,%s,%.3f,%.3f,%.2f,%.0f\n", $1, $2, $3, $7, $9 - $7, ($15 == "" ? 0 : $15), $13 }'
}

lg compare "$CSV" --csv >"$T/cmp.csv" 2>"$T/cmp.err"
expect_eq "compare --csv exits 0" "$?" 0
expected | awk -F, -v OFS=, '$3 == "cpu-35" { $6 = "0.00" } { print }' >"$T/want"
got <"$T/cmp.csv" | sort >"$T/have"
# Numbers may differ in the last printed digit (rounding before vs after).
if awk -F, 'NR == FNR { w[$1 FS $2 FS $3] = $0; next }
    { split(w[$1 FS $2 FS $3], x, ","); if (x[1] == "") exit 1
      for (i = 4; i <= 7; i++) if ((x[i] - $i) ^ 2 > (0.0005 * (1 + (x[i] < 0 ? -x[i] : x[i]))) ^ 2 + 0.0001) exit 1 }
    END { if (NR != 2 * FNR) exit 1 }' "$T/want" "$T/have"; then
  ok "compare: mean, 95% CI, % vs cpu-35 and images per dollar match the hand arithmetic (16 rows)"
else
  fail "compare: figures match the hand arithmetic" "$(diff "$T/want" "$T/have" | head -5)"
fi
expect_eq "compare --csv has a row per deployment, model and region" "$(($(wc -l <"$T/cmp.csv") - 1))" 16

pct=$(expected | awk -F, '$1 == "resnet50" && $2 == "eastus" && $3 == "gpu-3" { printf "%.1f", $6 }')
lg compare "$CSV" >"$T/cmp.txt"
if awk -v p="$pct" '{ if (p + 0 >= 0 && index($0, "resnet50, eastus, 50 threads: gpu-3 beat cpu-35 by " p "%")) f = 1
                      if (p + 0 < 0 && index($0, "gpu-3 was " substr(p, 2) "% slower than cpu-35")) f = 1 }
                    END { exit !f }' "$T/cmp.txt"; then
  ok "compare says the study's sentence for gpu-3 vs cpu-35 ($pct%)"
else
  fail "compare says the study's sentence for gpu-3 vs cpu-35" "want $pct% in: $(grep gpu-3 "$T/cmp.txt" | head -2)"
fi
check "compare's text table has the interval column" grep -q "images/s (95% CI)" "$T/cmp.txt"

want20=$(expected 20 | awk -F, '$1 == "mobilenet_v2" && $2 == "westeurope" && $3 == "gpu-1" { print $6 }')
have20=$(lg compare "$CSV" --at-threads 20 --csv | awk -F, '$1 == "mobilenet_v2" && $2 == "westeurope" && $3 == "gpu-1" { print $5 "," $15 }')
expect_eq "compare --at-threads 20 picks the 20-thread level" "${have20%%,*}" 20
expect_range "compare --at-threads 20: gpu-1 vs cpu-35 (mobilenet_v2, westeurope)" "${have20#*,}" \
  "$(awk -v w="$want20" 'BEGIN { print w - 0.01 }')" "$(awk -v w="$want20" 'BEGIN { print w + 0.01 }')"

# Regions: westeurope against eastus, for gpu-1 running resnet50.
want_r=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["label"] == "gpu-1" && $col["model"] == "resnet50" && $col["concurrency"] == 50 {
    s[$col["region"]] += $col["images_per_s"]; n[$col["region"]]++ }
  END { printf "%.2f", (s["westeurope"] / n["westeurope"]) / (s["eastus"] / n["eastus"]) * 100 - 100 }' "$CSV")
have_r=$(lg compare "$CSV" --by region --csv | awk -F, '$1 == "resnet50" && $2 == "gpu-1" && $3 == "westeurope" { print $15 }')
expect_range "compare --by region: westeurope vs eastus for gpu-1 ($want_r%)" "$have_r" \
  "$(awk -v w="$want_r" 'BEGIN { print w - 0.01 }')" "$(awk -v w="$want_r" 'BEGIN { print w + 0.01 }')"

lg compare "$CSV" --markdown >"$T/cmp.md"
check "compare --markdown writes tables" grep -q '^| label | level | cycles |' "$T/cmp.md"

# Rows from two client machines, concatenated with their headers, read the
# same as one file.
{ awk -F, 'NR == 1 || $4 == "eastus"' "$CSV"; awk -F, 'NR == 1 || $4 == "westeurope"' "$CSV"; } >"$T/cat.csv"
expect_eq "concatenated CSVs with repeated headers compare the same" \
  "$(lg compare "$T/cat.csv" --csv | sort | md5sum)" "$(sort "$T/cmp.csv" | md5sum)"

# ---- report -----------------------------------------------------------------

mkdir -p "$T/results"
cp "$CSV" "${JSONS[@]}" "$T/results/"
# A label with markup must come out as text, never as markup.
awk -F, -v OFS=, 'NR == 2 { print; $3 = "gpu-9<script>"; $1 = "evil" } { print }' "$CSV" >"$T/results/sample-summary.csv"
lg report "$T/results" -o "$T/report.html" >/dev/null 2>"$T/report.err"
expect_eq "report exits 0" "$?" 0
expect_eq "report starts as HTML" "$(head -1 "$T/report.html")" "<!DOCTYPE html>"
expect_eq "report inlines every chart" "$(grep -o 'src="data:image/png;base64,' "$T/report.html" | wc -l)" "$ncharts"
expect_eq "report refers to nothing outside itself" "$(grep -c 'src="http\|href="http' "$T/report.html")" 0
check "report has the comparison table" grep -q "<th>images/s</th><th>95% CI</th>" "$T/report.html"
check "report has the study's sentences" grep -q "beat cpu-35 by" "$T/report.html"
check "report lists the runs" grep -q "<h2>Runs</h2>" "$T/report.html"
check "report escapes what comes from the CSV" grep -q "gpu-9&lt;script&gt;" "$T/report.html"
expect_eq "report never writes the raw markup" "$(grep -c '<script>' "$T/report.html")" 0
check "report's PNGs decode" python3 -c '
import base64, re, sys
imgs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", open(sys.argv[1]).read())
assert imgs and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in imgs)' "$T/report.html"

# ---- errors -----------------------------------------------------------------

# expect_fail NAME RC MESSAGE CMD...: CMD exits RC with MESSAGE on stderr.
expect_fail() {
  local name=$1 want_rc=$2 msg=$3; shift 3
  "$@" >/dev/null 2>"$T/err"; local rc=$?
  if [ "$rc" = "$want_rc" ] && grep -qF -- "$msg" "$T/err"; then ok "$name"
  else fail "$name" "exit $rc, stderr: $(head -3 "$T/err")"; fi
}

cut -d, -f1-17,19- "$CSV" >"$T/nocol.csv"
expect_fail "a CSV without images_per_s: exit 2, named" 2 \
  "loadgen plot: $T/nocol.csv: missing column 'images_per_s'; was it written by loadgen --out?" \
  lg plot "$T/nocol.csv" -o "$T/x"
: >"$T/empty.csv"
expect_fail "an empty CSV: exit 2" 2 "loadgen compare: $T/empty.csv: empty file" lg compare "$T/empty.csv"
head -1 "$CSV" >"$T/header.csv"
expect_fail "a CSV with a header only: exit 2" 2 "a header but no rows" lg plot "$T/header.csv" -o "$T/x"
{ head -1 "$CSV" | cut -d, -f1-32; sed -n 2p "$CSV" | cut -d, -f1-32; sed -n 3p "$CSV"; } >"$T/mixed.csv"
# A row that cannot be used is left out with a note; the good row beside
# it still counts.
expect_fail "a row of another schema version is skipped with a note, the rest compared" 0 \
  "skipped $T/mixed.csv:3: $(head -1 "$CSV" | tr , '\n' | wc -l) fields but the header above has 32" \
  lg compare "$T/mixed.csv"
{ head -1 "$CSV" | cut -d, -f1-32; sed -n 3p "$CSV"; } >"$T/allbad.csv"
expect_fail "a file with no usable row: exit 2, saying why" 2 \
  "$T/allbad.csv: no usable row (1 skipped; the first:" lg compare "$T/allbad.csv"
expect_fail "a missing file: exit 2" 2 "$T/nope.csv: No such file" lg plot "$T/nope.csv"
expect_fail "an unknown flag: exit 2" 2 "--colour: unknown option" lg plot "$CSV" --colour
expect_fail "an unknown format: exit 2" 2 "--format gif: unknown; use png, svg or pdf" lg plot "$CSV" --format gif
expect_fail "compare --by a bad dimension: exit 2" 2 "--by size: write label, region or model" \
  lg compare "$CSV" --by size
expect_fail "compare --baseline not in the data: exit 2" 2 \
  "--baseline cpu-36: no label 'cpu-36' in the results (they have: gpu-1, gpu-2, gpu-3, cpu-35)" \
  lg compare "$CSV" --baseline cpu-36
expect_fail "without gnuplot: exit 1 and how to install it" 1 \
  "loadgen plot: gnuplot not found; install it with: sudo apt-get install gnuplot-nox" \
  env PATH=/nonexistent "$LOADGEN" plot "$CSV" -o "$T/x"

# ---- text that is a formula or holds commas and quotes; a level where every
# request failed; "-" for stdout (issue 16 item 10, issue 13) ------------------
start_serve --model resnet50 --device gpu
URL=http://127.0.0.1:$SERVE_PORT/score
SMALL=(--synthetic 10 --image-size 64x64 -q --model resnet50 --region eastus)
H1='=HYPERLINK("x"),a'
lg --url "$URL" --threads 2 -n 40 --label "$H1" "${SMALL[@]}" --out "$T/hostile.csv" >/dev/null 2>&1
lg --url "$URL" --threads 2 -n 40 --label "-5" "${SMALL[@]}" --out "$T/hostile.csv" >/dev/null 2>&1
check "a label with a formula, quotes and a comma is quoted and guarded in the CSV" \
  grep -qF "\"'=HYPERLINK(\"\"x\"\"),a\"" "$T/hostile.csv"
check "a label starting with - is guarded with one quote" grep -qF ",'-5,eastus," "$T/hostile.csv"
expect_eq "every row has the header's field count (quoted commas are one field)" \
  "$(python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); print(len({len(x) for x in r}), len(r))' "$T/hostile.csv")" "1 3"
lg compare "$T/hostile.csv" >"$T/hostile.cmp" 2>&1
expect_eq "compare reads the hostile labels: exit 0" "$?" 0
check "compare shows the formula label as it was given" grep -qF -- "$H1" "$T/hostile.cmp"
check "compare shows -5 without the guard" grep -qE -- "(^| )-5( |$)" "$T/hostile.cmp"
check "compare shows no guard quote" bash -c "! grep -qF \"'-5\" '$T/hostile.cmp' && ! grep -qF \"'=\" '$T/hostile.cmp'"

DEAD=$(free_port)
lg --url "http://127.0.0.1:$DEAD/score" --threads 2 -n 20 --label dead "${SMALL[@]}" \
  --out "$T/hostile.csv" --json "$T/dead.json" >/dev/null 2>&1
check "a level where every request failed has status failed and no figures" \
  python3 -c 'import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if x["label"]=="dead"][0]
assert r["status"] == "failed" and r["throughput_rps"] == r["images_per_s"] == r["lat_p50_ms"] == r["lat_p99_ms"] == "", r' "$T/hostile.csv"
check "its JSON level says failed with null figures" \
  python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["levels"][0]
assert l["status"] == "failed" and l["throughput_rps"] is None and l["latency_ms"]["p50"] is None, l' "$T/dead.json"
lg compare "$T/hostile.csv" >"$T/dead.cmp" 2>"$T/dead.err"
expect_eq "compare with a failed level: exit 0" "$?" 0
check "compare says it left the failed level out, naming label and level" \
  grep -q "loadgen compare: left out dead in eastus at 2 in flight, cycle 1 .*every request failed" "$T/dead.err"
check "compare does not rank the failed level" bash -c "! grep -qw dead '$T/dead.cmp'"
lg plot "$T/dead.json" -o "$T/deadplot" >/dev/null 2>"$T/deadplot.err"
check "plot of only a failed level refuses, saying why" grep -q "interrupted or failed" "$T/deadplot.err"

(cd "$T" && lg --url "$URL" --threads 1:2 -n 20 "${SMALL[@]}" --label std --out - \
  >"$T/stdout.txt" 2>/dev/null)
check "--out - writes no file named -" test ! -e "$T/-"
expect_eq "--out -: the header once on stdout" "$(grep -c '^run_id,' "$T/stdout.txt")" 1
expect_eq "--out -: a summary row per level on stdout" "$(grep -c '^[0-9T]*Z-[0-9a-f]*,.*,std,' "$T/stdout.txt")" 2
(cd "$T" && lg --url "$URL" --threads 1:2 -n 20 "${SMALL[@]}" --label std --no-out \
  --requests-log - >"$T/stdout.txt" 2>/dev/null)
expect_eq "--requests-log -: the header once on stdout" "$(grep -c '^offset_ms,' "$T/stdout.txt")" 1
(cd "$T" && lg --url "$URL" -n 20 "${SMALL[@]}" --out - --history - >/dev/null 2>"$T/two.err")
expect_eq "two outputs to stdout: exit 2 (one stream of two formats)" "$?" 2
check "--requests-log rows end with cycle, label and wall-clock time" \
  grep -qE '^[0-9.]+,2,[0-9]+,200,ok,.*,1,std,20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z$' "$T/stdout.txt"
