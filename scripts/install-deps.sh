#!/bin/sh
# scripts/install-deps.sh: the Debian packages loadgen builds, tests and
# plots with. As root it installs them with apt-get; otherwise it prints the
# exact command to run.
set -e
PKGS="build-essential pkg-config libcurl4-openssl-dev libuv1-dev libcjson-dev \
libcmocka-dev libhttp-parser-dev libjpeg-dev libnghttp2-dev nginx-light gnuplot-nox curl \
python3 python3-yaml openssl valgrind"
# make bench compares loadgen with the tools people would otherwise use.
[ "${1:-}" = "--bench" ] && PKGS="$PKGS wrk hey nghttp2-client apache2-utils linux-perf"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "loadgen: missing Debian packages; run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "loadgen: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends $missing >&2
