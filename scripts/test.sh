#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit, transcripts and integration
# (real mcpd processes, the official TypeScript SDK client, MCP Inspector, both official
# conformance suites), first on the release build, then on the asan+ubsan build; then a short run of
# every fuzz target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" --test-tools
jobs=$(nproc)

"$root/scripts/build.sh" release
(cd build/release && ctest -j"$jobs" --output-on-failure --timeout 900)

"$root/scripts/build.sh" asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd build/asan && ctest -j"$jobs" --output-on-failure --timeout 900)

# Fuzzing with clang's libFuzzer: each target replays its regressions, then fuzzes for 30 s from its
# starting corpus (docs/TESTING.md has the long runs).
"$root/scripts/build.sh" fuzz
(cd build/fuzz && ctest -j2 -L fuzz --output-on-failure)
