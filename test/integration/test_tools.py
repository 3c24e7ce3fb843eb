#!/usr/bin/env python3
"""Integration tests of the operator tools as dig and Asterisk's CLI work:
dundiq's -b, -p, short output, batch mode (one session key per node) and its
explanations of refusals; dundictl's "show peers" filters and [*] clones;
"set debug on" with every IE and the decrypted inner frames.

Usage:
    test_tools.py --dundid PATH --dundiq PATH --dundictl PATH --keygen PATH [unittest args]

Addresses (the block 127.0.41.0/24, ports 45450-45499):

    127.0.41.1:45450   daemon A: the test configuration, a static peer
                       02:00:00:00:41:05 at 127.0.41.5, control socket
    127.0.41.5:45460   dundiq's source address and port with -b
    127.0.41.6:45450   a peer of A that never answers (context e164)
    127.0.41.2:45451   daemon B: [*] (dynamic), peers for "show peers"
    127.0.41.3:*       a raw client registering under B's [*]
    127.0.41.4:45452   daemon C, restarted in the middle of a keyed batch
    127.0.41.7:45453   daemon D, forwarding a lookup to C keyed (debug on D)
"""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Client, Daemon, dundiq, render_config, run_tool  # noqa: E402

A_HOST, A_PORT = "127.0.41.1", 45450
B_HOST, B_PORT = "127.0.41.2", 45451
REG_HOST = "127.0.41.3"
C_HOST, C_PORT = "127.0.41.4", 45452
D_HOST, D_PORT = "127.0.41.7", 45453
SRC_HOST, SRC_PORT = "127.0.41.5", 45460
SILENT_HOST, SILENT_EID = "127.0.41.6", "02:00:00:00:41:06"
STATIC_EID = "02:00:00:00:41:05"   # A's static peer at SRC_HOST
CLIENT_EID = "02:00:00:00:00:99"   # the template's plain client (priv, e164)
ALL_EID = "02:00:00:00:00:98"      # the template's client allowed every context
KEYED_EID = "02:00:00:00:00:97"    # the template's keyed client (inkey/outkey dundi)
SECRET_RE = r"[A-Za-z0-9+]{22}=="
TOOLS = {}


def ctl(sock, *args, timeout=30):
    return run_tool([TOOLS["dundictl"], "-s", sock] + [str(a) for a in args], timeout=timeout)


def ctl_json(case, sock, *args):
    rc, out, err = ctl(sock, "--json", *args)
    case.assertEqual(rc, 0, "dundictl --json %s: %s%s" % (" ".join(args), out, err))
    return json.loads(out)


def start_daemon(case, workdir, name, text):
    path = os.path.join(workdir, name + ".conf")
    with open(path, "w") as f:
        f.write(text)
    d = Daemon(path, workdir)
    case.addCleanup(d.kill)
    d.start()
    if not d.wait_log(" started, entity id"):
        raise AssertionError(d.log())
    return d


def client_keys(workdir):
    """The test pair (as the daemons use) and a second pair from dundid-keygen."""
    keys = os.path.join(workdir, "client-keys")
    if not os.path.isdir(keys):
        os.mkdir(keys, 0o700)
        for name in ("dundi.pub", "dundi.key"):
            shutil.copyfile(os.path.join(harness.test_keydir(), name), os.path.join(keys, name))
            os.chmod(os.path.join(keys, name), 0o600)
        rc, out, err = run_tool([TOOLS["keygen"], "-d", keys, "other"])
        if rc != 0:
            raise AssertionError("dundid-keygen: %s%s" % (out, err))
    return keys


