#!/usr/bin/env python3
"""The Debian package on a fresh Debian 12 root: build two versions
(contrib/scripts/package.sh), debootstrap a minbase bookworm root (cached as
a tarball under the build tree; a fresh copy each run), then in a chroot:
apt install ./dundid_V1.deb, check files, modes, user and the enabled unit;
edit the conffile; upgrade to V2 (the edit survives); remove (configuration,
state and user stay); purge (all gone).

systemd does not run in the chroot: the unit is checked through its
enablement symlink, and a stand-in (/run/systemd/system, and
deb-systemd-invoke diverted to one that logs: apt runs the maintainer
scripts with a fixed PATH) records what they ask of systemd: start on install, restart on upgrade,
stop on removal.

Usage: check_deb.py SOURCE_DIR WORK_DIR
lintian (pedantic, info tags too) runs on the first package when installed.
Exit 77 (skipped, reason printed) without root, debootstrap, cpack or
Debian's mirror.
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time

SKIP = 77
failures = []


def log(msg):
    print(msg, flush=True)


def run(args, timeout=900, check=True, env=None, **kw):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, env=env, **kw)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(args), p.returncode, out[-4000:]))
    return p.returncode, out


def check(cond, what):
    log(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def mirror():
    """The Debian mirror apt uses here (deb822 or one-line sources)."""
    files = glob.glob("/etc/apt/sources.list.d/*.sources") + glob.glob("/etc/apt/sources.list.d/*.list")
    files += ["/etc/apt/sources.list"]
    for path in files:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        for m in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.M):
            uri = m.group(1)
            if uri.startswith("http") and "security" not in uri:
                return uri
    return "http://deb.debian.org/debian"


def mirror_unreachable():
    """Why the mirror cannot be reached (None if it can): apt in the chroot
    fetches the package's dependencies from it."""
    host = re.sub(r"^[a-z]+://([^/:]+).*", r"\1", mirror())
    port = 443 if mirror().startswith("https") else 80
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as e:
        return "Debian's mirror %s is not reachable from here (%s)" % (mirror(), e)
    return None


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (debootstrap, chroot)"
    for tool in ("debootstrap", "cpack", "dpkg-deb", "dpkg-buildflags", "chroot"):
        if not shutil.which(tool):
            return "%s is not installed (contrib/scripts/deps.sh test)" % tool
    return mirror_unreachable()


def base_tarball(work):
    """A minbase bookworm root, made once per build tree."""
    tar = os.path.join(work, "bookworm-minbase.tar")
    if os.path.exists(tar):
        log("root: cached %s" % tar)
        return tar, None
    root = os.path.join(work, "debootstrap")
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.monotonic()
    rc, out = run(["debootstrap", "--variant=minbase", "bookworm", root, mirror()], check=False, timeout=1800)
    if rc != 0:
        shutil.rmtree(root, ignore_errors=True)
        return None, "debootstrap of bookworm from %s failed (no mirror?):\n%s" % (mirror(), out[-2000:])
    def no_debs(info):  # the downloaded .debs debootstrap leaves: 30 MB the chroot never needs
        return None if re.match(r"\./var/cache/apt/archives/.*\.deb$", info.name) else info
    with tarfile.open(tar + ".part", "w") as t:
        t.add(root, arcname=".", filter=no_debs)
    os.rename(tar + ".part", tar)
    shutil.rmtree(root, ignore_errors=True)
    log("root: debootstrap took %.0f s (cached for the next runs)" % (time.monotonic() - t0))
    return tar, None


def lint(deb):
    """lintian, pedantic and info tags included: nothing but the overrides."""
    if not shutil.which("lintian"):
        log("note: lintian is not installed (deps.sh test): not run")
        return
    t0 = time.monotonic()
    _, out = run(["lintian", "-I", "-E", "--pedantic", deb], check=False, timeout=600)
    tags = [l for l in out.splitlines() if re.match(r"[EWIPX]: ", l)]
    check(not tags, "lintian %s: %s" % (os.path.basename(deb), "clean" if not tags else "\n".join(tags)))
    log("lintian: %.0f s" % (time.monotonic() - t0))


def build_packages(src, work):
    debs = []
    for version in ("0.0.1-1", "0.0.1-2"):
        t0 = time.monotonic()
        _, out = run([os.path.join(src, "contrib", "scripts", "package.sh"), os.path.join(work, "build"), version])
        deb = out.strip().splitlines()[-1]
        check(os.path.basename(deb).startswith("dundid_%s_" % version), "built %s" % os.path.basename(deb))
        dst = os.path.join(work, os.path.basename(deb))
        shutil.copy(deb, dst)
        debs.append(dst)
        log("package %s: %.0f s" % (version, time.monotonic() - t0))
    return debs


