#!/bin/sh
# Install the Debian 12 packages dundid needs (run as root; no sudo needed).
#   deps.sh run    what building and running needs: compiler, cmake, the -dev libraries
#   deps.sh test   that plus the test tools (clang, mariadb-server, sipp, nftables, ...)
#   deps.sh        both (what the CI installs)
set -eu
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: run as root (sudo) to install packages" >&2
    exit 1
fi
run="build-essential cmake pkg-config
     libevent-dev libssl-dev zlib1g-dev libpcap-dev libmariadb-dev"
# The sanitizer and fuzz builds (clang), the integration tests (a private
# mariadbd, sipp, nftables in a namespace, man pages, systemd-analyze), and
# the package test (cpack -G DEB needs dpkg-dev of build-essential; lintian;
# debootstrap of a Debian 12 root).
test="clang libclang-rt-14-dev mariadb-server python3 openssl sip-tester systemd man-db groff-base
      nftables iproute2 util-linux passwd lintian debootstrap galera-4 rsync"
case "${1:-all}" in
run) pkgs=$run ;;
test | all) pkgs="$run $test" ;;
*)
    echo "usage: deps.sh [run|test]" >&2
    exit 2
    ;;
esac
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
