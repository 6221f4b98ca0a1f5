#!/usr/bin/env bash
# Runs Bridge's benchmarks and prints them as a Markdown table.
#
#   scripts/bench.sh                                   # the suite below (the README's table)
#   scripts/bench.sh ./internal/plan/                  # every benchmark of some packages
#   BENCH=Router BENCHTIME=1x scripts/bench.sh ./internal/target/local/
#
# Benchmarks that compare two things (router vs plain net/http, capture on vs
# off, Python direct vs through Bridge vs native, the monitor vs pandas +
# scikit-learn) measure both sides in the same run and report the ratio
# themselves. BenchmarkCaptureUnderLoad runs two bridge run processes and
# loads them with wrk (apt-get install wrk); BenchmarkMonitorVsPandas needs
# a Python with pandas and scikit-learn (BRIDGE_PYTHON=/usr/bin/python3). Raw `go test` output goes to
# stderr; the table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

# package | -bench pattern | -benchtime
suite=(
  "./internal/plan/|^BenchmarkPlan$|2s"
  "./internal/model/|^BenchmarkDesiredFrom$|2s"
  "./internal/reconcile/|^BenchmarkNoChangePass$|30x"
  "./internal/bridgerun/|^BenchmarkRegistryChangeToServing$|1x"
  "./internal/e2e/|^BenchmarkRSS100Models$|1x"
  "./internal/target/local/|^BenchmarkRouterVsPlain$|1x"
  "./internal/registry/store/|^BenchmarkCreateModelVersion$|5000x"
  "./internal/registry/store/|^BenchmarkVersions10k$|50x"
  "./internal/registry/mlflowapi/|.|1000x"
  "./internal/e2e/|^BenchmarkPythonServing$|1x"
  "./internal/e2e/|^BenchmarkTreeServing$|1x"
  "./internal/e2e/|^BenchmarkCaptureOverhead$|1x"
  "./cmd/bridge/|^BenchmarkCaptureUnderLoad$|1x"
  "./internal/monitor/|^BenchmarkMonitorRun$|3x"
  "./internal/monitor/|^BenchmarkMonitorVsPandas$|1x"
  "./internal/capture/|^BenchmarkParseLine$|1000000x"
  "./internal/target/local/|^BenchmarkHandler$|200000x"
  "./internal/target/sagemaker/|^BenchmarkObserve$|10x"
  "./internal/registry/sagemaker/|^BenchmarkPackagePass$|20x"
  "./internal/ui/|^BenchmarkOverview1000Endpoints$|50x"
  "./cmd/bridge/|^BenchmarkPipelineExample$|3x"
)
if [ $# -gt 0 ]; then
  suite=()
  for p in "$@"; do suite+=("$p|${BENCH:-.}|${BENCHTIME:-1x}"); done
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for row in "${suite[@]}"; do
  IFS='|' read -r pkg pattern benchtime <<<"$row"
  go test -run '^$' -bench "$pattern" -benchtime "$benchtime" -benchmem -count 1 "$pkg" | tee -a "$out" >&2
done

echo
echo "| package | benchmark | figures |"
echo "|---|---|---|"
awk '
/^pkg: / { pkg = $2; sub(/^github.com\/bridgeops\/bridge\//, "", pkg) }
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  figs = ""
  for (i = 3; i + 1 <= NF; i += 2) {
    if ($(i+1) == "B/op" || $(i+1) == "allocs/op") continue
    figs = figs (figs == "" ? "" : ", ") $i " " $(i+1)
  }
  printf "| %s | %s | %s |\n", pkg, name, figs
}' "$out"
