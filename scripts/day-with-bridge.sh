#!/usr/bin/env bash
# The README's "A day with Bridge", run as written from the current
# directory with the default settings (home ./.bridge): bridge run in the
# background, a scikit-learn churn model registered and put in Production, a
# second version registered (the Latest endpoint moves to it) and promoted.
# Each step checks what the README says it shows; the script exits non-zero
# at the first step that does not.
#
#   scripts/day-with-bridge.sh            # trains two models with scripts/train_churn.py
#   scripts/day-with-bridge.sh V1 V2      # or registers these MLflow model directories
#
# BRIDGE   the bridge command (default: bridge on PATH; see the README's install section)
# PYTHON   the interpreter that trains the models (default: the first of
#          python3, /usr/bin/python3 that imports sklearn)
# PORT, REGISTRY_ADDR   router port and registry address (defaults 3000 and
#          127.0.0.1:5000; the tests pick free ones)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BRIDGE=${BRIDGE:-bridge}
PORT=${PORT:-3000}
export PORT
run_flags=()
models_flags=()
if [ -n "${REGISTRY_ADDR:-}" ]; then
  run_flags=(--registry-addr "$REGISTRY_ADDR")
  models_flags=(--registry "http://$REGISTRY_ADDR")
fi
router="http://127.0.0.1:$PORT"
timeout_s=${DAY_TIMEOUT_S:-120}

exec 3>&2 # the script's stderr, also inside checks whose output is hidden
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'day-with-bridge: %s\n' "$*" >&3; exit 1; }
models() { "$BRIDGE" models "${models_flags[@]}" "$@"; }

# until DESC CMD...: runs CMD until it succeeds or the deadline passes.
until_ok() {
  local desc=$1; shift
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for: $desc"
    kill -0 "$run_pid" 2>/dev/null || { cat bridge-run.log >&3; fail "bridge run exited while waiting for: $desc"; }
    sleep 0.2
  done
}

# version_state N: the bridge_deploy_state tag of churn version N.
version_state() {
  models show churn | awk -v v="$1" '$1 == v { for (i = 1; i <= NF; i++) if ($i ~ /^bridge_deploy_state=/) { sub(/^bridge_deploy_state=/, "", $i); print $i } }'
}
deployed() {
  local s; s=$(version_state "$1")
  [ "$s" = FAILED ] && { models show churn >&3; fail "churn version $1 FAILED"; }
  [ "$s" = DEPLOYED ]
}
answers_with_version() { # URL VERSION
  curl -sf -o /dev/null -D - "$1" -H 'Content-Type: application/json' -d "$body" | tr -d '\r' | grep -qix "x-bridge-model-version: $2"
}
body='{"dataframe_split": {"columns": ["tenure", "charges"], "data": [[12, 70.5]]}}'

if [ $# -ge 2 ]; then
  v1_dir=$1 v2_dir=$2
else
  if [ -z "${PYTHON:-}" ]; then
    for p in python3 /usr/bin/python3; do
      if command -v "$p" >/dev/null && "$p" -c 'import sklearn' 2>/dev/null; then PYTHON=$p; break; fi
    done
  fi
  [ -n "${PYTHON:-}" ] || fail "no Python with scikit-learn to train the example models (apt-get install python3-sklearn, or set PYTHON)"
  step "train two churn models with $PYTHON"
  "$PYTHON" "$here/train_churn.py" model-v1 1
  "$PYTHON" "$here/train_churn.py" model-v2 2
  v1_dir=./model-v1 v2_dir=./model-v2
fi

step "bridge run &"
"$BRIDGE" run "${run_flags[@]}" >bridge-run.log 2>&1 &
run_pid=$!
trap 'kill -INT "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true' EXIT
until_ok "the router on $router" curl -sf "$router/ping"
until_ok "the registry" models list

step "bridge models create churn"
models create churn

step "bridge models add-version churn $v1_dir"
v=$(models add-version churn "$v1_dir")
[ "$v" = 1 ] || fail "add-version printed $v, want 1"

step "bridge models transition churn 1 Production"
models transition churn 1 Production
until_ok "churn 1 DEPLOYED" deployed 1
until_ok "Production answering with version 1" answers_with_version "$router/churn/Production/invocations" 1

step "curl $router/churn/Production/invocations"
curl -sf "$router/churn/Production/invocations" -H 'Content-Type: application/json' -d "$body" | tee /dev/stderr | grep -q '"predictions"' \
  || fail "no predictions from churn/Production"

step "bridge models show churn"
models show churn

step "bridge models add-version churn $v2_dir   (the Latest endpoint moves to it)"
v=$(models add-version churn "$v2_dir")
[ "$v" = 2 ] || fail "add-version printed $v, want 2"
until_ok "churn 2 DEPLOYED on Latest" deployed 2
until_ok "Latest answering with version 2" answers_with_version "$router/churn/Latest/invocations" 2

step "bridge models transition churn 2 Production --archive-existing"
models transition churn 2 Production --archive-existing
until_ok "Production answering with version 2" answers_with_version "$router/churn/Production/invocations" 2
until_ok "churn 2 DEPLOYED on Production" deployed 2

step "bridge status"
"$BRIDGE" status

step "stop bridge run"
kill -INT "$run_pid"
wait "$run_pid" || fail "bridge run exited with status $? on Ctrl-C"
trap - EXIT
echo "A day with Bridge: done"
