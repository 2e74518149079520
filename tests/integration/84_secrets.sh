#!/usr/bin/env bash
# Secrets: planted tokens in --bearer-env, in a header named by
# --secret-header, in an Authorization header given with -H, in a URL's
# user-info and query string, and in a scenario file's headers. nginx logs
# the headers it received, to prove they were sent; then every output
# (stdout, stderr, the progress line on a TTY, --out, --json,
# --requests-log, --history, the default results/ folder) is grepped for
# every token. Error messages about a malformed URL or header must not echo
# the secret either.
. "$(dirname "$0")/lib.sh"

TOK_BEARER=lgtest-bearer-$RANDOM$RANDOM
TOK_APIKEY=lgtest-apikey-$RANDOM$RANDOM
TOK_AUTH=lgtest-basic-$RANDOM$RANDOM
TOK_PASS=lgtest-pass-$RANDOM$RANDOM
TOK_QUERY=lgtest-query-$RANDOM$RANDOM
TOK_SCEN=lgtest-scenario-$RANDOM$RANDOM
ALL_TOKENS=("$TOK_BEARER" "$TOK_APIKEY" "$TOK_AUTH" "$TOK_PASS" "$TOK_QUERY" "$TOK_SCEN")

start_nginx '
    location = /score { return 200 "{\"result\": [[\"tabby\", 0.9]]}"; default_type application/json; }
    location = /fail  { return 503; }
'
# The headers nginx received, logged apart from loadgen's outputs.
sed -i "s|^  access_log .*|  log_format hdrs '\$request_uri \$remote_user [\$http_authorization] [\$http_x_api_key]';\n  access_log $T/server-headers.log hdrs;\n  access_log $NGINX_LOG;|" "$T/nginx.conf"
nginx -c "$T/nginx.conf" -p "$T" -s reload 2>/dev/null
sleep 0.5
HOSTPORT=127.0.0.1:$NGINX_PORT

mkdir -p "$T/out" "$T/cwd"
export LOADGEN_TEST_KEY=$TOK_BEARER

# no_token NAME FILES...: none of the planted tokens in any of FILES
no_token() {
  local name=$1; shift
  local hits
  hits=$(grep -rl -F -e "${ALL_TOKENS[0]}" -e "${ALL_TOKENS[1]}" -e "${ALL_TOKENS[2]}" \
    -e "${ALL_TOKENS[3]}" -e "${ALL_TOKENS[4]}" -e "${ALL_TOKENS[5]}" "$@" 2>/dev/null)
  if [ -z "$hits" ]; then ok "$name"; else fail "$name" "a token is in: $hits"; fi
}

# 1. a run with every kind of secret, every output, in a folder of its own
#    (so the default results/ folder is looked at too)
(cd "$T/cwd" && lg --url "http://user:$TOK_PASS@$HOSTPORT/score?key=$TOK_QUERY#frag" \
  --bearer-env LOADGEN_TEST_KEY -H "X-Api-Key: $TOK_APIKEY" --secret-header X-Api-Key \
  -c 4 -n 40 --synthetic 10 --image-size 32x32 --label secrets \
  --json "$T/out/r.json" --requests-log "$T/out/req.csv" --history "$T/out/hist.csv" \
  >"$T/out/stdout" 2>"$T/out/stderr")
expect_eq "run with secrets: exit 0" "$?" 0
sleep 0.2
expect_eq "the bearer token reached the server" \
  "$(grep -c "\[Bearer $TOK_BEARER\]" "$T/server-headers.log")" 40
expect_eq "the secret header reached the server" "$(grep -c "\[$TOK_APIKEY\]" "$T/server-headers.log")" 40
expect_eq "the query string reached the server" "$(grep -c "key=$TOK_QUERY" "$T/server-headers.log")" 40
check "the summary went to the default results/summary.csv" test -s "$T/cwd/results/summary.csv"
no_token "no token in stdout, stderr, --json, --requests-log, --history, results/" "$T/out" "$T/cwd"
expect_eq "the target in the CSV has no user-info or query" \
  "$(csv_col "$T/cwd/results/summary.csv" target)" "http://$HOSTPORT/score"
check "the target in the JSON has no user-info or query" python3 -c '
import json, sys; d = json.load(open(sys.argv[1]))
assert all(l["target"] == sys.argv[2] for l in d["levels"]), [l["target"] for l in d["levels"]]' \
  "$T/out/r.json" "http://$HOSTPORT/score"

