#!/usr/bin/env bash
# Hostile paths for outputs and inputs (issue 16 items 4 and 6).
# - Writers: --json and merge -o onto a full device, a FIFO with and without
#   a reader, a symlink, /dev/stdout and "-": written in place or beside the
#   link's target, never renamed over what the path names; a full device
#   gives exit 1 naming the flag. The devices are private nodes made here
#   (as root), so that a regression replaces those, never the machine's;
#   the real /dev/stdout is tried only once its private twin held.
# - Outputs that clash: one file given to two outputs, or an existing file
#   of another format, is refused with exit 2 before anything is sent (the
#   URL is a closed port: a run that started would exit 3).
# - Readers: /dev/zero, FIFOs and a sparse 2 GiB "JPEG" as --images-list,
#   image, --body-file or results file: refused at once with a one-line
#   error, in bounded memory (max RSS from /usr/bin/time) and time (every
#   wait under `timeout`; exit 124 would mean a hang).
. "$(dirname "$0")/lib.sh"
FIXTURES=$(cd "$(dirname "$0")/../fixtures" && pwd)

start_serve --model zero
URL=http://127.0.0.1:$SERVE_PORT/score
CLOSED=http://127.0.0.1:$(free_port)/score
SMALL=(-n 20 -c 2 --synthetic 4 --image-size 32x32 -q)
cd "$T" || exit 1

# rss_run NAME LIMIT_MB ARGS...: loadgen ARGS under timeout 20 and
# /usr/bin/time; sets RC, ERR (stderr) and RSS_MB; checks no hang and
# the memory limit.
rss_run() {
  local name=$1 limit=$2; shift 2
  timeout 20 /usr/bin/time -f '%M' -o "$T/rss" "$LOADGEN" "$@" >"$T/rr.out" 2>"$T/rr.err"
  RC=$?; ERR=$(cat "$T/rr.err")
  RSS_MB=$(( $(tail -1 "$T/rss" 2>/dev/null || echo 0) / 1024 ))
  if [ "$RC" = 124 ]; then fail "$name: does not hang" "killed by timeout after 20 s"; return; fi
  expect_range "$name: max RSS under $limit MB" "$RSS_MB" 0 "$limit"
}

# ---- writers ----------------------------------------------------------------
if mknod "$T/full" c 1 7 2>/dev/null && mknod "$T/null" c 1 3 2>/dev/null; then
  timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/full" >/dev/null 2>"$T/full.err"
  expect_eq "--json onto a full device: exit 1" "$?" 1
  check "--json onto a full device: the error names the flag and ENOSPC" \
    grep -q -- "--json $T/full: write failed: No space left on device" "$T/full.err"
  check "--json onto a full device: it stays a device" test -c "$T/full"
  timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/null" >/dev/null 2>"$T/null.err"
  expect_eq "--json onto a null device: exit 0" "$?" 0
  check "--json onto a null device: it stays a device, nothing left beside it" \
    test -c "$T/null" -a -z "$(ls "$T" | grep -F null.tmp)"
else
  echo "ok - private device nodes # SKIP mknod needs root"
fi

mkfifo "$T/nofifo"
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/nofifo" >/dev/null 2>"$T/nofifo.err"
rc=$?
expect_eq "--json onto a FIFO with no reader: exit 1 at once, no hang" "$rc" 1
check "--json onto a FIFO with no reader: one line naming it" grep -q -- "--json $T/nofifo: a FIFO with no reader" "$T/nofifo.err"
check "--json onto a FIFO with no reader: it stays a FIFO" test -p "$T/nofifo"

mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" >"$T/fifo.got" &
READER=$!
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/fifo" >/dev/null 2>"$T/fifo.err"
expect_eq "--json onto a FIFO with a reader: exit 0" "$?" 0
wait "$READER"
check "--json onto a FIFO with a reader: the reader gets the JSON" python3 -m json.tool "$T/fifo.got" >/dev/null
check "--json onto a FIFO with a reader: it stays a FIFO" test -p "$T/fifo"

echo '{"old": true}' >"$T/target.json"
ln -s target.json "$T/link.json"
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/link.json" >/dev/null 2>&1
expect_eq "--json onto a symlink: exit 0" "$?" 0
check "--json onto a symlink: the link stays a link" test -L "$T/link.json"
check "--json onto a symlink: its target holds the result" grep -q '"levels"' "$T/target.json"

