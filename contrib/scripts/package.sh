#!/bin/sh
# Build the Debian package: contrib/scripts/package.sh [BUILD_DIR [VERSION]]
# (default build-deb/, version from CMakeLists.txt with Debian revision 1).
# Prints the path of the .deb on its last line. Needs deps.sh run (dpkg-dev
# comes with build-essential); no root needed.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-deb}
version=${2:-}
# Debian's hardening flags (fortify, stack protector, relro, bindnow).
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS) -Wl,-z,now"
export CFLAGS LDFLAGS
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=None -DDUNDID_DEB=ON -DCMAKE_INSTALL_PREFIX=/usr \
    -DDUNDID_SYSTEMD_UNITDIR=/lib/systemd/system ${version:+-DDUNDID_DEB_VERSION="$version"} >/dev/null
cmake --build "$build" -j"$(nproc)" --target dundid dundiq dundictl dundid-keygen deb_docs
(cd "$build" && cpack -G DEB >/dev/null)
ls -t "$build"/dundid_*.deb | head -n 1
