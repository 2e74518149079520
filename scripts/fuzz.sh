#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET...]: build and run the libFuzzer targets.
#
# Each tests/fuzz/fuzz_NAME.c (or only the NAMEs given) is built with
# clang -fsanitize=fuzzer,address,undefined -DLOADGEN_LIBFUZZER against the
# whole library (obj/libfuzzer/libloadgen.a), then run for ${FUZZ_SECONDS:-60} s
# on tests/fuzz/corpus/NAME/. The seed corpus in git is only read: inputs
# the fuzzer finds go to obj/fuzz/NAME.corpus/, crashes to
# obj/fuzz/NAME-crash-*. A crashing input belongs in the seed corpus once
# the bug is fixed. Exits non-zero when any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-60}
out=obj/fuzz
pkgs="libcurl libuv libcjson libprotobuf-c libnghttp2"
# The whole library, built by the Makefile with clang and the sanitizers
# (fuzzer-no-link: coverage without libFuzzer's main); each target links
# against it as the replay build of make test does against the release one.
lib=obj/libfuzzer/libloadgen.a
make --no-print-directory -s VARIANT=libfuzzer CC=clang CFLAGS="-g -O1 -fno-omit-frame-pointer" \
  SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" "$lib" ||
  { echo "fuzz: the library does not build with clang" >&2; exit 1; }
# The Makefile's warnings and defines (fuzz_cli includes cli.c, which prints
# the release and the commit).
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -Wshadow \
-Wno-unused-parameter -Wno-missing-field-initializers -Iharness -Iobj/libfuzzer/gen $(pkg-config --cflags $pkgs) \
-DLOADGEN_VERSION=\"$(cat VERSION)\" -DLOADGEN_BUILD=\"$(git describe --always --dirty 2>/dev/null || echo unknown)\" \
-DLOADGEN_DATADIR=\"/usr/local/share/loadgen\""
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
  echo "fuzz: building $name"
  # shellcheck disable=SC2086 # the flag lists are meant to split
  clang $cflags $san -DLOADGEN_LIBFUZZER -o "$out/$name" "$src" "$lib" $libs || { failed+=("$name (build)"); continue; }
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
