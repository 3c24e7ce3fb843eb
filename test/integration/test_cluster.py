#!/usr/bin/env python3
"""The cluster of the paper (background/), with dundid in every role: one
lookup server and five registration servers, all real daemons on loopback,
encrypted with one shared key pair made by dundid-keygen.

Usage:
    test_cluster.py --dundid PATH --dundiq PATH --keygen PATH [unittest args]

Port 45260:

    L   127.0.0.10 (02:00:00:00:10:00)  lookup server, ttl = 1, "priv =>" only
    R1  127.0.0.11 (02:00:00:00:10:01)  registration server, ttl = 2: 1011, 1012
    ...
    R5  127.0.0.15 (02:00:00:00:10:05)  ... 1051, 1052

Every R peers only with L, L with all five (symmetric, include/permit priv,
inkey = outkey = the shared pair). A lookup "from" a registration server is
dundiq asking it with TTL 3, as its dialplan would with ttl = 2 from
dundi.conf plus the hop from dundiq: R forwards with TTL 2 to L, L with TTL
1 to the other four, which answer from their own extensions and may not go
further (TTL 0 left).

The triangle (LoopTests) is on 127.0.23.21-23, port 45263.
"""

import json
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Daemon, dundiq, run_tool  # noqa: E402

PORT = 45260
L_HOST, L_EID = "127.0.0.10", "02:00:00:00:10:00"
R = {i: ("127.0.0.1%d" % i, "02:00:00:00:10:%02x" % i) for i in range(1, 6)}
CLIENT_EID = "02:00:00:00:00:99"
SECRET_RE = r"[A-Za-z0-9+]{22}=="
KEYGEN = {"path": None}


def extens_of(i):
    return ["10%d1" % i, "10%d2" % i]


class Keys:
    """One shared pair for the whole cluster, as in the paper, from dundid-keygen."""
    _dir = None

    @classmethod
    def folder(cls):
        if cls._dir is None:
            cls._dir = harness.make_workdir("dundid-cluster-keys-")
            rc, out, err = run_tool([KEYGEN["path"], "-d", cls._dir.name, "dundi"])
            if rc != 0:
                raise AssertionError("dundid-keygen failed (%d): %s%s" % (rc, out, err))
        return cls._dir.name


def general(host, eid, ttl, cachetime, extra=()):
    return "\n".join(["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid,
                      "ttl = %d" % ttl, "cachetime = %d" % cachetime, "ipaddr = %s" % host,
                      "keydir = %s" % Keys.folder()] + list(extra)) + "\n\n"


def link(eid, host, model, precache=None):
    text = "[%s]\nmodel = %s\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n" % (eid, model, host, PORT)
    if precache:
        text += "precache = %s\n" % precache
    return text + "inkey = dundi\noutkey = dundi\n\n"


def l_config(cache_size=None, precache=False):
    extra = ["autokill = 300"]
    if cache_size:
        extra.append("cache_size = %d" % cache_size)
    text = general(L_HOST, L_EID, 1, 5, extra) + "[mappings]\npriv =>\n\n"
    for i in sorted(R):
        host, eid = R[i]
        # With precache the registration servers push, and L only answers them.
        text += link(eid, host, "inbound", "inbound") if precache else link(eid, host, "symmetric")
    return text + "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID


HEP_PORT = 45266


def r_config(i, extens, cachetime=5, precache=False, statedir=None):
    """statedir: with a registration table fed over HEP (HOST:45266), pushed at once."""
    host, eid = R[i]
    regs = ""
    if statedir:
        regs = ("[registrations]\nhep = %s:%d\nstatefile = %s\nprecache_registrations = yes\n\n"
                % (host, HEP_PORT, os.path.join(statedir, "R%d.state" % i)))
    return (general(host, eid, 2, cachetime) + regs
            + "[mappings]\npriv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n\n"
            + (link(L_EID, L_HOST, "outbound", "outbound") if precache else link(L_EID, L_HOST, "symmetric"))
            + "[%s]\nmodel = inbound\npermit = priv\n\n" % CLIENT_EID
            + "[context sipregistration]\n" + "".join("exten => %s\n" % e for e in extens))


