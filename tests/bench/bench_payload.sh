#!/usr/bin/env bash
# tests/bench/bench_payload.sh: bench_payload for every image format, 1000
# synthetic images at 224x224 (~23 KB each) and at 480x480 (~100 KB each).
# Run from the repository root; builds obj/bench_payload first.
set -eu
mkdir -p obj
cc -std=c11 -D_GNU_SOURCE -O2 -Iharness tests/bench/bench_payload.c harness/corpus.c \
  harness/payload.c harness/base64.c -o obj/bench_payload -ljpeg -lcjson -lm
for size in 224x224 480x480; do
  for fmt in json-b64 raw multipart tfserving kserve-v2 kserve-v2-binary; do
    obj/bench_payload "$fmt" 1000 "$size" 1
  done
  obj/bench_payload tfserving 1000 "$size" 4
done