class Chroot:
    def __init__(self, root):
        self.root = root

    def run(self, *args, check=True, timeout=600):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
        return run(["chroot", self.root] + list(args), env=env, check=check, timeout=timeout)

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def stat(self, p):
        try:
            return os.lstat(self.path(p))
        except FileNotFoundError:
            return None

    def owner(self, p):
        """'user:group mode' of a path inside, names as the chroot knows them."""
        rc, out = self.run("stat", "-c", "%U:%G %a", p, check=False)
        return out.strip() if rc == 0 else None

    def fake_systemd(self):
        """What the maintainer scripts would ask of a running systemd."""
        os.makedirs(self.path("/run/systemd/system"), exist_ok=True)
        self.run("dpkg-divert", "--local", "--rename", "--add", "/usr/bin/deb-systemd-invoke")
        # (no systemctl: deb-systemd-helper would hand enabling to it)
        path = self.path("/usr/bin/deb-systemd-invoke")
        with open(path, "w") as f:
            f.write('#!/bin/sh\necho "deb-systemd-invoke $*" >>/tmp/systemd-calls\n')
        os.chmod(path, 0o755)

    def systemd_calls(self):
        """The calls since the last time asked."""
        try:
            with open(self.path("/tmp/systemd-calls")) as f:
                calls = f.read().splitlines()
            os.unlink(self.path("/tmp/systemd-calls"))
            return calls
        except FileNotFoundError:
            return []

    def read(self, p):
        with open(self.path(p)) as f:
            return f.read()

    def passwd(self, name):
        rc, out = self.run("getent", "passwd", name, check=False)
        return out.strip().split(":") if rc == 0 else None

    def group(self, name):
        rc, out = self.run("getent", "group", name, check=False)
        return out.strip().split(":") if rc == 0 else None


WANTS = "/etc/systemd/system/multi-user.target.wants/dundid.service"
MASK = "/etc/systemd/system/dundid.service"
CONF = "/etc/dundid/dundid.conf"
EDIT = "; edited by check_deb.py: must survive the upgrade\n"


def after_install(c, version):
    rc, out = c.run("dpkg-query", "-W", "-f", "${Version} ${Status}", "dundid", check=False)
    check(out.strip() == "%s install ok installed" % version, "dpkg says %s installed: %r" % (version, out.strip()))
    for p in ("/usr/sbin/dundid", "/usr/bin/dundiq", "/usr/bin/dundictl", "/usr/bin/dundid-keygen"):
        st = c.stat(p)
        check(st is not None and st.st_mode & 0o111 and c.owner(p) == "root:root 755", "%s root:root 0755" % p)
    for p in ("/usr/share/man/man8/dundid.8.gz", "/usr/share/man/man8/dundictl.8.gz",
              "/usr/share/man/man8/dundid-keygen.8.gz", "/usr/share/man/man1/dundiq.1.gz",
              "/usr/share/man/man5/dundid.conf.5.gz", "/usr/share/doc/dundid/copyright",
              "/usr/share/doc/dundid/dundid-capture.conf", "/lib/systemd/system/dundid.service"):
        check(c.stat(p) is not None, "%s installed" % p)
    rc, out = c.run("dpkg-query", "-W", "-f", "${Conffiles}", "dundid", check=False)
    check(CONF in out, "%s is a conffile" % CONF)
    pw = c.passwd("dundid")
    check(pw is not None and int(pw[2]) < 1000 and pw[5] == "/var/lib/dundid" and pw[6] == "/usr/sbin/nologin",
          "system user dundid, home /var/lib/dundid, no shell: %r" % (pw,))
    gr = c.group("dundid")
    check(gr is not None and pw is not None and gr[2] == pw[3], "group dundid, the user's primary group")
    check(c.owner(CONF) == "root:dundid 640", "%s root:dundid 0640: %s" % (CONF, c.owner(CONF)))
    check(c.owner("/var/lib/dundid") == "dundid:dundid 750", "/var/lib/dundid dundid:dundid 0750: %s"
          % c.owner("/var/lib/dundid"))
    check(c.owner("/etc/dundid/keys") == "dundid:dundid 700", "/etc/dundid/keys dundid:dundid 0700: %s"
          % c.owner("/etc/dundid/keys"))
    st = c.stat(WANTS)
    check(st is not None and os.readlink(c.path(WANTS)) == "/lib/systemd/system/dundid.service",
          "unit enabled (%s)" % WANTS)
    check(c.stat(MASK) is None, "unit not masked")
    # The installed daemon runs here (its libraries came with the
    # dependencies) and the dundid user can read the configuration.
    rc, out = c.run("/usr/sbin/dundid", "-V", check=False)
    check(rc == 0 and out.startswith("dundid "), "dundid -V: %s" % out.strip())
    rc, out = c.run("runuser", "-u", "dundid", "--", "/usr/sbin/dundid", "-t", "-c", CONF, check=False)
    check(rc == 0, "dundid -t as user dundid: exit %d %s" % (rc, out.strip()[-300:]))
    key = "/etc/dundid/keys/test-%s.key" % version
    rc, out = c.run("runuser", "-u", "dundid", "--", "dundid-keygen", "-d", "/etc/dundid/keys", "test-" + version,
                    check=False)
    check(rc == 0 and c.owner(key) == "dundid:dundid 600", "dundid-keygen as dundid makes %s: %s" % (key, out.strip()))


