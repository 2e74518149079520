#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET...]: build and run the libFuzzer targets.
#
# Each tests/fuzz/fuzz_NAME.c (or only the NAMEs given) is built with
# clang -fsanitize=fuzzer,address,undefined -DLOADGEN_LIBFUZZER together
# with the harness sources named on its "fuzz-sources:" line (all of
# harness/ but main.c when it has none), then run for ${FUZZ_SECONDS:-60} s
# on tests/fuzz/corpus/NAME/. The seed corpus in git is only read: inputs
# the fuzzer finds go to obj/fuzz/NAME.corpus/, crashes to
# obj/fuzz/NAME-crash-*. A crashing input belongs in the seed corpus once
# the bug is fixed. Exits non-zero when any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-60}
out=obj/fuzz
pkgs="libcurl libuv libcjson libprotobuf-c libnghttp2"
# The protobuf-c code that targets name on their fuzz-sources line.
make --no-print-directory -s VARIANT=release gen
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -Wshadow \
-Wno-unused-parameter -Iharness -Iobj/release/gen $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lhttp_parser -ljpeg -lpthread -lm"
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

targets=()
if [ $# -gt 0 ]; then
  for name in "$@"; do targets+=("tests/fuzz/fuzz_${name#fuzz_}.c"); done
else
  targets=(tests/fuzz/fuzz_*.c)
fi

mkdir -p "$out"
failed=()
for src in "${targets[@]}"; do
  name=$(basename "$src" .c)
  corpus=tests/fuzz/corpus/${name#fuzz_}
  sources=$(sed -n 's/^ \* fuzz-sources:\(.*\)$/\1/p' "$src")
  if [ -z "$sources" ]; then
    sources=$(ls harness/*.c harness/serve/*.c | grep -v '^harness/main\.c$')
  fi
  echo "fuzz: building $name ($sources)"
  # shellcheck disable=SC2086 # flag and source lists are meant to split
  clang $cflags $san -DLOADGEN_LIBFUZZER -o "$out/$name" "$src" $sources $libs
  mkdir -p "$out/$name.corpus" "$corpus"
  echo "fuzz: running $name for ${secs}s on $corpus"
  # The first directory receives new inputs; the seed corpus is read only.
  if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/$name-" \
      "$out/$name.corpus" "$corpus" >"$out/$name.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)' \
      "$out/$name.log" | sed "s/^/fuzz: $name: /" || true
  else
    tail -n 40 "$out/$name.log"
    echo "fuzz: $name FAILED; crashing input: $(ls "$out/$name"-crash-* "$out/$name"-leak-* \
      "$out/$name"-timeout-* "$out/$name"-oom-* 2>/dev/null | tr '\n' ' ')"
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets ran ${secs}s without a finding"
