#!/usr/bin/env bash
# 61_charts.sh: what the charts say, read back from SVG text: the
# latency-vs-throughput curve of a sweep, the spectrum stopping at the
# percentile its sample count supports, costs written without exponents,
# and a region legend whose entries are the bars' own colours.
. "$(dirname "$0")/lib.sh"
F=$(cd "$(dirname "$0")/../fixtures" && pwd)
CSV=$F/sample-summary.csv

lg plot "$CSV" -o "$T/svg" --format svg >"$T/out" 2>"$T/err"
expect_eq "plot of a sweep exits 0" "$?" 0
check "a sweep draws the latency-vs-throughput curve per model" \
  test -s "$T/svg/8-latency-vs-throughput-resnet50.svg" -a -s "$T/svg/8-latency-vs-throughput-mobilenet_v2.svg"
check "the curve names every deployment" \
  grep -q "cpu-35, westeurope" "$T/svg/8-latency-vs-throughput-resnet50.svg"
check "the curve marks each point with its threads" grep -q ">50<" "$T/svg/8-latency-vs-throughput-resnet50.svg"

# The region chart: one legend entry per deployment and region, in the
# deployment's colour (grey swatches per region matched no bar).
check "the region legend names deployment and region" \
  grep -q "gpu-1 westeurope" "$T/svg/4-regions-resnet50.svg"
check "no grey legend swatch is left in the region chart" \
  bash -c "! grep -qi '#707070' '$T/svg/4-regions-resnet50.svg'"

# Costs a thousand times cheaper than the fixture's: no "$5e-05".
awk -F, 'BEGIN{OFS=","} NR==1{for(i=1;i<=NF;i++) if($i=="cost_per_hour") c=i; print; next}
         {if($c!="") $c=$c/3000; print}' "$CSV" >"$T/cheap.csv"
lg plot "$T/cheap.csv" -o "$T/cheap" --format svg >/dev/null 2>&1
money=$(grep -o '\$[0-9][0-9.e+-]*' "$T/cheap/3-cost-eastus.svg" | sort -u)
expect_eq "tiny costs are written in fixed notation" "$(echo "$money" | grep -c 'e')" 0
check "tiny costs keep two significant digits" grep -q '\$0\.000000[1-9][0-9]\b' "$T/cheap/3-cost-eastus.svg"

# A spectrum of 200 requests: 99% is the last percentile 200 samples tell.
lg plot "$F/sample-result.json" -o "$T/spec" --format svg >/dev/null 2>&1
check "the spectrum of 200 requests shows 99%" grep -q '>99%<' "$T/spec/5-latency-spectrum-resnet50.svg"
check "and stops before 99.9%" bash -c "! grep -q '99\.9%' '$T/spec/5-latency-spectrum-resnet50.svg'"

# One level per deployment: no curve, and plot says why.
awk -F, 'NR==1 || $9==50' "$CSV" >"$T/one.csv"
lg plot "$T/one.csv" -o "$T/one" >/dev/null 2>"$T/one.err"
check "one level each: no curve, and a note that says to sweep" \
  grep -q "no latency-vs-throughput curve.*sweep with --threads" "$T/one.err"