class ClusterCase(harness.DaemonsCase):
    WORKDIR_PREFIX = "dundid-cluster-"

    def reload(self, name, text):
        d = self.daemons[name]
        before = d.log().count("configuration reloaded")
        self.write(name, text)
        d.signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("configuration reloaded", 5.0, before + 1), d.log()[-2000:])

    def stop_all(self):
        out = {}
        for name, d in self.daemons.items():
            if d.exit_code is not None or d.proc is None:
                continue
            if not d.running():  # killed by the test
                continue
            out[name] = d.stop()
            self.assertEqual(d.exit_code, 0, "%s:\n%s" % (name, d.log()[-4000:]))
        return out

    def ask(self, host, number, ttl=3, eid=CLIENT_EID, bypass=False, port=PORT):
        args = ["--json", "--eid", eid, "--ttl", ttl, "--timeout", 6000]
        if bypass:
            args.append("--bypass")
        t0 = time.monotonic()
        rc, out, err = dundiq(*(args + ["%s:%d" % (host, port), "%s@priv" % number]), timeout=30)
        elapsed = time.monotonic() - t0
        try:
            return rc, json.loads(out), elapsed
        except ValueError:
            self.fail("dundiq printed no JSON: %r %r" % (out, err))

    def served(self, name, number):
        """DPRESPONSEs for number@priv in a daemon's debug log."""
        return self.daemons[name].log().count(" %s@priv -> " % number)

    def assert_answer(self, rc, doc, number, owner):
        """Exactly one answer, the one of registration server owner."""
        self.assertEqual(rc, 0, doc)
        host, eid = R[owner]
        self.assertEqual([(a["eid"], a["weight"], a["tech"], a["flags"]) for a in doc["answers"]],
                         [(eid, 0, "IAX2", "EXISTS")], doc)
        self.assertRegex(doc["answers"][0]["dest"], r"^priv:%s@%s/%s$" % (SECRET_RE, re.escape(host), number))


