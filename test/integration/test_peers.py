#!/usr/bin/env python3
"""Integration tests of peer management: qualify (spec 7.3) and registration (7.4).

Usage:
    test_peers.py --dundid PATH --dundiq PATH [unittest args]

Addresses, all on port 45218 (kept apart from the other integration tests so
that ctest -j can run them together):

    127.0.16.1   daemon A: lookup server and registrar ("priv =>" only)
    127.0.16.2   daemon B: registration server, registers with A (tests 1, 4)
                 or with a fake registrar (test 3)
    127.0.16.5   fake dynamic peer F1, first address
    127.0.16.6   fake dynamic peer F1, second address
    127.0.16.7   fake dynamic peer F2 (answers pings late: LAGGED)
    127.0.16.8   fake registrar (test 3)

The fake peers are plain UDP sockets driven by a thread (FakePeer): they send
REGREQs in clear (their peer sections have no keys), answer qualify pings
(NULL with F) with ACK(F) when told to, and answer DPDISCOVERs with one answer
of their own, recording everything they receive with its arrival time.

Test 1 also reloads A (SIGHUP, same configuration); test 4 restarts it so that
it forgets B's session key (ENCREJ recovery against a real registrar).

Refusals of REGREQs (unknown or static peer: NOAUTH; keyed peer in clear: no
reply) are covered by test_daemon.py (test_regreq) and test_crypto.py
(test_2_unencrypted_from_keyed_peer) and not repeated here.
"""

import heapq
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Daemon, dundiq  # noqa: E402

PORT = 45218
A_HOST, B_HOST = "127.0.16.1", "127.0.16.2"
F1_ADDR1, F1_ADDR2, F2_ADDR = ("127.0.16.5", PORT), ("127.0.16.6", PORT), ("127.0.16.7", PORT)
REGISTRAR_ADDR = ("127.0.16.8", PORT)
A_ADDR = (A_HOST, PORT)

A_EID = "02:00:00:00:02:00"
B_EID = "02:00:00:00:02:01"
F1_EID = "02:00:00:00:02:05"
F2_EID = "02:00:00:00:02:07"
CLIENT_EID = "02:00:00:00:00:99"  # unkeyed inbound client (dundiq)

SECRET_RE = r"[A-Za-z0-9+]{22}=="
F2_DELAY = 0.4  # F2 acknowledges pings this late; its qualify limit is 100 ms


# ====================================================================== configuration


def general_section(host, eid):
    return ("[general]\nbindaddr = %s\nport = %d\nentityid = %s\ncachetime = 5\nttl = 2\n"
            "ipaddr = %s\nkeydir = %s\n"
            "[registrations]\nstatefile = none\n"  # tests run in parallel: no shared state file
            % (host, PORT, eid, host, harness.test_keydir()))


def peer_section(eid, host, keyed=True, extra=()):
    lines = ["[%s]" % eid, "model = symmetric", "host = %s" % host]
    if host != "dynamic":
        lines.append("port = %d" % PORT)
    lines += ["include = priv", "permit = priv"]
    if keyed:
        lines += ["inkey = dundi", "outkey = dundi"]
    return "\n".join(lines + list(extra)) + "\n"


CLIENT_SECTION = "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID


def a_config(local=False):
    """Tests 1 and 4: B's registrar; a lookup server only (test 1), or one that answers 1004 itself."""
    mapping = "priv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n" if local else "priv =>\n"
    return (general_section(A_HOST, A_EID) + "\n[mappings]\n" + mapping + "\n"
            + peer_section(B_EID, "dynamic", True, ["qualify = yes"]) + "\n" + CLIENT_SECTION
            + "\n[context sipregistration]\nexten => 1004\n")


def b_config(registrar_host, qualify=True, local=True):
    """B registers with registrar_host (A, or the fake registrar)."""
    extra = ["register = yes"] + (["qualify = yes"] if qualify else [])
    if local:
        mapping = "priv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n"
    else:
        mapping = "priv =>\n"
    return (general_section(B_HOST, B_EID) + "\n[mappings]\n" + mapping + "\n"
            + peer_section(A_EID, registrar_host, True, extra) + "\n" + CLIENT_SECTION
            + "\n[context sipregistration]\nexten => 1002\n")


