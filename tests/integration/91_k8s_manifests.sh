#!/usr/bin/env bash
# scripts/k8s offline: the manifests parse and carry what the Job and the
# Services need; run.sh renders them; the Job's pod script, run here against
# loadgen serve, prints results that collect.sh (with a stand-in kubectl)
# reads back and merges; the Dockerfile builds with the README's install
# commands and ships the libraries the binary links.
. "$(dirname "$0")/lib.sh"
K8S=$(cd "$(dirname "$0")/../../scripts/k8s" && pwd)
ROOT=$(cd "$K8S/../.." && pwd)

if ! python3 -c 'import yaml' 2>/dev/null; then
  fail "python3 can import yaml" "install python3-yaml (scripts/install-deps.sh)"
  exit 1
fi

# yq FILE PYTHON: run PYTHON with docs = the YAML documents of FILE
yq() {
  python3 -c "
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
by = {(d['kind'], d['metadata']['name']): d for d in docs if d}
$2" "$1"
}

# 1. the Job
check "job.yaml: an Indexed batch/v1 Job, completions = parallelism, no retries" yq "$K8S/job.yaml" '
j = by[("Job", "loadgen")]; s = j["spec"]
assert j["apiVersion"] == "batch/v1", j["apiVersion"]
assert s["completionMode"] == "Indexed"
assert s["completions"] == s["parallelism"] >= 1
assert s["backoffLimit"] == 0 and s["ttlSecondsAfterFinished"] >= 3600
assert s["template"]["spec"]["restartPolicy"] == "Never"
'
check "job.yaml: the pod waits for START_AT and prints its JSON result" yq "$K8S/job.yaml" '
c = by[("Job", "loadgen")]["spec"]["template"]["spec"]["containers"][0]
script = c["args"][0]
assert c["command"] == ["/bin/sh", "-c"] and len(c["args"]) == 1
for want in ("--start-at \"$START_AT\"", "--json /tmp/result.json", "----- BEGIN LOADGEN RESULT", "----- END LOADGEN RESULT -----"):
    assert want in script, want
