#!/usr/bin/env bash
# Install the servers and tools the test suite runs for real, from Debian's packages:
# Redis (broker), a JDK and Maven (to fetch and run Cassandra from Maven Central),
# Chromium (to check that the published HTML draws its charts) and CJK fonts.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v chromium >/dev/null || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
