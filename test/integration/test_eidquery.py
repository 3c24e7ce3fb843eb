#!/usr/bin/env python3
"""Integration tests of forwarded EID queries (protocol 7.6): a chain of real
dundid daemons, each peering only with its neighbours.

Usage:
    test_eidquery.py --dundid PATH --dundiq PATH [unittest args]

All on port 45262:

    dundiq (02:00:00:00:00:99) -> A 127.0.23.11 -- B 127.0.23.12 == C 127.0.23.13
                                                                   `- D 127.0.23.14 (not running)

A-B in clear, B-C encrypted with the test key pair; every link symmetric with
include/permit priv. D is configured at B but never started: a peer that does
not answer must not hold the answer back past its autokill.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Daemon, dundiq  # noqa: E402

PORT = 45262
HOSTS = {"A": "127.0.23.11", "B": "127.0.23.12", "C": "127.0.23.13", "D": "127.0.23.14"}
EIDS = {"A": "02:00:00:00:23:11", "B": "02:00:00:00:23:12", "C": "02:00:00:00:23:13", "D": "02:00:00:00:23:14"}
CLIENT_EID = "02:00:00:00:00:99"


def node_config(name, peers, keyed=()):
    host = HOSTS[name]
    text = "\n".join(["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % EIDS[name],
                      "ttl = 4", "autokill = 500", "keydir = %s" % harness.test_keydir(),
                      "department = Dept %s" % name, "organization = Org %s" % name,
                      "locality = City %s" % name, "stateprov = State %s" % name, "country = ZZ",
                      "email = %s@example.invalid" % name.lower(), "phone = +1 555 01%02d" % ord(name)])
    text += "\n\n[mappings]\npriv =>\n\n"
    for p in peers:
        text += "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n" % (
            EIDS[p], HOSTS[p], PORT)
        if p in keyed:
            text += "inkey = dundi\noutkey = dundi\n"
        text += "\n"
    return text + "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID


class EidQueryTests(harness.DaemonsCase):

    WORKDIR_PREFIX = "dundid-eidq-"

    def setUp(self):
        super().setUp()
        for name, peers, keyed in (("C", ["B"], ["B"]), ("B", ["A", "C", "D"], ["C"]), ("A", ["B"], [])):
            self.start(name, node_config(name, peers, keyed))

    def query(self, target, ttl, host="A", json_out=True):
        args = ["--eid", CLIENT_EID, "--ttl", ttl, "--timeout", 8000]
        if json_out:
            args.append("--json")
        t0 = time.monotonic()
        rc, out, err = dundiq(*(args + ["--eidquery", EIDS[target], "%s:%d" % (HOSTS[host], PORT), "priv"]),
                              timeout=30)
        return rc, (json.loads(out) if json_out else out), err, time.monotonic() - t0

    def stop_all(self):
        out = {}
        for name, d in self.daemons.items():
            self.assertTrue(d.running(), "%s died:\n%s" % (name, d.log()[-4000:]))
            out[name] = d.stop()
            self.assertEqual(d.exit_code, 0, d.log()[-4000:])
            self.assertEqual(out[name]["live_trans"], 0, (name, out[name]))
        return out

    def test_1_forwarded_two_hops(self):
        """A asks B, B asks C (encrypted): C's contact fields come back, with C's address."""
        rc, doc, err, elapsed = self.query("C", ttl=4)
        self.assertEqual(rc, 0, (doc, err))
        self.assertEqual(doc, {"found": True, "department": "Dept C", "organization": "Org C",
                               "locality": "City C", "stateprov": "State C", "country": "ZZ",
                               "email": "c@example.invalid", "phone": "+1 555 0167", "ipaddr": HOSTS["C"]})
        # Printed for people too (dundiq without --json).
        rc, out, err, _ = self.query("B", ttl=4, json_out=False)
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"(?m)^Organization\s+Org B$")
        self.assertRegex(out, r"(?m)^IP address\s+%s$" % HOSTS["B"].replace(".", r"\."))
        # B's CANCEL to D (C answered first) goes unanswered until D's autokill (500 ms) ends it.
        time.sleep(0.8)
        stats = self.stop_all()
        # Nobody asked back along the path: A got only dundiq's two queries, C only B's one.
        self.assertEqual(stats["A"]["requests"], 2, stats["A"])
        self.assertEqual(stats["B"]["requests"], 2, stats["B"])
        self.assertEqual(stats["C"]["requests"], 1, stats["C"])
        self.assertEqual(stats["C"]["crypto_rejected"], 0, stats["C"])

    def test_2_ttl_and_unknown(self):
        """TTL 2 reaches B only (not found); an EID nobody has is not found once every peer answered."""
        rc, doc, err, _ = self.query("C", ttl=2)
        self.assertEqual((rc, doc), (1, {"found": False}), err)
        rc, doc, err, elapsed = self.query("D", ttl=4)  # D is configured at B but not running
        self.assertEqual((rc, doc), (1, {"found": False}), err)
        # B's wait for D ended with its autokill (500 ms), not B's whole wait of 2000 + 200 x 2 ms.
        self.assertLess(elapsed, 2.4, "the dead peer held the answer back")
        stats = self.stop_all()
        self.assertEqual(stats["C"]["requests"], 1, stats["C"])  # only the TTL 4 query for D reached C
        self.assertGreaterEqual(stats["B"]["autokilled"], 1, stats["B"])


def main():
    harness.run_tests()[1]()


if __name__ == "__main__":
    main()
