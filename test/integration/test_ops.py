#!/usr/bin/env python3
"""Integration tests of the process side of dundid: systemd notifications,
the pid file and daemon mode, privilege drop, log files, shutdown, and the
Prometheus metrics endpoint.

Usage:
    test_ops.py --dundid PATH --dundiq PATH [unittest args]

Addresses (each class is its own ctest entry, so they may run in parallel):

    NotifyTests    127.0.22.1          UDP 45240
    ProcessTests   127.0.22.2          UDP 45241, fake peer 127.0.22.9:45241
    SyslogTests    127.0.40.1          UDP 45400 (a private mount namespace)
    DashboardTests 127.0.40.4-5        UDP 45403, TCP 45404, HEP 45405
    MetricsTests   127.0.22.5-7        UDP 45242, TCP 45250-45252

The notify socket is played by a Python unix datagram socket passed to the
daemon as NOTIFY_SOCKET (abstract "@name" and a file path); with SO_PASSCRED
each message carries the sender's pid, which must be the daemon's (systemd's
NotifyAccess=main). The metrics are scraped over TCP and parsed strictly
(MetricsParser below): HELP and TYPE before the samples of every family,
"dundid_" names, "_total" counters, label syntax, no repeated series.
"""

import http.client
import json
import os
import pwd
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Daemon, dundiq, run_tool  # noqa: E402

CLIENT_EID = "02:00:00:00:00:99"  # may ask priv
ANYCTX_EID = "02:00:00:00:00:98"  # may ask any context


