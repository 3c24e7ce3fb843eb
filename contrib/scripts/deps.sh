#!/bin/sh
# Install what dundid needs to build and test on Debian 12 (run as root).
set -eu
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: run as root (sudo) to install packages" >&2
    exit 1
fi
pkgs="build-essential cmake pkg-config clang libclang-rt-14-dev
      libevent-dev libssl-dev zlib1g-dev libpcap-dev libmariadb-dev
      mariadb-server python3 openssl sip-tester systemd man-db groff-base nftables iproute2"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
