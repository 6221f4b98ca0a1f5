#!/usr/bin/env bash
# Runs Bridge's benchmarks and prints them as a Markdown table.
#
#   scripts/bench.sh                     # every benchmark in the tree
#   scripts/bench.sh ./internal/plan/    # one package
#   BENCH='Router' scripts/bench.sh ./internal/target/local/
#
# BENCH is the -bench pattern (default .), BENCHTIME the -benchtime (default 1x
# for end-to-end benchmarks that size themselves; set e.g. 2s for micro ones).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1x}" -benchmem -count 1 "${pkgs[@]}" | tee "$out" >&2
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
