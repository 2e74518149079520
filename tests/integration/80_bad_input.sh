#!/usr/bin/env bash
# Bad input: every malformed flag, file, URL, header, scenario or output path
# gets exit 2, one line on stderr that starts "loadgen: " and names the
# input, nothing on stdout, no file left behind, and no request sent (nginx
# counts them). Table-driven: one row per case.
. "$(dirname "$0")/lib.sh"

start_nginx '
    location / { return 200 "{\"result\": 1}"; default_type application/json; }
'
URL=http://127.0.0.1:$NGINX_PORT/score

# --- fixtures ---------------------------------------------------------------
mkdir -p "$T/fx/empty" "$T/fx/unreadable" "$T/fx/notimages"
echo "not an image" >"$T/fx/notimages/a.txt"
echo "a file" >"$T/fx/afile"
printf '\xff\xd8\xff\xe0 not really a jpeg' >"$T/fx/unreadable/a.jpg"
chmod 000 "$T/fx/unreadable"

sc() { printf '%s' "$2" >"$T/fx/$1.json"; }
sc not-json        '{"targets": [ {"url": "http://h/"} ,,, '
sc top-array       '[1, 2, 3]'
sc no-targets      '{"name": "x"}'
sc empty-targets   '{"targets": []}'
sc target-no-url   '{"targets": [{"label": "a"}]}'
sc wrong-type      '{"targets": [{"url": "http://127.0.0.1/", "threads": [1, 2]}]}'
sc wrong-bool      '{"targets": [{"url": "http://127.0.0.1/", "quiet": "yes"}]}'
sc unknown-key     '{"targets": [{"url": "http://127.0.0.1/", "thread": 5}]}'
sc unknown-top     '{"targetz": [{"url": "http://127.0.0.1/"}]}'
sc bad-value       '{"defaults": {"threads": "20:10"}, "targets": [{"url": "http://127.0.0.1/"}]}'
sc bad-header      '{"targets": [{"url": "http://127.0.0.1/", "headers": {"X-A": "b\r\nX-B: c"}}]}'
sc label-number    '{"targets": [{"url": "http://127.0.0.1/", "label": 5}]}'
sc key-newline     '{"targets": [{"url": "http://127.0.0.1/", "thr\nead": 5}]}'
# more than the 1 MiB a scenario may hold: a valid file, only too big
python3 - "$T/fx/huge.json" <<'PY'
import json, sys
json.dump({"description": "x" * (2 << 20), "targets": [{"url": "http://127.0.0.1/"}]}, open(sys.argv[1], "w"))
PY
# a scenario whose second target writes into a folder that does not exist:
# found before the first target sends anything (the path is relative: a
# scenario file may not name one outside the working folder, 88)
cat >"$T/fx/late-bad-out.json" <<JSON
{"targets": [{"url": "$URL", "label": "a", "requests": 5, "threads": 1},
             {"url": "$URL", "label": "b", "requests": 5, "threads": 1,
              "out": "missing-dir/s.csv"}]}
JSON

# A read-only folder and an unreadable one. Root ignores file modes, so as
# root those cases run without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH
# (setpriv); where that is not allowed they are skipped.
RO=$T/fx/ro
mkdir -p "$RO"
chmod 555 "$RO"
NODAC=()
PERM_OK=1
if [ "$(id -u)" -eq 0 ]; then
  NODAC=(setpriv --bounding-set=-dac_override,-dac_read_search)
  "${NODAC[@]}" ls "$T/fx/unreadable" >/dev/null 2>&1 && PERM_OK=0
  "${NODAC[@]}" true 2>/dev/null || PERM_OK=0
fi

# The open-file limit: --threads more than the hard limit allows.
HARD_NOFILE=$(ulimit -Hn)
TOO_MANY=$(( ${HARD_NOFILE/unlimited/1000000} + 10 ))
[ "$TOO_MANY" -gt 1000000 ] && TOO_MANY=1000000

unset LOADGEN_UNSET_TOKEN_VAR

