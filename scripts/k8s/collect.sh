#!/bin/sh
# scripts/k8s/collect.sh: wait for the pods of the loadgen Job, read each
# pod's JSON result from its log (kubectl logs) and merge them into one
# result with `loadgen merge`.
#
#   scripts/k8s/collect.sh -o results/eastus.json [--csv results/summary.csv]
#       [--context CTX]... [--namespace NS] [--timeout SECONDS] [--dir DIR]
#
# Several --context flags collect the Jobs of several clusters (client pools
# in two regions started with the same --start-at) into one merge. Each
# pod's log and result stay in DIR (default: OUTPUT without .json, plus
# .pods/), so a refused merge can be looked into. LOADGEN names the loadgen
# binary (default: loadgen on PATH, else the repository's ./loadgen).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "collect.sh: $*" >&2; exit 2; }

out="" csv="" ns="" timeout=3600 dir="" contexts=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value; see --help"
  case "$1" in
    -o|--out) out=$2 ;;
    --csv) csv=$2 ;;
    --namespace) ns=$2 ;;
    --timeout) timeout=$2 ;;
    --dir) dir=$2 ;;
    --context) contexts="$contexts $2" ;;
    *) die "unknown flag $1; see --help" ;;
  esac
  shift 2
done
[ -n "$out" ] || die "give -o MERGED.json for the merged result"
case "$timeout" in ''|*[!0-9]*) die "--timeout $timeout: write whole seconds" ;; esac
[ -n "$dir" ] || dir="${out%.json}.pods"
if [ -z "${LOADGEN:-}" ]; then
  if command -v loadgen >/dev/null 2>&1; then LOADGEN=loadgen; else LOADGEN=$here/../../loadgen; fi
fi
mkdir -p "$dir"
[ -n "$contexts" ] || contexts="-"

# kc CONTEXT ARGS...: kubectl in that context ("-": the current one)
kc() {
  c=$1; shift
  if [ "$c" = - ]; then set -- ${ns:+--namespace "$ns"} "$@"
  else set -- --context "$c" ${ns:+--namespace "$ns"} "$@"; fi
  kubectl "$@"
}

deadline=$(( $(date +%s) + timeout ))
for c in $contexts; do
  where=${c#-}; where=${where:-the current context}
  # Done when no pod is running and at least one has finished.
  while :; do
    st=$(kc "$c" get job loadgen -o 'jsonpath={.status.active}/{.status.succeeded}/{.status.failed}') ||
      die "no job loadgen in $where; start one with scripts/k8s/run.sh"
    active=${st%%/*}; rest=${st#*/}; succeeded=${rest%%/*}; failed=${rest#*/}
    if [ "${active:-0}" = 0 ] && [ $(( ${succeeded:-0} + ${failed:-0} )) -gt 0 ]; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || die "job loadgen in $where still running after $timeout s"
    sleep 5
  done
  [ "${failed:-0}" = 0 ] || echo "collect.sh: $failed pod(s) of job loadgen in $where failed; merging the others" >&2
  pods=$(kc "$c" get pods -l job-name=loadgen -o name)
  [ -n "$pods" ] || die "job loadgen in $where has no pods left (deleted after ttlSecondsAfterFinished?)"
  for p in $pods; do
    name=${p#pod/}
    [ "$c" = - ] || name="$c-$name"
    kc "$c" logs "$p" >"$dir/$name.log" 2>&1 || true
    sed -n '/^----- BEGIN LOADGEN RESULT/,/^----- END LOADGEN RESULT -----$/p' "$dir/$name.log" |
      sed '1d;$d' >"$dir/$name.json"
    if [ -s "$dir/$name.json" ]; then
      echo "collect.sh: $p ($where): $(grep -c '' "$dir/$name.json") lines of result" >&2
    else
      rm -f "$dir/$name.json"
      echo "collect.sh: $p ($where) printed no result; see $dir/$name.log" >&2
    fi
  done
done
set -- "$dir"/*.json
[ -e "$1" ] || die "no pod printed a result; see the logs in $dir"
exec "$LOADGEN" merge "$@" -o "$out" ${csv:+--csv "$csv"}
