#!/usr/bin/env bash
# 85_hostile_results.sh: result files are input from other machines
# (docs/distributed.md), so plot, report, compare and merge must treat them
# as hostile. Labels, regions, models and run ids that would run commands in
# gnuplot's language (backquotes, $(...), system(), quotes of both kinds,
# newlines, backslashes, @macros, '<' and '|' file names), control
# characters, a leading '=' and printf formats: no command runs, every chart
# still renders and shows the text as written. Chart scripts are never taken
# from the working folder. Readers refuse what is not a regular file of a
# sane size, and figures that cannot be (negative, more samples than
# requests). Everything runs on files only: no network.
. "$(dirname "$0")/lib.sh"
F=$(cd "$(dirname "$0")/../fixtures" && pwd)
PWN=/tmp/PWNED-$$
trap 'rm -f "$PWN"-*; cleanup' EXIT

# ---- the hostile corpus ------------------------------------------------------

mkdir -p "$T/h"
python3 - "$F" "$T/h" "$PWN" <<'EOF'
import csv, json, sys
src, dst, pwn = sys.argv[1:]
# The fixture's values, each replaced by an attack; the structure (four
# deployments, two regions, two models) stays, so every chart is drawn.
csv_map = {
    "cpu-35": "cpu`touch %s-bq`" % pwn,
    "gpu-3": "g3$(touch %s-dollar)'';system('touch %s-sq')" % (pwn, pwn),
    "eastus": 'east"; system("touch %s-dq"); x="\\' % pwn,
    "westeurope": "=west@mac \\`touch %s-bs\\` %%s%%n \x01\x1b[31m" % pwn,
    "resnet50": "res'`touch %s-m`'#@ARG0 @GPVAL_PWD" % pwn,
    "mobilenet_v2": "<touch %s-lt|touch %s-pipe" % (pwn, pwn),
}
# JSON carries what a CSV line cannot: line breaks.
json_map = dict(csv_map)
json_map["eastus"] = 'east\nset output "%s-nl"\n!touch %s-bang\n' % (pwn, pwn)
with open(src + "/sample-summary.csv", newline="") as f:
    rows = list(csv.reader(f))
hdr = rows[0]
for r in rows[1:]:
    for col in ("label", "region", "model"):
        i = hdr.index(col)
        r[i] = csv_map.get(r[i], r[i])
with open(dst + "/summary.csv", "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
for name in ("sample-result.json", "sample-result-gpu-1.json", "sample-result-gpu-2.json",
             "sample-result-cpu-35.json", "sample-timeline.json"):
    d = json.load(open(src + "/" + name))
    d["run_id"] = "r`touch %s-run`\n%s" % (pwn, d["run_id"][-6:])
    for l in d["levels"]:
        for k in ("label", "region", "model"):
            l[k] = json_map.get(l[k], l[k])
    json.dump(d, open(dst + "/" + name, "w"))
# What a chart must show for each: control characters become spaces.
with open(dst + "/expect.txt", "w") as f:
    for v in list(csv_map.values()) + [json_map["resnet50"]]:
        f.write("".join(" " if ord(c) < 32 or c == "\x7f" else c for c in v) + "\n")
EOF
check "the hostile corpus was written" test -s "$T/h/summary.csv"

# nopwn [SUFFIX]: no file made by an attack (of that one, when given).
nopwn() { ! ls "$PWN"-"${1:-}"* >/dev/null 2>&1; }

# png_ok FILE: PNG signature, 1280x720 in the IHDR chunk, more than 10 KB.
png_ok() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(head -c 24 "$1" | tail -c 8 | od -An -tx1 | tr -d ' \n')" = 00000500000002d0 ] &&
    [ "$(stat -c %s "$1")" -gt 10000 ]
}
all_png() {
  local bad= n=0
  while read -r p; do n=$((n + 1)); png_ok "$p" || bad="$bad $p"; done <"$1"
  [ "$n" -ge "$2" ] && [ -z "$bad" ] || { echo "# $n charts, bad:$bad" >&2; return 1; }
}