# --- the table --------------------------------------------------------------
# name | text the error line must contain | arguments (shell words; $URL etc.
# expand). Every row runs in a fresh empty folder with --out pointing into
# it (unless the row sets its own), and must exit 2.
CASES=$(cat <<'TABLE'
unknown flag                | --bogus                | --url "$URL" --bogus
unknown short flag          | -Z                     | --url "$URL" -Z
flag without its value      | --requests             | --url "$URL" --requests
stray argument              | stray                  | --url "$URL" stray
missing --url               | --url                  | -n 10
empty --url                 | --url                  | --url ""
url: unsupported scheme     | ftp://                 | --url ftp://127.0.0.1/score
url: file scheme            | file://                | --url file:///etc/passwd
url: no host                | http:///score          | --url http:///score
url: scheme only            | http://                | --url http://
url: not a url              | not a url              | --url "not a url"
url: port out of range      | 99999                  | --url http://127.0.0.1:99999/score
threads 0                   | --threads 0            | --url "$URL" --threads 0
threads negative            | --threads -5           | --url "$URL" --threads -5
threads non-numeric         | --threads abc          | --url "$URL" --threads abc
threads end below start     | --threads 20:10        | --url "$URL" --threads 20:10
threads zero step           | --threads 10:20:0      | --url "$URL" --threads 10:20:0
threads four parts          | --threads 1:5:1:2      | --url "$URL" --threads 1:5:1:2
threads absurd              | --threads 99999999999  | --url "$URL" --threads 99999999999
threads too many levels     | --threads 1:100000:1   | --url "$URL" --threads 1:100000:1
threads over the fd limit   | ulimit                 | --url "$URL" --threads "$TOO_MANY"
concurrency alias 0         | --threads 0            | --url "$URL" --concurrency 0
requests 0                  | --requests 0           | --url "$URL" -n 0
requests fraction           | --requests 1.5         | --url "$URL" -n 1.5
requests overflow           | --requests 99999999999999999999999 | --url "$URL" -n 99999999999999999999999
duration overflow           | --duration 99999999999h | --url "$URL" -d 99999999999h
duration unknown unit       | --duration 5x          | --url "$URL" -d 5x
duration negative           | --duration -5s         | --url "$URL" -d -5s
duration zero               | --duration 0           | --url "$URL" -d 0
rate zero                   | --rate 0               | --url "$URL" -R 0
rate non-numeric            | --rate abc             | --url "$URL" -R abc
rate overflow               | --rate 1e309           | --url "$URL" -R 1e309
rate nan                    | --rate nan             | --url "$URL" -R nan
rate zero step              | --rate 1:2:0           | --url "$URL" -R 1:2:0
warmup malformed            | --warmup 5x            | --url "$URL" --warmup 5x
pause overflow              | --pause 99999999999h   | --url "$URL" --pause 99999999999h
timeout zero                | --timeout 0            | --url "$URL" --timeout 0
connect-timeout malformed   | --connect-timeout 1x   | --url "$URL" --connect-timeout 1x
max-reply malformed         | --max-reply 1XB        | --url "$URL" --max-reply 1XB
max-reply overflow          | --max-reply 99999999999999999999 | --url "$URL" --max-reply 99999999999999999999
max-reply zero              | --max-reply 0          | --url "$URL" --max-reply 0
cycles zero                 | --cycles 0             | --url "$URL" --cycles 0
loops zero                  | --loops 0              | --url "$URL" --loops 0
image-size too small        | --image-size 4x4       | --url "$URL" --image-size 4x4
synthetic zero              | --synthetic 0          | --url "$URL" --synthetic 0
batch too large             | --batch 100000         | --url "$URL" --batch 100000
cost negative               | --cost-per-hour -1     | --url "$URL" --cost-per-hour -1
start-at garbage            | --start-at soon        | --url "$URL" --start-at soon
start-at absurd future      | --start-at 1e300       | --url "$URL" --start-at 1e300
expect-status out of range  | --expect-status 99     | --url "$URL" --expect-status 99
expect-json empty part      | a..b                   | --url "$URL" --expect-json a..b
format unknown              | --format nope          | --url "$URL" --format nope
arrival unknown             | --arrival burst        | --url "$URL" --arrival burst -R 10
method unknown              | --method P/UT          | --url "$URL" --method P/UT
images: missing folder      | $T/fx/nothing          | --url "$URL" --images "$T/fx/nothing"
images: a file              | $T/fx/afile            | --url "$URL" --images "$T/fx/afile"
images: empty folder        | $T/fx/empty            | --url "$URL" --images "$T/fx/empty"
images: no images in it     | $T/fx/notimages        | --url "$URL" --images "$T/fx/notimages"
images-list missing         | $T/fx/nolist           | --url "$URL" --images-list "$T/fx/nolist"
body-file missing           | $T/fx/nobody           | --url "$URL" --body-file "$T/fx/nobody"
cacert missing              | $T/fx/noca             | --url "$URL" --cacert "$T/fx/noca"
images and body-file        | --body-file            | --url "$URL" --images "$T/fx/empty" --body-file "$T/fx/afile"
header without colon        | --header               | --url "$URL" -H NoColon
header empty name           | --header               | --url "$URL" -H ": v"
header space in name        | --header               | --url "$URL" -H "A B: v"
header with CR/LF           | --header               | --url "$URL" -H "$(printf 'X-A: b\r\nX-B: c')"
header with LF only         | --header               | --url "$URL" -H "$(printf 'X-A: b\nX-B: c')"
content-type with CR/LF     | --content-type         | --url "$URL" --content-type "$(printf 'a/b\r\nX: y')"
bearer-env unset            | LOADGEN_UNSET_TOKEN_VAR | --url "$URL" --bearer-env LOADGEN_UNSET_TOKEN_VAR
bearer-env empty            | LOADGEN_EMPTY_TOKEN_VAR | --url "$URL" --bearer-env LOADGEN_EMPTY_TOKEN_VAR
bearer-env with CR/LF       | LOADGEN_CRLF_TOKEN_VAR | --url "$URL" --bearer-env LOADGEN_CRLF_TOKEN_VAR
out: missing folder         | $T/fx/missing-dir      | --url "$URL" --out "$T/fx/missing-dir/s.csv"
out: is a folder            | $T/fx/empty            | --url "$URL" --out "$T/fx/empty"
out: empty path             | --out                  | --url "$URL" --out ""
json: missing folder        | $T/fx/missing-dir      | --url "$URL" --json "$T/fx/missing-dir/r.json"
requests-log: missing folder | $T/fx/missing-dir     | --url "$URL" --requests-log "$T/fx/missing-dir/q.csv"
history: missing folder     | $T/fx/missing-dir      | --url "$URL" --history "$T/fx/missing-dir/h.csv"
out: read-only folder       | $RO                    | --url "$URL" --out "$RO/s.csv"
json: read-only folder      | $RO                    | --url "$URL" --json "$RO/r.json"
history: read-only folder   | $RO                    | --url "$URL" --history "$RO/h.csv"
images: unreadable folder   | $T/fx/unreadable       | --url "$URL" --images "$T/fx/unreadable"
scenario: missing file      | $T/fx/none.json        | --scenario "$T/fx/none.json"
scenario: a folder          | $T/fx/empty            | --scenario "$T/fx/empty"
scenario: not JSON          | not-json.json          | --scenario "$T/fx/not-json.json"
scenario: top level array   | top-array.json         | --scenario "$T/fx/top-array.json"
scenario: no targets        | targets                | --scenario "$T/fx/no-targets.json"
scenario: empty targets     | targets                | --scenario "$T/fx/empty-targets.json"
scenario: target without url | targets[0].url        | --scenario "$T/fx/target-no-url.json"
scenario: wrong type        | targets[0].threads     | --scenario "$T/fx/wrong-type.json"
scenario: wrong bool        | targets[0].quiet       | --scenario "$T/fx/wrong-bool.json"
scenario: unknown key       | targets[0].thread      | --scenario "$T/fx/unknown-key.json"
scenario: unknown top key   | targetz                | --scenario "$T/fx/unknown-top.json"
scenario: bad value         | defaults.threads       | --scenario "$T/fx/bad-value.json"
scenario: header CR/LF      | targets[0].headers     | --scenario "$T/fx/bad-header.json"
scenario: label a number    | targets[0].label       | --scenario "$T/fx/label-number.json"
scenario: key with a newline | targets[0].thr        | --scenario "$T/fx/key-newline.json"
scenario: huge              | huge.json              | --scenario "$T/fx/huge.json"
scenario: unknown --only    | --only                 | --scenario "$T/fx/late-bad-out.json" --only nosuch
scenario: late bad output   | folder 'missing-dir' does not exist | --scenario "$T/fx/late-bad-out.json"
TABLE
)

