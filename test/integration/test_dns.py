#!/usr/bin/env python3
"""Integration tests of peer host names: resolved without blocking (evdns),
again every dns_refresh seconds, retried after a failure.

Usage:
    test_dns.py --dundid PATH --dundiq PATH [unittest args]

A small DNS server of our own on 127.0.23.53:53 (UDP) answers A queries
from a table the test changes; dundid reads it through resolv_conf.
Daemons on port 45264:

    L   127.0.23.30 (02:00:00:00:23:30)  asks peer R by the name r.dundid.test
                                         and peer G by gone.dundid.test
    R   127.0.23.31 / 127.0.23.32        (02:00:00:00:23:31) answers 4001
    G   127.0.23.33 (02:00:00:00:23:33)  answers 4003
"""

import json
import os
import select
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Daemon, dundiq  # noqa: E402

PORT = 45264
DNS_HOST = "127.0.23.53"
L_HOST, L_EID = "127.0.23.30", "02:00:00:00:23:30"
R_EID, G_EID = "02:00:00:00:23:31", "02:00:00:00:23:33"
CLIENT_EID = "02:00:00:00:00:99"


class DnsServer:
    """Answers A queries from self.table (lower-case name -> IPv4 or None = NXDOMAIN),
    AAAA with no records; can hold every answer back for self.delay seconds."""

    def __init__(self, host):
        self.table = {}
        self.delay = 0.0
        self.queries = []  # (monotonic time, name, qtype)
        self.answered = []  # (monotonic time, name, qtype)
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 53))
        self._stop = threading.Event()
        self._pending = []  # (due, data, addr, name, qtype)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _answer(self, q):
        """Response bytes for query q, with the name it asked and its type."""
        if len(q) < 12:
            return None, None, None
        qid, flags, qd = struct.unpack(">HHH", q[:6])
        if qd != 1:
            return None, None, None
        i, labels = 12, []
        while i < len(q) and q[i]:
            n = q[i]
            labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        i += 1
        if i + 4 > len(q):
            return None, None, None
        qtype, _ = struct.unpack(">HH", q[i:i + 4])
        question = q[12:i + 4]  # echoed as sent (evdns mixes the case of names)
        name = ".".join(labels).lower()
        with self.lock:
            known = name in self.table
            addr = self.table.get(name)
        rcode = 0 if known and addr else 3
        answers = b""
        if rcode == 0 and qtype == 1:
            answers = struct.pack(">HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(addr)
        hdr = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1, 1 if answers else 0, 0, 0)
        return hdr + question + answers, name, qtype

    def _run(self):
        while not self._stop.is_set():
            now = time.monotonic()
            for item in [p for p in self._pending if p[0] <= now]:
                self._pending.remove(item)
                self.sock.sendto(item[1], item[2])
                with self.lock:
                    self.answered.append((time.monotonic(), item[3], item[4]))
            r, _, _ = select.select([self.sock], [], [], 0.02)
            if not r:
                continue
            try:
                q, addr = self.sock.recvfrom(4096)
            except OSError:
                continue
            resp, name, qtype = self._answer(q)
            if resp is None:
                continue
            with self.lock:
                self.queries.append((time.monotonic(), name, qtype))
            self._pending.append((time.monotonic() + self.delay, resp, addr, name, qtype))

    def set(self, name, addr):
        with self.lock:
            self.table[name] = addr

    def close(self):
        self._stop.set()
        self.thread.join(2.0)
        self.sock.close()


def general(host, eid, extra=()):
    return "\n".join(["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid,
                      "ttl = 2", "cachetime = 1", "ipaddr = %s" % host] + list(extra)) + "\n\n"


def r_config(host, eid, exten):
    return (general(host, eid)
            + "[mappings]\npriv => sipregistration,0,SIP,${NUMBER}@${IPADDR},nopartial\n\n"
            + "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n\n" % (
                L_EID, L_HOST, PORT)
            + "[context sipregistration]\nexten => %s\n" % exten)