lg plot "$T/h/summary.csv" "$T/h/"*.json -o "$T/png" >"$T/plot.out" 2>"$T/plot.err"
expect_eq "plot of the hostile corpus exits 0" "$?" 0
check "plot of the hostile corpus ran no command" nopwn
# 15: the JSON results' region (with line breaks) is not the CSV's, so no
# spectrum; the JSON results alone draw one.
check "plot of the hostile corpus drew all 15 charts as PNGs" all_png "$T/plot.out" 15
expect_eq "plot of the hostile corpus says nothing on stderr" "$(cat "$T/plot.err")" ""
lg plot "$T/h/"*.json -o "$T/jpng" >"$T/jplot.out" 2>"$T/jplot.err"
expect_eq "plot of the hostile JSON results exits 0" "$?" 0
check "plot of the hostile JSON results ran no command" nopwn
check "plot of the hostile JSON results drew 10 charts, a spectrum among them" \
  all_png "$T/jplot.out" 10
check "the spectrum of a hostile model is drawn" grep -q "/5-latency-spectrum-res_" "$T/jplot.out"
check "notes about hostile names are one printable line each" python3 -c '
import sys; b = open(sys.argv[1], "rb").read()
assert b and not any(c < 32 and c != 10 for c in b) and b.count(b"\n") == 1, b' "$T/jplot.err"

# The text is data, so it reaches the chart as written: every hostile value
# is somewhere in the SVGs' text (legends, tics, titles).
lg plot "$T/h/summary.csv" "$T/h/"*.json -o "$T/svg" --format svg >"$T/svg.out" 2>&1
expect_eq "plot --format svg of the hostile corpus exits 0" "$?" 0
check "every hostile label, region and model is shown as written" python3 -c '
import sys, glob, xml.etree.ElementTree as ET
text = set()
for p in glob.glob(sys.argv[1] + "/*.svg"):
    for e in ET.parse(p).iter():
        if e.tag.endswith("text"):
            t = "".join(e.itertext())
            text.add(t)
missing = [v for v in open(sys.argv[2]).read().split("\n") if v and not any(v in t for t in text)]
assert not missing, missing' "$T/svg" "$T/h/expect.txt"
check "plot --format svg ran no command" nopwn

mkdir -p "$T/rep" && cp "$T/h/summary.csv" "$T/h/"*.json "$T/rep/"
lg report "$T/rep" -o "$T/rep.html" >/dev/null 2>"$T/rep.err"
expect_eq "report of the hostile corpus exits 0" "$?" 0
check "report of the hostile corpus ran no command" nopwn
expect_eq "report of the hostile corpus inlines 17 charts" \
  "$(grep -o 'src="data:image/png;base64,' "$T/rep.html" | wc -l)" 17
check "report never writes a control character" python3 -c '
import sys; b = open(sys.argv[1], "rb").read()
assert not any(c < 32 and c not in (9, 10, 13) for c in b)' "$T/rep.html"

# A hostile output folder and TMPDIR: gnuplot opens "|cmd" and "<cmd" as
# pipes, so every path it gets is absolute or starts with "./".
(cd "$T" && lg plot "$T/h/summary.csv" -o "|touch $PWN-outdir;true" >/dev/null 2>&1)
expect_eq "-o '|cmd' is a folder name, not a pipe" "$?" 0
check "-o '|cmd' ran no command" nopwn outdir
mkdir -p "$T/<touch $PWN-tmp;true"
(cd "$T" && TMPDIR="<touch $PWN-tmp;true" lg plot "$T/h/summary.csv" -o "$T/tmpdir" >/dev/null 2>&1)
expect_eq "a relative TMPDIR '<cmd' is a folder, not a pipe" "$?" 0
check "TMPDIR '<cmd' ran no command" nopwn tmp
TMPDIR="$T/it's" lg plot "$T/h/summary.csv" -o "$T/q" >/dev/null 2>"$T/q.err"
expect_eq "a TMPDIR with a quote: exit 2" "$?" 2
check "a TMPDIR with a quote: says what to do" grep -q "TMPDIR holds a quote or control character" "$T/q.err"

