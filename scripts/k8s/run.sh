#!/bin/sh
# scripts/k8s/run.sh: start P loadgen pods against one endpoint, all
# sending their first request at the same wall-clock time.
#
#   scripts/k8s/run.sh --url http://IP/score --pods 4 --threads 25 -n 1000 \
#       --label gpu-1 --region eastus --image REGISTRY/loadgen:TAG [--context CTX]
#
# Writes the ConfigMap loadgen-run (the run's settings) and the Indexed Job
# loadgen (job.yaml, with completions = parallelism = --pods and the
# image), then returns; scripts/k8s/collect.sh waits for the pods, reads
# their results and merges them. --print writes the manifests to stdout and
# touches no cluster. Two client pools (e.g. two regions' clusters) started
# with the same --start-at run at the same time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "$0"
  cat <<'USAGE'
Flags:
  --url URL          the endpoint (required)
  --pods P           loadgen pods, all at once (default 4)
  --threads N        requests in flight per pod (default 25)
  -n, --requests N   requests per pod and level (default 1000)
  --label L --region R --model M   written into every result
  --image IMAGE      the loadgen image (default loadgen:latest)
  --start-at T       Unix time of the first request (default: now + --lead)
  --lead S           seconds from now to the start, time enough to pull the
                     image and schedule every pod (default 120)
  --context CTX, --namespace NS   kubectl's
  --print            write the manifests to stdout instead of applying them
  -- ARGS...         more loadgen flags for every pod (no spaces inside one)
USAGE
}

die() { echo "run.sh: $*" >&2; exit 2; }

url="" pods=4 threads=25 requests=1000 label="" region="" model="" image="loadgen:latest"
start_at="" lead=120 print=0 extra=""
ctx="" ns=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --print) print=1; shift; continue ;;
    --) shift; extra="$*"; break ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value; see --help"
  case "$1" in
    --url) url=$2 ;;
    --pods) pods=$2 ;;
    --threads) threads=$2 ;;
    -n|--requests) requests=$2 ;;
    --label) label=$2 ;;
    --region) region=$2 ;;
    --model) model=$2 ;;
    --image) image=$2 ;;
    --start-at) start_at=$2 ;;
    --lead) lead=$2 ;;
    --context) ctx=$2 ;;
    --namespace) ns=$2 ;;
    *) die "unknown flag $1; see --help" ;;
  esac
  shift 2
done
[ -n "$url" ] || die "give --url http://IP/score (kubectl get service scoring-gpu shows the IP)"
case "$pods" in ''|*[!0-9]*|0) die "--pods $pods: write a whole number of pods, 1 or more" ;; esac
case "$lead" in ''|*[!0-9]*) die "--lead $lead: write whole seconds" ;; esac
[ -n "$start_at" ] || start_at=$(( $(date +%s) + lead ))

# YAML double-quoted scalar: escape backslashes and quotes.
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

render() {
  cat <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: loadgen-run
  labels:
    app: loadgen
data:
  TARGET_URL: $(q "$url")
  THREADS: $(q "$threads")
  REQUESTS: $(q "$requests")
  START_AT: $(q "$start_at")
  LABEL: $(q "$label")
  REGION: $(q "$region")
  MODEL: $(q "$model")
  EXTRA_ARGS: $(q "$extra")
---
YAML
  sed -e "s|^  completions: [0-9]*\$|  completions: $pods|" \
      -e "s|^  parallelism: [0-9]*\$|  parallelism: $pods|" \
      -e "s|^          image: .*\$|          image: $image|" "$here/job.yaml"
}

if [ "$print" = 1 ]; then
  render
  exit 0
fi
kc() { kubectl ${ctx:+--context "$ctx"} ${ns:+--namespace "$ns"} "$@"; }
if kc get job loadgen >/dev/null 2>&1; then
  die "a job loadgen exists already; collect its results (scripts/k8s/collect.sh) and delete it (kubectl delete job loadgen) first"
fi
render | kc apply -f -
echo "run.sh: $pods pods start at $start_at ($(( start_at - $(date +%s) )) s from now);" \
  "then: scripts/k8s/collect.sh${ctx:+ --context $ctx}${ns:+ --namespace $ns} -o RESULT.json" >&2