class DnsTests(harness.DaemonsCase):
    WORKDIR_PREFIX = "dundid-dns-"

    def setUp(self):
        super().setUp()
        self.dns = DnsServer(DNS_HOST)
        self.addCleanup(self.dns.close)
        self.resolv = os.path.join(self.tmp.name, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:1 attempts:2\n" % DNS_HOST)


    def l_config(self):
        text = general(L_HOST, L_EID, ["resolv_conf = %s" % self.resolv, "dns_refresh = 1"])
        text += "[mappings]\npriv => local,0,SIP,local-${NUMBER}@${IPADDR},nopartial\n\n"
        for eid, name in ((R_EID, "r.dundid.test"), (G_EID, "gone.dundid.test")):
            text += "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n\n" % (
                eid, name, PORT)
        return (text + "[%s]\nmodel = inbound\npermit = priv\n\n" % CLIENT_EID
                + "[context local]\nexten => 4000\n")

    def ask(self, number):
        rc, out, err = dundiq("--json", "--eid", CLIENT_EID, "--ttl", 2, "--timeout", 6000,
                              "%s:%d" % (L_HOST, PORT), "%s@priv" % number, timeout=30)
        try:
            return rc, json.loads(out)
        except ValueError:
            self.fail("dundiq printed no JSON: %r %r" % (out, err))

    def dests(self, doc):
        return [a["dest"] for a in doc["answers"]]

    def test_1_resolve_refresh_retry(self):
        """L starts although one name does not resolve; uses R at the address its name has,
        follows it to a new address, and picks up G once its name appears."""
        self.dns.set("r.dundid.test", "127.0.23.31")
        self.dns.set("gone.dundid.test", None)
        self.start("R", r_config("127.0.23.31", R_EID, "4001"))
        self.start("G", r_config("127.0.23.33", G_EID, "4003"))
        L = self.start("L", self.l_config())
        self.assertTrue(L.wait_log("host 'r.dundid.test' is 127.0.23.31:%d" % PORT, 5.0), L.log())
        self.assertTrue(L.wait_log("cannot resolve host 'gone.dundid.test'", 5.0), L.log())
        self.assertIn("not asked until it resolves", L.log())
        rc, doc = self.ask("4001")
        self.assertEqual(self.dests(doc), ["4001@127.0.23.31"], doc)
        rc, doc = self.ask("4003")
        self.assertEqual((rc, doc["answers"]), (1, []), doc)

        # R moves: same EID, new address; L follows within dns_refresh (1 s).
        self.daemons["R"].stop()
        self.start("R2", r_config("127.0.23.32", R_EID, "4001"))
        self.dns.set("r.dundid.test", "127.0.23.32")
        self.assertTrue(L.wait_log("host 'r.dundid.test' is 127.0.23.32:%d" % PORT, 5.0), L.log())
        time.sleep(1.1)  # L's cache entry of the old answer (1 s) is gone
        rc, doc = self.ask("4001")
        self.assertEqual(self.dests(doc), ["4001@127.0.23.32"], doc)

        # G's name appears: retried (every min(30, dns_refresh) s) and used.
        self.dns.set("gone.dundid.test", "127.0.23.33")
        self.assertTrue(L.wait_log("host 'gone.dundid.test' is 127.0.23.33:%d" % PORT, 5.0), L.log())
        rc, doc = self.ask("4003")
        self.assertEqual(self.dests(doc), ["4003@127.0.23.33"], doc)

        # The DNS server goes silent: R keeps its last address.
        self.dns.set("r.dundid.test", None)
        self.assertTrue(L.wait_log("cannot resolve host 'r.dundid.test'", 5.0), L.log())
        self.assertIn("keeping its last address", L.log())
        rc, doc = self.ask("4001")
        self.assertEqual(self.dests(doc), ["4001@127.0.23.32"], doc)
        stats = L.stop()
        self.assertEqual(L.exit_code, 0, L.log()[-3000:])
        self.assertEqual(stats["live_trans"], 0, stats)

    def test_2_slow_dns_does_not_stall(self):
        """With every DNS answer held back 2.5 s, L answers from its own context at once:
        the lookup is done before the DNS server has answered anything."""
        with open(self.resolv, "w") as f:  # one try, long enough to wait for the slow answer
            f.write("nameserver %s\noptions timeout:5 attempts:1\n" % DNS_HOST)
        self.dns.delay = 2.5
        self.dns.set("r.dundid.test", "127.0.23.31")
        self.dns.set("gone.dundid.test", "127.0.23.33")
        L = self.start("L", self.l_config())
        deadline = time.monotonic() + 5
        while not self.dns.queries and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(self.dns.queries, "L sent no DNS query")
        rc, doc = self.ask("4000")
        done = time.monotonic()
        self.assertEqual(self.dests(doc), ["local-4000@%s" % L_HOST], doc)
        with self.dns.lock:
            first_answer = min([t for t, _, _ in self.dns.answered] or [float("inf")])
        self.assertLess(done, first_answer, "the lookup waited for the DNS server")
        self.assertTrue(L.wait_log("host 'r.dundid.test' is 127.0.23.31", 6.0), L.log())
        L.stop()
        self.assertEqual(L.exit_code, 0, L.log()[-3000:])


def main():
    harness.run_tests()[1]()


if __name__ == "__main__":
    main()
