#!/usr/bin/env bash
# Runs one fuzz target: replays its regressions (inputs that once broke it), then fuzzes for a while
# from its starting corpus (tests/fuzz/corpus/<target>). A crash, a leak, undefined behaviour or a
# broken property fails the run and leaves the input under <work>/artifacts/<target>/.
#   run_fuzz.sh <fuzz binary> <target> <seconds> <work dir> [more libFuzzer flags]
set -euo pipefail
bin=$1 target=$2 seconds=$3 work=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
flags=(-timeout=25 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/$target/")

regressions=("$here/regressions/$target"/*)
if [ -e "${regressions[0]}" ]; then
  echo "replaying ${#regressions[@]} regression input(s) of $target"
  "$bin" "${flags[@]}" "${regressions[@]}"
fi
# New inputs go to the first folder (the build's); the starting corpus in the source tree is only read.
exec "$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 "$@" \
  "$work/corpus/$target" "$here/corpus/$target"