def scenario(c, debs):
    for d in debs:
        shutil.copy(d, c.path("/tmp"))
    v1, v2 = ["/tmp/" + os.path.basename(d) for d in debs]
    t0 = time.monotonic()
    c.run("apt-get", "update", "-qq", timeout=900)
    log("apt-get update: %.0f s" % (time.monotonic() - t0))
    t0 = time.monotonic()
    c.fake_systemd()
    c.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", v1, timeout=900)
    log("apt install %s: %.0f s" % (os.path.basename(v1), time.monotonic() - t0))
    calls = c.systemd_calls()
    check(calls == ["deb-systemd-invoke start dundid.service"], "install: started: %s" % calls)
    after_install(c, "0.0.1-1")
    uid = c.passwd("dundid")[2]

    with open(c.path(CONF), "a") as f:
        f.write(EDIT)
    with open(c.path("/var/lib/dundid/registrations.state"), "w") as f:
        f.write("# dundid registrations 1\nE\t0\n")
    c.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", v2, timeout=900)
    log("upgraded to %s" % os.path.basename(v2))
    calls = c.systemd_calls()
    check(calls == ["deb-systemd-invoke restart dundid.service"],
          "upgrade: not stopped by the old prerm, restarted by the new postinst: %s" % calls)
    after_install(c, "0.0.1-2")
    check(c.read(CONF).endswith(EDIT), "the edited conffile survived the upgrade")
    check(not glob.glob(c.path("/etc/dundid/*.dpkg-*")), "no .dpkg-new/.dpkg-dist beside it")
    check(c.passwd("dundid")[2] == uid, "the same dundid uid after the upgrade")
    check(c.stat("/var/lib/dundid/registrations.state") is not None, "state kept across the upgrade")

    c.run("apt-get", "remove", "-y", "-qq", "dundid")
    calls = c.systemd_calls()
    check(calls == ["deb-systemd-invoke stop dundid.service"], "remove: stopped: %s" % calls)
    for p in ("/usr/sbin/dundid", "/usr/bin/dundictl", "/lib/systemd/system/dundid.service"):
        check(c.stat(p) is None, "remove: %s gone" % p)
    check(c.read(CONF).endswith(EDIT), "remove: the configuration stays")
    check(c.stat("/var/lib/dundid/registrations.state") is not None, "remove: the state stays")
    check(c.passwd("dundid") is not None, "remove: the user stays")
    st = c.stat(MASK)
    check(st is not None and os.readlink(c.path(MASK)) == "/dev/null", "remove: unit masked (dh semantics)")

    c.run("dpkg", "--purge", "dundid")
    rc, out = c.run("dpkg-query", "-W", "-f", "${Status}", "dundid", check=False)
    check(rc != 0 or "not-installed" in out, "purge: dpkg forgot it: %r" % out.strip())
    for p in ("/etc/dundid", "/var/lib/dundid", WANTS, MASK, "/var/lib/systemd/deb-systemd-helper-enabled/"
              "multi-user.target.wants/dundid.service"):
        check(c.stat(p) is None, "purge: %s gone" % p)
    check(c.passwd("dundid") is None, "purge: user dundid gone")
    check(c.group("dundid") is None, "purge: group dundid gone")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    reason = skip_reason()
    if reason:
        print("SKIPPED: " + reason)
        return SKIP
    os.makedirs(work, exist_ok=True)
    start = time.monotonic()
    tar, reason = base_tarball(work)
    if not tar:
        print("SKIPPED: " + reason)
        return SKIP
    debs = build_packages(src, work)
    lint(debs[0])
    root = os.path.join(work, "root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    try:
        with tarfile.open(tar) as t:
            t.extractall(root)
        shutil.copy("/etc/resolv.conf", os.path.join(root, "etc", "resolv.conf"))
        scenario(Chroot(root), debs)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        failures.append(str(e))
        log("FAIL " + str(e))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    log("package test: %.0f s, %d failure(s)" % (time.monotonic() - start, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
