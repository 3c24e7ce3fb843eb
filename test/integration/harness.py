"""Process and socket helpers for the dundid integration tests.

Everything here is bounded in time: every wait has a deadline, every daemon
started is tracked so that it can be killed even when a test fails.
"""

import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import unittest
import time

import dundi_raw as dr

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "dundid.conf.in")

# Filled in by test_daemon.py from its command line / the environment.
BINARIES = {"dundid": os.environ.get("DUNDID", ""), "dundiq": os.environ.get("DUNDIQ", "")}

STATS_RE = re.compile(r"stats: (.*)$", re.M)


DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
_keydir = None


def test_keydir():
    """A private copy of the test key pair (dundi.pub/.key, as the Asterisk
    PBXes of the capture used): git keeps no file modes, and a private key
    others can read is refused."""
    global _keydir
    if _keydir is None:
        _keydir = tempfile.TemporaryDirectory(prefix="dundid-keys-")
        for name in ("dundi.pub", "dundi.key"):
            with open(os.path.join(DATA, name), "rb") as src:
                data = src.read()
            dst = os.path.join(_keydir.name, name)
            with open(dst, "wb") as f:
                f.write(data)
            os.chmod(dst, 0o600)
    return _keydir.name


def render_config(bind, port, bind2=None, extra_exten=(), general_extra=(), reg_extra=(), statefile="none"):
    """The test configuration (dundid.conf.in) for one daemon instance.
    No state file unless a test asks for one: tests run in parallel."""
    with open(TEMPLATE) as f:
        text = f.read()
    text = text.replace("<<KEYDIR>>", test_keydir())
    text = text.replace("<<BIND>>", bind).replace("<<PORT>>", str(port))
    text = text.replace("<<BIND2>>", ("bindaddr2=%s" % bind2) if bind2 else "")
    text = text.replace("<<GENERAL_EXTRA>>", "\n".join(general_extra))
    text = text.replace("<<STATEFILE>>", statefile)
    text = text.replace("<<REG_EXTRA>>", "\n".join(reg_extra))
    text = text.replace("<<EXTRA_EXTEN>>", "\n".join("exten => %s" % e for e in extra_exten))
    return text


class Daemon:
    """One dundid process running in the foreground with its log in a file."""

    def __init__(self, conf_path, workdir, listen_count=1, args=(), env=None, wrap=()):
        self.conf_path = conf_path
        self.args, self.env = list(args), env  # more options; the environment (None: ours)
        self.wrap = list(wrap)  # a command dundid runs under (e.g. unshare), [] for none
        self.log_path = os.path.join(workdir, "dundid-%d.log" % id(self))
        self.listen_count = listen_count
        self.proc = None
        self.exit_code = None
        self._log = None

    def start(self, timeout=5.0):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.wrap + [BINARIES["dundid"], "-f", "-d", "-c", self.conf_path] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._log, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dundid exited during startup (code %s):\n%s"
                                     % (self.proc.returncode, self.log()))
            if self.log().count("listening on") >= self.listen_count:
                return self
            time.sleep(0.01)
        self.kill()
        raise AssertionError("dundid did not report 'listening on' within %.1f s:\n%s"
                             % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout=3.0, count=1):
        """Wait until needle appears count times in the log; returns whether it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(needle) >= count:
                return True
            time.sleep(0.01)
        return self.log().count(needle) >= count

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=5.0):
        """SIGTERM, wait for exit; returns the stats dict from the final log line."""
        if self.proc is None:
            raise AssertionError("daemon never started")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("dundid did not exit within %.1f s of SIGTERM" % timeout)
        self.exit_code = self.proc.returncode
        self._close_log()
        m = STATS_RE.findall(self.log())
        if not m:
            raise AssertionError("no stats line in the log:\n%s" % self.log())
        stats = {}
        for item in m[-1].split():
            k, _, v = item.partition("=")
            stats[k] = int(v)
        return stats

    def kill(self):
        """Hard stop, for cleanups. Safe to call more than once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None


