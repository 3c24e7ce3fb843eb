#!/usr/bin/env python3
"""systemd-analyze verify on contrib/systemd/dundid.service, alone and with
the capture drop-in, plus the directives the service depends on.

Usage: check_unit.py SOURCE_DIR DUNDID_BINARY

systemd-analyze needs no running systemd, but it checks that ExecStart
programs exist: the copies verified here run the built binary. It exits 0
even for unknown keys, so any output at all fails the check; a copy with a
misspelt key shows that such output is seen.
"""

import os
import shutil
import subprocess
import sys
import tempfile


def verify(unit):
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace").strip()


def directives(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def main():
    src, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    if shutil.which("systemd-analyze") is None:
        sys.exit("systemd-analyze not found (contrib/scripts/deps.sh installs systemd)")
    with open(os.path.join(src, "contrib/systemd/dundid.service")) as f:
        unit = f.read()
    with open(os.path.join(src, "contrib/systemd/dundid-capture.conf")) as f:
        dropin = f.read()
    failures = []

    d = directives(unit)
    want = {"Type": ["notify"], "NotifyAccess": ["main"], "ExecReload": ["/bin/kill -HUP $MAINPID"],
            "User": ["dundid"], "Group": ["dundid"], "StateDirectory": ["dundid"], "RuntimeDirectory": ["dundid"],
            "ProtectSystem": ["strict"], "NoNewPrivileges": ["yes"], "CapabilityBoundingSet": [""],
            "AmbientCapabilities": [""]}
    for k, v in want.items():
        if d.get(k) != v:
            failures.append("dundid.service: %s=%r, want %r" % (k, d.get(k), v))
    if not d.get("WatchdogSec"):
        failures.append("dundid.service: no WatchdogSec")
    if not any(v.startswith("/usr/sbin/dundid -f ") for v in d.get("ExecStart", [])):
        failures.append("dundid.service: ExecStart must run dundid -f (Type=notify: no forking)")
    dd = directives(dropin)
    if dd.get("AmbientCapabilities") != ["CAP_NET_RAW"] or dd.get("CapabilityBoundingSet") != ["CAP_NET_RAW"]:
        failures.append("dundid-capture.conf: must grant exactly CAP_NET_RAW")
    if "AF_PACKET" not in " ".join(dd.get("RestrictAddressFamilies", [])):
        failures.append("dundid-capture.conf: must allow AF_PACKET")

    with tempfile.TemporaryDirectory(prefix="dundid-unit-") as tmp:
        plain = os.path.join(tmp, "plain")
        withcap = os.path.join(tmp, "capture")
        broken = os.path.join(tmp, "broken")
        for folder in (plain, withcap, broken):
            os.mkdir(folder)
            with open(os.path.join(folder, "dundid.service"), "w") as f:
                text = unit.replace("/usr/sbin/dundid", binary)
                if folder == broken:
                    text = text.replace("[Service]\n", "[Service]\nTyppe=notify\n", 1)
                f.write(text)
        os.mkdir(os.path.join(withcap, "dundid.service.d"))
        with open(os.path.join(withcap, "dundid.service.d", "capture.conf"), "w") as f:
            f.write(dropin)
        for folder in (plain, withcap):
            rc, out = verify(os.path.join(folder, "dundid.service"))
            if rc != 0 or out:
                failures.append("systemd-analyze verify (%s): exit %d:\n%s" % (os.path.basename(folder), rc, out))
        rc, out = verify(os.path.join(broken, "dundid.service"))
        if "Typpe" not in out:
            failures.append("a misspelt key went unnoticed (exit %d, output %r)" % (rc, out))

    for f in failures:
        print("FAIL:", f)
    print("%d check(s) failed" % len(failures) if failures else "unit OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