class ClusterTests(ClusterCase):
    """L and R1..R5."""

    def topology(self, cachetime=5, cache_size=None, precache=False):
        # The registration servers first: L's first requests (and pushes to L) find them up.
        if precache:
            self.start("L", l_config(cache_size, precache))
        for i in sorted(R):
            self.start("R%d" % i, r_config(i, extens_of(i), cachetime, precache))
        if not precache:
            self.start("L", l_config(cache_size, precache))

    def test_1_any_server_finds_any_other(self):
        """From each registration server, an extension of each other one: one answer, that
        server's; TTL runs out at the registration servers, which never forward further."""
        self.topology()
        lookups = 0
        for i in sorted(R):
            for j in sorted(R):
                if i == j:
                    continue
                number = extens_of(j)[lookups % 2]
                rc, doc, _ = self.ask(R[i][0], number)
                lookups += 1
                self.assert_answer(rc, doc, number, j)
                # The three servers without the number got TTL 1: their TTL_EXPIRED comes back
                # unless L answered from its cache.
                self.assertIn(doc["hint"]["flags"], ("TTL_EXPIRED|UNAFFECTED", "UNAFFECTED"), doc)
        # An extension nobody has: every server says so, nobody loops.
        rc, doc, _ = self.ask(R[1][0], "1999")
        self.assertEqual((rc, doc["answers"]), (1, []), doc)
        lookups += 1
        stats = self.stop_all()
        # Every request L saw came from a registration server forwarding dundiq's lookup:
        # none of the servers L asked went on to ask L (their only peer) in turn.
        self.assertEqual(stats["L"]["requests"], lookups, stats["L"])
        self.assertEqual(stats["L"]["answered"], lookups, stats["L"])
        for i in sorted(R):
            s = stats["R%d" % i]
            self.assertEqual(s["crypto_rejected"], 0, s)
            self.assertEqual(s["encrej"], 0, s)
            self.assertEqual(s["live_trans"], 0, s)
        # What L asked the servers never left them: each answered (from dundiq or L) and
        # opened no transaction of its own for L's requests (TTL 0 left).
        for i in sorted(R):
            self.assertNotIn("no answer for", self.daemons["R%d" % i].log())

    def test_2_ttl_two_stops_at_the_lookup_server(self):
        """TTL 2 from dundiq: the server forwards with TTL 1, L may not forward (TTL 0)."""
        self.topology()
        rc, doc, _ = self.ask(R[1][0], extens_of(2)[0], ttl=2)
        self.assertEqual((rc, doc["answers"]), (1, []), doc)
        self.assertIn("TTL_EXPIRED", doc["hint"]["flags"], doc)
        stats = self.stop_all()
        self.assertEqual(stats["L"]["requests"], 1, stats["L"])
        for i in range(2, 6):
            self.assertEqual(stats["R%d" % i]["requests"], 0, stats["R%d" % i])


    def test_4_phone_moves_within_cachetime(self):
        """1021 moves from R2 to R3 (static contexts, SIGHUP): the lookup finds it on R3 within
        the registration servers' cachetime (5 s), and only there."""
        self.topology()
        rc, doc, _ = self.ask(R[1][0], "1021")
        self.assert_answer(rc, doc, "1021", 2)
        self.reload("R2", r_config(2, ["1022"]))
        self.reload("R3", r_config(3, extens_of(3) + ["1021"]))
        moved = time.monotonic()
        found = None
        for _ in range(40):
            rc, doc, _ = self.ask(R[1][0], "1021")
            owners = [a["eid"] for a in doc["answers"]]
            if owners == [R[3][1]]:
                found = time.monotonic() - moved
                break
            time.sleep(0.2)
        self.assertIsNotNone(found, "still not on R3: %r" % doc)
        # What held it back is R3's DONT_ASK hint for 1021 from the first lookup, which L keeps
        # for the full 5 s (5.2), as the reference does.
        self.assertLessEqual(found, 5.0 + 1.0, "found on R3 only after %.1f s" % found)
        rc, doc, _ = self.ask(R[4][0], "1021")
        self.assert_answer(rc, doc, "1021", 3)
        print("\n  phone moved R2 -> R3: answered from R3 after %.2f s" % found, file=sys.stderr)
        self.stop_all()

    def test_5_phone_moves_with_precache(self):
        """The servers push to L (precache = outbound) and L answers from the pushes alone.
        A move is known to L at once: R2's reload withdraws 1021, R3's pushes it."""
        self.topology(precache=True)
        for i in sorted(R):
            for n in extens_of(i):
                self.assertTrue(self.daemons["L"].wait_log("precache from %s: %s@priv, 1 answer" % (R[i][1], n),
                                                           5.0), self.daemons["L"].log()[-3000:])
        rc, doc, _ = self.ask(R[1][0], "1021")
        self.assert_answer(rc, doc, "1021", 2)
        self.reload("R2", r_config(2, ["1022"], precache=True))
        self.reload("R3", r_config(3, extens_of(3) + ["1021"], precache=True))
        L = self.daemons["L"]
        self.assertTrue(L.wait_log("precache from %s: 1021@priv, 0 answer(s)" % R[2][1], 3.0), L.log()[-3000:])
        self.assertTrue(L.wait_log("precache from %s: 1021@priv, 1 answer" % R[3][1], 3.0), L.log()[-3000:])
        # Asked from R4 (R1 keeps L's last answer for 1 s of its own cache).
        rc, doc, _ = self.ask(R[4][0], "1021")
        self.assert_answer(rc, doc, "1021", 3)
        stats = self.stop_all()
        # L never asked a server: each saw only dundiq's lookups (R1 and R4, one each).
        for i in sorted(R):
            self.assertEqual(stats["R%d" % i]["requests"], 1 if i in (1, 4) else 0, stats["R%d" % i])
        # L's requests: the two lookups and the pushes: 10 at start, R2's reload 2 (1022 again,
        # 1021 withdrawn), R3's 3 (1031, 1032, 1021).
        self.assertEqual(stats["L"]["precache_received"], 10 + 2 + 3, stats["L"])
        self.assertEqual(stats["L"]["requests"], 2 + 15, stats["L"])

    def test_5b_phone_moves_registration_table(self):
        """The same with real registrations (HEP copies of REGISTER/200 OK) and
        precache_registrations = yes: the phone leaves R2 and registers at R3, and L has
        R2's withdrawal and R3's answer at once."""
        import test_registrations as tr
        self.start("L", l_config(precache=True))
        for i in sorted(R):
            self.start("R%d" % i, r_config(i, extens_of(i), precache=True, statedir=self.tmp.name))
        for i in (2, 3):
            self.assertTrue(self.daemons["R%d" % i].wait_log("listening for HEP", 5.0))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)

        def hep(i, expires, cseq):
            reg = R[i][0]
            for src, dst, sp, dp, msg in ((tr.PHONES, reg, tr.PHONE_PORT, tr.SIP_PORT,
                                           tr.register("1099", reg, expires, "mv-%d" % i, cseq)),
                                          (reg, tr.PHONES, tr.SIP_PORT, tr.PHONE_PORT,
                                           tr.ok("1099", reg, expires, "mv-%d" % i, cseq))):
                sock.sendto(tr.hep3(src, dst, sp, dp, msg), (R[i][0], HEP_PORT))

        L = self.daemons["L"]
        hep(2, 600, 1)
        self.assertTrue(L.wait_log("precache from %s: 1099@priv, 1 answer" % R[2][1], 5.0), L.log()[-3000:])
        rc, doc, _ = self.ask(R[1][0], "1099")
        self.assert_answer(rc, doc, "1099", 2)
        hep(2, 0, 2)      # unregisters at R2
        hep(3, 600, 1)    # and registers at R3
        self.assertTrue(L.wait_log("precache from %s: 1099@priv, 0 answer(s)" % R[2][1], 5.0), L.log()[-3000:])
        self.assertTrue(L.wait_log("precache from %s: 1099@priv, 1 answer" % R[3][1], 5.0), L.log()[-3000:])
        rc, doc, _ = self.ask(R[4][0], "1099")  # R1 keeps L's last answer 1 s in its own cache
        self.assert_answer(rc, doc, "1099", 3)
        stats = self.stop_all()
        for i in (2, 3, 5):
            self.assertEqual(stats["R%d" % i]["requests"], 0, stats["R%d" % i])  # L never asked




