#!/usr/bin/env python3
"""cmake --install of the build tree into a DESTDIR: binaries, the
configuration, the systemd unit (naming the installed binary and file) and
the man pages land in their folders, and the installed dundid runs.

Usage: check_install.py CMAKE BUILD_DIR SBINDIR SYSCONFDIR UNITDIR MANDIR DOCDIR BINDIR
(the full, configured install folders)
"""

import os
import subprocess
import sys
import tempfile


def main():
    cmake, build, sbindir, sysconfdir, unitdir, mandir, docdir, bindir = sys.argv[1:9]
    failures = []
    with tempfile.TemporaryDirectory(prefix="dundid-install-") as dest:
        env = dict(os.environ, DESTDIR=dest)
        p = subprocess.run([cmake, "--install", build], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        if p.returncode != 0:
            print(p.stdout.decode())
            return 1

        def at(path):
            return dest + path

        expect = {
            sbindir + "/dundid": True, bindir + "/dundiq": True, bindir + "/dundid-keygen": True,
            bindir + "/dundictl": True, mandir + "/man8/dundictl.8": False,
            sysconfdir + "/dundid/dundid.conf": False,
            unitdir + "/dundid.service": False,
            docdir + "/dundid-capture.conf": False,
            mandir + "/man8/dundid.8": False, mandir + "/man8/dundid-keygen.8": False,
            mandir + "/man5/dundid.conf.5": False, mandir + "/man1/dundiq.1": False,
        }
        for path, executable in expect.items():
            if not os.path.isfile(at(path)):
                failures.append("missing %s" % path)
            elif executable and not os.access(at(path), os.X_OK):
                failures.append("not executable: %s" % path)
        # bash completion files, when the tree has some
        completion = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "completion")
        for name in os.listdir(completion) if os.path.isdir(completion) else []:
            expect[os.path.dirname(mandir) + "/bash-completion/completions/" + name] = False
        installed = set()
        for root, _, files in os.walk(dest):
            installed.update(os.path.join(root, f)[len(dest):] for f in files)
        extra = installed - set(expect)
        if extra:
            failures.append("unexpected files installed: %s" % sorted(extra))

        if os.path.isfile(at(unitdir + "/dundid.service")):
            with open(at(unitdir + "/dundid.service")) as f:
                unit = f.read()
            want = "ExecStart=%s/dundid -f -c %s/dundid/dundid.conf" % (sbindir, sysconfdir)
            if want not in unit.splitlines():
                failures.append("installed unit lacks %r" % want)
        if os.path.isfile(at(sbindir + "/dundid")):
            p = subprocess.run([at(sbindir + "/dundid"), "-V"], stdout=subprocess.PIPE, timeout=10)
            if p.returncode != 0 or not p.stdout.startswith(b"dundid "):
                failures.append("installed dundid -V: exit %d, %r" % (p.returncode, p.stdout))
    for f in failures:
        print("FAIL:", f)
    print("%d check(s) failed" % len(failures) if failures else "install OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