ln -s /proc/self/fd/1 "$T/stdout"
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/stdout" 2>"$T/so.err" | python3 -m json.tool >"$T/so.json"
expect_eq "--json onto a link to fd 1, piped: valid JSON alone on stdout" "${PIPESTATUS[*]}" "0 0"
check "--json onto a link to fd 1: the link stays a link" test -L "$T/stdout"
check "--json onto a link to fd 1: the text report goes to stderr" grep -q "requests" "$T/so.err"
# Redirected to a file, the link names that file: the JSON follows the text.
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/stdout" >"$T/both.txt" 2>/dev/null
check "--json onto a link to fd 1 > file: the text report is kept" grep -q "requests" "$T/both.txt"
check "--json onto a link to fd 1 > file: the link stays a link" test -L "$T/stdout"
# The machine's /dev/stdout only once its private twin held both ways: a
# regression must not turn the real one into a file.
if [ -L "$T/stdout" ]; then
  timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json /dev/stdout 2>/dev/null | python3 -m json.tool >/dev/null
  expect_eq "--json /dev/stdout | python3 -m json.tool: exit 0 and 0" "${PIPESTATUS[*]}" "0 0"
  check "--json /dev/stdout: /dev/stdout stays a symlink" test -L /dev/stdout
else
  fail "--json /dev/stdout: not tried" "the private link to fd 1 was replaced"
fi
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json - 2>/dev/null | python3 -m json.tool >"$T/dash.json"
expect_eq "--json - | python3 -m json.tool: exit 0 and 0" "${PIPESTATUS[*]}" "0 0"
check "--json -: no file named '-' is left" test ! -e "$T/-"

timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" --no-out --json "$T/a.json" >/dev/null 2>&1
timeout 20 "$LOADGEN" merge "$T/a.json" -o "$T/nofifo" -q >/dev/null 2>"$T/m.err"
expect_eq "merge -o onto a FIFO with no reader: exit 1, no hang" "$?" 1
check "merge -o onto a FIFO with no reader: it stays a FIFO" test -p "$T/nofifo"
timeout 20 "$LOADGEN" merge "$T/a.json" -o - -q | python3 -m json.tool >/dev/null
expect_eq "merge -o - | python3 -m json.tool: exit 0 and 0" "${PIPESTATUS[*]}" "0 0"

# ---- outputs that clash --------------------------------------------------------
mkdir -p results
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" >/dev/null 2>&1
timeout 20 "$LOADGEN" --url "$URL" "${SMALL[@]}" >/dev/null 2>&1
rows=$(csv_rows results/summary.csv)
expect_eq "two runs: two rows in the default summary CSV" "$rows" 2
# clash NAME NEEDLE ARGS...: exit 2 before anything is sent, NEEDLE in stderr
clash() {
  local name=$1 needle=$2; shift 2
  timeout 20 "$LOADGEN" --url "$CLOSED" "${SMALL[@]}" "$@" >/dev/null 2>"$T/clash.err"
  local rc=$?
  expect_eq "$name: exit 2, nothing sent" "$rc" 2
  check "$name: says why" grep -q -- "$needle" "$T/clash.err"
}
clash "--json results/summary.csv" "holds a summary CSV" --json results/summary.csv
expect_eq "--json results/summary.csv: the earlier rows are kept" "$(csv_rows results/summary.csv)" 2
clash "--out x.csv --json x.csv" "name the same file" --out "$T/x.csv" --json "$T/x.csv"
clash "--out x.csv --json ./sub/../x.csv" "name the same file" --out "$T/x.csv" --json "$T/./results/../x.csv"
clash "--json - --requests-log -" "name the same file" --no-out --json - --requests-log -
clash "--out onto a JSON result" "holds a JSON result" --out "$T/a.json"
check "--out onto a JSON result: it is untouched" python3 -m json.tool "$T/a.json" >/dev/null
clash "--history onto a summary CSV" "holds a summary CSV" --no-out --history results/summary.csv
clash "--requests-log onto a JSON result" "holds a JSON result" --no-out --requests-log "$T/a.json"
echo 'export PATH=/bin' >"$T/rcfile"
clash "--json onto a file that is no result" "does not hold a JSON result" --no-out --json "$T/rcfile"
check "--json onto a file that is no result: it is untouched" grep -qx 'export PATH=/bin' "$T/rcfile"

# ---- readers -------------------------------------------------------------------
rss_run "--images-list /dev/zero" 200 --url "$CLOSED" -n 5 --images-list /dev/zero -q --no-out
expect_eq "--images-list /dev/zero: exit 2" "$RC" 2
check "--images-list /dev/zero: not a regular file" grep -q "not a regular file (a character device)" "$T/rr.err"
rss_run "--images-list FIFO" 200 --url "$CLOSED" -n 5 --images-list "$T/nofifo" -q --no-out
expect_eq "--images-list FIFO: exit 2" "$RC" 2