# Chart scripts in the working folder are anyone's: never run them.
mkdir -p "$T/cwd/scripts/gnuplot"
for s in "$(dirname "$LOADGEN")"/scripts/gnuplot/*.gp "$(dirname "$LOADGEN")"/../../scripts/gnuplot/*.gp; do
  [ -f "$s" ] && printf 'system("touch %s-cwd")\n' "$PWN" >"$T/cwd/scripts/gnuplot/$(basename "$s")"
done
(cd "$T/cwd" && lg plot "$F/sample-summary.csv" -o "$T/cwdout" >"$T/cwd.out" 2>/dev/null)
expect_eq "plot from a folder with its own scripts/gnuplot exits 0" "$?" 0
check "plot never runs the working folder's chart scripts" nopwn cwd
check "plot from that folder still draws the charts" all_png "$T/cwd.out" 9
mkdir -p "$T/pathdir"
printf '#!/bin/sh\ntouch %s-path\n' "$PWN" >"$T/pathdir/gnuplot" && chmod +x "$T/pathdir/gnuplot"
(cd "$T/pathdir" && PATH=".:$PATH" lg plot "$F/sample-summary.csv" -o "$T/pathout" >/dev/null 2>&1)
expect_eq "PATH with '.' and a ./gnuplot: plot exits 0" "$?" 0
check "a gnuplot in the working folder never runs through PATH='.:...'" nopwn path

# ---- readers: regular files of a sane size only -------------------------------

timeout 20 "$LOADGEN" compare /dev/zero >/dev/null 2>"$T/z.err"
expect_eq "compare /dev/zero: exit 2 at once" "$?" 2
expect_eq "compare /dev/zero: one line naming it" "$(cat "$T/z.err")" \
  "loadgen compare: /dev/zero: not a regular file (a device); give a results file"
timeout 20 "$LOADGEN" merge /dev/zero -o "$T/m.json" >/dev/null 2>"$T/mz.err"
expect_eq "merge /dev/zero: exit 2 at once" "$?" 2
check "merge /dev/zero: names it" grep -q "^loadgen merge: /dev/zero: not a regular file" "$T/mz.err"
truncate -s 65M "$T/big.json"
timeout 20 "$LOADGEN" merge "$T/big.json" -o "$T/m.json" >/dev/null 2>"$T/mb.err"
expect_eq "merge of a 65 MB file: exit 2" "$?" 2
check "merge of a 65 MB file: names it and the cap" grep -q "big.json: 68157440 bytes; at most 64 MiB" "$T/mb.err"
mkdir -p "$T/fifo" && cp "$F/sample-summary.csv" "$T/fifo/" && mkfifo "$T/fifo/stuck.csv"
timeout 60 "$LOADGEN" report "$T/fifo" -o "$T/fifo.html" >/dev/null 2>"$T/fifo.err"
expect_eq "report of a folder holding a FIFO named *.csv: exit 0, no hang" "$?" 0
check "report notes the FIFO it passed over" grep -q "skipped $T/fifo/stuck.csv: not a regular file (a FIFO)" "$T/fifo.err"
timeout 20 "$LOADGEN" compare "$T/fifo/stuck.csv" >/dev/null 2>&1
expect_eq "compare of a FIFO: exit 2, no hang" "$?" 2

# ---- figures that cannot be ---------------------------------------------------

awk -F, 'BEGIN { OFS = "," } NR == 1 { for (i = 1; i <= NF; i++) if ($i == "images_per_s") c = i }
  NR == 2 { $c = "-" $c } { print }' "$F/sample-summary.csv" >"$T/neg.csv"
"$LOADGEN" compare "$T/neg.csv" >/dev/null 2>"$T/neg.err"
expect_eq "compare of a negative images/s: the row is left out, the others compared" "$?" 0
check "compare of a negative images/s: names file, line and column" \
  grep -q "neg.csv:2: column 'images_per_s': -[0-9.]* is negative" "$T/neg.err"