def a_fake_config():
    """Test 2: A with two unkeyed dynamic peers played by FakePeer."""
    return (general_section(A_HOST, A_EID) + "\n[mappings]\npriv =>\n\n"
            + peer_section(F1_EID, "dynamic", False, ["qualify = yes"]) + "\n"
            + peer_section(F2_EID, "dynamic", False, ["qualify = 100"]) + "\n" + CLIENT_SECTION)


# ====================================================================== fake peer


class FakePeer:
    """UDP sockets (one per local address) that play DUNDi peers of daemon A.

    Policies per local address: ping = None (ignore NULLs) or the delay in
    seconds of the ACK(F) sent back; encrypt = "ack" (standalone ACK) or
    "encrej" (ENCREJ(F)) for ENCRYPTs opening a transaction; the first
    ENCRYPT transaction seen gets "ack" when first_encrypt_ack is set.
    DPDISCOVERs in clear are answered with one answer naming `eid`."""

    def __init__(self, addrs, eid, peer=A_ADDR):
        self.eid, self.peer = eid, peer
        self.socks = {}
        for a in addrs:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(a)
            self.socks[a] = s
        self.ping = {a: None for a in addrs}
        self.encrypt = {a: "ack" for a in addrs}
        self.first_encrypt_ack = False
        self._first_encrypt = None
        self.seen = []  # (monotonic time, local addr, source, Packet)
        self.sent = []  # (monotonic time, local addr, bytes)
        self.lock = threading.Lock()
        self._answered = set()
        self._queue = []
        self._seq = 0
        self._next_id = 20000
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # -------------------------------------------------------- plumbing

    def new_id(self):
        with self.lock:
            self._next_id += 1
            return self._next_id

    def send(self, local, data, delay=0.0):
        with self.lock:
            self._seq += 1
            heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, local, data))

    def _flush(self):
        now = time.monotonic()
        with self.lock:
            due = []
            while self._queue and self._queue[0][0] <= now:
                due.append(heapq.heappop(self._queue))
        for _, _, local, data in due:
            self.socks[local].sendto(data, self.peer)
            with self.lock:
                self.sent.append((time.monotonic(), local, data))

    def _run(self):
        by_fd = {s.fileno(): a for a, s in self.socks.items()}
        while not self._stop.is_set():
            self._flush()
            with self.lock:
                timeout = 0.02 if not self._queue else max(0.0, min(0.02, self._queue[0][0] - time.monotonic()))
            r, _, _ = select.select(list(self.socks.values()), [], [], timeout)
            for s in r:
                local = by_fd[s.fileno()]
                try:
                    data, src = s.recvfrom(65535)
                except OSError:
                    continue
                try:
                    pkt = dr.decode(data)
                except dr.Malformed:
                    continue
                with self.lock:
                    self.seen.append((time.monotonic(), local, src, pkt))
                if src == self.peer:
                    self._react(local, pkt)

    def _react(self, local, pkt):
        h = pkt.hdr
        if h.cmdresp == dr.NULL | dr.FLAG_FINAL and h.dtrans == 0:
            delay = self.ping[local]
            if delay is not None and (local, h.strans) not in self._answered:
                self._answered.add((local, h.strans))
                self.send(local, dr.ack(self.new_id(), h.strans, 1, 0, True), delay)
        elif h.cmdresp == dr.DPDISCOVER and h.dtrans == 0:
            if (local, h.strans) in self._answered:
                return
            self._answered.add((local, h.strans))
            number = pkt.string(dr.IE_CALLED_NUMBER)
            ies = (dr.ie_answer(self.eid, dr.PROTO_IAX2, dr.F_EXISTS, 0, "priv:fake@%s/%s" % (local[0], number))
                   + dr.ie_hint(0) + dr.ie_u16(dr.IE_EXPIRATION, 5))
            self.send(local, dr.packet(self.new_id(), h.strans, 1, 0, dr.DPRESPONSE | dr.FLAG_FINAL, ies))
        elif h.cmdresp == dr.ENCRYPT and h.dtrans == 0 and h.iseqno == 0 and h.oseqno == 0:
            policy = self.encrypt[local]
            if self.first_encrypt_ack and self._first_encrypt in (None, h.strans):
                self._first_encrypt = h.strans
                policy = "ack"
            if policy == "ack":
                self.send(local, dr.ack(self.new_id(), h.strans, 1, 0, False))
            else:
                self.send(local, dr.header(self.new_id(), h.strans, 1, 0, dr.ENCREJ | dr.FLAG_FINAL))
        elif h.cmd == dr.REGRESPONSE and h.final:
            self.send(local, dr.ack(h.dtrans, h.strans, 1, 1, True))

    def close(self):
        self._stop.set()
        self.thread.join(2.0)
        for s in self.socks.values():
            s.close()

    # -------------------------------------------------------- queries

    def packets(self, local=None, cmdresp=None):
        """[(time, local, Packet)] received from the daemon, optionally filtered."""
        with self.lock:
            return [(t, loc, p) for t, loc, src, p in self.seen
                    if src == self.peer and (local is None or loc == local)
                    and (cmdresp is None or p.hdr.cmdresp == cmdresp)]

    def pings(self, local):
        return self.packets(local, dr.NULL | dr.FLAG_FINAL)

    def wait(self, pred, timeout):
        """Poll pred() (bounded); returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(0.01)

    def register(self, local, timeout=3.0):
        """A clear REGREQ from local; returns the REGRESPONSE Packet (or fails)."""
        st = self.new_id()
        with self.lock:
            self._answered.add((local, st))
        t0 = time.monotonic()
        self.socks[local].sendto(dr.regreq(st, self.eid, 60), self.peer)

        def resp():
            for t, _, p in self.packets(local):
                if t >= t0 and p.hdr.dtrans == st and p.hdr.cmd == dr.REGRESPONSE:
                    return p
            return None
        return self.wait(resp, timeout)


# ====================================================================== tests


class PeerTests(harness.DaemonsCase):
    WORKDIR_PREFIX = "dundid-peers-"

    # ---------------------------------------------------------- plumbing


    def fake(self, addrs, eid, peer=A_ADDR):
        f = FakePeer(addrs, eid, peer)
        self.addCleanup(f.close)
        return f

    def log(self, name):
        return self.daemons[name].log()

    def wait_re(self, name, pattern, timeout):
        """Wait (bounded) for a regex in a daemon's log; returns the match or fails."""
        d = self.daemons[name]
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, d.log())
            if m:
                return m
            if time.monotonic() >= deadline:
                self.fail("%s: no %r within %.1f s:\n%s" % (name, pattern, timeout, d.log()[-4000:]))
            self.assertTrue(d.running(), "%s died:\n%s" % (name, d.log()[-4000:]))
            time.sleep(0.01)

    def stop_all(self):
        out = {}
        for name, d in self.daemons.items():
            if d.proc is not None and d.exit_code is None:
                self.assertTrue(d.running(), "%s died:\n%s" % (name, d.log()[-4000:]))
                out[name] = d.stop()
                self.assertEqual(d.exit_code, 0, "%s exited with %s:\n%s" % (name, d.exit_code, d.log()[-4000:]))
        return out

    @staticmethod
    def ask_args(host, number, bypass=False, timeout_ms=5000):
        args = ["--json", "--eid", CLIENT_EID, "--ttl", "2", "--timeout", str(timeout_ms)]
        if bypass:
            args.append("--bypass")
        return args + ["%s:%d" % (host, PORT), "%s@priv" % number]

    def parse(self, out, err):
        try:
            return json.loads(out)
        except ValueError:
            self.fail("dundiq printed no JSON: %r %r" % (out, err))

    def ask(self, host, number, bypass=False):
        rc, out, err = dundiq(*self.ask_args(host, number, bypass), timeout=30)
        return rc, self.parse(out, err)

    def assert_no_answer(self, rc, doc):
        self.assertEqual(rc, 1, doc)
        self.assertEqual(doc["answers"], [], doc)
        self.assertNotIn("cause", doc)

    def assert_one_answer(self, rc, doc, eid, dest_re):
        self.assertEqual(rc, 0, doc)
        self.assertEqual(len(doc["answers"]), 1, doc)
        a = doc["answers"][0]
        self.assertEqual(a["eid"], eid, doc)
        self.assertEqual(a["tech"], "IAX2", doc)
        self.assertEqual(a["flags"], "EXISTS", doc)
        self.assertRegex(a["dest"], dest_re)
        self.assertNotIn("cause", doc)
        return a

    # ---------------------------------------------------------- 1. register, lookup, qualify, reload

    def test_1_register_lookup_qualify_reload(self):
        """B registers with A (dynamic, keyed); A's lookups reach B only after that; both
        qualify each other OK; a SIGHUP of A keeps the registration and the qualify state."""
        self.start("A", a_config())
        # B has not registered: A has no address for it and nothing else to ask.
        rc, doc = self.ask(A_HOST, "1002")
        self.assert_no_answer(rc, doc)
        self.assertNotIn("registered DUNDi peer", self.log("A"))

        t_b = time.monotonic()
        self.start("B", b_config(A_HOST))
        self.wait_re("A", r"registered DUNDi peer %s at %s:%d\b" % (B_EID, re.escape(B_HOST), PORT), 4.0)
        self.wait_re("B", r"registration with peer %s accepted" % A_EID, 4.0)
        t_reg = time.monotonic()
        # First REGREQ 2 s after load (7.4).
        self.assertGreater(t_reg - t_b, 1.5, "registered too early")
        self.assertLess(t_reg - t_b, 3.5, "registered too late")

        rc, doc = self.ask(A_HOST, "1002")
        self.assert_one_answer(rc, doc, B_EID, r"^priv:%s@%s/1002$" % (SECRET_RE, re.escape(B_HOST)))

        # Qualify: B pings A 5 s after its load, A pings B 5 s after B registered (7.3).
        m_b = self.wait_re("B", r"peer %s is now OK \((\d+) ms\) \(was UNKNOWN\)" % A_EID, t_b + 7.0 - time.monotonic())
        m_a = self.wait_re("A", r"peer %s is now OK \((\d+) ms\) \(was UNKNOWN\)" % B_EID, t_reg + 7.0 - time.monotonic())
        t_ok = time.monotonic()
        self.assertGreater(t_ok - t_reg, 4.0, "A qualified B sooner than 5 s after the registration")
        for m in (m_a, m_b):
            self.assertGreaterEqual(int(m.group(1)), 1)
            self.assertLess(int(m.group(1)), 1000)
        transitions = {n: self.log(n).count(" is now ") for n in ("A", "B")}
        self.assertEqual(transitions, {"A": 1, "B": 1})

        # Reload A with the same configuration: registration and reachability stay.
        self.daemons["A"].signal(signal.SIGHUP)
        self.wait_re("A", r"configuration reloaded", 3.0)
        rc, doc = self.ask(A_HOST, "1002", bypass=True)
        self.assert_one_answer(rc, doc, B_EID, r"^priv:%s@%s/1002$" % (SECRET_RE, re.escape(B_HOST)))
        time.sleep(0.3)
        alog = self.log("A")
        self.assertEqual(alog.count(" is now "), 1, alog)
        self.assertEqual(alog.count("registered DUNDi peer"), 1, alog)
        self.assertNotIn("registration of peer", alog)
        self.assertEqual(self.log("B").count(" is now "), 1)
        self.assertEqual(self.log("B").count("registration with peer"), 1, self.log("B"))

        stats = self.stop_all()
        self.assertEqual(stats["A"]["registrations"], 1, stats["A"])
        self.assertEqual(stats["B"]["requests"], 2, stats["B"])  # the two lookups that reached B
        for n in ("A", "B"):
            self.assertEqual(stats[n]["crypto_rejected"], 0, stats[n])
            self.assertEqual(stats[n]["encrej"], 0, stats[n])
            self.assertEqual(stats[n]["timeouts"], 0, stats[n])

    # ---------------------------------------------------------- 2. qualify states


    # ---------------------------------------------------------- 3. ENCREJ on a REGREQ


    # ---------------------------------------------------------- 4. ENCREJ recovery with a real registrar



def main():
    harness.run_tests()[1]()


if __name__ == "__main__":
    main()