assert c["envFrom"][0]["configMapRef"]["name"] == "loadgen-run"
idx = [e for e in c["env"] if e["name"] == "POD_INDEX"][0]
assert idx["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.annotations[\x27batch.kubernetes.io/job-completion-index\x27]"
assert c["image"] and c["resources"]["requests"]["cpu"]
'

# 2. the scoring service
for dev in gpu cpu; do
  check "scoring-$dev.yaml: a Deployment and a LoadBalancer Service that selects its pods" yq "$K8S/scoring-$dev.yaml" "
dev = '$dev'
d = by[('Deployment', 'scoring-' + dev)]; s = by[('Service', 'scoring-' + dev)]
assert d['apiVersion'] == 'apps/v1' and s['apiVersion'] == 'v1'
labels = d['spec']['template']['metadata']['labels']
assert d['spec']['selector']['matchLabels'].items() <= labels.items()
assert s['spec']['type'] == 'LoadBalancer'
assert s['spec']['selector'].items() <= labels.items()
ports = {p['name']: p['containerPort'] for p in d['spec']['template']['spec']['containers'][0]['ports']}
for p in s['spec']['ports']:
    assert p['targetPort'] in ports or p['targetPort'] in ports.values(), p
"
done
check "scoring-gpu.yaml: one GPU per pod; scoring-cpu.yaml: the study's 35 pods" python3 -c '
import sys, yaml
g = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d["kind"] == "Deployment"][0]
c = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d["kind"] == "Deployment"][0]
assert g["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
assert c["spec"]["replicas"] == 35
assert "nvidia.com/gpu" not in str(c)
' "$K8S/scoring-gpu.yaml" "$K8S/scoring-cpu.yaml"

# 3. run.sh --print: the ConfigMap holds every variable the pod script reads
"$K8S/run.sh" --print --url http://10.1.2.3/score --pods 7 --threads 25 -n 1000 --label gpu-1 \
  --region eastus --image registry.example/loadgen:1 --start-at 1800000000 -- --warmup 50 \
  >"$T/rendered.yaml" 2>"$T/run.err"
expect_eq "run.sh --print: exit 0" "$?" 0
check "run.sh --print: ConfigMap + Job with 7 pods, the image and the start time" yq "$T/rendered.yaml" '
import re
cm = by[("ConfigMap", "loadgen-run")]["data"]; j = by[("Job", "loadgen")]
assert j["spec"]["completions"] == j["spec"]["parallelism"] == 7
c = j["spec"]["template"]["spec"]["containers"][0]
assert c["image"] == "registry.example/loadgen:1", c["image"]
assert cm["START_AT"] == "1800000000" and cm["TARGET_URL"] == "http://10.1.2.3/score"
assert cm["REGION"] == "eastus" and cm["EXTRA_ARGS"] == "--warmup 50"
used = set(re.findall(r"\$([A-Z_]+)", c["args"][0])) - {"POD_INDEX"}
assert used == set(cm), (sorted(used), sorted(cm))
'
"$K8S/run.sh" --print --pods 0 --url http://x/score >/dev/null 2>"$T/run.err"
expect_eq "run.sh: --pods 0 is refused (exit 2)" "$?" 2

# 4. the pod script for real: two "pods" against loadgen serve, their logs
# read back by collect.sh through a stand-in kubectl, then merged
start_serve --model zero
mkdir -p "$T/bin" "$T/logs"
ln -s "$LOADGEN" "$T/bin/loadgen"
"$K8S/run.sh" --print --url "http://127.0.0.1:$SERVE_PORT/score" --pods 2 --threads 4 -n 300 \
  --label gpu-1 --region westeurope --start-at "$(( $(date +%s) + 6 ))" -- --synthetic 20 \
  >"$T/pods.yaml"
yq "$T/pods.yaml" '
import shlex
print(" ".join(k + "=" + shlex.quote(v) for k, v in by[("ConfigMap", "loadgen-run")]["data"].items()))
' >"$T/pod.env"
yq "$T/pods.yaml" 'print(by[("Job", "loadgen")]["spec"]["template"]["spec"]["containers"][0]["args"][0])' \
  >"$T/pod.sh"
pids=()
for i in 0 1; do
  (cd "$T" && eval "export $(cat "$T/pod.env")" && PATH=$T/bin:$PATH POD_INDEX=$i \
     TMPDIR=$T sh -c "$(sed "s|/tmp/result.json|$T/result$i.json|g" "$T/pod.sh")" \
     >"$T/logs/loadgen-$i-abcde" 2>&1) &
  pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs="$rcs$?"; done
expect_eq "pod script: both pods exit 0" "$rcs" 00
check "pod script: the log holds a result between the markers" \
  grep -q '^----- BEGIN LOADGEN RESULT 1 -----$' "$T/logs/loadgen-1-abcde"

cat >"$T/bin/kubectl" <<KUBECTL
#!/bin/sh
# kubectl stand-in: the finished Job of two pods whose logs are in $T/logs
while [ "\${1#--}" != "\$1" ]; do shift 2; done
case "\$1 \$2" in
  "get job") echo "/2/" ;;
  "get pods") for f in $T/logs/*; do echo "pod/\$(basename "\$f")"; done ;;
  "logs pod/"*) cat "$T/logs/\${2#pod/}" ;;
  *) echo "kubectl stand-in: \$*" >&2; exit 1 ;;
esac
KUBECTL
chmod +x "$T/bin/kubectl"
PATH=$T/bin:$PATH LOADGEN=$LOADGEN "$K8S/collect.sh" --context eastus-aks --namespace load \
  -o "$T/k8s.json" --csv "$T/k8s.csv" >"$T/collect.out" 2>"$T/collect.err"
expect_eq "collect.sh: exit 0" "$?" 0
check "collect.sh: the merge of both pods' results, 600 requests" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); l = d["levels"][0]
assert l["requests"] == 600 and l["ok"] == 600, (l["requests"], l["ok"])
assert len(d["merged_from"]) == 2 and l["region"] == "westeurope", d["merged_from"]
' "$T/k8s.json"
expect_eq "collect.sh: two client rows and the combined row in the CSV" "$(csv_rows "$T/k8s.csv")" 3
check "collect.sh: each pod's result is kept next to the merge" \
  test -s "$T/k8s.pods/eastus-aks-loadgen-0-abcde.json"

# 5. the image: build stage = the README's install commands; the final
# stage ships exactly what the binary links, and no build tools
check "README: the set-up commands are make demo and make test" \
  grep -q '^    make test ' "$ROOT/README.md"
check "Makefile and CI install with scripts/install-deps.sh" \
  sh -c "grep -q 'scripts/install-deps.sh' '$ROOT/Makefile' && grep -q '^scripts/install-deps.sh\$' '$ROOT/.ci/run'"
python3 - "$K8S/Dockerfile" >"$T/docker.txt" <<'PY'
import re, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
stage = None
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    op, _, arg = line.partition(" ")
    if op.upper() == "FROM":
        stage = arg.split()[-1] if " AS " in arg.upper() else "final"
        print(f"{stage} FROM {arg.split()[0]}")
    else:
        print(f"{stage} {op.upper()} {' '.join(arg.split())}")
PY
expect_eq "Dockerfile: the build stage runs scripts/install-deps.sh, then make, nothing else" \
  "$(awk '$1 == "build" && $2 == "RUN" { $1 = $2 = ""; sub(/^ +/, ""); print }' "$T/docker.txt" | paste -sd ';')" \
  "scripts/install-deps.sh;make"
expect_eq "Dockerfile: build on Debian bookworm, run on bookworm-slim" \
  "$(awk '$2 == "FROM" { print $3 }' "$T/docker.txt" | paste -sd ' ')" "debian:bookworm debian:bookworm-slim"
check "Dockerfile: the final stage copies the binary from the build stage" \
  grep -q '^final COPY --from=build /src/loadgen /usr/local/bin/loadgen$' "$T/docker.txt"
runtime=$(awk '$1 == "final" && $2 == "RUN"' "$T/docker.txt" | grep -o 'install -y --no-install-recommends [^&]*' |
  cut -d' ' -f4-)
needed=""
for lib in $(objdump -p "$LOADGEN" | awk '/NEEDED/ { print $2 }'); do
  path=$(ldd "$LOADGEN" | awk -v l="$lib" '$1 == l { print $3 }')
  pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null)
  pkg=${pkg%%:*}
  case "$pkg" in libc6|libgcc-s1) continue ;; esac # in every Debian image
  # make asan/ubsan test a sanitizer build; the image ships the release one.
  case "$pkg" in libasan*|libubsan*|liblsan*|libtsan*) continue ;; esac
  needed="$needed ${pkg:-$lib?}"
done
missing=""
for p in $needed; do case " $runtime " in *" $p "*) ;; *) missing="$missing $p" ;; esac; done
expect_eq "Dockerfile: the final stage installs the package of every library loadgen links" \
  "${missing# }" ""
check "Dockerfile: no -dev package or compiler in the final stage" \
  sh -c "! echo '$runtime' | grep -qE -- '-dev( |\$)|build-essential|gcc'"
absent=""
for p in $runtime; do apt-cache show "$p" >/dev/null 2>&1 || absent="$absent $p"; done
expect_eq "Dockerfile: every runtime package exists in this Debian release" "${absent# }" ""
check "Dockerfile.dockerignore keeps the host's objects and binary out" \
  sh -c "grep -qx 'obj/' '$K8S/Dockerfile.dockerignore' && grep -qx 'loadgen' '$K8S/Dockerfile.dockerignore'"