mkdir -p "$T/big"
printf '\377\330\377\340' >"$T/big/huge.jpg"
truncate -s 2G "$T/big/huge.jpg"
rss_run "--images with a sparse 2 GiB JPEG" 200 --url "$CLOSED" -n 5 --images "$T/big" -q --no-out
expect_eq "--images with a sparse 2 GiB JPEG: exit 2" "$RC" 2
check "--images with a sparse 2 GiB JPEG: names the file and the limit" \
  grep -q "huge.jpg: 2147483648 bytes or more, over the limit of 64 MiB for one image" "$T/rr.err"
echo "$T/big/huge.jpg" >"$T/big.list"
rss_run "--images-list of a sparse 2 GiB JPEG" 200 --url "$CLOSED" -n 5 --images-list "$T/big.list" -q --no-out
expect_eq "--images-list of a sparse 2 GiB JPEG: exit 2" "$RC" 2
echo "$T/nofifo" >"$T/fifo.list"
rss_run "--images-list naming a FIFO" 200 --url "$CLOSED" -n 5 --images-list "$T/fifo.list" -q --no-out
expect_eq "--images-list naming a FIFO: exit 2" "$RC" 2

mkdir -p "$T/imgs"
printf '\377\330\377\340' >"$T/imgs/a.jpg"
mkfifo "$T/imgs/b.jpg"
rss_run "--images with a FIFO among the images" 200 --url "$URL" -n 5 --images "$T/imgs" -q --no-out
expect_eq "--images with a FIFO among the images: runs, exit 0" "$RC" 0
check "--images with a FIFO among the images: notes the skip" grep -q "skipped 1 files" "$T/rr.err"

rss_run "--body-file FIFO" 200 --url "$CLOSED" -n 5 --body-file "$T/nofifo" -q --no-out
expect_eq "--body-file FIFO: exit 2" "$RC" 2
check "--body-file FIFO: not a regular file" grep -q "not a regular file (a FIFO)" "$T/rr.err"
truncate -s 2G "$T/big.body"
rss_run "--body-file sparse 2 GiB" 200 --url "$CLOSED" -n 5 --body-file "$T/big.body" -q --no-out
expect_eq "--body-file sparse 2 GiB: exit 2" "$RC" 2
check "--body-file sparse 2 GiB: names the limit" grep -q "over the limit of 1024 MiB" "$T/rr.err"

mkdir -p "$T/rep"
cp results/summary.csv "$T/rep/"
mkfifo "$T/rep/stuck.csv"
rss_run "report of a folder with a FIFO named *.csv" 300 report "$T/rep" -o "$T/rep.html"
check "report of a folder with a FIFO named *.csv: refused or skipped, not hung" test "$RC" != 124
rss_run "compare /dev/zero" 200 compare /dev/zero
expect_eq "compare /dev/zero: exit 2" "$RC" 2
rss_run "merge /dev/zero" 200 merge /dev/zero -o "$T/m.json" -q
expect_eq "merge /dev/zero: exit 2" "$RC" 2

# The analysis commands' outputs are checked like run's: a summary CSV given
# to merge -o or report -o would be replaced.
F=$FIXTURES
cp "$F/sample-summary.csv" "$T/keep.csv"
rows=$(wc -l <"$T/keep.csv")
lg report "$T/keep.csv" -o "$T/keep.csv" >/dev/null 2>"$T/k.err"
expect_eq "report -o onto a summary CSV: exit 2" "$?" 2
check "report -o onto a summary CSV: says what it holds" grep -q "holds a summary CSV" "$T/k.err"
lg merge "$F/sample-result.json" "$F/sample-result-gpu-1.json" -o "$T/keep.csv" -q >/dev/null 2>"$T/k.err"
expect_eq "merge -o onto a summary CSV: exit 2" "$?" 2
expect_eq "the summary CSV keeps every row" "$(wc -l <"$T/keep.csv")" "$rows"

# --out onto a FIFO that nothing reads: an error at once, not a run that
# hangs after its level.
mkfifo "$T/noreader.csv"
timeout 30 "$LOADGEN" --url "$URL" -n 5 --synthetic 2 -q --out "$T/noreader.csv" >/dev/null 2>"$T/nr.err"
expect_eq "--out onto a FIFO nobody reads: exit 1, not a hang" "$?" 1
check "--out onto a FIFO nobody reads: says so" grep -q "a FIFO that nothing reads" "$T/nr.err"