export LOADGEN_EMPTY_TOKEN_VAR=
LOADGEN_CRLF_TOKEN_VAR=$(printf 'abc\r\ndef') && export LOADGEN_CRLF_TOKEN_VAR

touch "$T/fx/stamp"
sleep 0.01
i=0
while IFS='|' read -r name want args; do
  name=$(echo "$name" | sed 's/ *$//'); want=$(echo "$want" | sed 's/^ *//; s/ *$//')
  [ -z "$name" ] && continue
  i=$((i + 1))
  prefix=()
  # Under make valgrind, the rows that get past the flags (files, folders,
  # scenarios, limits) run under memcheck: they allocate the most.
  if [ "${LOADGEN_VALGRIND:-0}" = 1 ]; then
    case "$name" in images*|scenario*|*limit*|bearer*|out:*|json:*|body-file*|cacert*)
      prefix=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99) ;;
    esac
  fi
  case "$name" in *read-only*|*unreadable*)
    if [ $PERM_OK = 0 ]; then ok "bad input: $name # SKIP cannot drop root's file-mode override here"; continue; fi
    prefix=("${NODAC[@]}" "${prefix[@]}") ;;
  esac
  eval "set -- $args"
  eval "want=\"$want\""
  dir=$T/case$i
  mkdir -p "$dir/out"
  own_out=0
  case " $* " in *" --out "*|*" --scenario "*) own_out=1 ;; esac
  before=$(wc -l <"$NGINX_LOG")
  if [ $own_out = 1 ]; then
    (cd "$dir" && timeout 20 "${prefix[@]}" "$LOADGEN" "$@" -q >"$T/stdout" 2>"$T/stderr")
  else
    (cd "$dir" && timeout 20 "${prefix[@]}" "$LOADGEN" "$@" -q --out "$dir/out/s.csv" >"$T/stdout" 2>"$T/stderr")
  fi
  rc=$?
  sleep 0.05
  after=$(wc -l <"$NGINX_LOG")
  problems=()
  [ "$rc" = 2 ] || problems+=("exit $rc, want 2")
  [ "$(wc -l <"$T/stderr")" = 1 ] || problems+=("stderr has $(wc -l <"$T/stderr") lines")
  head -1 "$T/stderr" | grep -q '^loadgen: ' || problems+=("stderr does not start 'loadgen: '")
  grep -qF -- "$want" "$T/stderr" || problems+=("error does not name '$want'")
  [ -s "$T/stdout" ] && problems+=("stdout not empty: $(head -c 200 "$T/stdout")")
  files=$(find "$dir" "$T/fx" -newer "$T/fx/stamp" -type f 2>/dev/null | head -3)
  [ -n "$files" ] && problems+=("left files: $files")
  [ "$before" = "$after" ] || problems+=("$((after - before)) requests were sent")
  if [ ${#problems[@]} -eq 0 ]; then
    ok "bad input: $name"
  else
    fail "bad input: $name" "$(IFS=';'; echo "${problems[*]}") [stderr: $(head -c 300 "$T/stderr" | tr '\n' ' ')]"
  fi
done <<<"$CASES"

# The fd-limit message says how to raise the limit.
(cd "$T" && "$LOADGEN" --url "$URL" --threads "$TOO_MANY" --no-out -q 2>"$T/stderr" >/dev/null)
check "threads over the fd limit: the message says how to raise it" grep -qi "ulimit\|LimitNOFILE" "$T/stderr"

# A good run after all that: the fixtures really are the only problem.
(cd "$T" && "$LOADGEN" --url "$URL" -c 2 -n 10 --synthetic 5 --no-out -q >/dev/null 2>&1)
expect_eq "a good run against the same server still exits 0" "$?" 0
chmod 755 "$T/fx/unreadable"
