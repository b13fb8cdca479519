#!/usr/bin/env bash
# The long fuzz run (docs/TESTING.md): each target in turn for <seconds> (default 600), one at a time
# and niced, going on past crashes (-fork=1 -ignore_crashes=1) so that one known bug does not end the
# run; then prints per target how far it got and, for every input that crashed, the first error line.
#   tests/fuzz/long_run.sh [seconds] [target...]   after: cmake --preset fuzz && cmake --build --preset fuzz
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json_rpc http_request sse sql_guard cron sigv4 extract)
work=${FUZZ_WORK:-$root/build/fuzz/fuzz-long}

for t in "${targets[@]}"; do
  bin="$root/build/fuzz/${t}_fuzz"
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  nice "$bin" -fork=1 -ignore_crashes=1 -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/$t/" "$work/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1 || true
  echo "== $t: $(grep -E '^#[0-9]+: cov:' "$work/$t.log" | tail -1)"
  echo "   corpus: $(find "$work/corpus/$t" -type f | wc -l) inputs"
  for crash in "$work/artifacts/$t"/*; do
    [ -e "$crash" ] || continue
    line=$("$bin" "$crash" 2>&1 | grep -E 'fuzz property broken|runtime error|ERROR: (Address|Leak)Sanitizer|ERROR: libFuzzer' |
      head -1 | sed -E 's/0x[0-9a-f]+//g' || true)
    echo "${line:-(no error on replay: $crash)}"
  done | sort | uniq -c | sed 's/^/   crashes: /'
done
