#!/usr/bin/env python3
"""Integration tests of the control socket and dundictl (dundictl(8)).

Usage:
    test_control.py --dundid PATH --dundiq PATH --dundictl PATH [unittest args]

Addresses (kept apart from the other integration tests so that ctest -j can
run them together):

    127.0.21.1:45230   daemon A (test configuration + peers B and C), control
                       socket in a temporary folder
    127.0.21.2:45230   daemon B: a peer A forwards context priv to; answers
                       _2XXX with weight 5
    127.0.21.3:45230   C: a plain UDP socket that never answers (context slow),
                       so that a lookup through A stays running for a while
    127.0.21.4:45231   daemon of the reload and socket-handling tests
"""

import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Daemon, dundiq, render_config  # noqa: E402

PORT, PORT2 = 45230, 45231
A_HOST, B_HOST, C_HOST, R_HOST = "127.0.21.1", "127.0.21.2", "127.0.21.3", "127.0.21.4"
A_EID, B_EID, C_EID = "02:00:00:00:00:0a", "02:00:00:00:21:02", "02:00:00:00:21:03"
CLIENT_EID = "02:00:00:00:00:99"
SECRET_RE = r"[A-Za-z0-9+]{22}=="
DUNDICTL = [""]


def peer_lines(eid, host, context, port=PORT):
    return ["[%s]" % eid, "model = outbound", "host = %s" % host, "port = %d" % port,
            "include = %s" % context]


def a_config(ctl, statefile):
    """The shared test configuration, plus peers B (priv) and C (slow), and
    a registration table filled from a state file."""
    text = render_config(A_HOST, PORT, general_extra=["control = %s" % ctl])
    text += "\n" + "\n".join(peer_lines(B_EID, B_HOST, "priv") + ["precache = outbound", "permit = priv", ""]
                             + peer_lines(C_EID, C_HOST, "slow")
                             + ["", "[registrations]", "statefile = %s" % statefile]) + "\n"
    return text


def state_file(path, now):
    rows = [("3001", "10.0.0.5", "sip:3001@10.10.10.61:5060", "10.10.10.61:5060", now + 600, now - 5, "hep",
             "Yealink SIP-T46S"),
            ("3001", "10.0.0.6", "sip:3001@10.10.10.62:5060", "10.10.10.62:5060", now + 900, now - 1, "pcap", "Snom"),
            ("3002", "10.0.0.5", "sip:3002@10.10.10.63:5060", "", now + 300, now - 9, "hep", "")]
    with open(path, "w") as f:
        f.write("# dundid registrations 1\n")
        for r in rows:
            f.write("B\t" + "\t".join(str(x) for x in r) + "\n")
        f.write("E\t%d\n" % len(rows))


def b_config():
    return "\n".join([
        "[general]", "bindaddr = %s" % B_HOST, "port = %d" % PORT, "entityid = %s" % B_EID,
        "cachetime = 30", "control = none", "organization = B Org", "country = BB",
        "[mappings]", "priv => regs,5,SIP,${NUMBER}@%s" % B_HOST,
        "[%s]" % A_EID, "model = inbound", "permit = priv", "precache = inbound", "include = priv",
        "[context regs]", "exten => _2XXX", ""])


def ctl(sock, *args, timeout=30):
    """Run dundictl; (exit code, stdout, stderr)."""
    return harness.run_tool([DUNDICTL[0], "-s", sock] + [str(a) for a in args], timeout=timeout)


def ctl_json(case, sock, *args):
    rc, out, err = ctl(sock, "--json", *args)
    case.assertEqual(rc, 0, "dundictl --json %s: %s%s" % (" ".join(args), out, err))
    try:
        return json.loads(out)
    except ValueError as e:
        raise AssertionError("not JSON (%s): %r" % (e, out))