class DundiqTests(unittest.TestCase):
    """dundiq against daemon A."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_workdir("dundid-tools-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.sock = os.path.join(cls.tmp.name, "a.ctl")
        text = render_config(A_HOST, A_PORT, general_extra=["control = %s" % cls.sock])
        text += "\n".join(["", "[%s]" % STATIC_EID, "model = inbound", "host = %s" % SRC_HOST,
                           "permit = priv",
                           "[%s]" % SILENT_EID, "model = outbound", "host = %s" % SILENT_HOST,
                           "port = %d" % A_PORT, "include = e164", ""])
        # A peer that never answers: A's lookups in e164 stay running for a while.
        cls.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.silent.bind((SILENT_HOST, A_PORT))
        cls.addClassCleanup(cls.silent.close)
        path = os.path.join(cls.tmp.name, "a.conf")
        with open(path, "w") as f:
            f.write(text)
        cls.a = Daemon(path, cls.tmp.name)
        cls.addClassCleanup(cls.a.kill)
        cls.a.start()
        if not cls.a.wait_log(" started, entity id"):
            raise AssertionError(cls.a.log())
        cls.keys = client_keys(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()
        if cls.a.exit_code != 0:
            raise AssertionError("dundid exited with %s:\n%s" % (cls.a.exit_code, cls.a.log()))

    def q(self, *args, eid=CLIENT_EID, stdin=None):
        argv = [harness.BINARIES["dundiq"], "--timeout", "3000", "--eid", eid] + [str(a) for a in args]
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def keyed(self, *args, outkey="dundi", stdin=None):
        return self.q("--keydir", self.keys, "--inkey", "dundi", "--outkey", outkey, *args,
                      eid=KEYED_EID, stdin=stdin)

    def stats(self):
        return ctl_json(self, self.sock, "show", "stats")

    # ------------------------------------------------------------ -p and -b

    def test_port_option(self):
        rc, out, err = self.q("-p", A_PORT, A_HOST, "1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"^0 IAX2/priv:%s@%s/1001 \(EXISTS\)" % (SECRET_RE, A_HOST))
        rc, out, err = self.q("--port", A_PORT, A_HOST, "1001@priv")
        self.assertEqual(rc, 0, out + err)
        # HOST:PORT wins over -p.
        rc, out, err = self.q("-p", 9, "%s:%d" % (A_HOST, A_PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        for bad in ("0", "65536", "x", "45450x"):
            rc, out, err = self.q("-p", bad, A_HOST, "1001@priv")
            self.assertEqual((rc, out), (2, ""), bad)
            self.assertIn("-p must be a port", err)

    def test_source_address(self):
        # The static peer's EID from another address: refused, and dundiq says why.
        rc, out, err = self.q("-p", A_PORT, A_HOST, "1001@priv", eid=STATIC_EID)
        self.assertEqual((rc, out), (1, "no answers: cause NOAUTH\n"), err)
        self.assertIn("the node does not know our EID, or not from this source address (--eid, -b)", err)
        # From the peer's address (and a port of our choosing): answered.
        mark = len(self.a.log())
        ctl(self.sock, "set", "debug", "on")
        try:
            rc, out, err = self.q("-b", "%s:%d" % (SRC_HOST, SRC_PORT), "-p", A_PORT, A_HOST, "1001@priv",
                                  eid=STATIC_EID)
            self.assertEqual(rc, 0, out + err)
            self.assertTrue(self.a.wait_log("packet: Rx-Frame %s:%d DPDISCOVER" % (SRC_HOST, SRC_PORT)),
                            self.a.log()[mark:])
            rc, out, err = self.q("--source", SRC_HOST, "-p", A_PORT, A_HOST, "1006@priv", eid=STATIC_EID)
            self.assertEqual(rc, 0, out + err)
        finally:
            ctl(self.sock, "set", "debug", "off")
        for bad in ("nohost", "127.0.41.5:99999", "127.0.41.5:x", "::1", "[::1"):
            rc, out, err = self.q("-b", bad, "-p", A_PORT, A_HOST, "1001@priv")
            self.assertEqual(rc, 2, (bad, out, err))
            self.assertTrue(err.startswith("dundiq: -b"), err)

    # ------------------------------------------------------------ +short

    def test_short(self):
        for flag in ("+short", "-s", "--short"):
            rc, out, err = self.q(flag, "%s:%d" % (A_HOST, A_PORT), "1001@priv")
            self.assertEqual((rc, err), (0, ""), flag)
            self.assertRegex(out, r"^IAX2/priv:%s@%s/1001\n$" % (SECRET_RE, A_HOST))
        rc, out, err = self.q("%s:%d" % (A_HOST, A_PORT), "1002@priv", "+short")
        self.assertEqual((rc, out, err), (1, "", ""))
        rc, out, err = self.q("-s", "--json", "%s:%d" % (A_HOST, A_PORT), "1001@priv")
        self.assertEqual(rc, 2)
        self.assertIn("exclude each other", err)
        rc, out, err = self.q("-s", "--eidquery", "02:00:00:00:00:0a", "%s:%d" % (A_HOST, A_PORT), "priv")
        self.assertEqual((rc, out), (0, "Integration Org\n"), err)

    # ------------------------------------------------------------ -f

    def test_batch_file(self):
        path = os.path.join(self.tmp.name, "queries.txt")
        with open(path, "w") as f:
            f.write("# numbers to check\n1001@priv\n\n   1006@priv   # trailing comment\n"
                    "%s:%d 1002@priv\n" % (A_HOST, A_PORT))
        rc, out, err = self.q("-p", A_PORT, "-f", path, A_HOST)
        self.assertEqual((rc, err), (1, ""), out)  # the worst: 1002 has no answers
        self.assertRegex(out, r"^; 1001@priv at %s\n0 IAX2/priv:%s@%s/1001 .*\nhint: UNAFFECTED\n\n"
                              r"; 1006@priv at %s\n0 IAX2/priv:\S+/1006 .*\nhint: UNAFFECTED\n\n"
                              r"; 1002@priv at %s:%d\nno answers\nhint: DONT_ASK\|UNAFFECTED 1002\n$"
                         % (A_HOST, SECRET_RE, A_HOST, A_HOST, A_HOST, A_PORT))
        rc, out, err = self.q("-p", A_PORT, "--short", "-f", path, A_HOST)
        self.assertEqual(rc, 1, err)
        self.assertEqual([l.rsplit("/", 1)[1] for l in out.splitlines()], ["1001", "1006"])
        rc, out, err = self.q("-p", A_PORT, "--json", "--file", path, A_HOST)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([(r["host"], r["number"], len(r["answers"])) for r in rows],
                         [(A_HOST, "1001", 1), (A_HOST, "1006", 1), ("%s:%d" % (A_HOST, A_PORT), "1002", 0)])
        # All answered: 0.
        rc, out, err = self.q("-p", A_PORT, "-s", "-f", "-", A_HOST, stdin=b"1001@priv\n1006@priv\n")
        self.assertEqual((rc, len(out.splitlines()), err), (0, 2, ""))

    def test_batch_errors(self):
        # A bad line is an error (exit 2), the other lines are still asked.
        rc, out, err = self.q("-p", A_PORT, "-s", "-f", "-", A_HOST, stdin=b"1001@priv\na b c\n@priv\n1006@priv\n")
        self.assertEqual(rc, 2)
        self.assertEqual(len(out.splitlines()), 2, out)
        self.assertIn("dundiq: (stdin):2: not [HOST[:PORT]] NUMBER[@CONTEXT]", err)
        self.assertIn("dundiq: (stdin):3: '@priv' is not NUMBER@CONTEXT", err)
        # No HOST for a one-word line.
        rc, out, err = self.q("-f", "-", stdin=b"1001@priv\n")
        self.assertEqual(rc, 2)
        self.assertIn("no HOST on the line or the command line", err)
        # A node that does not answer is an error; the next line is asked anyway.
        rc, out, err = self.q("--timeout", 300, "-s", "-f", "-", stdin=("127.0.41.99:45499 1001@priv\n%s:%d 1001@priv\n"
                                                                         % (A_HOST, A_PORT)).encode())
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(out.splitlines()), 1, out)
        rc, out, err = self.q("-f", os.path.join(self.tmp.name, "missing"))
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("No such file", err)
        rc, out, err = self.q("-f", "-", stdin=b"# nothing\n\n")
        self.assertEqual(rc, 2)
        self.assertIn("no queries", err)
        rc, out, err = self.q("-f", "-", "--eidquery", "02:00:00:00:00:0a", stdin=b"1001@priv\n")
        self.assertEqual(rc, 2)

    def test_batch_keyed_one_session_key(self):
        """25 keyed queries, more than dundid's burst of new keys per source
        (20): the node checks one key (one RSA check), the later queries
        carry its KEYCRC32 only, and all are answered."""
        before = self.stats()["key_checks"]
        ctl(self.sock, "set", "debug", "on")
        mark = len(self.a.log())
        try:
            rc, out, err = self.keyed("-p", A_PORT, "-s", "-f", "-", A_HOST,
                                      stdin=b"1001@priv\n1006@priv\n1002@priv\n" + b"1001@priv\n" * 22)
            self.assertEqual(rc, 1, err)  # 1002 has no answers
            self.assertEqual(err, "")
            self.assertEqual(len(out.splitlines()), 24, out)
            self.assertTrue(self.a.wait_log("decrypted: DPRESPONSE", count=25), self.a.log()[mark:])
        finally:
            ctl(self.sock, "set", "debug", "off")
        self.assertEqual(self.stats()["key_checks"], before + 1)
        log = self.a.log()[mark:]
        self.assertEqual(log.count("SHAREDKEY=<128 bytes>, SIGNATURE=<128 bytes>"), 1, log)
        self.assertEqual(len(re.findall(r"packet: Rx-Frame \S+ ENCRYPT \(Command\) .* bytes \{EID=%s, "
                                        r"KEYCRC32=[0-9a-f]{8}, ENCDATA=<\d+ bytes>\}" % KEYED_EID, log)), 24, log)

    # ------------------------------------------------------------ refusals explained

    def test_refusals_explained(self):
        rc, out, err = self.q("-p", A_PORT, A_HOST, "1001@priv", eid=KEYED_EID)
        self.assertEqual((rc, out), (1, "no answers: cause NOAUTH, Unencrypted responses not permitted\n"))
        self.assertIn("the node has keys for our EID: ask encrypted (--inkey, --outkey)", err)
        rc, out, err = self.q("-p", A_PORT, A_HOST, "1001@elsewhere")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("does not let us ask in this context (model, permit)", err)
        rc, out, err = self.q("-p", A_PORT, A_HOST, "1001@nosuch", eid=ALL_EID)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("the node has no mapping for this context", err)
        # Answers explain nothing.
        rc, out, err = self.q("-p", A_PORT, A_HOST, "1001@priv")
        self.assertEqual((rc, err), (0, ""))

    def test_duplicate_explained(self):
        """The same lookup from the same EID while A still waits for its
        peer: DUPLICATE, and dundiq says what it means."""
        first = subprocess.Popen([harness.BINARIES["dundiq"], "--timeout", "8000", "--eid", CLIENT_EID, "-p",
                                  str(A_PORT), A_HOST, "999@e164"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(first.kill)
        r, _, _ = select.select([self.silent], [], [], 5)
        self.assertTrue(r, "A did not forward the lookup to its silent peer")
        rc, out, err = self.q("-p", A_PORT, A_HOST, "999@e164")
        self.assertEqual((rc, out.splitlines()[0]), (1, "no answers: cause DUPLICATE, Duplicate request pending"),
                         out + err)
        self.assertIn("the node is already looking this up for our EID; ask again when it is done", err)
        first.kill()  # A's lookup runs on, in e164, which no other test asks
        first.communicate(timeout=30)

    def test_encrej_wrong_keys(self):
        rc, out, err = self.keyed("-p", A_PORT, A_HOST, "1001@priv", outkey="other")
        self.assertEqual((rc, out), (2, ""), err)
        self.assertEqual(err, "dundiq: %s: the node refused our session key: wrong keys, or its limit on new keys "
                              "per source (ENCREJ)\n" % A_HOST)
        # A batch: every query says it, and gives up on none of the others.
        rc, out, err = self.keyed("-p", A_PORT, "-s", "-f", "-", A_HOST, outkey="other",
                                  stdin=b"1001@priv\n1006@priv\n")
        self.assertEqual((rc, out), (2, ""), err)
        self.assertEqual(err.count("refused our session key"), 2, err)


class RestartTests(unittest.TestCase):
    """A node that lost our key (restarted) in the middle of a batch: the
    KEYCRC32 is refused, dundiq sends the whole key again, once."""

    def test_keycrc_refused_then_full_key(self):
        tmp = harness.make_workdir("dundid-tools-restart-")
        self.addCleanup(tmp.cleanup)
        sock = os.path.join(tmp.name, "c.ctl")
        text = render_config(C_HOST, C_PORT, general_extra=["control = %s" % sock])
        c = start_daemon(self, tmp.name, "c", text)
        keys = client_keys(tmp.name)
        p = subprocess.Popen([harness.BINARIES["dundiq"], "--timeout", "5000", "--eid", KEYED_EID, "--keydir", keys,
                              "--inkey", "dundi", "--outkey", "dundi", "-s", "-p", str(C_PORT), "-f", "-", C_HOST],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        p.stdin.write(b"1001@priv\n")
        p.stdin.flush()
        first = p.stdout.readline().decode()
        self.assertRegex(first, r"^IAX2/priv:%s@%s/1001\n$" % (SECRET_RE, C_HOST))
        c.stop()
        c2 = start_daemon(self, tmp.name, "c", text)
        out, err = p.communicate(b"1006@priv\n1001@priv\n", timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual([l.rsplit("/", 1)[1] for l in out.decode().splitlines()], ["1006", "1001"])
        self.assertIn("of a key we do not hold", c2.log())
        self.assertEqual(ctl_json(self, sock, "show", "stats")["key_checks"], 1)
        c2.stop()
        self.assertEqual(c2.exit_code, 0, c2.log())


class ShowPeersTests(unittest.TestCase):
    """dundictl show peers [registered|include|exclude|begin] and [*] clones, on B."""

    STATIC, DYN, CLONE = "02:00:00:00:41:21", "02:00:00:00:41:22", "02:00:00:00:41:23"

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_workdir("dundid-tools-peers-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.sock = os.path.join(cls.tmp.name, "b.ctl")
        text = "\n".join([
            "[general]", "bindaddr = %s" % B_HOST, "port = %d" % B_PORT, "entityid = 02:00:00:00:41:20",
            "control = %s" % cls.sock,
            "[mappings]", "priv => regs,0,SIP,${NUMBER}@%s" % B_HOST,
            "[context regs]", "exten => 1001",
            "[%s]" % cls.STATIC, "model = outbound", "host = 127.0.41.9", "port = %d" % B_PORT, "include = priv",
            "[%s]" % cls.DYN, "model = inbound", "host = dynamic", "permit = priv",
            "[*]", "model = symmetric", "host = dynamic", "include = priv", "permit = priv", ""])
        path = os.path.join(cls.tmp.name, "b.conf")
        with open(path, "w") as f:
            f.write(text)
        cls.b = Daemon(path, cls.tmp.name)
        cls.addClassCleanup(cls.b.kill)
        cls.b.start()
        if not cls.b.wait_log(" started, entity id"):
            raise AssertionError(cls.b.log())
        # A stranger registers under [*]: B makes a clone for it.
        cl = Client(REG_HOST, (B_HOST, B_PORT))
        cls.addClassCleanup(cl.close)
        st = Client.new_trans()
        cl.send(dr.regreq(st, cls.CLONE, 60))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data = cl.recv(deadline - time.monotonic())
            if data is None:
                break
            pk = dr.decode(data)
            if pk.hdr.cmd == dr.REGRESPONSE:
                cl.send(dr.ack(st, pk.hdr.strans, pk.hdr.oseqno + 1, 1, True))
                cls.reg_port = cl.sock.getsockname()[1]
                return
        raise AssertionError("no REGRESPONSE from B:\n" + cls.b.log())

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def rows(self, *filt):
        rc, out, err = ctl(self.sock, "show", "peers", *filt)
        self.assertEqual((rc, err), (0, ""), out)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["EID", "Host", "Port", "Model", "AvgTime", "Status"])
        return [l.split()[0] for l in lines[1:-1]], lines[-1]

    def test_all_and_clones(self):
        eids, total = self.rows()
        self.assertEqual(sorted(eids), sorted([self.STATIC, self.DYN, self.CLONE]))
        self.assertEqual(total, "3 dundi peers [0 online, 0 offline, 3 unmonitored]")
        rc, out, err = ctl(self.sock, "show", "peers")
        self.assertRegex(out, r"(?m)^%s\s+%s\s+\(D\) %d\s+Symmetric" % (self.CLONE, REG_HOST, self.reg_port))
        j = ctl_json(self, self.sock, "show", "peers")
        by = {p["eid"]: p for p in j["peers"]}
        self.assertEqual({e: p["cloned"] for e, p in by.items()},
                         {self.STATIC: False, self.DYN: False, self.CLONE: True})
        self.assertEqual((by[self.CLONE]["host"], by[self.CLONE]["port"]), (REG_HOST, self.reg_port))
        rc, out, err = ctl(self.sock, "show", "peer", self.CLONE)
        self.assertIn("Dynamic: yes\nCloned:  yes, from [*] when it registered\n", out)
        self.assertIs(ctl_json(self, self.sock, "show", "peer", self.CLONE)["cloned"], True)
        self.assertIs(ctl_json(self, self.sock, "show", "peer", self.STATIC)["cloned"], False)
        self.assertNotIn("Cloned", ctl(self.sock, "show", "peer", self.STATIC)[1])

    def test_registered(self):
        eids, total = self.rows("registered")
        self.assertEqual(sorted(eids), sorted([self.STATIC, self.CLONE]))
        self.assertEqual(total, "2 dundi peers [0 online, 0 offline, 2 unmonitored]")
        j = ctl_json(self, self.sock, "show", "peers", "registered")
        self.assertEqual(sorted(p["eid"] for p in j["peers"]), sorted([self.STATIC, self.CLONE]))
        self.assertEqual(j["total"], 2)

    def test_include_exclude_begin(self):
        self.assertEqual(self.rows("include", "Symmetric")[0], [self.CLONE])
        self.assertEqual(sorted(self.rows("exclude", "Symmetric")[0]), sorted([self.STATIC, self.DYN]))
        self.assertEqual(self.rows("include", "(Unspecified)")[0], [self.DYN])
        self.assertEqual(self.rows("include", "symmetric")[0], [], "include is case-sensitive, as Asterisk's")
        self.assertEqual(self.rows("begin", self.STATIC.upper())[0], [self.STATIC], "begin ignores case")
        self.assertEqual(self.rows("begin", "Symmetric")[0], [])
        self.assertEqual(self.rows("include", "nothing-like-this")[1],
                         "0 dundi peers [0 online, 0 offline, 0 unmonitored]")
        j = ctl_json(self, self.sock, "show", "peers", "exclude", "127.0.41.")
        self.assertEqual([p["eid"] for p in j["peers"]], [self.DYN])

    def test_usage(self):
        usage = "dundictl: usage: show peers [registered|include TEXT|exclude TEXT|begin TEXT]\n"
        for args in (("x",), ("include",), ("registered", "x"), ("begin", "a", "b")):
            rc, out, err = ctl(self.sock, "show", "peers", *args)
            self.assertEqual((rc, out, err), (1, "", usage), args)
        rc, out, err = ctl(self.sock, "help")
        self.assertIn("\nshow peers [registered|include TEXT|exclude TEXT|begin TEXT]\n%s Show defined DUNDi peers\n"
                      "show peer EID %s Show info" % (" " * 44, " " * 30), out)


class DebugTests(unittest.TestCase):
    """set debug on: every IE, the decrypted inner frames; no key material
    and no ${SECRET} in the log."""

    def test_ies_and_inner_frames(self):
        tmp = harness.make_workdir("dundid-tools-debug-")
        self.addCleanup(tmp.cleanup)
        sock = os.path.join(tmp.name, "d.ctl")
        d = start_daemon(self, tmp.name, "d", render_config(C_HOST, C_PORT, general_extra=["control = %s" % sock]))
        keys = client_keys(tmp.name)
        self.assertEqual(ctl(sock, "set", "debug", "on")[0], 0)
        mark = len(d.log())
        rc, out, err = dundiq("--eid", CLIENT_EID, "-p", C_PORT, C_HOST, "1001@priv")
        self.assertEqual(rc, 0, err)
        secret = re.search(SECRET_RE, out).group(0)
        rc, out2, err = dundiq("--eid", KEYED_EID, "--keydir", keys, "--inkey", "dundi", "--outkey", "dundi",
                               "-p", C_PORT, C_HOST, "1006@priv")
        self.assertEqual(rc, 0, err)
        self.assertTrue(d.wait_log("decrypted: DPRESPONSE (Response) (Final)"), d.log()[mark:])
        log = d.log()[mark:]
        # The clear request and its answer, IE by IE.
        self.assertIn("bytes {VERSION=1, EID_DIRECT=%s, CALLED_NUMBER=1001, CALLED_CONTEXT=priv, TTL=32}"
                      % CLIENT_EID, log)
        self.assertRegex(log, r"DPRESPONSE \(Response\) .* bytes \{ANSWER=\{'eid': '02:00:00:00:00:0a', "
                              r"'proto': \d+, 'flags': '0001', 'weight': 0, 'data': 'priv:\*{24}@%s/1001'\}"
                         % re.escape(C_HOST))
        # The keyed one: the envelope without its keys, then what it carried.
        self.assertRegex(log, r"packet: Rx-Frame \S+ ENCRYPT \(Command\) .* bytes \{EID=%s, SHAREDKEY=<128 bytes>, "
                              r"SIGNATURE=<128 bytes>, ENCDATA=<\d+ bytes>\}" % KEYED_EID)
        self.assertIn("decrypted: DPDISCOVER (Command) {VERSION=1, EID_DIRECT=%s, CALLED_NUMBER=1006, "
                      "CALLED_CONTEXT=priv, TTL=32}" % KEYED_EID, log)
        self.assertRegex(log, r"packet: Tx-Frame \S+ decrypted: DPRESPONSE \(Response\) \(Final\) \{ANSWER=\{'eid': "
                              r"'02:00:00:00:00:0a', .*'data': 'priv:\*{24}@%s/1006'\}" % re.escape(C_HOST))
        # Never a secret, a session key, a signature or ciphertext.
        self.assertNotIn(secret, d.log())
        self.assertIsNone(re.search(SECRET_RE, log), log)
        self.assertIsNone(re.search(r"[0-9a-fA-F]{32}", log), log)
        d.stop()
        self.assertEqual(d.exit_code, 0, d.log())

    def test_inner_frames_of_our_own_requests(self):
        """The opener's side: D forwards a lookup to its keyed peer (a daemon
        with the template, where D's EID is the keyed client 97)."""
        tmp = harness.make_workdir("dundid-tools-debug-")
        self.addCleanup(tmp.cleanup)
        start_daemon(self, tmp.name, "c", render_config(C_HOST, C_PORT))
        sock = os.path.join(tmp.name, "d.ctl")
        d = start_daemon(self, tmp.name, "d", "\n".join([
            "[general]", "bindaddr = %s" % D_HOST, "port = %d" % D_PORT, "entityid = %s" % KEYED_EID,
            "control = %s" % sock, "keydir = %s" % harness.test_keydir(),
            "[mappings]", "priv => dlocal,0,SIP,${NUMBER}@%s" % D_HOST, "[context dlocal]", "exten => 9999",
            "[02:00:00:00:00:0a]", "model = outbound", "host = %s" % C_HOST, "port = %d" % C_PORT,
            "include = priv", "inkey = dundi", "outkey = dundi", ""]))
        self.assertEqual(ctl(sock, "set", "debug", "on", "peer", "02:00:00:00:00:0a")[0], 0)
        mark = len(d.log())
        j = ctl_json(self, sock, "lookup", "1001@priv", "bypass")
        self.assertEqual(len(j["answers"]), 1, j)
        self.assertTrue(d.wait_log("decrypted: DPRESPONSE"), d.log()[mark:])
        log = d.log()[mark:]
        self.assertRegex(log, r"packet: Tx-Frame %s:%d decrypted: DPDISCOVER \(Command\) \{VERSION=1, "
                              r"EID_DIRECT=%s, CALLED_NUMBER=1001, CALLED_CONTEXT=priv, TTL=\d+, CACHEBYPASS=\}"
                         % (re.escape(C_HOST), C_PORT, KEYED_EID))
        self.assertRegex(log, r"packet: Tx-Frame %s:%d ENCRYPT \(Command\) .* bytes \{EID=%s, SHAREDKEY=<128 bytes>, "
                              r"SIGNATURE=<128 bytes>, ENCDATA=<\d+ bytes>\}" % (re.escape(C_HOST), C_PORT, KEYED_EID))
        self.assertRegex(log, r"packet: Rx-Frame %s:%d decrypted: DPRESPONSE \(Response\) \(Final\) \{ANSWER="
                              r"\{'eid': '02:00:00:00:00:0a', .*'data': 'priv:\*{24}@%s/1001'\}"
                         % (re.escape(C_HOST), C_PORT, re.escape(C_HOST)))
        self.assertIsNone(re.search(SECRET_RE, log), log)
        self.assertIsNone(re.search(r"[0-9a-fA-F]{32}", log), log)
        d.stop()
        self.assertEqual(d.exit_code, 0, d.log())