# ---------------------------------------------------------------------- loops

T_PORT = 45263
T = {"X": ("127.0.23.21", "02:00:00:00:23:21", "3001"),
     "Y": ("127.0.23.22", "02:00:00:00:23:22", "3002"),
     "Z": ("127.0.23.23", "02:00:00:00:23:23", "3003")}


def t_config(name):
    host, eid, exten = T[name]
    text = ("[general]\nbindaddr = %s\nport = %d\nentityid = %s\nttl = 10\ncachetime = 5\nipaddr = %s\n\n"
            % (host, T_PORT, eid, host)
            + "[mappings]\npriv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n\n")
    for other in sorted(T):
        if other != name:
            text += "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n\n" % (
                T[other][1], T[other][0], T_PORT)
    return (text + "[%s]\nmodel = inbound\npermit = priv\n\n" % CLIENT_EID
            + "[context sipregistration]\nexten => %s\n" % exten)


class LoopTests(ClusterCase):
    """X, Y and Z each include the other two: path lists keep a lookup from going round."""

    def test_triangle_terminates_with_one_answer_set(self):
        for name in sorted(T):
            self.start(name, t_config(name))
        rc, doc, elapsed = self.ask(T["X"][0], "3003", ttl=10, port=T_PORT)
        self.assertEqual(rc, 0, doc)
        self.assertEqual([a["eid"] for a in doc["answers"]], [T["Z"][1]], doc)
        rc, doc, _ = self.ask(T["X"][0], "3999", ttl=10, bypass=True, port=T_PORT)
        self.assertEqual((rc, doc["answers"]), (1, []), doc)
        # Y was told (path list) that X also asks Z: it asks nobody, and nobody asks X back.
        stats = self.stop_all()
        self.assertEqual(stats["X"]["requests"], 2, stats["X"])
        self.assertEqual(stats["Y"]["requests"], 2, stats["Y"])
        self.assertEqual(stats["Z"]["requests"], 2, stats["Z"])
        for name in sorted(T):
            self.assertEqual(stats[name]["live_trans"], 0, stats[name])
            self.assertNotIn("no answer for", self.daemons[name].log())


