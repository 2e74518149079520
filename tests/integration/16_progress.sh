#!/usr/bin/env bash
# 16_progress.sh: a long run is never silent. Off a terminal (CI, nohup, a
# log) a plain line every 10 s on stderr, with the p99 so far; on a terminal (a pty from
# script(1)) one line redrawn in place and cleared at the end; -q: nothing.
. "$(dirname "$0")/lib.sh"
start_serve --fixed-latency 20ms
URL=http://127.0.0.1:$SERVE_PORT/score

lg --url "$URL" -c 5 -d 11s --synthetic 5 --no-out >"$T/out" 2>"$T/err"
expect_eq "an 11 s run off a terminal exits 0" "$?" 0
expect_eq "off a terminal: one plain progress line in 11 s" \
  "$(grep -c "^loadgen: 127.0.0.1:$SERVE_PORT c=5 cycle 1: "'[0-9]* done in 1[0-9] s, [0-9]* req/s, errors 0, p99 [0-9.]* ms, .* left$' "$T/err")" 1
# p99 so far: the server's 20 ms, give or take (not 0, not seconds).
p99=$(sed -n 's/.*, p99 \([0-9.]*\) ms,.*/\1/p' "$T/err" | head -1)
expect_range "the plain line's p99 so far is about the server's 20 ms" "${p99%.*}" 19 150
check "off a terminal: no control characters" bash -c "! grep -q \$'[\r\033]' '$T/err'"

lg --url "$URL" -c 5 -d 11s --synthetic 5 --no-out -q >"$T/out" 2>"$T/err"
expect_eq "-q: no progress at all" "$(wc -c <"$T/err")" 0

if command -v script >/dev/null; then
  script -qec "$LOADGEN --url $URL -c 5 -n 150 --synthetic 5 --no-out --label tty" /dev/null >"$T/tty" 2>&1
  check "on a terminal: the line is redrawn in place with done/total" \
    grep -qa $'\r\033\[Ktty c=5 cycle 1: [0-9]*/150' "$T/tty"
  check "on a terminal: the line is cleared before the summary" \
    grep -qa $'\r\033\[Ktty (\|\r\033\[K\r\ntty\|\r\033\[Ktty -> ' "$T/tty"
else
  echo "ok - on a terminal # SKIP script(1) is missing"
fi