def config(host, port, eid, general_extra=(), peers="", mapping=None, reg_extra=()):
    """A small configuration: 1001 answered in priv, clients as above; no
    registration state file (tests run in parallel)."""
    if mapping is None:
        mapping = "priv => sipregistration,0,IAX2,priv:${SECRET}@%s/${NUMBER},nopartial" % host
    return ("[general]\nbindaddr = %s\nport = %d\nentityid = %s\ncachetime = 5\nttl = 2\nipaddr = %s\n%s\n"
            "\n[registrations]\nregcontext = phones\nstatefile = none\n%s\n"
            "\n[mappings]\n%s\n\n"
            "[%s]\nmodel = inbound\npermit = priv\n\n"
            "[%s]\nmodel = inbound\npermit = all\n\n"
            "%s\n"
            "[context sipregistration]\nexten => 1001\n"
            % (host, port, eid, host, "\n".join(general_extra), "\n".join(reg_extra), mapping, CLIENT_EID,
               ANYCTX_EID, peers))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def wait_for(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def pid_alive(pid):
    """A running (not zombie) process."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        return False
    return False


def proc_ids(pid):
    """(uids, gids, groups) of a process, from /proc."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return ([int(x) for x in out["Uid"]], [int(x) for x in out["Gid"]], sorted(int(x) for x in out["Groups"]))


# ====================================================================== notify socket


class NotifySocket:
    """The service manager's end of sd_notify: a unix datagram socket that
    records each message with the sender's pid."""

    def __init__(self, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        if name.startswith("@"):
            self.sock.bind("\0" + name[1:])
        else:
            self.sock.bind(name)
        self.name = name

    def close(self):
        self.sock.close()

    def recv(self, timeout):
        """(fields dict, raw text, sender pid) or None."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return None
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, _, _ = struct.unpack("iII", payload[:12])
        text = data.decode()
        fields = {}
        for line in text.split("\n"):
            if line:
                k, sep, v = line.partition("=")
                if not sep:
                    raise AssertionError("notify line without '=': %r" % line)
                fields[k] = v
        return fields, text, pid

    def wait(self, key, timeout, collect=None):
        """The first message carrying key; every message seen goes to collect."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv(deadline - time.monotonic())
            if m is None:
                raise AssertionError("no %s within %.1f s (seen: %r)" % (key, timeout, collect))
            if collect is not None:
                collect.append(m)
            if key in m[0]:
                return m


def notify_env(name, **extra):
    env = dict(os.environ)
    env["NOTIFY_SOCKET"] = name
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def monotonic_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class NotifyTests(unittest.TestCase):
    HOST, PORT = "127.0.22.1", 45240
    EID = "02:00:00:00:22:01"

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-notify-")
        self.conf = write(os.path.join(self.tmp.name, "dundid.conf"), config(self.HOST, self.PORT, self.EID))
        self.daemon = None
        self.ns = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.ns:
            self.ns.close()
        self.tmp.cleanup()

    def start(self, name, **env):
        self.ns = NotifySocket(name)
        self.daemon = Daemon(self.conf, self.tmp.name, env=notify_env(name, **env)).start()
        return self.daemon

    def test_1_lifecycle_on_abstract_socket(self):
        """READY with STATUS, watchdog pings at half the interval, RELOADING
        with MONOTONIC_USEC then READY (good and bad file), STOPPING, exit 0;
        every message from the daemon's own pid."""
        d = self.start("@dundid-test-%d" % os.getpid(), WATCHDOG_USEC=400000)
        fields, _, pid = self.ns.wait("READY", 5)
        self.assertEqual(fields["READY"], "1")
        self.assertEqual(pid, d.proc.pid)
        self.assertRegex(fields["STATUS"], r"^2 peers, 0 registrations, [0-9.]+ lookups/s$")
        # READY means serving: a lookup right after it is answered
        rc, out, err = dundiq("--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)

        # Half of 400 ms: about 5 pings per second; at least 3 in 3 s.
        pings = 0
        deadline = time.monotonic() + 3
        while pings < 3 and time.monotonic() < deadline:
            m = self.ns.recv(deadline - time.monotonic())
            if m and m[0].get("WATCHDOG") == "1":
                self.assertEqual(m[2], d.proc.pid)
                pings += 1
        self.assertGreaterEqual(pings, 3, "watchdog pings in 3 s")

        for good in (True, False):
            if not good:
                write(self.conf, "[general]\nbogus = 1\n")
            before = monotonic_usec()
            d.signal(signal.SIGHUP)
            seen = []
            fields, text, pid = self.ns.wait("RELOADING", 5, seen)
            after = monotonic_usec()
            self.assertEqual(fields["RELOADING"], "1", text)
            self.assertEqual(pid, d.proc.pid)
            usec = int(fields["MONOTONIC_USEC"])
            self.assertTrue(before <= usec <= after, "MONOTONIC_USEC %d not in [%d, %d]" % (usec, before, after))
            fields, text, _ = self.ns.wait("READY", 5)
            self.assertEqual(fields["READY"], "1", text)
            self.assertTrue(d.wait_log("configuration reloaded" if good else "reload failed", 3), d.log())
            self.assertTrue(d.running())

        d.signal(signal.SIGTERM)
        fields, _, pid = self.ns.wait("STOPPING", 5)
        self.assertEqual(fields["STOPPING"], "1")
        self.assertEqual(pid, d.proc.pid)
        d.stop()
        self.assertEqual(d.exit_code, 0, d.log())

    def test_2_path_socket_and_foreign_watchdog(self):
        """A socket file works the same; WATCHDOG_PID naming another process
        means the interval is not for us: no pings."""
        d = self.start(os.path.join(self.tmp.name, "notify"), WATCHDOG_USEC=200000, WATCHDOG_PID=1)
        fields, _, pid = self.ns.wait("READY", 5)
        self.assertEqual(pid, d.proc.pid)
        seen = []
        deadline = time.monotonic() + 1.5  # 7 pings would be due in this time
        while time.monotonic() < deadline:
            m = self.ns.recv(deadline - time.monotonic())
            if m:
                seen.append(m[1])
        self.assertFalse([s for s in seen if "WATCHDOG" in s], seen)
        d.stop()
        self.assertEqual(d.exit_code, 0)

    def test_3_status_counts_lookups(self):
        """The periodic STATUS line carries a lookups/s figure; it is
        computed over SERVICE_STATUS_EVERY_S (10 s), so only its form and
        presence are checked, and that lookups do get answered meanwhile."""
        d = self.start("@dundid-test-status-%d" % os.getpid())
        self.ns.wait("READY", 5)
        rc, out, err = dundiq("--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        fields, _, _ = self.ns.wait("STATUS", 15)
        m = re.match(r"^2 peers, 0 registrations, ([0-9.]+) lookups/s$", fields["STATUS"])
        self.assertTrue(m, fields)
        self.assertGreater(float(m.group(1)), 0.0)
        d.stop()

    def test_4_bad_socket_name(self):
        """A relative NOTIFY_SOCKET is refused with a warning; the daemon runs."""
        env = notify_env("relative/name")
        d = Daemon(self.conf, self.tmp.name, env=env)
        self.daemon = d.start()
        self.assertTrue(d.wait_log("NOTIFY_SOCKET 'relative/name' is not an absolute path", 3), d.log())
        d.stop()
        self.assertEqual(d.exit_code, 0)


# ====================================================================== process


class ProcessBase(unittest.TestCase):
    HOST, PORT = "127.0.22.2", 45241
    PEER = ("127.0.22.9", 45241)
    EID = "02:00:00:00:22:02"
    PEER_EID = "02:00:00:00:22:09"

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-process-")
        self.pids = []
        self.daemon = None

    def tearDown(self):
        for pid in self.pids:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.daemon:
            self.daemon.kill()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)


class ProcessTests(ProcessBase):
    def test_1_daemon_pidfile_logfile(self):
        """Without -f: the command returns once the daemon runs, the pid file
        names it and is locked (a second start fails naming that pid), the
        log goes to logfile= and SIGUSR1 reopens it after a rename; SIGTERM
        removes the pid file."""
        log = self.path("dundid.log")
        conf = write(self.path("dundid.conf"),
                     config(self.HOST, self.PORT, self.EID, ["logfile = %s" % log]))
        pidfile = self.path("dundid.pid")
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-c", conf, "-p", pidfile], timeout=10)
        self.assertEqual(rc, 0, out + err)
        with open(pidfile) as f:
            text = f.read()
        self.assertRegex(text, r"^[0-9]+\n$")
        pid = int(text)
        self.pids.append(pid)
        self.assertTrue(pid_alive(pid))
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            self.assertIn(b"dundid", f.read())

        rc, out, err = dundiq("--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)

        rc, out, err = run_tool([harness.BINARIES["dundid"], "-c", conf, "-p", pidfile], timeout=10)
        self.assertEqual(rc, 1)
        self.assertIn("already running (pid %d)" % pid, err)
        self.assertTrue(pid_alive(pid), "the first daemon survives the second start")

        self.assertTrue(wait_for(lambda: "started, entity id" in read(log), 5))
        os.rename(log, log + ".1")
        os.kill(pid, signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: "log file reopened" in read(log), 5))
        self.assertNotIn("log file reopened", read(log + ".1"))

        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: not pid_alive(pid), 10), "daemon still running after SIGTERM")
        self.assertFalse(os.path.exists(pidfile), "pid file left behind")
        text = read(log)
        self.assertIn("shutting down", text)
        self.assertIn("stats: ", text)
        self.assertIn("stopped", text)

    def test_2_pidfile_refuses_symlink(self):
        os.symlink(self.path("elsewhere"), self.path("link.pid"))
        conf = write(self.path("dundid.conf"), config(self.HOST, self.PORT, self.EID))
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-f", "-c", conf, "-p", self.path("link.pid")])
        self.assertEqual(rc, 1)
        self.assertIn("pid file", err)
        self.assertFalse(os.path.exists(self.path("elsewhere")))

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_3_user_drop(self):
        """-u nobody: all uids and gids become nobody's, the groups those of
        nobody, and the sockets opened as root still answer."""
        nobody = pwd.getpwnam("nobody")
        conf = write(self.path("dundid.conf"), config(self.HOST, self.PORT, self.EID))
        self.daemon = d = Daemon(conf, self.tmp.name, args=["-u", "nobody"]).start()
        self.assertTrue(d.wait_log("running as nobody", 3), d.log())
        uids, gids, groups = proc_ids(d.proc.pid)
        self.assertEqual(uids, [nobody.pw_uid] * 4)
        self.assertEqual(gids, [nobody.pw_gid] * 4)
        self.assertEqual(groups, sorted(set(os.getgrouplist("nobody", nobody.pw_gid))))
        rc, out, err = dundiq("--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        d.stop()
        self.assertEqual(d.exit_code, 0)

    def test_4_unknown_user(self):
        conf = write(self.path("dundid.conf"), config(self.HOST, self.PORT, self.EID))
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-f", "-c", conf, "-u", "no-such-user-dundid"])
        self.assertEqual(rc, 1)
        self.assertIn("user 'no-such-user-dundid'", err)

    def test_5_sigterm_cancels_forwarded_lookup(self):
        """SIGTERM while a lookup waits for a peer: the requester gets its
        (empty) answer, the peer a CANCEL for the DPDISCOVER, exit 0."""
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(self.PEER)
        self.addCleanup(peer.close)
        peers = ("[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n"
                 % (self.PEER_EID, self.PEER[0], self.PEER[1]))
        conf = write(self.path("dundid.conf"),
                     config(self.HOST, self.PORT, self.EID, peers=peers, mapping="priv =>"))
        self.daemon = d = Daemon(conf, self.tmp.name).start()
        q = subprocess.Popen([harness.BINARIES["dundiq"], "--eid", CLIENT_EID, "--timeout", "20000",
                              "%s:%d" % (self.HOST, self.PORT), "1234@priv"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            r, _, _ = select.select([peer], [], [], 5)
            self.assertTrue(r, "the lookup was not forwarded")
            data, src = peer.recvfrom(65535)
            disc = dr.decode(data)
            self.assertEqual(disc.hdr.cmd, dr.DPDISCOVER)
            d.signal(signal.SIGTERM)
            cancel = None
            deadline = time.monotonic() + 5
            while cancel is None and time.monotonic() < deadline:
                r, _, _ = select.select([peer], [], [], deadline - time.monotonic())
                if not r:
                    break
                pkt = dr.decode(peer.recvfrom(65535)[0])
                if pkt.hdr.cmd == dr.CANCEL:
                    cancel = pkt
            self.assertIsNotNone(cancel, "no CANCEL to the peer")
            self.assertEqual(cancel.hdr.strans, disc.hdr.strans)
            out, err = q.communicate(timeout=10)
        finally:
            if q.poll() is None:
                q.kill()
                q.wait()
        self.assertEqual(q.returncode, 1, out.decode() + err.decode())  # answered: no answers
        d.stop()
        self.assertEqual(d.exit_code, 0, d.log())
        self.assertIn("shutting down", d.log())


    def test_6_no_secret_in_debug_log(self):
        """The ${SECRET} that answers carry never reaches the log, even at debug."""
        conf = write(self.path("dundid.conf"), config(self.HOST, self.PORT, self.EID))
        self.daemon = d = Daemon(conf, self.tmp.name).start()  # runs with -d
        rc, out, err = dundiq("--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        m = re.search(r"IAX2/priv:([A-Za-z0-9+/]{22}==)@", out)
        self.assertTrue(m, out)
        self.assertTrue(d.wait_log("1001@priv", 3), d.log())  # the debug line of the answer
        d.stop()
        self.assertNotIn(m.group(1), d.log())


class SyslogTests(ProcessBase):
    """Its own ctest entry (integration_ops_syslog): it needs a private mount
    namespace and skips, visibly (exit 77), where there is none."""
    HOST, PORT = "127.0.40.1", 45400
    EID = "02:00:00:00:40:01"

    def setUp(self):
        reason = harness.mount_ns_unusable()
        if reason:
            self.skipTest(reason)
        super().setUp()

    def test_7_syslog_when_detached(self):
        """Detached without logfile=: the lines go to syslog (facility daemon,
        ident dundid[pid]). /dev/log is played by a socket of ours, in a
        private mount namespace so nothing else on the machine sees it."""
        log_sock = self.path("log.sock")
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        rx.bind(log_sock)
        self.addCleanup(rx.close)
        conf = write(self.path("dundid.conf"), config(self.HOST, self.PORT, self.EID))
        pidfile = self.path("dundid.pid")
        olddev = self.path("olddev")
        os.mkdir(olddev)
        script = ('mount --make-rprivate / && mount --bind /dev "$1" && mount -t tmpfs tmpfs /dev && '
                  'touch /dev/null && mount --bind "$1/null" /dev/null && ln -s "$2" /dev/log && '
                  'exec "$3" -c "$4" -p "$5"')
        rc, out, err = run_tool(["unshare", "-m", "sh", "-c", script, "sh", olddev, log_sock,
                                 harness.BINARIES["dundid"], conf, pidfile], timeout=15)
        self.assertEqual(rc, 0, out + err)
        pid = int(read(pidfile))
        self.pids.append(pid)
        rc, out, err = dundiq("--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: not pid_alive(pid), 10))
        lines = []
        while select.select([rx], [], [], 0.5)[0]:
            lines.append(rx.recv(4096).decode("utf-8", "replace"))
        # <29> = facility daemon (3) * 8 + notice (5)
        ident = "dundid[%d]: " % pid
        self.assertTrue(any(l.startswith("<29>") and ident + "Terminated: shutting down" in l for l in lines), lines)
        self.assertTrue(any(l.startswith("<29>") and ident + "stats: " in l for l in lines), lines)
        self.assertTrue(any(ident + "stopped" in l for l in lines), lines)
        self.assertFalse(any("started, entity id" in l for l in lines),
                         "the start line went to the terminal, not syslog")


# ====================================================================== metrics


class MetricsParser:
    """The Prometheus text format (0.0.4), strictly: every sample belongs to
    the family announced by the HELP and TYPE lines just before it."""

    NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
    SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf)$" % (NAME, LABEL, LABEL))
    LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')

    def __init__(self, text):
        if not text.endswith("\n"):
            raise AssertionError("exposition does not end with a newline")
        self.families = {}
        current = None
        for n, line in enumerate(text.split("\n")[:-1], 1):
            where = "line %d: %r" % (n, line)
            if line.startswith("# HELP "):
                parts = line.split(" ", 3)
                if len(parts) != 4 or not re.fullmatch(self.NAME, parts[2]) or not parts[3]:
                    raise AssertionError("bad HELP, " + where)
                if parts[2] in self.families:
                    raise AssertionError("family announced twice, " + where)
                current = parts[2]
                self.families[current] = {"help": parts[3], "type": None, "samples": {}}
            elif line.startswith("# TYPE "):
                parts = line.split(" ")
                if len(parts) != 4 or parts[2] != current or self.families[current]["type"]:
                    raise AssertionError("TYPE not right after its HELP, " + where)
                if parts[3] not in ("counter", "gauge", "histogram"):
                    raise AssertionError("unexpected type, " + where)
                self.families[current]["type"] = parts[3]
            elif line.startswith("#") or not line:
                raise AssertionError("unexpected comment or blank, " + where)
            else:
                m = self.SAMPLE.match(line)
                if not m:
                    raise AssertionError("bad sample, " + where)
                name, labels, value = m.groups()
                if current and self.families[current]["type"] == "histogram":
                    # a histogram's samples: NAME_bucket{le=...}, NAME_sum, NAME_count
                    for suffix in ("_bucket", "_sum", "_count"):
                        if name == current + suffix:
                            name = current
                            labels = (labels + "," if labels else "") + '__series__="%s"' % suffix[1:]
                            break
                    else:
                        raise AssertionError("not a histogram sample, " + where)
                if name != current or not self.families[current]["type"]:
                    raise AssertionError("sample outside its family, " + where)
                key = frozenset(self.LABEL_RE.findall(labels or ""))
                if len(key) != len(self.LABEL_RE.findall(labels or "")):
                    raise AssertionError("repeated label, " + where)
                samples = self.families[current]["samples"]
                if key in samples:
                    raise AssertionError("repeated series, " + where)
                samples[key] = float(value)
        for name, fam in self.families.items():
            if not name.startswith("dundid_"):
                raise AssertionError("metric %s is not dundid_*" % name)
            if (fam["type"] == "counter") != name.endswith("_total"):
                raise AssertionError("%s: counters and only counters end in _total" % name)
            if not fam["type"]:
                raise AssertionError("%s has no TYPE" % name)
            if fam["type"] == "histogram":
                self.check_histogram(name, fam["samples"])

    @staticmethod
    def check_histogram(name, samples):
        """Cumulative buckets ending in +Inf, which equals _count."""
        buckets = sorted((float(dict(k)["le"]), v) for k, v in samples.items()
                         if dict(k).get("__series__") == "bucket")
        count = samples.get(frozenset({("__series__", "count")}))
        if not buckets or buckets[-1][0] != float("inf") or count is None or buckets[-1][1] != count:
            raise AssertionError("%s: buckets must end in le=\"+Inf\" equal to _count" % name)
        if any(a[1] > b[1] for a, b in zip(buckets, buckets[1:])):
            raise AssertionError("%s: buckets are not cumulative" % name)
        if frozenset({("__series__", "sum")}) not in samples:
            raise AssertionError("%s: no _sum" % name)

    def value(self, name, **labels):
        for suffix in ("_bucket", "_sum", "_count"):  # a histogram's series
            base = name[:-len(suffix)]
            if name.endswith(suffix) and self.families.get(base, {}).get("type") == "histogram":
                name, labels["__series__"] = base, suffix[1:]
        fam = self.families.get(name)
        if fam is None:
            raise AssertionError("no metric %s" % name)
        key = frozenset(labels.items())
        if key not in fam["samples"]:
            raise AssertionError("no series %s%r (have %r)" % (name, labels, list(fam["samples"])))
        return fam["samples"][key]

    def series(self, name):
        return self.families[name]["samples"]


class ParserSelfTest(unittest.TestCase):
    """The parser rejects what it must, so the scrape checks can fail."""

    GOOD = "# HELP dundid_x_total X.\n# TYPE dundid_x_total counter\ndundid_x_total{a=\"b\"} 3\n"

    HIST = ("# HELP dundid_h_seconds H.\n# TYPE dundid_h_seconds histogram\n"
            "dundid_h_seconds_bucket{le=\"0.005\"} 1\ndundid_h_seconds_bucket{le=\"+Inf\"} 2\n"
            "dundid_h_seconds_sum 0.250\ndundid_h_seconds_count 2\n")

    def test_good(self):
        self.assertEqual(MetricsParser(self.GOOD).value("dundid_x_total", a="b"), 3)
        h = MetricsParser(self.HIST)
        self.assertEqual(h.value("dundid_h_seconds_count"), 2)
        self.assertEqual(h.value("dundid_h_seconds_bucket", le="0.005"), 1)

    def test_bad_histogram(self):
        for text in (self.HIST.replace("} 1\n", "} 3\n"),                      # not cumulative
                     self.HIST.replace("_count 2", "_count 3"),                  # +Inf != count
                     self.HIST.replace("dundid_h_seconds_sum 0.250\n", ""),      # no sum
                     self.HIST.replace("_sum", "_total")):                       # a stranger in the family
            with self.assertRaises(AssertionError, msg=repr(text)):
                MetricsParser(text)

    def test_bad(self):
        bad = [
            self.GOOD.replace("# HELP dundid_x_total X.\n", ""),              # no HELP
            self.GOOD.replace("# TYPE dundid_x_total counter\n", ""),         # no TYPE
            self.GOOD.replace("counter", "gauge"),                            # gauge named _total
            self.GOOD.replace("dundid_x_total", "x_total"),                   # not dundid_
            self.GOOD + "dundid_x_total{a=\"b\"} 4\n",                        # repeated series
            self.GOOD.replace("{a=\"b\"}", "{a=b}"),                          # label syntax
            self.GOOD.replace(" 3\n", " three\n"),                            # value
            self.GOOD[:-1],                                                   # no final newline
            self.GOOD + "\n",                                                 # blank line
        ]
        for text in bad:
            with self.assertRaises(AssertionError, msg=repr(text)):
                MetricsParser(text)


def hep3(src, dst, payload):
    """A HEPv3 datagram carrying one SIP message over UDP/IPv4."""
    def chunk(kind, value):
        return struct.pack("!HHH", 0, kind, 6 + len(value)) + value
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, socket.inet_aton(src[0]))
            + chunk(4, socket.inet_aton(dst[0])) + chunk(7, struct.pack("!H", src[1]))
            + chunk(8, struct.pack("!H", dst[1])) + chunk(9, struct.pack("!I", int(time.time())))
            + chunk(10, struct.pack("!I", 0)) + chunk(11, b"\x01") + chunk(12, struct.pack("!I", 7))
            + chunk(15, payload))
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def sip_register_pair(ext, phone, registrar, call_id):
    """A REGISTER from phone and its 200 OK from registrar (CRLF lines)."""
    common = ["Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s" % (phone[0], phone[1], call_id),
              "From: <sip:%s@%s>;tag=1" % (ext, registrar[0]),
              "To: <sip:%s@%s>" % (ext, registrar[0]),
              "Call-ID: %s@%s" % (call_id, phone[0]), "CSeq: 1 REGISTER"]
    req = (["REGISTER sip:%s SIP/2.0" % registrar[0]] + common
           + ["Contact: <sip:%s@%s:%d>" % (ext, phone[0], phone[1]), "Expires: 300", "User-Agent: test",
              "Content-Length: 0", "", ""])
    ok = (["SIP/2.0 200 OK"] + common
          + ["Contact: <sip:%s@%s:%d>;expires=300" % (ext, phone[0], phone[1]), "Content-Length: 0", "", ""])
    return "\r\n".join(req).encode(), "\r\n".join(ok).encode()


def http_get(host, port, path, method="GET"):
    c = http.client.HTTPConnection(host, port, timeout=5)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read().decode()
    finally:
        c.close()


class MetricsTests(unittest.TestCase):
    A, B, C = "127.0.22.5", "127.0.22.6", "127.0.22.7"
    PORT = 45242
    A_EID, B_EID, C_EID = "02:00:00:00:22:05", "02:00:00:00:22:06", "02:00:00:00:22:07"
    MPORT = 45250

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-metrics-")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        self.tmp.cleanup()

    def start(self, name, text, **kw):
        d = Daemon(write(os.path.join(self.tmp.name, name), text), self.tmp.name, **kw).start()
        self.daemons.append(d)
        # "listening on" (what start() waits for) comes before the metrics listener
        if "metrics = " in text:
            self.assertTrue(d.wait_log("/metrics\n", 5), d.log())
        return d

    def scrape(self, port=None):
        status, headers, body = http_get(self.A, port or self.MPORT, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        return MetricsParser(body)

    def a_config(self, extra=()):
        # B is qualified and answers (a real dundid); C is qualified but nobody is there.
        peers = ("[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\nqualify = yes\n\n"
                 "[%s]\nmodel = outbound\nhost = %s\nport = %d\ninclude = priv\nqualify = yes\n"
                 % (self.B_EID, self.B, self.PORT, self.C_EID, self.C, self.PORT))
        return config(self.A, self.PORT, self.A_EID,
                      ["metrics = %s:%d" % (self.A, self.MPORT)] + list(extra), peers=peers)

    def test_1_values_follow_lookups(self):
        b_peers = "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n" % (
            self.A_EID, self.A, self.PORT)
        self.start("b.conf", config(self.B, self.PORT, self.B_EID, peers=b_peers,
                                    mapping="priv => sipregistration,0,IAX2,b/${NUMBER},nopartial"))
        a = self.start("a.conf", self.a_config())
        self.assertTrue(a.wait_log("metrics on http://%s:%d/metrics" % (self.A, self.MPORT), 3), a.log())
        m0 = self.scrape()
        info = m0.series("dundid_info")
        self.assertEqual(len(info), 1)
        self.assertEqual(dict(next(iter(info)))["eid"], self.A_EID)
        self.assertEqual(list(info.values()), [1])
        for r in ("found", "not_found", "refused"):
            self.assertEqual(m0.value("dundid_lookups_total", result=r), 0)
        self.assertEqual(m0.value("dundid_reloads_total", result="ok"), 0)
        self.assertEqual(m0.value("dundid_peer_state", eid=self.C_EID, state="unknown"), 1)
        self.assertEqual(m0.value("dundid_cache_entries"), 0)
        self.assertEqual(m0.value("dundid_lookup_duration_seconds_count"), 0)

        target = "%s:%d" % (self.A, self.PORT)
        # found locally (weight 0: not forwarded), found at B (forwarded, cached), refused.
        self.assertEqual(dundiq("--eid", CLIENT_EID, target, "1001@priv")[0], 0)
        rc, out, err = dundiq("--eid", CLIENT_EID, target, "10019@priv")  # B has no 10019 either
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(dundiq("--eid", ANYCTX_EID, target, "1001@nosuchcontext")[0], 1)
        m1 = self.scrape()
        self.assertEqual(m1.value("dundid_lookups_total", result="found"), 1)
        self.assertEqual(m1.value("dundid_lookups_total", result="not_found"), 1)
        self.assertEqual(m1.value("dundid_lookups_total", result="refused"), 1)
        # the two answered lookups are in the latency histogram (refusals are not)
        self.assertEqual(m1.value("dundid_lookup_duration_seconds_count"), 2)
        self.assertEqual(m1.value("dundid_lookup_duration_seconds_bucket", le="+Inf"), 2)
        self.assertEqual(m1.value("dundid_answers_sent_total"), 1)
        self.assertEqual(m1.value("dundid_requests_total"), 3)
        self.assertGreaterEqual(m1.value("dundid_packets_received_total"),
                                m0.value("dundid_packets_received_total") + 6)
        self.assertGreater(m1.value("dundid_packets_sent_total"), m0.value("dundid_packets_sent_total"))
        # the forwarded 10019: asked B (and C) once, the answers are cached
        self.assertGreaterEqual(m1.value("dundid_cache_misses_total"), 1)
        self.assertGreaterEqual(m1.value("dundid_cache_entries"), 1)
        self.assertEqual(dundiq("--eid", CLIENT_EID, target, "10019@priv")[0], 1)
        m2 = self.scrape()
        self.assertGreater(m2.value("dundid_cache_hits_total"), m1.value("dundid_cache_hits_total"))
        self.assertEqual(m2.value("dundid_metrics_scrapes_total"), 3)

        # B answers the qualify pings (first ping 5 s after start): OK with an RTT.
        def b_ok():
            m = self.scrape()
            return m.value("dundid_peer_state", eid=self.B_EID, state="ok") == 1 and m
        self.assertTrue(wait_for(b_ok, 15, 0.5), "B never qualified OK:\n" + a.log())
        m3 = self.scrape()
        for st in ("unmonitored", "unknown", "lagged", "unreachable"):
            self.assertEqual(m3.value("dundid_peer_state", eid=self.B_EID, state=st), 0)
        rtt = m3.value("dundid_peer_rtt_seconds", eid=self.B_EID)
        self.assertTrue(0 < rtt < 1, rtt)

        # reloads: a good file, then a bad one
        a.signal(signal.SIGHUP)
        self.assertTrue(a.wait_log("configuration reloaded", 5))
        write(a.conf_path, "[general]\nbogus = 1\n")
        a.signal(signal.SIGHUP)
        self.assertTrue(a.wait_log("reload failed", 5))
        m4 = self.scrape()
        self.assertEqual(m4.value("dundid_reloads_total", result="ok"), 1)
        self.assertEqual(m4.value("dundid_reloads_total", result="failed"), 1)

    def test_2_http_surface(self):
        a = self.start("a.conf", self.a_config())
        self.assertEqual(http_get(self.A, self.MPORT, "/")[0], 404)
        self.assertEqual(http_get(self.A, self.MPORT, "/metrics/x")[0], 404)
        self.assertNotEqual(http_get(self.A, self.MPORT, "/metrics", method="POST")[0], 200)
        # a client that sends half a request and stays does not block scrapes
        idle = socket.create_connection((self.A, self.MPORT), timeout=5)
        self.addCleanup(idle.close)
        idle.sendall(b"GET /metr")
        self.assertEqual(self.scrape().value("dundid_metrics_scrapes_total"), 1)
        # garbage is answered with an error, not a crash
        with socket.create_connection((self.A, self.MPORT), timeout=5) as s:
            s.sendall(b"\x00\xff" * 2000 + b"\r\n\r\n")
            s.settimeout(5)
            reply = s.recv(100)
        self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1."), reply)
        self.assertTrue(a.running())
        # moved by a reload
        write(a.conf_path, self.a_config().replace(":%d" % self.MPORT, ":%d" % (self.MPORT + 1)))
        a.signal(signal.SIGHUP)
        self.assertTrue(a.wait_log("metrics on http://%s:%d/metrics" % (self.A, self.MPORT + 1), 5), a.log())
        self.assertEqual(self.scrape(self.MPORT + 1).value("dundid_reloads_total", result="ok"), 1)
        with self.assertRaises(OSError):
            http_get(self.A, self.MPORT, "/metrics")
        a.stop()
        self.assertEqual(a.exit_code, 0)

    def test_3_busy_port_and_bad_address(self):
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind((self.A, self.MPORT + 2))
        busy.listen(1)
        self.addCleanup(busy.close)
        conf = write(os.path.join(self.tmp.name, "busy.conf"),
                     config(self.A, self.PORT, self.A_EID, ["metrics = %s:%d" % (self.A, self.MPORT + 2)]))
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-f", "-c", conf])
        self.assertEqual(rc, 1)
        self.assertIn("metrics: cannot listen on %s port %d" % (self.A, self.MPORT + 2), err)
        for bad in ("localhost:9520", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "[::1:9520", ":9520"):
            conf = write(os.path.join(self.tmp.name, "bad.conf"),
                         config(self.A, self.PORT, self.A_EID, ["metrics = %s" % bad]))
            rc, out, err = run_tool([harness.BINARIES["dundid"], "-t", "-c", conf])
            self.assertEqual(rc, 1, bad)
            self.assertIn("metrics: '%s' must be IP:PORT" % bad, err)
        for key in ("pidfile", "logfile"):
            conf = write(os.path.join(self.tmp.name, "bad.conf"),
                         config(self.A, self.PORT, self.A_EID, ["%s = relative/x" % key]))
            rc, out, err = run_tool([harness.BINARIES["dundid"], "-t", "-c", conf])
            self.assertEqual(rc, 1, key)
            self.assertIn("%s: 'relative/x' must be an absolute path" % key, err)
        conf = write(os.path.join(self.tmp.name, "v6.conf"),
                     config(self.A, self.PORT, self.A_EID, ["metrics = [::1]:9520"]))
        self.assertEqual(run_tool([harness.BINARIES["dundid"], "-t", "-c", conf])[0], 0)

    def test_4_registrations_by_feed(self):
        """Phones registered through the HEP feed show up by feed; a datagram
        that is not HEP is counted as dropped."""
        hep = (self.A, self.PORT + 1)
        conf = config(self.A, self.PORT, self.A_EID, ["metrics = %s:%d" % (self.A, self.MPORT + 2)],
                      reg_extra=["hep = %s:%d" % hep])
        a = self.start("a.conf", conf)
        self.assertTrue(a.wait_log("listening for HEP", 3), a.log())
        m0 = self.scrape(self.MPORT + 2)
        for feed in ("pcap", "hep", "realtime", "state"):
            self.assertEqual(m0.value("dundid_registrations", feed=feed), 0)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        registrar = ("10.0.0.5", 5060)
        for i, ext in enumerate(("2001", "2002", "2003")):
            req, ok = sip_register_pair(ext, ("10.1.1.%d" % (10 + i), 5060), registrar, "c%d" % i)
            tx.sendto(hep3(("10.1.1.%d" % (10 + i), 5060), registrar, req), hep)
            tx.sendto(hep3(registrar, ("10.1.1.%d" % (10 + i), 5060), ok), hep)
        tx.sendto(b"definitely not HEP", hep)

        def registered():
            return self.scrape(self.MPORT + 2).value("dundid_registrations", feed="hep") == 3
        self.assertTrue(wait_for(registered, 5, 0.1), a.log())
        m1 = self.scrape(self.MPORT + 2)
        self.assertEqual(m1.value("dundid_registrations", feed="pcap"), 0)
        self.assertEqual(m1.value("dundid_registration_extensions"), 3)
        self.assertEqual(m1.value("dundid_registration_changes_total", change="added"), 3)
        self.assertEqual(m1.value("dundid_feed_frames_total"), 7)
        self.assertEqual(m1.value("dundid_feed_dropped_total", reason="undecodable"), 1)
        self.assertEqual(m1.value("dundid_sip_messages_total", kind="request"), 3)
        self.assertEqual(m1.value("dundid_sip_messages_total", kind="committed"), 3)
        self.assertGreater(m1.value("dundid_registration_table_bytes"), 0)


class DashboardTests(unittest.TestCase):
    """contrib/grafana/dundid.json uses only metrics (and labels) that a
    running dundid exposes: one with a qualified peer, a HEP feed and a
    [realtime] section (its database absent), so that every family is there."""
    A, PORT, MPORT, HEP = "127.0.40.4", 45403, 45404, 45405
    PEER = "127.0.40.5"
    DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "grafana",
                             "dundid.json")
    # labels Grafana or Prometheus add, not dundid
    OUTSIDE_LABELS = {"instance", "job", "le"}

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-dashboard-")
        self.addCleanup(self.tmp.cleanup)

    def exprs(self, dash):
        for p in dash["panels"]:
            for t in p.get("targets", []):
                yield p["title"], t["expr"]
        for a in dash["annotations"]["list"]:
            yield "annotation " + a["name"], a["expr"]
        for v in dash["templating"]["list"]:
            yield "variable " + v["name"], v["definition"]

    def test_every_metric_exists(self):
        with open(self.DASHBOARD) as f:
            dash = json.load(f)
        conf = config(self.A, self.PORT, "02:00:00:00:40:04", ["metrics = %s:%d" % (self.A, self.MPORT)],
                      peers="[02:00:00:00:40:05]\nmodel = outbound\nhost = %s\nport = %d\ninclude = priv\n"
                            "qualify = yes\n" % (self.PEER, self.PORT),
                      reg_extra=["hep = %s:%d" % (self.A, self.HEP)])
        conf += ("\n[realtime]\nsocket = %s\nuser = asterisk\npassword = x\ndatabase = asterisk\n"
                 "schema = pjsip\n[registrars]\nregpbx1 = 10.0.0.1\n" % os.path.join(self.tmp.name, "no.sock"))
        d = Daemon(write(os.path.join(self.tmp.name, "d.conf"), conf), self.tmp.name).start()
        self.addCleanup(d.kill)
        self.assertTrue(d.wait_log("/metrics\n", 5), d.log())
        status, _, body = http_get(self.A, self.MPORT, "/metrics")
        self.assertEqual(status, 200)
        scrape = MetricsParser(body)
        used = 0
        for where, expr in self.exprs(dash):
            for name in re.findall(r"\bdundid_[a-z0-9_]+", expr):
                family = name
                for suffix in ("_bucket", "_sum", "_count"):
                    base = name[:-len(suffix)]
                    if name.endswith(suffix) and scrape.families.get(base, {}).get("type") == "histogram":
                        family = base
                self.assertTrue(family in scrape.families, "%s: %s is not exposed" % (where, name))
                used += 1
                # labels in by (...) and {label=...} must be the family's
                have = {k for key in scrape.series(family) for k, _ in key} - {"__series__"}
                wanted = set()
                for m in re.finditer(r"by \(([a-z_, ]+)\) \([a-z_]*\(?%s\b" % name, expr):
                    wanted.update(x.strip() for x in m.group(1).split(","))
                wanted.update(re.findall(r"%s\{([a-z_]+)=" % name, expr))
                wanted -= self.OUTSIDE_LABELS
                if scrape.series(family):  # a family without samples yet (peer RTT) has no labels to check
                    self.assertLessEqual(wanted, have, "%s: %s has labels %s, not %s" % (where, name, have, wanted))
        self.assertGreater(used, 20)
        for title in ("Lookups by result", "Lookup latency", "Peer state", "Peer round-trip time",
                      "Registrations by feed", "RealTime connected", "DUNDi packets dropped by reason"):
            self.assertIn(title, [p["title"] for p in dash["panels"]])
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids are unique")
        d.stop()


if __name__ == "__main__":
    _, main = harness.run_tests()
    main()