class DaemonsCase(unittest.TestCase):
    """Tests that start named dundid instances from configuration text, in
    one temporary folder per test; every daemon is killed at the end."""

    WORKDIR_PREFIX = "dundid-test-"

    def setUp(self):
        self.tmp = make_workdir(self.WORKDIR_PREFIX)
        self.addCleanup(self.tmp.cleanup)
        self.daemons = {}

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, name, text):
        d = Daemon(self.write(name, text), self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        self.daemons[name] = d
        return d


class Client:
    """A UDP socket talking raw DUNDi to one daemon address."""

    _next_trans = 100

    def __init__(self, local_host, server, family=socket.AF_INET):
        self.server = server
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((local_host, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

    @classmethod
    def new_trans(cls):
        """A fresh transaction id (1..32766, never 0, bit 15 clear)."""
        Client._next_trans += 1
        return Client._next_trans

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendto(data, self.server)

    def recv_raw(self, timeout):
        """(bytes, source address) or (None, None) when nothing came within timeout."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return None, None
        data, addr = self.sock.recvfrom(65535)
        return data, addr

    def recv(self, timeout):
        data, addr = self.recv_raw(timeout)
        if data is None:
            return None
        if addr[0] != self.server[0] or addr[1] != self.server[1]:
            raise AssertionError("datagram from %r, expected it from %r" % (addr, self.server))
        return data

    def collect(self, duration):
        """All datagrams (time received, bytes) within duration seconds."""
        out = []
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            data = self.recv(left)
            if data is None:
                break
            out.append((time.monotonic(), data))
        return out

    def drain(self):
        """Discard whatever is queued right now."""
        n = 0
        while True:
            data, _ = self.recv_raw(0)
            if data is None:
                return n
            n += 1

    def transact(self, data, timeout=3.0):
        """Send a request; return (standalone ACKs seen, first non-ACK reply as Packet)."""
        self.send(data)
        acks = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no reply within %.1f s (ACKs seen: %r)" % (timeout, acks))
            raw = self.recv(left)
            if raw is None:
                raise AssertionError("no reply within %.1f s (ACKs seen: %r)" % (timeout, acks))
            pkt = dr.decode(raw)
            if pkt.hdr.cmd == dr.ACK:
                acks.append(pkt)
                continue
            return acks, pkt


def run_tool(args, timeout=15.0):
    """Run a program, return (exit code, stdout, stderr)."""
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def dundiq(*args, timeout=15.0):
    return run_tool([BINARIES["dundiq"]] + [str(a) for a in args], timeout=timeout)


def make_workdir(prefix):
    return tempfile.TemporaryDirectory(prefix=prefix)


_mount_ns = []


def mount_ns_unusable():
    """Why a private mount namespace cannot be had here (None if it can):
    root, unshare(1), and a / that is a mount point (not so in a chroot or
    some containers, where "mount --make-rprivate /" fails)."""
    if not _mount_ns:
        if os.geteuid() != 0:
            _mount_ns.append("needs root for a mount namespace")
        elif not os.path.exists("/usr/bin/unshare"):
            _mount_ns.append("unshare(1) is not installed")
        else:
            try:
                rc, _, err = run_tool(["unshare", "-m", "sh", "-c", "mount --make-rprivate /"], timeout=10)
            except (OSError, subprocess.TimeoutExpired) as e:
                rc, err = 1, str(e)
            _mount_ns.append(None if rc == 0 else "unshare -m: %s" % (err.strip() or "exit %d" % rc))
    return _mount_ns[0]


def run_tests(extra_tools=()):
    """The drivers' main(): binary paths from --dundid/--dundiq (and any
    extra_tools, e.g. "keygen") or the environment, the rest to unittest.
    Returns the parsed paths of the extra tools."""
    import argparse
    import sys
    import unittest
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--dundid", default=os.environ.get("DUNDID"))
    ap.add_argument("--dundiq", default=os.environ.get("DUNDIQ"))
    for name in extra_tools:
        ap.add_argument("--" + name, default=os.environ.get("DUNDID_" + name.upper()))
    args, rest = ap.parse_known_args()
    paths = [args.dundid, args.dundiq] + [getattr(args, n) for n in extra_tools]
    if not all(paths):
        sys.exit("usage: %s --dundid PATH --dundiq PATH%s [unittest args]"
                 % (os.path.basename(sys.argv[0]), "".join(" --%s PATH" % n for n in extra_tools)))
    BINARIES["dundid"] = os.path.abspath(args.dundid)
    BINARIES["dundiq"] = os.path.abspath(args.dundiq)
    extra = {n: os.path.abspath(getattr(args, n)) for n in extra_tools}
    return extra, lambda: _main([sys.argv[0]] + rest)


def _main(argv):
    """unittest.main, but a run whose every test was skipped exits 77 (ctest
    SKIP_RETURN_CODE) after printing why, instead of passing silently."""
    import sys
    import unittest
    prog = unittest.main(argv=argv, verbosity=2, exit=False)
    r = prog.result
    # (a skip in setUpClass counts no test run)
    if r.skipped and len(r.skipped) >= r.testsRun and r.wasSuccessful():
        for test, reason in r.skipped:
            print("SKIPPED %s: %s" % (test.id(), reason))
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)
