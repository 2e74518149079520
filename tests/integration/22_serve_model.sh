#!/usr/bin/env bash
# loadgen serve's queueing model, measured with loadgen: one client sees a
# GPU replica's base + per_image; two replicas at 50 threads give 1.6x to
# 2.0x one; GPU throughput rises with concurrency, then flattens at
# --max-batch; a CPU replica's cores each serve one request; the study's
# gpu-1 beats cpu-35; thousands of connections are held at once.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")/../.." && pwd)
# profile MODEL DEVICE FIELD: a number from scenarios/profiles.json
profile() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["models"][sys.argv[2]][sys.argv[3]][sys.argv[4]])' \
    "$here/scenarios/profiles.json" "$@"
}
# measure NAME ARGS...: loadgen against /score of the last serve
measure() {
  local name=$1; shift
  lg --url "http://127.0.0.1:$SERVE_PORT/score" --synthetic 20 --out "$T/$name.csv" -q "$@" >"$T/$name.out" 2>&1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# One client: nothing to batch with, so each request is one batch of one.
start_serve --model resnet50 --device gpu
want=$(awk -v b="$(profile resnet50 gpu base_ms)" -v p="$(profile resnet50 gpu per_image_ms)" 'BEGIN { print b + p }')
measure t1 -c 1 -n 200 --warmup 10
p50=$(csv_col "$T/t1.csv" lat_p50_ms)
timing_range "resnet50 gpu, --threads 1: p50 = base + per_image ($want ms) within 5%" "$p50" \
  "$(awk -v w="$want" 'BEGIN { print w }')" "$(awk -v w="$want" 'BEGIN { print w * 1.05 }')"

# Round-robin replicas: at 50 threads each of 2 replicas batches 25.
measure r1 -c 50 -n 3000 --warmup 200
start_serve --model resnet50 --device gpu --replicas 2
measure r2 -c 50 -n 3000 --warmup 200
timing_range "resnet50 gpu, 50 threads: 2 replicas / 1 replica throughput" \
  "$(ratio "$(csv_col "$T/r2.csv" throughput_rps)" "$(csv_col "$T/r1.csv" throughput_rps)")" 1.6 2.0

# Throughput rises with concurrency while batches fill, then flattens.
start_serve --model resnet50 --device gpu --max-batch 16
for c in 1 8 16 64; do measure b$c -c $c -n $((c * 20 + 40)) --warmup $c; done
x1=$(csv_col "$T/b1.csv" throughput_rps); x8=$(csv_col "$T/b8.csv" throughput_rps)
x16=$(csv_col "$T/b16.csv" throughput_rps); x64=$(csv_col "$T/b64.csv" throughput_rps)
timing_range "gpu: 8 threads / 1 thread throughput (batches fill)" "$(ratio "$x8" "$x1")" 4 8
timing_range "gpu: 16 / 8 threads (still rising)" "$(ratio "$x16" "$x8")" 1.3 2
timing_range "gpu --max-batch 16: 64 / 16 threads (flat)" "$(ratio "$x64" "$x16")" 0.85 1.15

# A CPU replica with 4 cores: 4 requests at a time, each per_image long.
start_serve --model mobilenet_v2 --device cpu --cores 4
per=$(profile mobilenet_v2 cpu per_image_ms)
measure c4 -c 4 -n 60
measure c8 -c 8 -n 60
timing_range "cpu --cores 4, 4 threads: p50 near per_image ($per ms, jitter 25%)" \
  "$(csv_col "$T/c4.csv" lat_p50_ms)" "$(awk -v p="$per" 'BEGIN { print p * 0.8 }')" "$(awk -v p="$per" 'BEGIN { print p * 1.25 }')"
timing_range "cpu --cores 4: 8 threads queue, throughput as 4" \
  "$(ratio "$(csv_col "$T/c8.csv" throughput_rps)" "$(csv_col "$T/c4.csv" throughput_rps)")" 0.85 1.2

# The study's headline at 50 threads, MobileNetV2: gpu-1 several times cpu-35
# (the model gives 4.9x; a busy client machine adds its own turnaround).
start_serve --model mobilenet_v2 --device cpu --replicas 35
measure cpu35 -c 50 -n 800 --warmup 100
start_serve --model mobilenet_v2 --device gpu --replicas 1
measure gpu1 -c 50 -n 3000 --warmup 200
timing_range "mobilenet_v2, 50 threads: gpu-1 / cpu-35 throughput" \
  "$(ratio "$(csv_col "$T/gpu1.csv" throughput_rps)" "$(csv_col "$T/cpu35.csv" throughput_rps)")" 3.5 5.5

# Many connections at once, each kept alive.
start_serve --model zero
measure many -c 2000 -n 6000 --timeout 60s
expect_eq "2000 connections at once: every request ok" "$(csv_col "$T/many.csv" ok)" 6000
