#!/usr/bin/env bash
# Every request format against `loadgen serve` on the route that speaks it.
# The server parses each body (and answers 400 to a malformed one, 415 to a
# wrong Content-Type), so 1000 answers of 200 mean 1000 well-formed bodies.
# Then --batch 4 (images/s = 4 x requests/s), JSON templates, a corpus
# directory with a text file and a truncated JPEG, --images-list,
# --save-synthetic, and the payload errors.
. "$(dirname "$0")/lib.sh"

start_serve --fixed-latency 1ms
URL=http://127.0.0.1:$SERVE_PORT

route_of() {
  case $1 in
    json-b64) echo /score ;;
    tfserving) echo /v1/models/resnet50:predict ;;
    kserve-v2 | kserve-v2-binary) echo /v2/models/resnet50/infer ;;
    raw | multipart) echo /predictions/resnet50 ;;
  esac
}

# run_ok NAME CSV ARGS...: 1000 requests, all answered 200, one summary row
run_ok() {
  local name=$1 csv=$2; shift 2
  lg --threads 20 -n 1000 --out "$csv" -q "$@" >"$T/out.txt" 2>&1
  local rc=$?
  expect_eq "$name: exit 0" "$rc" 0
  [ "$rc" = 0 ] || sed 's/^/#   /' "$T/out.txt"
  expect_eq "$name: 1000 requests" "$(csv_col "$csv" requests)" 1000
  expect_eq "$name: 1000 ok" "$(csv_col "$csv" ok)" 1000
}

# images_per_s / throughput_rps, to 2 decimals
ratio() {
  awk -v i="$(csv_col "$1" images_per_s)" -v r="$(csv_col "$1" throughput_rps)" \
    'BEGIN { if (r > 0) printf "%.2f", i / r; else print "none" }'
}

# 1. every format, one image and four per request
for fmt in json-b64 raw multipart tfserving kserve-v2 kserve-v2-binary; do
  for batch in 1 4; do
    [ "$fmt" = raw ] && [ "$batch" = 4 ] && continue
    csv=$T/$fmt-$batch.csv
    run_ok "$fmt --batch $batch" "$csv" --url "$URL$(route_of "$fmt")" --format "$fmt" \
      --batch "$batch" --synthetic 50
    expect_eq "$fmt --batch $batch: format column" "$(csv_col "$csv" format)" "$fmt"
    expect_eq "$fmt --batch $batch: images/s = $batch x requests/s" "$(ratio "$csv")" "$batch.00"
    sent=$(csv_col "$csv" bytes_sent)
    expect_range "$fmt --batch $batch: bytes sent look like $batch JPEGs a request" \
      "$sent" $((1000 * batch * 10000)) $((1000 * batch * 80000))
  done
done

# 2. a nested --json-template, and one whose placeholder sits in a list for a batch
run_ok "json-b64 nested template" "$T/tpl.csv" --url "$URL/score" --synthetic 20 \
  --json-template '{"input": {"image": "{{b64}}"}}'
run_ok "json-b64 list template --batch 4" "$T/tpl4.csv" --url "$URL/score" --synthetic 20 \
  --json-template '{"input": {"images": ["{{b64}}"]}}' --batch 4
expect_eq "list template --batch 4: images/s = 4 x requests/s" "$(ratio "$T/tpl4.csv")" "4.00"
run_ok "kserve-v2-binary --input-name" "$T/name.csv" --url "$URL/v2/models/m/infer" \
  --format kserve-v2-binary --input-name images --synthetic 20

# 3. a corpus directory: nested JPEGs and a PNG-less mix with a text file and
#    a truncated JPEG (signature intact: sent, and the server takes it)
mkdir -p "$T/imgs"
lg --url "$URL/score" -n 5 --synthetic 6 --image-size 64x48 --save-synthetic "$T/imgs/nested" \
  --no-out -q >/dev/null 2>&1
expect_eq "--save-synthetic writes 6 files" "$(ls "$T/imgs/nested" | wc -l)" 6
check "--save-synthetic files are baseline JPEGs of 64x48" python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
sof = d.index(b"\xff\xc0")
assert d[:3] == b"\xff\xd8\xff" and d[-2:] == b"\xff\xd9", "not a whole JPEG"
assert (d[sof + 5] << 8 | d[sof + 6], d[sof + 7] << 8 | d[sof + 8]) == (48, 64), "not 64x48"
' "$T/imgs/nested/synthetic-0001.jpg"
echo "not an image" >"$T/imgs/notes.txt"
head -c 300 "$T/imgs/nested/synthetic-0002.jpg" >"$T/imgs/truncated.jpg"
run_ok "--images dir with a text file and a truncated JPEG" "$T/dir.csv" \
  --url "$URL/predictions/m" --format raw --images "$T/imgs"
check "--images: the skipped text file is reported" grep -Eq "skipped 1 |1 (other )?files? skipped" "$T/out.txt"
# 7 images in strcmp order (nested/*, then truncated.jpg; notes.txt skipped):
# request i sends image i mod 7, so the body bytes are known exactly, and
# bytes_sent is them plus the request line and headers (~150 B a request).
sizes=($(for f in "$T"/imgs/nested/*.jpg "$T/imgs/truncated.jpg"; do stat -c %s "$f"; done))
body=0
for ((i = 0; i < 1000; i++)); do body=$((body + sizes[i % 7])); done
expect_range "--images: bytes sent = the 7 images in turn (truncated one included) + headers" \
  "$(($(csv_col "$T/dir.csv" bytes_sent) - body))" $((1000 * 80)) $((1000 * 400))
run_ok "--images dir, multipart --batch 4 --shuffle" "$T/dirm.csv" \
  --url "$URL/predictions/m" --format multipart --images "$T/imgs" --batch 4 --shuffle --seed 3

# 4. --images-list: comments, blank lines, paths relative to the current directory
(
  cd "$T/imgs" || exit 1
  printf '# two images\n\nnested/synthetic-0003.jpg\n  nested/synthetic-0004.jpg  \n' >list.txt
  run_ok "--images-list" "$T/list.csv" --url "$URL/v1/models/m:predict" --format tfserving \
    --images-list list.txt
)

# 5. errors: one line naming the input and the fix, exit 2
err_case() {
  local name=$1 want=$2; shift 2
  lg --url "$URL/score" -n 10 --no-out -q "$@" >"$T/err.txt" 2>&1
  local rc=$?
  expect_eq "$name: exit 2" "$rc" 2
  check "$name: says '$want'" grep -qF -- "$want" "$T/err.txt"
}
err_case "raw --batch 4" "format raw sends one image per request" --format raw --batch 4 --synthetic 5
err_case "template without {{b64}}" "no {{b64}} placeholder" --json-template '{"input": "x"}' --synthetic 5
err_case "template batch outside a list" "inside a list" \
  --json-template '{"input": {"image": "{{b64}}"}}' --batch 2 --synthetic 5
mkdir -p "$T/empty"
err_case "--images empty folder" "the folder is empty" --images "$T/empty"
err_case "--images missing folder" "$T/nope: no such directory" --images "$T/nope"
err_case "--images only text" "no JPEG or PNG files (1 other file skipped)" \
  --images "$(mkdir -p "$T/txt" && echo hi >"$T/txt/a.txt" && echo "$T/txt")"