# 2. Authorization given with -H, and the progress line on a TTY
rm -rf "$T/tty" && mkdir -p "$T/tty"
script -qec "$(printf '%q ' "$LOADGEN" --url "http://$HOSTPORT/score" -H "Authorization: Basic $TOK_AUTH" \
  -c 2 -d 1s --synthetic 10 --image-size 32x32 --out "$T/tty/s.csv" --json "$T/tty/r.json")" \
  /dev/null >"$T/tty/terminal" 2>&1   # what the terminal showed (script's own log holds the command)
expect_range "Authorization via -H reached the server" "$(grep -c "\[Basic $TOK_AUTH\]" "$T/server-headers.log")" 10 100000000
check "the TTY run showed a progress line" grep -q "req/s, errors" "$T/tty/terminal"
no_token "no token on the terminal (progress line, summary) or in the files" "$T/tty"

# 3. every request failing: the error names the target without secrets
mkdir -p "$T/fail"
lg --url "http://user:$TOK_PASS@$HOSTPORT/fail?key=$TOK_QUERY" --bearer-env LOADGEN_TEST_KEY \
  -c 2 -n 10 --synthetic 5 --image-size 32x32 --out "$T/fail/s.csv" >"$T/fail.stdout" 2>"$T/fail.stderr"
expect_eq "every request failed: exit 3" "$?" 3
check "every request failed: the message names the target" grep -q "http://$HOSTPORT/fail" "$T/fail.stderr"
no_token "every request failed: no token in the message, summary or row" "$T/fail.stdout" "$T/fail.stderr" "$T/fail"

# 4. a closed port: the connect error path
closed=$(free_port)
lg --url "http://user:$TOK_PASS@127.0.0.1:$closed/score?key=$TOK_QUERY" -H "X-Api-Key: $TOK_APIKEY" \
  --secret-header X-Api-Key -c 2 -n 4 --synthetic 5 --image-size 32x32 --no-out >"$T/closed.out" 2>&1
no_token "connection refused: no token in the output" "$T/closed.out"

# 5. a scenario file with a secret header and a secret URL
mkdir -p "$T/scen"
cat >"$T/scen/s.json" <<JSON
{"name": "secrets", "defaults": {"requests": 10, "threads": 2, "synthetic": 5, "image_size": "32x32",
  "headers": {"X-Api-Key": "$TOK_SCEN"}, "secret_header": "X-Api-Key"},
 "targets": [{"url": "http://user:$TOK_PASS@$HOSTPORT/score?key=$TOK_QUERY", "label": "a"}]}
JSON
lg --scenario "$T/scen/s.json" --out "$T/scen/s.csv" --json "$T/scen/r.json" -q >"$T/scen.stdout" 2>"$T/scen.stderr"
expect_eq "scenario with secrets: exit 0" "$?" 0
expect_eq "the scenario's secret header reached the server" "$(grep -c "\[$TOK_SCEN\]" "$T/server-headers.log")" 10
no_token "scenario: no token in its outputs" "$T/scen.stdout" "$T/scen.stderr" "$T/scen/s.csv" "$T/scen/r.json"

# 6. error messages about bad input do not echo a secret
lg --url "ftp://user:$TOK_PASS@$HOSTPORT/score?key=$TOK_QUERY" --no-out >/dev/null 2>"$T/err-url"
expect_eq "bad URL scheme: exit 2" "$?" 2
no_token "bad URL: the error does not echo its password or query" "$T/err-url"
lg --url "http://$HOSTPORT/score" -H "Authorization Bearer $TOK_AUTH" --no-out >/dev/null 2>"$T/err-hdr"
expect_eq "header without a colon: exit 2" "$?" 2
no_token "header without a colon: the error does not echo its value" "$T/err-hdr"
lg --url "http://$HOSTPORT/score" -H "X-Api-Key: $TOK_APIKEY" --secret-header X-Api-Key \
  --threads 20:10 --no-out >/dev/null 2>"$T/err-other"
no_token "another bad flag next to a secret header: no token in the error" "$T/err-other"
bad_sc=$T/scen/bad.json
printf '{"targets": [{"url": "http://%s/", "headers": {"X-Api-Key": "%s\\r\\nX: y"}, "secret_header": "X-Api-Key"}]}' \
  "$HOSTPORT" "$TOK_SCEN" >"$bad_sc"
lg --scenario "$bad_sc" --no-out >/dev/null 2>"$T/err-scen"
expect_eq "scenario header with CR/LF: exit 2" "$?" 2
no_token "scenario header with CR/LF: the error does not echo its value" "$T/err-scen"
