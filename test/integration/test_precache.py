#!/usr/bin/env python3
"""Integration tests of precache (protocol 7.5): dundid pushing its answers to
an upstream dundid, and keeping what is pushed to it.

Usage:
    test_precache.py --dundid PATH --dundiq PATH [unittest args]

All on port 45261:

    P  127.0.23.1 (02:00:00:00:23:01)  a registration server: answers 1001, 1002
                                       and _20XX; pushes to U (precache = outbound)
    U  127.0.23.2 (02:00:00:00:23:02)  the lookup server: "priv =>" only; takes
                                       P's pushes (precache = inbound), never asks P
    raw 127.0.23.9                     a raw DUNDi socket standing in for U or P
    dundiq from 127.0.23.2's client EID 02:00:00:00:00:99

P <-> U are encrypted with the test key pair unless a test says otherwise.
"""

import json
import os
import re
import select
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Client, Daemon, dundiq  # noqa: E402

PORT = 45261
P_HOST, U_HOST, RAW_HOST = "127.0.23.1", "127.0.23.2", "127.0.23.9"
P_EID, U_EID, RAW_EID = "02:00:00:00:23:01", "02:00:00:00:23:02", "02:00:00:00:23:09"
CLIENT_EID = "02:00:00:00:00:99"


def general(host, eid, cachetime=30, extra=()):
    return "\n".join(["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid,
                      "cachetime = %d" % cachetime, "ttl = 2", "ipaddr = %s" % host,
                      "keydir = %s" % harness.test_keydir()] + list(extra)) + "\n"


def keys(keyed):
    return "inkey = dundi\noutkey = dundi\n" if keyed else ""


def p_config(extens=("1001", "1002", "_20XX"), cachetime=30, upstream=U_HOST, upstream_eid=U_EID, keyed=True,
             permit="priv"):
    return (general(P_HOST, P_EID, cachetime)
            + "\n[mappings]\npriv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n\n"
            + "[%s]\nmodel = outbound\nprecache = outbound\nhost = %s\nport = %d\ninclude = priv\npermit = %s\n%s\n"
            % (upstream_eid, upstream, PORT, permit, keys(keyed))
            + "[context sipregistration]\n" + "".join("exten => %s\n" % e for e in extens))


HEP_PORT = 45265


def p_reg_config(workdir, precache_registrations):
    """P with a registration table fed over HEP, answering from it (regcontext sipregistration)."""
    return (p_config(extens=("1001",)).replace("[mappings]", "\n".join([
        "[registrations]", "hep = %s:%d" % (P_HOST, HEP_PORT),
        "statefile = %s" % os.path.join(workdir, "P.state"),
        "precache_registrations = %s" % ("yes" if precache_registrations else "no"), "", "[mappings]"])))