def raw_exchange(sock_path, data, timeout=5.0, shut=False):
    """Send bytes on a fresh connection; return everything read until EOF."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon may close before it has read everything
    if shut:
        s.shutdown(socket.SHUT_WR)
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += chunk
    s.close()
    return got


class ControlTests(unittest.TestCase):
    """Every command against a running A (with B and silent C as peers)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_workdir("dundid-control-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.sock = os.path.join(cls.tmp.name, "a.ctl")
        bpath = os.path.join(cls.tmp.name, "b.conf")
        with open(bpath, "w") as f:
            f.write(b_config())
        cls.b = Daemon(bpath, cls.tmp.name)
        cls.addClassCleanup(cls.b.kill)
        cls.b.start()
        cls.c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.c.bind((C_HOST, PORT))
        cls.addClassCleanup(cls.c.close)
        cls.apath = os.path.join(cls.tmp.name, "a.conf")
        state = os.path.join(cls.tmp.name, "a.state")
        state_file(state, int(time.time()))
        with open(cls.apath, "w") as f:
            f.write(a_config(cls.sock, state))
        cls.a = Daemon(cls.apath, cls.tmp.name)
        cls.addClassCleanup(cls.a.kill)
        cls.a.start()
        if not cls.a.wait_log(" started, entity id"):  # the control socket opens after "listening on"
            raise AssertionError(cls.a.log())

    @classmethod
    def tearDownClass(cls):
        for d in (cls.a, cls.b):
            d.stop()
            if d.exit_code != 0:
                raise AssertionError("dundid exited with %s:\n%s" % (d.exit_code, d.log()))
        if os.path.exists(cls.sock):
            raise AssertionError("control socket left behind after exit")

    def run_ok(self, *args):
        rc, out, err = ctl(self.sock, *args)
        self.assertEqual((rc, err), (0, ""), "dundictl %s: %s" % (" ".join(map(str, args)), out))
        return out

    def run_err(self, *args, rc=1):
        got_rc, out, err = ctl(self.sock, *args)
        self.assertEqual(got_rc, rc, "dundictl %s: %r %r" % (" ".join(map(str, args)), out, err))
        self.assertEqual(err.count("\n"), 1, "one line on stderr: %r" % err)
        self.assertTrue(err.startswith("dundictl: "), err)
        return err[len("dundictl: "):].rstrip("\n")

    def dundiq(self, *args):
        return dundiq("--timeout", 3000, "--eid", CLIENT_EID,
                      "%s:%d" % (A_HOST, PORT), *args)

    # ------------------------------------------------------------- show

    def test_socket_file(self):
        st = os.stat(self.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)

    def test_show_peers(self):
        out = self.run_ok("show", "peers")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["EID", "Host", "Port", "Model", "AvgTime", "Status"])
        row = [l for l in lines if l.startswith(B_EID)]
        self.assertEqual(len(row), 1, out)
        self.assertRegex(row[0], r"^%s\s+%s\s+\(S\) %d\s+Outbound\s+(Unavail|\d+ ms)\s+Unmonitored"
                         % (B_EID, re.escape(B_HOST), PORT))
        self.assertRegex(out, r"(?m)^02:00:00:00:00:0b\s+\(Unspecified\)\s+\(D\) 0\s+Symmetric")
        # The silent C is SUSPECT (offline) once a lookup of an earlier test
        # has gone unanswered long enough: how soon depends on the machine.
        c_suspect = bool(re.search(r"(?m)^%s\s.*SUSPECT" % C_EID, out))
        self.assertEqual(lines[-1], "6 dundi peers [0 online, %d offline, %d unmonitored]"
                         % (c_suspect, 6 - c_suspect))
        j = ctl_json(self, self.sock, "show", "peers")
        self.assertEqual(j["total"], 6)
        self.assertEqual(j["unmonitored"] + j["offline"], 6)
        self.assertEqual([p["eid"] for p in j["peers"] if p["status"] != "Unmonitored"], [C_EID] * j["offline"])
        by_eid = {p["eid"]: p for p in j["peers"]}
        self.assertEqual(by_eid[B_EID]["host"], B_HOST)
        self.assertEqual(by_eid[B_EID]["port"], PORT)
        self.assertEqual(by_eid[B_EID]["model"], "Outbound")
        self.assertIs(by_eid["02:00:00:00:00:0b"]["dynamic"], True)
        self.assertIsNone(by_eid["02:00:00:00:00:0b"]["host"])

    def test_show_peer(self):
        out = self.run_ok("show", "peer", B_EID)
        self.assertIn("Peer:    %s\n" % B_EID, out)
        self.assertIn("Model:   Outbound\n", out)
        self.assertIn("Order:   Primary\n", out)
        self.assertIn("Host:    %s\n" % B_HOST, out)
        self.assertIn("Include logic:\n-- include priv\n", out)
        out = self.run_ok("show", "peer", "02:00:00:00:00:97")
        self.assertIn("In Key:  dundi\n", out)
        self.assertIn("Query logic:\n-- permit priv\n", out)
        j = ctl_json(self, self.sock, "show", "peer", "02:00:00:00:00:97")
        self.assertEqual((j["eid"], j["inkey"], j["model"]), ("02:00:00:00:00:97", "dundi", "Inbound"))
        self.assertEqual(j["permit"], [{"rule": "permit", "context": "priv"}])
        self.assertEqual(self.run_err("show", "peer", "02:00:00:00:00:55"), "No such peer '02:00:00:00:00:55'")
        self.assertIn("not an EID", self.run_err("show", "peer", "nonsense"))

    def test_show_mappings_entityid_realtime(self):
        out = self.run_ok("show", "mappings")
        self.assertEqual(out.splitlines()[0].split(),
                         ["DUNDi", "Cntxt", "Weight", "Local", "Cntxt", "Options", "Tech", "Destination"])
        self.assertRegex(out, r"(?m)^priv\s+0\s+sipregistrat\s+NOPARTIAL\s+IAX2\s+priv:\$\{SECRET\}@127\.0\.21\.1")
        j = ctl_json(self, self.sock, "show", "mappings")
        self.assertEqual([(m["context"], m["weight"], m["local_context"], m["tech"]) for m in j["mappings"]],
                         [("priv", 0, "sipregistration", "IAX2"), ("e164", 10, "pstn", "SIP")])
        self.assertEqual(j["mappings"][1]["dest"], "${NUMBER}@127.0.21.1")

        self.assertEqual(self.run_ok("show", "entityid"), "Global EID for this system is '%s'\n" % A_EID)
        self.assertEqual(ctl_json(self, self.sock, "show", "entityid"), {"eid": A_EID})

        self.assertEqual(self.run_ok("show", "precache").split()[:3], ["Number", "Context", "Expiration"])

        self.assertEqual(self.run_ok("show", "realtime"), "realtime: not configured\n")
        self.assertEqual(ctl_json(self, self.sock, "show", "realtime"), {"configured": False})

    def test_show_registrations(self):
        out = self.run_ok("show", "registrations")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["Extension", "Contact", "Registrar", "Source", "Expires", "Feed",
                                            "User-Agent"])
        self.assertRegex(out, r"(?m)^3001\s+sip:3001@10\.10\.10\.61:5060\s+10\.0\.0\.5\s+10\.10\.10\.61:5060\s+"
                              r"\d+\s+hep\s+Yealink SIP-T46S$")
        self.assertRegex(out, r"(?m)^3002\s+sip:3002@10\.10\.10\.63:5060\s+10\.0\.0\.5\s+\d+\s+hep\s*$")
        self.assertEqual(lines[-1], "3 binding(s) shown; 2 extension(s), 3 binding(s) in the table")
        j = ctl_json(self, self.sock, "show", "registrations")
        self.assertIs(j["configured"], True)
        self.assertEqual((j["count"], j["extensions"], j["total_bindings"]), (3, 2, 3))
        j = ctl_json(self, self.sock, "show", "registrations", "3001")
        got = [(b["extension"], b["registrar"], b["contact"], b["feed"], b["user_agent"]) for b in j["bindings"]]
        self.assertEqual(got, [("3001", "10.0.0.6", "sip:3001@10.10.10.62:5060", "pcap", "Snom"),
                               ("3001", "10.0.0.5", "sip:3001@10.10.10.61:5060", "hep", "Yealink SIP-T46S")],
                         "newest first")
        self.assertTrue(590 <= j["bindings"][1]["expires_in"] <= 600, j)
        self.assertEqual(ctl_json(self, self.sock, "show", "registrations", "9999")["bindings"], [])
        self.assertIn("0 binding(s) shown", self.run_ok("show", "registrations", "9999"))

    def test_show_stats_and_flush_stats(self):
        self.dundiq("1001@priv")
        j = ctl_json(self, self.sock, "show", "stats")
        self.assertGreaterEqual(j["rx"], 1)
        self.assertGreaterEqual(j["requests"], 1)
        self.assertIn("cache_hits", j)
        out = self.run_ok("show", "stats")
        self.assertRegex(out, r"(?m)^requests\s+\d+$")
        self.assertEqual(self.run_ok("flush", "stats"), "DUNDi statistics cleared\n")
        j = ctl_json(self, self.sock, "show", "stats")
        self.assertEqual((j["rx"], j["requests"], j["answered"]), (0, 0, 0))
        rc, out, err = self.dundiq("1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(ctl_json(self, self.sock, "show", "stats")["requests"], 1)

    def test_help_and_errors(self):
        out = self.run_ok("help")
        for cmd in ("show peers", "show peer EID", "show trans", "show cache", "show hints", "show mappings",
                    "show precache", "show requests", "show entityid", "show registrations [NUMBER]",
                    "show realtime", "show stats", "lookup NUMBER[@CONTEXT] [bypass]", "query EID[@CONTEXT]",
                    "precache NUMBER[@CONTEXT]", "flush [all|stats]", "reload", "set debug on|off [peer EID]",
                    "store history on|off"):
            self.assertRegex(out, r"(?m)^%s\s" % re.escape(cmd))
        self.assertGreaterEqual(len(ctl_json(self, self.sock, "help")["commands"]), 20)

        self.assertEqual(self.run_err("bogus"), "unknown command 'bogus' (try 'help')")
        self.assertEqual(self.run_err("show", "bogus"), "unknown command 'show bogus' (try 'help')")
        self.assertEqual(self.run_err("show", "peer"), "usage: show peer EID")
        self.assertEqual(self.run_err("show", "peers", "x"),
                         "usage: show peers [registered|include TEXT|exclude TEXT|begin TEXT]")
        self.assertEqual(self.run_err("lookup"), "usage: lookup NUMBER[@CONTEXT] [bypass]")
        self.assertEqual(self.run_err("lookup", "1001@priv", "fast"), "usage: lookup NUMBER[@CONTEXT] [bypass]")
        self.assertIn("is not NUMBER@CONTEXT", self.run_err("lookup", "@priv"))
        self.assertEqual(self.run_err("set", "debug", "maybe"), "usage: set debug on|off [peer EID]")
        self.assertEqual(self.run_err("store", "history", "maybe"), "usage: store history on|off")
        self.assertEqual(self.run_err("flush", "everything"), "usage: flush [all|stats]")
        # --json errors: nothing on stdout, the error on stderr
        rc, out, err = ctl(self.sock, "--json", "bogus")
        self.assertEqual((rc, out, err), (1, "", "dundictl: unknown command 'bogus' (try 'help')\n"))

        # The tool's own errors: no daemon, no command, an argument with blanks.
        missing = os.path.join(self.tmp.name, "nobody.ctl")
        rc, out, err = ctl(missing, "show", "peers")
        self.assertEqual((rc, out), (2, ""))
        self.assertEqual(err, "dundictl: cannot connect to %s: No such file or directory (is dundid running?)\n"
                         % missing)
        rc, out, err = harness.run_tool([DUNDICTL[0], "-s", self.sock])
        self.assertEqual(rc, 2)
        self.assertIn("usage: dundictl", err)
        rc, out, err = ctl(self.sock, "show peers")
        self.assertEqual(rc, 2)
        self.assertIn("cannot be empty or contain blanks", err)

    def test_query_and_precache(self):
        out = self.run_ok("query", A_EID)
        self.assertTrue(out.startswith("DUNDi Query EID succeeded:\n"), out)
        self.assertIn("Department:      Integration Dept\n", out)
        self.assertIn("Phone:           +1 555 0100\n", out)
        self.assertIn("IP Address:      %s\n" % A_HOST, out)
        j = ctl_json(self, self.sock, "query", A_EID + "@priv")
        self.assertEqual((j["eid"], j["context"], j["organization"], j["country"]),
                         (A_EID, "priv", "Integration Org", "ZZ"))
        self.assertEqual(self.run_err("query", "zz"), "'zz' is not a valid EID!")

    def test_query_other_entity(self):
        """Asked of B (the only peer for priv): B's answer comes back through A."""
        out = self.run_ok("query", B_EID + "@priv")
        self.assertTrue(out.startswith("DUNDi Query EID succeeded:\n"), out)
        self.assertIn("Organization:    B Org\n", out)
        self.assertIn("Country:         BB\n", out)
        j = ctl_json(self, self.sock, "query", B_EID + "@priv")
        self.assertIs(j["found"], True, j)
        self.assertEqual((j["from"], j["organization"]), (B_EID, "B Org"))
        self.assertGreaterEqual(j["asked"], 1)
        j = ctl_json(self, self.sock, "query", "02:00:00:00:00:55@priv")
        self.assertEqual((j["found"], j["asked"]), (False, 1))
        self.assertEqual(self.run_ok("query", "02:00:00:00:00:55@priv"), "DUNDi Query EID returned no results.\n")
        # Nobody to ask in e164 (B and C have other contexts)
        self.assertEqual(ctl_json(self, self.sock, "query", B_EID)["asked"], 0)

    def test_precache(self):
        # A pushes its literal extensions to B at start and again before they expire.
        j = ctl_json(self, self.sock, "show", "precache")
        queued = {(e["number"], e["context"]) for e in j["precache"]}
        self.assertIn(("1001", "priv"), queued)
        self.assertEqual(j["count"], len(j["precache"]))
        self.assertTrue(all(0 <= e["due_in_ms"] <= 10000 for e in j["precache"]), j)
        self.assertRegex(self.run_ok("show", "precache"), r"(?m)^1001\s+priv\s+00:00:\d\d$")

        mark = self.b.log().count("precache from %s: 1006@priv" % A_EID)
        self.assertEqual(self.run_ok("precache", "1006@priv"), "DUNDi precache of 1006@priv pushed to 1 peer(s)\n")
        self.assertTrue(self.b.wait_log("precache from %s: 1006@priv, 1 answer(s)" % A_EID, count=mark + 1),
                        self.b.log()[-2000:])
        self.assertEqual(ctl_json(self, self.sock, "precache", "1006@priv"),
                         {"number": "1006", "context": "priv", "peers": 1})
        self.assertEqual(self.run_err("precache", "1006@nosuch"), "no mapping for DUNDi context 'nosuch'")

    # ------------------------------------------------------------- lookups

    def answers_of(self, j):
        return sorted((a["weight"], a["tech"], a["dest"], a["flags"], a["eid"]) for a in j["answers"])

    def test_lookup_local_matches_dundiq(self):
        rc, out, err = self.dundiq("--json", "1001@priv")
        self.assertEqual(rc, 0, out + err)
        want = self.answers_of(json.loads(out))
        self.assertEqual(len(want), 1)
        j = ctl_json(self, self.sock, "lookup", "1001@priv")
        self.assertEqual(self.answers_of(j), want)
        self.assertEqual((j["number"], j["context"], j["asked"]), ("1001", "priv", 0))
        out = self.run_ok("lookup", "1001@priv")
        self.assertRegex(out, r"^  1\.     0 IAX2/priv:%s@127\.0\.21\.1/1001 \(EXISTS\)\n"
                              r"     from %s, expires in 5 s\n" % (SECRET_RE, A_EID))
        self.assertRegex(out, r"DUNDi lookup completed in \d+ ms\n$")
        # the default context is e164
        j = ctl_json(self, self.sock, "lookup", "555")
        self.assertEqual(self.answers_of(j), [(10, "SIP", "555@127.0.21.1", "EXISTS|CANMATCH|RESIDENTIAL", A_EID)])

    def test_lookup_forwarded_matches_dundiq(self):
        rc, out, err = self.dundiq("--json", "2001@priv")
        self.assertEqual(rc, 0, out + err)
        want = self.answers_of(json.loads(out))
        self.assertEqual(want, [(5, "SIP", "2001@127.0.21.2", "EXISTS|CANMATCH", B_EID)])
        for args in (("lookup", "2001@priv"), ("lookup", "2001@priv", "bypass")):
            j = ctl_json(self, self.sock, *args)
            self.assertEqual(self.answers_of(j), want, args)
        self.assertEqual(ctl_json(self, self.sock, "lookup", "2001@priv", "bypass")["asked"], 1)
        out = self.run_ok("lookup", "2001@priv")
        self.assertIn("  1.     5 SIP/2001@127.0.21.2 (EXISTS|CANMATCH)\n     from %s, expires in " % B_EID, out)
        # Nobody has 1999: no results, a DONT_ASK hint.
        out = self.run_ok("lookup", "1999@priv", "bypass")
        self.assertTrue(out.startswith("DUNDi lookup returned no results.\nhint: DONT_ASK"), out)

    def test_lookup_waits_without_blocking(self):
        """A lookup towards the silent C runs for TTL-bound 2.4 s; meanwhile the
        daemon serves other control clients and DUNDi requests."""
        results = {}

        def slow():
            t0 = time.monotonic()
            results["slow"] = ctl(self.sock, "--json", "lookup", "5000@slow")
            results["slow_s"] = time.monotonic() - t0

        th = threading.Thread(target=slow)
        th.start()
        self.addCleanup(th.join, 30)
        seen = None
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not seen:
            j = ctl_json(self, self.sock, "show", "requests")
            seen = [r for r in j["requests"] if r["number"] == "5000"]
            if not seen:
                time.sleep(0.02)
        self.assertTrue(seen, "the running lookup is listed")
        self.assertEqual((seen[0]["context"], seen[0]["root"], seen[0]["asked"]), ("slow", None, 1))
        self.assertIn("5000            slow", self.run_ok("show", "requests"))
        trans = ctl_json(self, self.sock, "show", "trans")["transactions"]
        self.assertIn((C_HOST, PORT), [(t["host"], t["port"]) for t in trans])
        self.assertRegex(self.run_ok("show", "trans"), r"(?m)^127\.0\.21\.3\s*:%d " % PORT)
        rc, out, err = self.dundiq("1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertTrue(th.is_alive(), "the slow lookup is still waiting")
        th.join(30)
        rc, out, err = results["slow"]
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(json.loads(out)["answers"], [])
        self.assertGreater(results["slow_s"], 1.0)
        data, _ = self.c.recvfrom(2048)
        self.assertGreater(len(data), 8, "C was asked")

    def test_cache_hints_and_flush(self):
        self.run_ok("lookup", "2002@priv", "bypass")
        self.run_ok("lookup", "1998@priv", "bypass")
        j = ctl_json(self, self.sock, "show", "cache")
        mine = [e for e in j["entries"] if e["number"] == "2002"]
        self.assertEqual(len(mine), 1, j)
        self.assertEqual((mine[0]["context"], mine[0]["peer"]), ("priv", B_EID))
        self.assertEqual([(a["dest"], a["weight"], a["eid"]) for a in mine[0]["answers"]],
                         [("2002@127.0.21.2", 5, B_EID)])
        self.assertGreater(mine[0]["expires_in"], 0)
        out = self.run_ok("show", "cache")
        self.assertEqual(out.splitlines()[0].split()[:4], ["Number", "Context", "Expiration", "From"])
        self.assertRegex(out, r"(?m)^2002\s+priv\s+\d+\s+%s\s+5\s+SIP/2002@127\.0\.21\.2 \(EXISTS\|CANMATCH\)$" % B_EID)
        self.assertRegex(out, r"Number of entries: \d+\n$")
        hints = ctl_json(self, self.sock, "show", "hints")["hints"]
        # B has only _2XXX: it says "do not ask me about anything starting with 1".
        self.assertIn(("1", "priv", B_EID), [(h["prefix"], h["context"], h["peer"]) for h in hints])
        self.assertRegex(self.run_ok("show", "hints"), r"(?m)^1\s+priv\s+\d+\s+%s$" % B_EID)

        self.assertEqual(self.run_ok("flush"), "DUNDi Cache Flushed\n")
        self.assertEqual(ctl_json(self, self.sock, "show", "cache")["count"], 0)
        self.assertEqual(ctl_json(self, self.sock, "show", "hints")["count"], 0)
        self.assertEqual(ctl_json(self, self.sock, "flush", "all"), {"flushed": "cache"})

    def test_set_debug(self):
        mark = len(self.a.log())
        self.assertEqual(self.run_ok("set", "debug", "on", "peer", B_EID),
                         "DUNDi Debugging Enabled for peer %s\n" % B_EID)
        self.run_ok("lookup", "2003@priv", "bypass")
        self.dundiq("1001@priv")
        self.assertTrue(self.a.wait_log("packet: Rx-Frame %s:%d DPRESPONSE" % (B_HOST, PORT)), self.a.log()[mark:])
        new = self.a.log()[mark:]
        self.assertIn("packet: Tx-Frame %s:%d DPDISCOVER (Command)" % (B_HOST, PORT), new)
        dbg = [l for l in new.splitlines() if "packet:" in l]
        self.assertEqual([l for l in dbg if "%s:%d" % (B_HOST, PORT) not in l], [], "only B's packets are shown")
        j = ctl_json(self, self.sock, "set", "debug", "off", "peer", B_EID)
        self.assertEqual(j, {"all": False, "peers": []})

        self.assertEqual(self.run_ok("set", "debug", "on"), "DUNDi Debugging Enabled\n")
        mark = len(self.a.log())
        self.dundiq("1001@priv")
        self.assertTrue(self.a.wait_log("DPDISCOVER (Command)"), self.a.log()[mark:])
        self.assertRegex(self.a.log()[mark:], r"packet: Rx-Frame (?!%s)\S+ DPDISCOVER \(Command\)" % B_HOST)
        self.assertEqual(self.run_ok("set", "debug", "off"), "DUNDi Debugging Disabled\n")
        mark = len(self.a.log())
        self.dundiq("1001@priv")
        self.run_ok("lookup", "2003@priv", "bypass")
        time.sleep(0.2)
        self.assertNotIn("packet:", self.a.log()[mark:])

    def test_store_history(self):
        self.assertEqual(self.run_ok("store", "history", "on"), "DUNDi History Storage Enabled\n")
        self.addCleanup(ctl, self.sock, "store", "history", "off")
        self.run_ok("lookup", "2004@priv", "bypass")
        out = self.run_ok("show", "peer", B_EID)
        self.assertRegex(out, r"Last few query times:\n-- 1\. 2004@priv \(\d+ ms\)\nAverage query time: \d+ ms\n")
        j = ctl_json(self, self.sock, "show", "peer", B_EID)
        self.assertEqual(j["history"][0]["lookup"], "2004@priv")
        self.assertIsInstance(j["avg_ms"], int)
        self.assertRegex(self.run_ok("show", "peers"), r"(?m)^%s .*Outbound\s+\d+ ms\s" % B_EID)
        self.assertEqual(ctl_json(self, self.sock, "store", "history", "off"), {"storehistory": False})
        self.run_ok("lookup", "2005@priv", "bypass")
        j = ctl_json(self, self.sock, "show", "peer", B_EID)
        self.assertNotIn("2005@priv", [h["lookup"] for h in j["history"]])
        self.run_ok("flush", "stats")
        self.assertEqual(ctl_json(self, self.sock, "show", "peer", B_EID)["history"], [])

    # ------------------------------------------------------------- the socket itself

    def test_junk_and_overlong_lines(self):
        got = raw_exchange(self.sock, b"x" * (1 << 20))
        self.assertEqual(got, b"ERR request longer than 4096 bytes\n.\n")
        got = raw_exchange(self.sock, b"show peers\x00\x01\xff\n")
        self.assertEqual(got, b"ERR request has a control or non-ASCII byte (0x00) at offset 10\n.\n")
        got = raw_exchange(self.sock, os.urandom(1 << 20).replace(b"\n", b"") + b"\n")
        self.assertTrue(got.startswith(b"ERR ") and got.endswith(b"\n.\n") and got.count(b"\n") == 2, got)
        # An unterminated line, then the client stops sending: closed without an answer.
        self.assertEqual(raw_exchange(self.sock, b"show peers", shut=True), b"")
        # A line within the limit but with too many words.
        self.assertEqual(raw_exchange(self.sock, b"a " * 20 + b"\n"), b"ERR more than 16 words\n.\n")
        # Connect and leave at once.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.close()
        self.assertTrue(self.a.running())
        self.assertIn("6 dundi peers", self.run_ok("show", "peers"))

    def test_client_leaves_during_lookup(self):
        """The lookup of a client that went away is abandoned, not answered into the void."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.sendall(b"lookup 5001@slow\n")
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if [r for r in ctl_json(self, self.sock, "show", "requests")["requests"] if r["number"] == "5001"]:
                break
            time.sleep(0.02)
        s.close()
        deadline = time.monotonic() + 2.0
        running = True
        while time.monotonic() < deadline and running:
            running = [r for r in ctl_json(self, self.sock, "show", "requests")["requests"] if r["number"] == "5001"]
            time.sleep(0.02)
        self.assertFalse(running, "the lookup ended with its client")
        # The same for an EID query towards the silent C.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.sendall(b"query 02:00:00:00:00:56@slow\n")
        time.sleep(0.2)
        s.close()
        self.assertEqual(self.run_ok("show", "entityid"), "Global EID for this system is '%s'\n" % A_EID)
        self.assertTrue(self.a.running())

    def test_client_that_never_reads(self):
        """Thousands of pipelined requests and no reading: the daemon stops
        reading from that client, and serves everyone else meanwhile."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.setblocking(False)
        sent = 0
        chunk = b"help\n" * 1000
        for _ in range(200):
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                break
        self.assertLess(sent, 200 * len(chunk), "the daemon's buffers are bounded")
        self.assertEqual(self.run_ok("show", "entityid"), "Global EID for this system is '%s'\n" % A_EID)
        rc, out, err = self.dundiq("1001@priv")
        self.assertEqual(rc, 0, out + err)
        s.close()
        self.assertEqual(self.run_ok("show", "entityid"), "Global EID for this system is '%s'\n" % A_EID)

    def test_client_limit(self):
        socks = []
        self.addCleanup(lambda: [x.close() for x in socks])
        for _ in range(128):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock)
            socks.append(s)
        # Every one of them is accepted before the next connection is looked at.
        socks[-1].settimeout(5)
        socks[-1].sendall(b"show entityid\n")
        self.assertTrue(socks[-1].recv(4096).endswith(b"OK\n.\n"))
        self.assertEqual(raw_exchange(self.sock, b"show entityid\n"), b"ERR too many control clients\n.\n")
        rc, out, err = ctl(self.sock, "show", "entityid")
        self.assertEqual((rc, err), (1, "dundictl: too many control clients\n"))
        for s in socks:
            s.close()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and ctl(self.sock, "show", "entityid")[0] != 0:
            time.sleep(0.05)
        self.assertEqual(self.run_ok("show", "entityid"), "Global EID for this system is '%s'\n" % A_EID)

    def test_pipelined_requests(self):
        got = raw_exchange(self.sock, b"show entityid\r\n--json show entityid\nbogus\nhelp", shut=True)
        self.assertEqual(got, ("Global EID for this system is '%s'\nOK\n.\n{\"eid\":\"%s\"}\nOK\n.\n"
                               "ERR unknown command 'bogus' (try 'help')\n.\n" % (A_EID, A_EID)).encode())

    def test_fifty_clients_at_once(self):
        socks = []
        for _ in range(50):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(self.sock)
            socks.append(s)
        for i, s in enumerate(socks):
            s.sendall(b"show peers\n" if i % 2 else b"--json lookup 1001@priv\n")
        for i, s in enumerate(socks):
            got = b""
            deadline = time.monotonic() + 10
            while not got.endswith(b"\n.\n") and time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            s.close()
            self.assertTrue(got.endswith(b"OK\n.\n"), (i, got))
            if i % 2:
                self.assertIn(b"6 dundi peers", got)
            else:
                self.assertEqual(json.loads(got[:-len(b"OK\n.\n")])["number"], "1001")
        # And 50 dundictl processes in parallel.
        procs = [subprocess.Popen([DUNDICTL[0], "-s", self.sock, "show", "entityid"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(50)]
        for p in procs:
            out, err = p.communicate(timeout=30)
            self.assertEqual((p.returncode, out, err), (0, ("Global EID for this system is '%s'\n" % A_EID).encode(),
                                                        b""))


class SocketTests(unittest.TestCase):
    """Control socket life: reload, paths, stale and busy sockets. One daemon at a time."""

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-control-r-")
        self.addCleanup(self.tmp.cleanup)
        self.sock = os.path.join(self.tmp.name, "r.ctl")
        self.path = os.path.join(self.tmp.name, "r.conf")

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)

    def config(self, control=None, extra_exten=(), extra_lines=(), general=()):
        g = list(general)
        if control is not False:
            g.append("control = %s" % (control or self.sock))
        text = render_config(R_HOST, PORT2, general_extra=g, extra_exten=extra_exten)
        return text + "\n" + "\n".join(extra_lines) + "\n"

    def start(self):
        d = Daemon(self.path, self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        # "listening on" comes before the control socket is opened
        self.assertTrue(d.wait_log(" started, entity id"), d.log())
        return d

    def dundiq(self, number):
        return dundiq("--timeout", 3000, "--eid", CLIENT_EID,
                      "%s:%d" % (R_HOST, PORT2), number)

    def test_reload(self):
        self.write(self.config())
        d = self.start()
        rc, out, err = ctl(self.sock, "show", "peers")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("02:00:00:00:21:44", out)
        ctl(self.sock, "set", "debug", "on", "peer", "02:00:00:00:00:99")
        rc, out, err = self.dundiq("1002@priv")
        self.assertEqual(rc, 1, out + err)

        # A valid change: a new peer and a new number; the running state stays.
        new_peer = ["[02:00:00:00:21:44]", "model = inbound", "permit = priv"]
        self.write(self.config(extra_exten=["1002"], extra_lines=new_peer))
        rc, out, err = ctl(self.sock, "reload")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "%s reloaded\n" % os.path.realpath(self.path))
        rc, out, err = ctl(self.sock, "show", "peers")
        self.assertRegex(out, r"(?m)^02:00:00:00:21:44\s+\(Unspecified\)\s+\(S\) 0\s+Inbound")
        self.assertIn("5 dundi peers", out)
        rc, out, err = self.dundiq("1002@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(json.loads(ctl(self.sock, "--json", "set", "debug", "on", "peer",
                                        "02:00:00:00:00:99")[1])["peers"], ["02:00:00:00:00:99"])
        stats = json.loads(ctl(self.sock, "--json", "show", "stats")[1])
        self.assertGreaterEqual(stats["requests"], 2, "counters survive a reload")

        # A broken file: every error printed, non-zero exit, the old configuration answers.
        good = self.config(extra_exten=["1002"], extra_lines=new_peer).splitlines()
        at = good.index("[general]") + 1
        broken = good[:at] + ["bogus = 1"] + good[at:] + ["[context pstn]"]
        self.write("\n".join(broken) + "\n")
        rc, out, err = ctl(self.sock, "reload")
        real = os.path.realpath(self.path)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("%s:%d: unknown option 'bogus' in [general]\n" % (real, at + 1), out)
        self.assertRegex(out, r"%s:%d: .*pstn" % (re.escape(real), len(broken)))
        self.assertEqual(err, "dundictl: reload failed with 2 error(s); still running the previous "
                              "configuration\n")
        rc, out, err = ctl(self.sock, "--json", "reload")
        self.assertEqual(rc, 1)
        j = json.loads(out)
        self.assertIs(j["reloaded"], False)
        self.assertEqual(sum(1 for x in j["diagnostics"] if x["error"]), 2)
        rc, out, err = self.dundiq("1002@priv")
        self.assertEqual(rc, 0, out + err)
        rc, out, err = ctl(self.sock, "--json", "lookup", "1002@priv")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["answers"]), 1)
        self.assertIn("02:00:00:00:21:44", ctl(self.sock, "show", "peers")[1])
        # SIGHUP goes the same way.
        d.signal(__import__("signal").SIGHUP)
        self.assertTrue(d.wait_log("reload failed", count=3), d.log())
        self.assertTrue(d.running())
        d.stop()
        self.assertEqual(d.exit_code, 0)

    def test_show_realtime_without_a_database(self):
        """A configured feed whose database is not there: its state and last error."""
        missing = os.path.join(self.tmp.name, "no-mysql.sock")
        self.write(self.config(extra_lines=["[realtime]", "socket = %s" % missing, "user = asterisk",
                                            "database = asterisk", "schema = chan_sip", "poll = 1"]))
        d = self.start()
        deadline = time.monotonic() + 5
        j = {}
        while time.monotonic() < deadline:
            rc, out, err = ctl(self.sock, "--json", "show", "realtime")
            self.assertEqual(rc, 0, err)
            j = json.loads(out)
            if j.get("last_error"):
                break
            time.sleep(0.05)
        self.assertIs(j["configured"], True, j)
        self.assertIs(j["connected"], False)
        self.assertIn(j["state"], ("connecting", "reconnecting"))
        self.assertIn("no-mysql.sock", j["last_error"])
        self.assertEqual(j["rows"], 0)
        rc, out, err = ctl(self.sock, "show", "realtime")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^realtime: (connecting|reconnecting)\nlast error: .*no-mysql\.sock")
        self.assertRegex(out, r"(?m)^connects\s+\d+$")
        d.stop()
        self.assertEqual(d.exit_code, 0)

    def test_explicit_path_that_cannot_be_bound(self):
        bad = os.path.join(self.tmp.name, "no-such-dir", "x.ctl")
        self.write(self.config(control=bad))
        p = subprocess.run([harness.BINARIES["dundid"], "-f", "-c", self.path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot start: control socket: %s: No such file or directory" % bad, p.stderr.decode())

    def test_none_stale_and_busy(self):
        self.write(self.config(control="none"))
        d = self.start()
        self.assertNotIn("control socket", d.log())
        d.stop()
        self.assertEqual(os.listdir(self.tmp.name).count("r.ctl"), 0)

        # A leftover socket nobody listens on is replaced.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock)
        s.close()
        self.write(self.config())
        d = self.start()
        self.assertEqual(ctl(self.sock, "show", "entityid")[0], 0)
        # A second dundid with the same path refuses to start (other port, same socket).
        other = os.path.join(self.tmp.name, "other.conf")
        with open(other, "w") as f:
            f.write(render_config("127.0.21.5", PORT2, general_extra=["control = %s" % self.sock]))
        p = subprocess.run([harness.BINARIES["dundid"], "-f", "-c", other], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is in use (another dundid running?)", p.stderr.decode())
        self.assertEqual(ctl(self.sock, "show", "entityid")[0], 0, "the first one still has its socket")
        d.stop()
        self.assertFalse(os.path.exists(self.sock))
        # A regular file in the way is an error, and left alone.
        with open(self.sock, "w") as f:
            f.write("keep me")
        p = subprocess.run([harness.BINARIES["dundid"], "-f", "-c", self.path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("exists and is not a socket", p.stderr.decode())
        with open(self.sock) as f:
            self.assertEqual(f.read(), "keep me")


def main():
    extra, run = harness.run_tests(extra_tools=("dundictl",))
    DUNDICTL[0] = extra["dundictl"]
    run()


if __name__ == "__main__":
    main()
