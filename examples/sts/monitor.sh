#!/usr/bin/env bash
# The seed's flow after training, on localhost: the pipeline registers the
# model (Approved → Production), bridge run serves it with data capture,
# the test rows are sent with inference ids, their ground truth is written
# in the seed's format, and the seed's hourly model-quality schedule
# (cron(0 * ? * * *), -PT1H/-PT0H) checks the hour against the pipeline's
# baseline.
#
# Run it from an empty directory (Bridge keeps its state in ./.bridge):
#   BRIDGE=/path/to/bridge BRIDGE_PYTHON=/usr/bin/python3 /path/to/examples/sts/monitor.sh
# FLIP=1 writes wrong labels, to see CompletedWithViolations.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bridge=${BRIDGE:-bridge}
py=${BRIDGE_PYTHON:-python3}
addr=${ADDR:-127.0.0.1:8080}
rows=${ROWS:-400}

# 1. Train, evaluate and register (stsPackageGroup, Approved).
"$bridge" pipeline run "$here/pipeline.json" -p Rows="$rows"

# 2. Serve the Production version with data capture.
"$bridge" run --addr "$addr" --capture &
run_pid=$!
trap 'kill "$run_pid" 2>/dev/null || true' EXIT
url="http://$addr/stsPackageGroup/Production/invocations"
for _ in $(seq 1 120); do
  if "$py" -c "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b'{\"instances\": [[0, 0, 0, 0]]}', headers={'Content-Type': 'application/json'}), timeout=5)" "$url" 2>/dev/null; then
    break
  fi
  sleep 0.5
done

# 3. The test split, one request per row with an inference id.
"$py" "$here/code/invoke.py" "$url" .bridge/s3/bridge-sts-example/preprocess/test/test.csv labels.csv "${FLIP:-0}"
# Stopping bridge run flushes the captures to .bridge/datacapture.
kill "$run_pid"
wait "$run_pid" || true
trap - EXIT

# 4. Ground truth in the seed's format, in this hour's directory.
"$bridge" monitor ground-truth add --csv labels.csv --output .bridge/ground-truth

# 5. The pipeline's baseline dataset (prediction,label) → constraints.json.
"$bridge" monitor baseline model-quality --dataset .bridge/s3/bridge-sts-example/baseline/baseline.csv \
  --problem-type Regression --inference-attribute prediction --ground-truth-attribute label --output sts-baseline

# 6. The seed's hourly schedule; bridge run executes it at each hour. Here
# it is executed once for the end of this hour, which -PT1H/-PT0H select.
endpoint=$(ls .bridge/datacapture)
"$bridge" monitor schedule create sts-quality --cron "cron(0 * ? * * *)" --type model-quality \
  --endpoint "$endpoint" --ground-truth .bridge/ground-truth --baseline sts-baseline \
  --start-offset -PT1H --end-offset -PT0H --output reports/sts-quality
next_hour=$("$py" -c "import datetime as d; n = d.datetime.now(d.timezone.utc); print((n.replace(minute=0, second=0, microsecond=0) + d.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
"$bridge" monitor schedule run sts-quality --now "$next_hour"