def u_config(include="priv", keyed=True, pusher_eid=P_EID, mappings="priv =>\n"):
    # cachetime 60: U's own EXPIRATION would otherwise cap what it reports of P's 30 + 10 s.
    return (general(U_HOST, U_EID, 60)
            + "\n[mappings]\n" + mappings + "\n"
            + "[%s]\nmodel = inbound\nprecache = inbound\npermit = priv\ninclude = %s\n%s\n"
            % (pusher_eid, include, keys(keyed))
            + "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID)


class PrecacheTests(harness.DaemonsCase):
    WORKDIR_PREFIX = "dundid-precache-"

    def rewrite(self, name, text):
        with open(os.path.join(self.tmp.name, name + ".conf"), "w") as f:
            f.write(text)

    def stop_all(self):
        out = {}
        for name, d in self.daemons.items():
            self.assertTrue(d.running(), "%s died:\n%s" % (name, d.log()[-4000:]))
            out[name] = d.stop()
            self.assertEqual(d.exit_code, 0, d.log()[-4000:])
            self.assertEqual(out[name]["live_trans"], 0, (name, out[name]))
        return out

    def ask(self, number, ttl=2):
        rc, out, err = dundiq("--json", "--eid", CLIENT_EID, "--ttl", ttl, "--timeout", 5000,
                              "%s:%d" % (U_HOST, PORT), "%s@priv" % number, timeout=30)
        try:
            return rc, json.loads(out)
        except ValueError:
            self.fail("dundiq printed no JSON: %r %r" % (out, err))

    def pushes(self, name, number):
        """Accepted pushes of number the daemon's debug log shows."""
        return self.daemons[name].log().count("precache from %s: %s@priv," % (P_EID, number))

    def wait_pushes(self, name, number, n, timeout=5.0):
        self.daemons[name].wait_log("precache from %s: %s@priv," % (P_EID, number), timeout, n)
        return self.pushes(name, number)

    def assert_pushed_answer(self, rc, doc, number, max_expires):
        self.assertEqual(rc, 0, doc)
        self.assertEqual(len(doc["answers"]), 1, doc)
        a = doc["answers"][0]
        self.assertEqual(a["eid"], P_EID, doc)
        self.assertEqual(a["weight"], 0, doc)
        self.assertEqual(a["tech"], "IAX2", doc)
        self.assertRegex(a["dest"], r"^priv:[A-Za-z0-9+]{22}==@%s/%s$" % (re.escape(P_HOST), number))
        self.assertLessEqual(a["expires"], max_expires, doc)
        # Pushed answers live 10 s longer than the EXPIRATION of the push (5.2).
        self.assertGreater(a["expires"], 30, doc)

    # ------------------------------------------------------------------ tests

    def test_1_push_at_load_answers_without_asking(self):
        """P pushes its literal extensions at start (encrypted); U answers them from its
        cache without a single DPDISCOVER to P; patterns are not pushed."""
        self.start("U", u_config())
        self.start("P", p_config())
        self.assertEqual(self.wait_pushes("U", "1001", 1), 1, self.daemons["U"].log())
        self.assertEqual(self.wait_pushes("U", "1002", 1), 1)
        rc, doc = self.ask("1001")
        self.assert_pushed_answer(rc, doc, "1001", 40)
        rc, doc = self.ask("1002")
        self.assert_pushed_answer(rc, doc, "1002", 40)
        rc, doc = self.ask("2042")  # only in a pattern: not pushed, and U may not ask P
        self.assertEqual(rc, 1, doc)
        self.assertEqual(doc["answers"], [], doc)
        stats = self.stop_all()
        self.assertEqual(stats["P"]["precache_sent"], 2, stats["P"])
        self.assertEqual(stats["U"]["precache_received"], 2, stats["U"])
        self.assertEqual(stats["P"]["requests"], 0, stats["P"])
        for s in stats.values():
            self.assertEqual(s["crypto_rejected"], 0, s)
            self.assertEqual(s["encrej"], 0, s)

    def test_2_wire_format_of_a_push(self):
        """The PRECACHERQ as it leaves P (to a raw receiver, in clear): the IEs of 2.2 in order,
        HINT flags 0, EXPIRATION = cachetime; the PRECACHERP ends it; repeated at expiry."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((RAW_HOST, PORT))
        self.addCleanup(sock.close)
        self.start("P", p_config(extens=("1001",), cachetime=2, upstream=RAW_HOST, upstream_eid=RAW_EID,
                                 keyed=False))
        got = []
        deadline = time.monotonic() + 8
        while len(got) < 2 and time.monotonic() < deadline:
            r, _, _ = select.select([sock], [], [], 0.2)
            if not r:
                continue
            data, addr = sock.recvfrom(65535)
            pkt = dr.decode(data)
            if pkt.hdr.cmd != dr.PRECACHERQ:
                continue
            got.append((time.monotonic(), pkt))
            # PRECACHERP(F) acknowledges the request; P's ACK(F) ends the transaction.
            sock.sendto(dr.packet(77, pkt.hdr.strans, 1, 0, dr.PRECACHERP | dr.FLAG_FINAL), addr)
        self.assertEqual(len(got), 2, "expected a push and its repetition after cachetime (2 s)")
        p = got[0][1]
        self.assertFalse(p.hdr.final, p)
        self.assertEqual(p.types(), [dr.IE_VERSION, dr.IE_EID, dr.IE_CALLED_NUMBER, dr.IE_CALLED_CONTEXT,
                                     dr.IE_TTL, dr.IE_ANSWER, dr.IE_HINT, dr.IE_EXPIRATION], p)
        self.assertEqual(p.get(dr.IE_EID), dr.eid(P_EID))
        self.assertEqual(p.string(dr.IE_CALLED_NUMBER), "1001")
        self.assertEqual(p.string(dr.IE_CALLED_CONTEXT), "priv")
        self.assertEqual(p.u16(dr.IE_TTL), 2)
        self.assertEqual(p.hint(), (0, ""))
        self.assertEqual(p.u16(dr.IE_EXPIRATION), 2)
        a = p.answers()[0]
        self.assertEqual((a.eid, a.proto, a.flags, a.weight), (P_EID, dr.PROTO_IAX2, dr.F_EXISTS, 0))
        self.assertRegex(a.dest, r"^priv:.*@127\.0\.23\.1/1001$")
        gap = got[1][0] - got[0][0]
        self.assertGreater(gap, 1.0, "repeated too early")
        stats = self.stop_all()
        self.assertGreaterEqual(stats["P"]["precache_sent"], 2, stats["P"])


    def test_4_raw_push_in_clear(self):
        """A clear PRECACHERQ from an unkeyed pusher is cached under its EID and answered from;
        an unknown EID gets NOAUTH and changes nothing."""
        self.start("U", u_config(keyed=False, pusher_eid=RAW_EID))
        c = Client(RAW_HOST, (U_HOST, PORT))
        self.addCleanup(c.close)

        def push(sender, number, answers, expiration=20):
            st = Client.new_trans()
            ies = (dr.ie_u16(dr.IE_VERSION, 1) + dr.ie_eid(dr.IE_EID, sender) + dr.ie(dr.IE_CALLED_NUMBER, number)
                   + dr.ie(dr.IE_CALLED_CONTEXT, "priv") + dr.ie_u16(dr.IE_TTL, 1) + b"".join(answers)
                   + dr.ie_hint(0) + dr.ie_u16(dr.IE_EXPIRATION, expiration))
            _, resp = c.transact(dr.packet(st, 0, 0, 0, dr.PRECACHERQ, ies))
            c.send(dr.ack(st, resp.hdr.strans, 1, 1, True))
            return resp

        resp = push(RAW_EID, "5551", [dr.ie_answer(RAW_EID, dr.PROTO_SIP, dr.F_EXISTS, 7, "5551@10.0.0.9")])
        self.assertEqual(resp.hdr.cmdresp, dr.PRECACHERP | dr.FLAG_FINAL, resp)
        self.assertEqual(resp.ies, [], resp)
        resp = push("02:00:00:00:23:77", "5552", [dr.ie_answer(RAW_EID, dr.PROTO_SIP, dr.F_EXISTS, 7, "x@y")])
        self.assertEqual(resp.cause()[0], dr.CAUSE_NOAUTH, resp)

        rc, doc = self.ask("5551")
        self.assertEqual(rc, 0, doc)
        self.assertEqual([(a["eid"], a["tech"], a["weight"], a["dest"]) for a in doc["answers"]],
                         [(RAW_EID, "SIP", 7, "5551@10.0.0.9")], doc)
        self.assertGreater(doc["answers"][0]["expires"], 20, doc)  # 20 + 10 (5.2)
        rc, doc = self.ask("5552")
        self.assertEqual(rc, 1, doc)
        # An empty push replaces the entry: 5551 is gone at once.
        push(RAW_EID, "5551", [])
        rc, doc = self.ask("5551")
        self.assertEqual((rc, doc["answers"]), (1, []), doc)
        stats = self.stop_all()
        self.assertEqual(stats["U"]["precache_received"], 2, stats["U"])

    def hep_pair(self, user, expires, call_id, cseq=1):
        """A REGISTER and its 200 OK as a HEPv3 copy to P's listener (registrar 127.0.23.40)."""
        import test_registrations as tr
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        reg = "127.0.23.40"
        sock.sendto(tr.hep3(tr.PHONES, reg, tr.PHONE_PORT, tr.SIP_PORT, tr.register(user, reg, expires, call_id, cseq)),
                    (P_HOST, HEP_PORT))
        sock.sendto(tr.hep3(reg, tr.PHONES, tr.SIP_PORT, tr.PHONE_PORT, tr.ok(user, reg, expires, call_id, cseq)),
                    (P_HOST, HEP_PORT))

    def test_6_precache_registrations(self):
        """precache_registrations = yes: a phone registering at P is pushed to U at once, its
        unregistration withdrawn at once; with = no, registrations are not pushed."""
        self.start("U", u_config())
        P = self.start("P", p_reg_config(self.tmp.name, True))
        self.assertTrue(P.wait_log("listening for HEP", 5.0), P.log())
        self.assertEqual(self.wait_pushes("U", "1001", 1), 1)
        self.hep_pair("7001", 600, "pc-1")
        self.assertEqual(self.wait_pushes("U", "7001", 1), 1, self.daemons["U"].log()[-2000:])
        self.assertIn("precache from %s: 7001@priv, 1 answer(s)" % P_EID, self.daemons["U"].log())
        rc, doc = self.ask("7001")
        self.assertEqual(rc, 0, doc)
        self.assertEqual([(a["eid"], a["dest"].split("/")[-1]) for a in doc["answers"]], [(P_EID, "7001")], doc)
        self.hep_pair("7001", 0, "pc-1", 2)  # unregister
        self.assertEqual(self.wait_pushes("U", "7001", 2), 2, self.daemons["U"].log()[-2000:])
        self.assertIn("precache from %s: 7001@priv, 0 answer(s)" % P_EID, self.daemons["U"].log())
        rc, doc = self.ask("7001")
        self.assertEqual((rc, doc["answers"]), (1, []), doc)
        stats = self.stop_all()
        self.assertEqual(stats["P"]["requests"], 0, stats["P"])  # U never asked P
        self.assertEqual(stats["P"]["precache_sent"], 3, stats["P"])  # 1001, 7001, 7001 withdrawn

        self.daemons = {}
        self.start("U", u_config())
        P = self.start("P", p_reg_config(self.tmp.name, False))
        self.assertTrue(P.wait_log("listening for HEP", 5.0), P.log())
        self.assertEqual(self.wait_pushes("U", "1001", 1), 1)
        self.hep_pair("7002", 600, "pc-2")
        time.sleep(1.5)
        self.assertEqual(self.pushes("U", "7002"), 0)
        stats = self.stop_all()
        self.assertEqual(stats["P"]["precache_sent"], 1, stats["P"])

    def test_7_burst_of_registrations(self):
        """3000 registrations from the state file at start, precache_registrations = yes and
        only 64 transactions: every one reaches U (pushes wait for room instead of being
        lost), and P keeps answering lookups meanwhile."""
        n = 3000
        state = os.path.join(self.tmp.name, "burst.state")
        now = int(time.time())
        with open(state, "w") as f:
            f.write("# dundid registrations 1\n")
            for i in range(n):
                f.write("B\t%d\t10.1.%d.%d\tsip:%d@10.2.%d.%d:5060\t10.2.%d.%d:5060\t%d\t%d\tpcap\tPhone\n"
                        % (800000 + i, i >> 8, i & 255, 800000 + i, i >> 8, i & 255, i >> 8, i & 255, now + 3600, now))
            f.write("E\t%d\n" % n)
        self.start("U", u_config(keyed=False))
        text = p_config(extens=(), keyed=False).replace("[general]", "[general]\nmax_transactions = 64").replace(
            "[mappings]", "[registrations]\nstatefile = %s\nprecache_registrations = yes\n\n[mappings]" % state)
        text += "\n[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID
        P = self.start("P", text)
        # A lookup at P in the middle of the burst is answered.
        rc, out, err = dundiq("--json", "--eid", CLIENT_EID, "--timeout", 5000, "%s:%d" % (P_HOST, PORT),
                              "%d@priv" % (800000 + n - 1), timeout=30)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(len(json.loads(out)["answers"]), 1, out)
        U = self.daemons["U"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and U.log().count("precache from %s: 8" % P_EID) < n:
            time.sleep(0.2)
        self.assertEqual(U.log().count("precache from %s: 8" % P_EID), n, U.log()[-2000:])
        stats = self.stop_all()
        self.assertEqual(stats["U"]["precache_received"], n, stats["U"])
        self.assertEqual(stats["P"]["precache_sent"], n, stats["P"])
        self.assertEqual(stats["P"]["refused_full"], 0, stats["P"])

    def test_8_propagation(self):
        """A push U accepts is passed on to U's own precache peer (a raw receiver), with
        TTL - 1 and the pusher on the path, carrying U's answers (7.5)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((RAW_HOST, PORT))
        self.addCleanup(sock.close)
        u_text = u_config(mappings="priv => local,0,SIP,u-${NUMBER}@%s,nopartial\n" % U_HOST)
        u_text += ("\n[%s]\nprecache = outbound\nhost = %s\nport = %d\npermit = priv\n"
                   "\n[context local]\nexten => 1001\n" % (RAW_EID, RAW_HOST, PORT))
        self.start("U", u_text)

        def next_push(timeout=6.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                r, _, _ = select.select([sock], [], [], 0.2)
                if not r:
                    continue
                data, addr = sock.recvfrom(65535)
                pkt = dr.decode(data)
                if pkt.hdr.cmd == dr.PRECACHERQ:
                    sock.sendto(dr.packet(78, pkt.hdr.strans, 1, 0, dr.PRECACHERP | dr.FLAG_FINAL), addr)
                    return pkt
            self.fail("no PRECACHERQ from U")

        own = next_push()  # U's own, at load
        self.assertEqual(own.all(dr.IE_EID), [dr.eid(U_EID)], own)
        self.assertEqual(own.u16(dr.IE_TTL), 2, own)
        self.start("P", p_config(extens=("1001",)))
        prop = next_push()  # P's push of 1001, passed on
        self.assertEqual(prop.all(dr.IE_EID), [dr.eid(U_EID), dr.eid(P_EID)], prop)
        self.assertEqual(prop.u16(dr.IE_TTL), 1, prop)
        self.assertEqual(prop.string(dr.IE_CALLED_NUMBER), "1001")
        self.assertEqual([(a.eid, a.dest) for a in prop.answers()], [(U_EID, "u-1001@%s" % U_HOST)], prop)
        stats = self.stop_all()
        self.assertEqual(stats["U"]["precache_received"], 1, stats["U"])
        self.assertEqual(stats["U"]["precache_sent"], 2, stats["U"])

    def test_5_reload_withdraws_and_pushes(self):
        """A SIGHUP that moves 1001 away from P withdraws it from U at once (an empty push)
        and pushes the new 1003; U never asked P."""
        self.start("U", u_config())
        self.start("P", p_config(extens=("1001",)))
        self.assertEqual(self.wait_pushes("U", "1001", 1), 1)
        rc, doc = self.ask("1001")
        self.assert_pushed_answer(rc, doc, "1001", 40)
        self.rewrite("P", p_config(extens=("1003",)))
        self.daemons["P"].signal(signal.SIGHUP)
        self.assertEqual(self.wait_pushes("U", "1001", 2), 2, self.daemons["U"].log())
        self.assertIn("precache from %s: 1001@priv, 0 answer(s)" % P_EID, self.daemons["U"].log())
        self.assertEqual(self.wait_pushes("U", "1003", 1), 1)
        rc, doc = self.ask("1001")
        self.assertEqual((rc, doc["answers"]), (1, []), doc)
        rc, doc = self.ask("1003")
        self.assert_pushed_answer(rc, doc, "1003", 40)
        stats = self.stop_all()
        self.assertEqual(stats["P"]["requests"], 0, stats["P"])


def main():
    harness.run_tests()[1]()


if __name__ == "__main__":
    main()
