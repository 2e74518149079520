#!/usr/bin/env bash
# Hostile flags and scenario files (issue 16, items 8 and 10): values that
# would inject a header or reach the terminal raw, URLs whose password an
# error could echo, numbers that overflow, and scenario files that aim an
# output at a file outside the working folder or repeat a key. Each is
# refused with exit 2, one line on stderr, and no request sent (nginx logs
# every request with its User-Agent and X-Evil headers, so an injected
# header would show).
. "$(dirname "$0")/lib.sh"

start_nginx '
    location / { return 200 "{\"result\": 1}"; default_type application/json; }
'
sed -i "s|^  access_log .*|  log_format hdrs '\$request_uri [\$http_user_agent] [\$http_x_evil]';\n  access_log $T/headers.log hdrs;\n  access_log $NGINX_LOG;|" "$T/nginx.conf"
nginx -c "$T/nginx.conf" -p "$T" -s reload 2>/dev/null
sleep 0.5
URL=http://127.0.0.1:$NGINX_PORT/score
TOK=lgtest-hostile-$RANDOM$RANDOM
mkdir -p "$T/cwd"
cd "$T/cwd" || exit 1

sent() { wc -l <"$NGINX_LOG"; }
# refused NAME WANT ARGS...: exit 2, one line naming WANT, nothing on
# stdout, no request sent, no control byte and no $TOK on stderr
refused() {
  local name=$1 want=$2; shift 2
  local before; before=$(sent)
  timeout 20 "$LOADGEN" "$@" -q >"$T/stdout" 2>"$T/stderr"
  local rc=$? problems=()
  sleep 0.05
  [ "$rc" = 2 ] || problems+=("exit $rc, want 2")
  [ "$(wc -l <"$T/stderr")" = 1 ] || problems+=("stderr has $(wc -l <"$T/stderr") lines")
  grep -qF -- "$want" "$T/stderr" || problems+=("error does not name '$want'")
  grep -qF -- "$TOK" "$T/stderr" && problems+=("the error quotes the secret")
  LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$T/stderr") && problems+=("a control byte on stderr")
  [ -s "$T/stdout" ] && problems+=("stdout not empty")
  [ "$before" = "$(sent)" ] || problems+=("$(( $(sent) - before )) requests were sent")
  if [ ${#problems[@]} -eq 0 ]; then ok "$name"
  else fail "$name" "$(IFS=';'; echo "${problems[*]}") [stderr: $(head -c 300 "$T/stderr" | tr '\n\r\033' '???')]"; fi
}
ONE=(--url "$URL" -c 1 -n 1 --synthetic 1 --image-size 32x32 --no-out)

# --- header injection and control characters (item 10) ----------------------
refused "user-agent with CR/LF: refused" --user-agent "${ONE[@]}" \
  --user-agent "$(printf 'ua\r\nX-Evil: %s' "$TOK")"
check "user-agent with CR/LF: no injected header reached the server" \
  bash -c "! grep -qF '$TOK' '$T/headers.log'"
refused "user-agent with an escape: refused" --user-agent "${ONE[@]}" --user-agent "$(printf 'ua\033[2J')"
refused "header value with an escape: refused" "--header #1" "${ONE[@]}" -H "$(printf 'X-A: b\033]0;%s\007' "$TOK")"
refused "header value with a tab: refused" "--header #1" "${ONE[@]}" -H "$(printf 'X-A: b\tc')"
refused "header name with a space: named by position, not quoted" "--header #2" "${ONE[@]}" \
  -H "X-Ok: 1" -H "Bearer $TOK: x"
refused "header name with a parenthesis: refused" "--header #1" "${ONE[@]}" -H "X(1): v"
refused "secret-header name with a space: refused" --secret-header "${ONE[@]}" --secret-header "X $TOK"
export LOADGEN_HOSTILE_KEY
LOADGEN_HOSTILE_KEY=$(printf '%s\033[2J' "$TOK")
refused "bearer-env value with an escape: refused" LOADGEN_HOSTILE_KEY "${ONE[@]}" \
  --bearer-env LOADGEN_HOSTILE_KEY
refused "content-type with an escape: refused" --content-type "${ONE[@]}" --content-type "$(printf 'a/b\033')"
for flag in label region model; do
  refused "--$flag with an escape sequence: refused" "--$flag" "${ONE[@]}" --"$flag" "$(printf 'a\033]0;pwned\007b')"
  refused "--$flag with a newline: refused" "--$flag" "${ONE[@]}" --"$flag" "$(printf 'a\nb')"
done

# --- URL passwords in errors (item 10) ----------------------------------------
for u in "http:///u:$TOK@127.0.0.1/" "http://u:$TOK@CR@127.0.0.1/" "http://u:SE@$TOK@127.0.0.1/" \
         "http://u:1234/$TOK@127.0.0.1/" "http://u:pa?$TOK@127.0.0.1/" "http://u:$TOK?x@127.0.0.1/" \
         "ftp://u:$TOK@127.0.0.1/" "http://u:$TOK@127.0.0.1:99999/" "http://127.0.0.1:99999/?k=$TOK"; do
  refused "malformed url ${u//$TOK/TOKEN}: the error quotes no password" --url --url "$u" -n 1 --no-out
done
# the target written to outputs keeps no password either: "u:SE@CR" is refused,
# so a well-formed URL with user-info is the only kind that runs
PW=lgtest-pw-$RANDOM$RANDOM
lg --url "http://u:$PW@127.0.0.1:$NGINX_PORT/score?k=$PW" -c 1 -n 2 --synthetic 1 \
  --image-size 32x32 --out "$T/pw.csv" -q >"$T/pw.out" 2>&1
expect_eq "a well-formed URL with a password runs" "$?" 0
check "its target has no password or query" bash -c "! grep -qF '$PW' '$T/pw.csv' '$T/pw.out'"

# --- numbers (item 10) --------------------------------------------------------
refused "image size that wrapped round to 8x8: refused" --image-size "${ONE[@]}" --image-size 4294967304x8
refused "pause near INT64_MAX us: refused" --pause "${ONE[@]}" -c 1:2 --pause 2562047h
refused "timeout over a year: refused" --timeout "${ONE[@]}" --timeout 9000h
refused "duration over a year: refused" --duration "${ONE[@]}" -d 9000h
refused "rate whose step no longer moves it: refused" "10000000 requests/s" "${ONE[@]}" -R 18446744073709551615M
# 2^60 rows of 48 bytes wrapped to malloc(0): the run wrote past it (exit 139)
refused "a request log sized past memory: refused" --requests-log --url "$URL" -c 1 \
  -n 1152921504606846976 --requests-log "$T/cwd/q.csv" --synthetic 1 --no-out

# --- scenario files (item 8) ---------------------------------------------------
VICTIM=$T/victim/rc
mkdir -p "$T/victim" "$T/cwd/sc" "$T/cwd/results"
echo "# a shell rc file" >"$VICTIM"
cp "$VICTIM" "$T/victim.orig"
scen() { printf '%s' "$2" >"$T/cwd/sc/$1.json"; }
TGT="\"url\": \"$URL\", \"requests\": 1, \"threads\": 1, \"synthetic\": 1, \"image_size\": \"32x32\""
scen abs-out   "{\"targets\": [{$TGT, \"out\": \"$VICTIM\"}]}"
scen abs-json  "{\"defaults\": {\"json\": \"$VICTIM\"}, \"targets\": [{$TGT}]}"
scen up-hist   "{\"targets\": [{$TGT, \"history\": \"../victim.csv\", \"label\": \"a\"}]}"
scen up-log    "{\"targets\": [{$TGT, \"requests_log\": \"results/../../q.csv\"}]}"
scen abs-synth "{\"targets\": [{$TGT, \"save_synthetic\": \"$T/victim\"}]}"
scen abs-body  "{\"targets\": [{\"url\": \"$URL\", \"requests\": 1, \"body_file\": \"/etc/passwd\"}]}"
ln -s "$T/victim" "$T/cwd/linked"
scen link-dir  "{\"targets\": [{$TGT, \"out\": \"linked/rc\"}]}"
ln -s "$VICTIM" "$T/cwd/results/evil.csv"
scen link-file "{\"targets\": [{$TGT, \"out\": \"results/evil.csv\"}]}"
scen second    "{\"targets\": [{$TGT, \"label\": \"a\"}, {$TGT, \"label\": \"b\", \"out\": \"$VICTIM\"}]}"
refused "scenario: an absolute out is refused" "sc/abs-out.json: target 1 (no label): out $VICTIM: an absolute path" \
  --scenario sc/abs-out.json
refused "scenario: an absolute json in defaults is refused" "json $VICTIM" --scenario sc/abs-json.json
refused "scenario: a history that climbs out is refused" "target 1 (a): history ../victim.csv: climbs out" \
  --scenario sc/up-hist.json
refused "scenario: a requests log that climbs out through a folder is refused" "requests_log results/../../q.csv" \
  --scenario sc/up-log.json
refused "scenario: save_synthetic outside is refused" "save_synthetic $T/victim" --scenario sc/abs-synth.json
refused "scenario: an absolute body_file (sent to the file's URL) is refused" "body_file /etc/passwd" \
  --scenario sc/abs-body.json
refused "scenario: an out in a linked folder is refused" "out linked/rc: its folder leads outside" \
  --scenario sc/link-dir.json
refused "scenario: an out that is a symbolic link is refused" "out results/evil.csv: a symbolic link" \
  --scenario sc/link-file.json
refused "scenario: the second target's out is found before the first sends" "target 2 (b): out" \
  --scenario sc/second.json
expect_eq "scenario: the file outside was never touched" "$(cat "$VICTIM")" "$(cat "$T/victim.orig")"
check "scenario: nothing written outside" bash -c "[ ! -e '$T/victim.csv' ] && [ ! -e '$T/q.csv' ] && [ \$(ls '$T/victim' | wc -l) = 1 ]"

# the command line overrides the file, and a path inside the folder is fine
before=$(sent)
lg --scenario sc/second.json --out "$T/cwd/ok.csv" -q >/dev/null 2>"$T/override.err"
expect_eq "scenario: --out on the command line overrides the file's: exit 0" "$?" 0
expect_eq "scenario: both targets ran into the command line's CSV" "$(csv_rows "$T/cwd/ok.csv"),$(( $(sent) - before ))" "2,2"
lg --scenario sc/up-hist.json --history=h.csv --no-out -q >/dev/null 2>&1
expect_eq "scenario: --history=FILE on the command line overrides too" "$?,$(csv_rows h.csv)" "0,1"
scen inside "{\"targets\": [{$TGT, \"out\": \"results/./x/../in.csv\", \"json\": \"sc/r.json\"}]}"
mkdir -p results/x
lg --scenario sc/inside.json -q >/dev/null 2>"$T/inside.err"
expect_eq "scenario: outputs inside the working folder are written" "$?,$(csv_rows results/in.csv),$(test -s sc/r.json && echo json)" "0,1,json"
expect_eq "scenario: the file outside is still untouched" "$(cat "$VICTIM")" "$(cat "$T/victim.orig")"

scen dup-root    "{\"targets\": [{$TGT}], \"targets\": [{\"url\": \"http://127.0.0.1:1/\"}]}"
scen dup-default "{\"defaults\": {\"out\": \"a.csv\", \"out\": \"b.csv\"}, \"targets\": [{$TGT}]}"
scen dup-target  "{\"targets\": [{$TGT, \"label\": \"a\"}, {$TGT, \"requests\": 5}]}"
scen dup-header  "{\"targets\": [{$TGT, \"headers\": {\"X-A\": \"1\", \"X-A\": \"2\"}}]}"
scen dup-deep    "{\"serve\": {\"m\": [{\"k\": 1}, {\"k\": 1, \"k\": 2}]}, \"targets\": [{$TGT}]}"
refused "scenario: a repeated top-level key is refused" "sc/dup-root.json: targets: duplicate key" --scenario sc/dup-root.json
refused "scenario: a repeated key in defaults is refused" "defaults.out: duplicate key" --scenario sc/dup-default.json
refused "scenario: a repeated key in a target is refused" "targets[1].requests: duplicate key" --scenario sc/dup-target.json
refused "scenario: a repeated header is refused" "targets[0].headers.X-A: duplicate key" --scenario sc/dup-header.json
refused "scenario: a repeated key at any depth is refused" "serve.m[1].k: duplicate key" --scenario sc/dup-deep.json
scen ua-crlf "{\"targets\": [{$TGT, \"user_agent\": \"ua\\r\\nX-Evil: $TOK\"}]}"
refused "scenario: a user agent with CR/LF is refused" "targets[0].user_agent" --scenario sc/ua-crlf.json

# A folder named with an escape sequence (a scenario's "images" may be):
# the warning about files it skipped is one printable line too.
IMG=$T/cwd/$(printf 'img\033]0;pwned\007')
mkdir -p "$IMG"
lg --url "$URL" -c 1 -n 1 --synthetic 2 --image-size 32x32 --save-synthetic "$IMG" --no-out -q >/dev/null 2>&1
echo "not an image" >"$IMG/notes.txt"
lg --url "$URL" -c 1 -n 2 --images "$IMG" --no-out -q >/dev/null 2>"$T/skip.err"
expect_eq "images folder with an escape in its name: the run works" "$?" 0
check "images folder with an escape in its name: the skipped-files warning is said" grep -q "skipped 1 files" "$T/skip.err"
check "images folder with an escape in its name: no control byte on stderr" \
  bash -c "! LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <'$T/skip.err')"

# After all that, a plain run still works.
lg --url "$URL" -c 1 -n 2 --synthetic 1 --image-size 32x32 --no-out -q >/dev/null 2>&1
expect_eq "a good run afterwards exits 0" "$?" 0
check "no injected header ever reached the server" bash -c "! grep -qF '$TOK' '$T/headers.log'"