COMPLETION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "completion")


def complete(name, words, path_dir=None, cword=None):
    """Source contrib/completion/NAME in a plain bash, check it registers,
    call its function with COMP_WORDS = words (the last being completed)."""
    script = ('source "$1" || exit 3; shift; complete -p %s || exit 4; COMP_WORDS=("$@"); '
              'COMP_CWORD=%d; _%s; printf "%%s\\n" "${COMPREPLY[@]}"' % (name, cword or len(words) - 1, name))
    env = dict(os.environ)
    if path_dir:
        env["PATH"] = path_dir + os.pathsep + env.get("PATH", "")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", os.path.join(COMPLETION, name)]
                       + list(words), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, env=env)
    if p.returncode != 0:
        raise AssertionError("bash completion %s %r: %d %s" % (name, words, p.returncode, p.stderr.decode()))
    lines = p.stdout.decode().splitlines()
    if lines[0] != "complete -F _%s %s" % (name, name):
        raise AssertionError("complete -p: %r" % lines[0])
    return sorted(l for l in lines[1:] if l)


class CompletionTests(unittest.TestCase):
    """contrib/completion/dundictl and dundiq, sourced in bash."""

    def test_dundictl_words(self):
        self.assertEqual(complete("dundictl", ["dundictl", "sh"]), ["show"])
        self.assertEqual(complete("dundictl", ["dundictl", "show", "pe"]), ["peer", "peers"])
        self.assertEqual(complete("dundictl", ["dundictl", "-s", "/nonexistent", "show", "peers", ""]),
                         ["begin", "exclude", "include", "registered"])
        self.assertEqual(complete("dundictl", ["dundictl", "--json", "set", "debug", ""]), ["off", "on"])
        self.assertEqual(complete("dundictl", ["dundictl", "set", "debug", "on", ""]), ["peer"])
        self.assertEqual(complete("dundictl", ["dundictl", "store", "history", "o"]), ["off", "on"])
        self.assertEqual(complete("dundictl", ["dundictl", "flush", ""]), ["all", "stats"])
        self.assertEqual(complete("dundictl", ["dundictl", "lookup", "1001@priv", ""]), ["bypass"])
        self.assertEqual(complete("dundictl", ["dundictl", "--j"]), ["--json"])
        # No daemon: no EIDs, and no error.
        self.assertEqual(complete("dundictl", ["dundictl", "-s", "/nonexistent", "show", "peer", ""]), [])

    def test_dundictl_peer_eids_from_the_daemon(self):
        tmp = harness.make_workdir("dundid-tools-compl-")
        self.addCleanup(tmp.cleanup)
        sock = os.path.join(tmp.name, "e.ctl")
        text = render_config(C_HOST, C_PORT, general_extra=["control = %s" % sock])
        d = start_daemon(self, tmp.name, "e", text)
        bindir = os.path.dirname(TOOLS["dundictl"])
        got = complete("dundictl", ["dundictl", "-s", sock, "show", "peer", "02:00:00:00:00:9"], path_dir=bindir)
        self.assertEqual(got, ["02:00:00:00:00:97", "02:00:00:00:00:98", "02:00:00:00:00:99"])
        got = complete("dundictl", ["dundictl", "-s", sock, "set", "debug", "off", "peer", "02:00:00:00:00:0"],
                       path_dir=bindir)
        self.assertEqual(got, ["02:00:00:00:00:0b"])
        d.stop()

    def test_dundiq(self):
        tmp = harness.make_workdir("dundid-tools-compl-")
        self.addCleanup(tmp.cleanup)
        keys = client_keys(tmp.name)
        self.assertEqual(complete("dundiq", ["dundiq", "+s"]), ["+short"])
        self.assertIn("--source", complete("dundiq", ["dundiq", "--s"]))
        self.assertEqual(complete("dundiq", ["dundiq", "--keydir", keys, "--inkey", ""]), ["dundi", "other"])
        self.assertEqual(complete("dundiq", ["dundiq", "-K", keys, "-I", "dundi", "-O", "o"]), ["other"])
        self.assertEqual(complete("dundiq", ["dundiq", "-f", os.path.join(keys, "dundi.p")]),
                         [os.path.join(keys, "dundi.pub")])
        self.assertEqual(complete("dundiq", ["dundiq", "-b", ""]), [])


def main():
    extra, run = harness.run_tests(extra_tools=("dundictl", "keygen"))
    TOOLS.update(extra)
    run()


if __name__ == "__main__":
    main()