# ---------------------------------------------------------------------- [*]

W_HOST, W_EID = "127.0.23.24", "02:00:00:00:23:24"
S_HOST, S_EID = "127.0.23.25", "02:00:00:00:23:25"


def w_config():
    """A lookup server that knows no registration server by EID: [*] takes any that registers."""
    return ("[general]\nbindaddr = %s\nport = %d\nentityid = %s\nttl = 2\ncachetime = 5\nkeydir = %s\n\n"
            % (W_HOST, T_PORT, W_EID, Keys.folder())
            + "[mappings]\npriv =>\n\n"
            + "[*]\nhost = dynamic\nmodel = symmetric\ninclude = priv\npermit = priv\n"
            + "inkey = dundi\noutkey = dundi\n\n"
            + "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID)


def s_config():
    """A stranger to W that registers with it and answers 5001."""
    return ("[general]\nbindaddr = %s\nport = %d\nentityid = %s\nttl = 2\ncachetime = 5\nipaddr = %s\n"
            "keydir = %s\n\n" % (S_HOST, T_PORT, S_EID, S_HOST, Keys.folder())
            + "[mappings]\npriv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n\n"
            + "[%s]\nmodel = symmetric\nhost = %s\nport = %d\nregister = yes\ninclude = priv\npermit = priv\n"
              "inkey = dundi\noutkey = dundi\n\n" % (W_EID, W_HOST, T_PORT)
            + "[context sipregistration]\nexten => 5001\n")


class WildcardTests(ClusterCase):
    """7.7: a stranger registering through [*] becomes a peer of its own, asked like any other."""

    def test_registered_stranger_is_asked(self):
        W = self.start("W", w_config())
        S = self.start("S", s_config())
        self.assertTrue(S.wait_log("registration with peer %s accepted" % W_EID, 6.0), S.log())
        self.assertIn("registered DUNDi peer %s" % S_EID, W.log())
        rc, doc, _ = self.ask(W_HOST, "5001", port=T_PORT)
        self.assertEqual(rc, 0, doc)
        self.assertEqual([a["eid"] for a in doc["answers"]], [S_EID], doc)
        self.assertRegex(doc["answers"][0]["dest"], r"^priv:%s@%s/5001$" % (SECRET_RE, re.escape(S_HOST)))
        # A reload keeps the registration and clones the stranger again from the new [*].
        W.signal(signal.SIGHUP)
        self.assertTrue(W.wait_log("configuration reloaded", 5.0), W.log())
        time.sleep(1.1)  # past the 1 s cache entry of the first answer
        rc, doc, _ = self.ask(W_HOST, "5001", port=T_PORT)
        self.assertEqual([a["eid"] for a in doc["answers"]], [S_EID], doc)
        stats = self.stop_all()
        self.assertEqual(stats["S"]["requests"], 2, stats["S"])  # W asked S both times
        self.assertEqual(stats["W"]["crypto_rejected"], 0, stats["W"])


def main():
    extra, run = harness.run_tests(("keygen",))
    KEYGEN["path"] = extra["keygen"]
    run()


if __name__ == "__main__":
    main()
