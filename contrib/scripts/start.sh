#!/bin/sh
# Install what building and running needs (deps.sh run: no test tools),
# build, and run dundid in the foreground with the default configuration
# (conf/dundid.conf). Ctrl-C stops it. As root, or with sudo.
set -eu
cd "$(dirname "$0")/../.."
contrib/scripts/deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
mkdir -p /var/lib/dundid /run/dundid  # the state file and the control socket (dundictl)
exec build/dundid -f -c conf/dundid.conf
