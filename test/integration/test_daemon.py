#!/usr/bin/env python3
"""Integration tests for dundid and dundiq, over loopback UDP.

Usage:
    test_daemon.py --dundid PATH --dundiq PATH [unittest args, e.g. LookupTests]

(DUNDID / DUNDIQ in the environment work too.) Each test class uses its own
loopback addresses and ports so that ctest can run the classes in parallel:

    LookupTests        127.0.10.1 / ::1  port 45210  (one daemon for the class)
    RetransmitTests    127.0.11.1        port 45211  (a fresh daemon per test)
    ConfigTests        127.0.12.1        ports 45212, 45214, 45219
    RobustnessTests    127.0.13.1        port 45213  (a fresh daemon per test)

Packets are built and decoded with dundi_raw.py, written from the protocol
document independently of the C code.
"""

import json
import os
import random
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Client, Daemon, dundiq, render_config, run_tool  # noqa: E402

OUR_EID = "02:00:00:00:00:0a"     # the daemon's entityid
CLIENT_EID = "02:00:00:00:00:99"  # inbound peer, permit priv + e164 (the capture's client)
ALL_EID = "02:00:00:00:00:98"     # inbound peer, permit all
KEYED_EID = "02:00:00:00:00:97"   # inbound peer with inkey/outkey
DYN_EID = "02:00:00:00:00:0b"     # host = dynamic, symmetric
STRANGER_EID = "02:00:00:00:00:55"  # not configured anywhere

# ${SECRET}: 16 random bytes in base64 with ';', '/', ':', '@' turned into '+'.
SECRET_RE = r"[A-Za-z0-9+]{22}=="


class DaemonCase(unittest.TestCase):
    """Shared assertions and helpers."""

    BIND = None
    CLIENT_HOST = None
    PORT = None

    def client(self, host=None, server=None, family=socket.AF_INET):
        c = Client(host or self.CLIENT_HOST, server or (self.BIND, self.PORT), family)
        self.addCleanup(c.close)
        return c

    # -- header checks

    def assert_no_rexmit_bits(self, pkt):
        self.assertEqual(pkt.hdr.strans & 0x8000, 0, "bit 15 of strans set: %r" % pkt)
        self.assertEqual(pkt.hdr.dtrans & 0x8000, 0, "bit 15 of dtrans set: %r" % pkt)

    def assert_reply(self, pkt, our_trans, cmdresp, iseqno=1, oseqno=0):
        """A packet of the daemon's transaction answering ours."""
        h = pkt.hdr
        self.assertEqual(h.cmdresp, cmdresp, "cmdresp 0x%02x, expected 0x%02x: %r" % (h.cmdresp, cmdresp, pkt))
        self.assertEqual(h.dtrans, our_trans, "dtrans must be our transaction id: %r" % pkt)
        self.assertEqual(h.iseqno, iseqno, "iseqno: %r" % pkt)
        self.assertEqual(h.oseqno, oseqno, "oseqno: %r" % pkt)
        self.assertEqual(h.cmdflags, 0, "cmdflags: %r" % pkt)
        self.assertTrue(1 <= h.strans <= 32766, "daemon transaction id out of range: %r" % pkt)
        self.assert_no_rexmit_bits(pkt)

    def assert_acks(self, acks, our_trans, daemon_trans):
        """Standalone ACKs sent before a response: F clear, acknowledging our packet 0."""
        for a in acks:
            self.assertEqual(len(a.raw), 8, "an ACK carries no IEs: %r" % a)
            self.assert_reply(a, our_trans, dr.ACK, iseqno=1, oseqno=0)
            self.assertEqual(a.hdr.strans, daemon_trans, "ACK and response from different transactions")

    def request(self, c, data, our_trans, resp_cmd):
        """Send a request, return the response (a standalone ACK before it is accepted)."""
        acks, resp = c.transact(data)
        self.assert_reply(resp, our_trans, resp_cmd | dr.FLAG_FINAL)
        self.assert_acks(acks, our_trans, resp.hdr.strans)
        return resp

    def finish(self, c, our_trans, resp):
        """Our final ACK for the daemon's final response (spec 12: i=1 o=1, 0xC0)."""
        c.send(dr.ack(our_trans, resp.hdr.strans, 1, 1, True))

    def lookup(self, c, number, context, eid=CLIENT_EID, ttl=2):
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, number, context, eid, ttl), st, dr.DPRESPONSE)
        self.finish(c, st, resp)
        return resp

    def ping(self, c, timeout=3.0):
        """NULL with F (a qualify ping) must be answered by exactly an ACK with F."""
        st = Client.new_trans()
        c.send(dr.packet(st, 0, 0, 0, dr.NULL | dr.FLAG_FINAL))
        raw = c.recv(timeout)
        self.assertIsNotNone(raw, "no ACK to NULL within %.1f s" % timeout)
        pkt = dr.decode(raw)
        self.assertEqual(len(raw), 8, "ACK to NULL carries IEs: %r" % pkt)
        self.assert_reply(pkt, st, dr.ACK | dr.FLAG_FINAL, iseqno=1, oseqno=0)
        return pkt

    def assert_invalid_for(self, c, sent):
        """The reply to sent (a packet of no transaction) must be the mirrored INVALID (spec 1.7)."""
        raw = c.recv(2.0)
        self.assertIsNotNone(raw, "no INVALID in reply to %s" % sent.hex())
        h = dr.decode_header(sent)
        self.assertEqual(raw, dr.header(h.dtrans, h.strans, h.oseqno, h.iseqno, dr.INVALID),
                         "INVALID must mirror the header of %s" % sent[:8].hex())

    def assert_silence(self, c, duration):
        got = c.collect(duration)
        self.assertEqual(got, [], "unexpected datagrams: %r" % [dr.decode(d) if len(d) >= 8 else d
                                                              for _, d in got])

    def assert_answer(self, a, proto, flags, weight, dest_re, eid=OUR_EID):
        self.assertEqual(a.eid, eid, a)
        self.assertEqual(a.proto, proto, a)
        self.assertEqual(a.flags, flags, "flags %04x, expected %04x: %r" % (a.flags, flags, a))
        self.assertEqual(a.weight, weight, a)
        self.assertRegex(a.dest, "^" + dest_re + "$")


def start_daemon(case_or_cls, workdir, bind, port, bind2=None, extra_exten=(), name="dundid.conf"):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(render_config(bind, port, bind2=bind2, extra_exten=extra_exten))
    d = Daemon(path, workdir, listen_count=2 if bind2 else 1)
    return d, path


# ====================================================================== codec


class CodecSelfTest(unittest.TestCase):
    """dundi_raw against the byte-level example of spec section 12."""

    REQ = bytes.fromhex("1234000000000100" "0a020001" "0406001122334455"
                        "030735353531323132" "020465313634" "06020020")
    RESP = bytes.fromhex("056712340100c200" + "0528" + "00aabbccddee" + "01" + "0185" + "0000"
                         + "dundi:s3cr3t@10.0.0.2/5551212".encode().hex() + "14020004" + "0b020e10")

    def test_encode_spec12_request(self):
        self.assertEqual(len(self.REQ), 39)
        self.assertEqual(dr.dpdiscover(0x1234, "5551212", "e164", "00:11:22:33:44:55", ttl=32), self.REQ)

    def test_decode_spec12_response(self):
        self.assertEqual(len(self.RESP), 58)
        p = dr.decode(self.RESP)
        self.assertEqual((p.hdr.strans, p.hdr.dtrans, p.hdr.iseqno, p.hdr.oseqno, p.hdr.cmdresp),
                         (0x0567, 0x1234, 1, 0, 0xC2))
        a = p.answers()
        self.assertEqual(len(a), 1)
        self.assertEqual((a[0].eid, a[0].proto, a[0].flags, a[0].weight, a[0].dest),
                         ("00:aa:bb:cc:dd:ee", 1, 0x0185, 0, "dundi:s3cr3t@10.0.0.2/5551212"))
        self.assertEqual(p.hint(), (dr.H_UNAFFECTED, ""))
        self.assertEqual(p.u16(dr.IE_EXPIRATION), 3600)
        rebuilt = (dr.header(0x0567, 0x1234, 1, 0, 0xC2)
                   + dr.ie_answer("00:aa:bb:cc:dd:ee", 1, 0x0185, 0, "dundi:s3cr3t@10.0.0.2/5551212")
                   + dr.ie_hint(dr.H_UNAFFECTED) + dr.ie_u16(dr.IE_EXPIRATION, 3600))
        self.assertEqual(rebuilt, self.RESP)

    def test_acks_of_spec12(self):
        self.assertEqual(dr.ack(0x0567, 0x1234, 1, 0, False), bytes.fromhex("0567123401004000"))
        self.assertEqual(dr.ack(0x1234, 0x0567, 1, 1, True), bytes.fromhex("123405670101c000"))

    def test_malformed_ies_detected(self):
        with self.assertRaises(dr.Malformed):
            dr.parse_ies(b"\x03\x05ab")
        with self.assertRaises(dr.Malformed):
            dr.parse_ies(b"\x06\x02\x00\x01\x03")
        self.assertEqual(dr.parse_ies(b"\x10\x01" + b"x" * 40), [(16, b"x" * 40)])


# ====================================================================== lookups


class LookupTests(DaemonCase):
    """One daemon (IPv4 + IPv6) answering lookups, refusals and odd commands."""

    BIND = "127.0.10.1"
    CLIENT_HOST = "127.0.10.2"
    PORT = 45210

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_workdir("dundid-lookup-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.daemon, cls.conf = start_daemon(cls, cls.tmp.name, cls.BIND, cls.PORT, bind2="::1")
        cls.addClassCleanup(cls.daemon.kill)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        stats = cls.daemon.stop()
        log = cls.daemon.log()
        if cls.daemon.exit_code != 0:
            raise AssertionError("dundid exited with %s on SIGTERM:\n%s" % (cls.daemon.exit_code, log))
        # Nothing malformed was sent to this daemon.
        if stats["malformed"] != 0 or stats["ies_malformed"] != 0:
            raise AssertionError("unexpected malformed counters %r" % stats)

    def q(self, *args):
        return dundiq("--timeout", 3000, *args)

    def target(self):
        return "%s:%d" % (self.BIND, self.PORT)

    # ---------------------------------------------------------- 1. dundiq

    def test_dundiq_exists(self):
        rc, out, err = self.q("--eid", CLIENT_EID, self.target(), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        lines = out.splitlines()
        answers = [ln for ln in lines if " from " in ln]
        self.assertEqual(len(answers), 1, out)
        self.assertRegex(answers[0], r"^0 IAX2/priv:%s@127\.0\.10\.1/1001 \(EXISTS\) from 02:00:00:00:00:0a, "
                                     r"expires in 5 s$" % SECRET_RE)
        self.assertEqual(lines, [answers[0], "hint: UNAFFECTED"])

    def test_dundiq_no_answer_hint(self):
        rc, out, err = self.q("--eid", CLIENT_EID, self.target(), "1009@priv")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "no answers\nhint: DONT_ASK|UNAFFECTED 1009\n")

    def test_dundiq_json(self):
        rc, out, err = self.q("--json", "--eid", CLIENT_EID, self.target(), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        doc = json.loads(out)
        self.assertEqual(doc["number"], "1001")
        self.assertEqual(doc["context"], "priv")
        self.assertEqual(doc["expiration"], 5)
        self.assertEqual(len(doc["answers"]), 1, doc)
        a = doc["answers"][0]
        self.assertEqual(a["weight"], 0)
        self.assertEqual(a["tech"], "IAX2")
        self.assertRegex(a["dest"], r"^priv:%s@127\.0\.10\.1/1001$" % SECRET_RE)
        self.assertEqual(a["flags"], "EXISTS")
        self.assertEqual(a["eid"], OUR_EID)
        self.assertEqual(a["expires"], 5)
        self.assertEqual(doc["hint"], {"flags": "UNAFFECTED", "data": ""})
        self.assertNotIn("cause", doc)

        rc, out, err = self.q("--json", "--eid", CLIENT_EID, self.target(), "1009@priv")
        self.assertEqual(rc, 1, out + err)
        doc = json.loads(out)
        self.assertEqual(doc["answers"], [])
        self.assertEqual(doc["hint"], {"flags": "DONT_ASK|UNAFFECTED", "data": "1009"})

    def test_dundiq_unknown_eid(self):
        rc, out, err = self.q("--eid", STRANGER_EID, self.target(), "1001@priv")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "no answers: cause NOAUTH\n")

    def test_dundiq_context_not_permitted(self):
        rc, out, err = self.q("--eid", CLIENT_EID, self.target(), "1001@secretctx")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "no answers: cause NOAUTH, Permission to context denied\n")

    def test_dundiq_unsupported_context(self):
        rc, out, err = self.q("--eid", ALL_EID, self.target(), "1001@nosuchctx")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "no answers: cause NOAUTH, Unsupported DUNDI Context\n")

    def test_dundiq_default_context_is_e164(self):
        rc, out, err = self.q("--eid", CLIENT_EID, self.target(), "555")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.splitlines()[0],
                         "10 SIP/555@127.0.10.1 (EXISTS|CANMATCH|RESIDENTIAL) from 02:00:00:00:00:0a, "
                         "expires in 5 s")

    # ---------------------------------------------------------- 2. raw DPDISCOVER

    def test_raw_dpdiscover_like_capture(self):
        """Capture #32-#35 (20000@priv from the client, TTL 2), on our addresses."""
        c = self.client()
        st = Client.new_trans()
        req = dr.dpdiscover(st, "20000", "priv", CLIENT_EID, ttl=2)
        # Byte-built exactly as in spec section 12.
        self.assertEqual(req, bytes.fromhex("%04x" % st + "0000" + "0000" + "0100" + "0a020001"
                                            + "0406020000000099" + "03053230303030" + "020470726976"
                                            + "06020002"))
        resp = self.request(c, req, st, dr.DPRESPONSE)
        self.assertEqual(resp.types(), [dr.IE_ANSWER, dr.IE_HINT, dr.IE_EXPIRATION])
        (a,) = resp.answers()
        self.assert_answer(a, dr.PROTO_IAX2, dr.F_EXISTS, 0, r"priv:%s@127\.0\.10\.1/20000" % SECRET_RE)
        self.assertEqual(resp.hint(), (dr.H_UNAFFECTED, ""))
        self.assertEqual(resp.u16(dr.IE_EXPIRATION), 5)
        expected = (dr.header(resp.hdr.strans, st, 1, 0, 0xC2)
                    + dr.ie_answer(OUR_EID, 1, 0x0001, 0, a.dest)
                    + dr.ie_hint(0x0004) + dr.ie_u16(dr.IE_EXPIRATION, 5))
        self.assertEqual(resp.raw, expected)

        self.finish(c, st, resp)
        self.assert_silence(c, 1.5)
        # The transaction is gone: a late copy of our final ACK now gets INVALID (spec 11.6).
        late = dr.ack(st, resp.hdr.strans, 1, 1, True)
        c.send(late)
        self.assert_invalid_for(c, late)

    def test_raw_no_answer_like_capture(self):
        """Capture #8-#10 (1009@priv): HINT DONT_ASK|UNAFFECTED '1009', EXPIRATION 5, no ANSWER."""
        c = self.client()
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "1009", "priv", CLIENT_EID, ttl=2), st, dr.DPRESPONSE)
        self.assertEqual(resp.raw, dr.header(resp.hdr.strans, st, 1, 0, 0xC2)
                         + dr.ie_hint(0x0006, "1009") + dr.ie_u16(dr.IE_EXPIRATION, 5))
        self.finish(c, st, resp)

    def test_raw_capture_cases(self):
        """Capture #4-#22: 1001, 10071 answered; 1007 (partial, nopartial) only UNAFFECTED; CACHEBYPASS."""
        c = self.client()
        for number, bypass in (("1001", False), ("10071", False), ("1001", True)):
            st = Client.new_trans()
            resp = self.request(c, dr.dpdiscover(st, number, "priv", CLIENT_EID, 2, bypass), st, dr.DPRESPONSE)
            (a,) = resp.answers()
            self.assert_answer(a, dr.PROTO_IAX2, dr.F_EXISTS, 0,
                               r"priv:%s@127\.0\.10\.1/%s" % (SECRET_RE, number))
            self.assertEqual(resp.hint(), (dr.H_UNAFFECTED, ""))
            self.assertEqual(resp.u16(dr.IE_EXPIRATION), 5)
            self.finish(c, st, resp)
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "1007", "priv", CLIENT_EID, 2), st, dr.DPRESPONSE)
        self.assertEqual(resp.raw, dr.header(resp.hdr.strans, st, 1, 0, 0xC2)
                         + dr.ie_hint(0x0004) + dr.ie_u16(dr.IE_EXPIRATION, 5))
        self.finish(c, st, resp)

    def test_partial_matches(self):
        """e164 => pstn (no nopartial, 'residential'): MATCHMORE/CANMATCH answers (spec 4.9, 8.4)."""
        c = self.client()
        res = dr.F_RESIDENTIAL
        cases = {
            "555": ([(dr.F_EXISTS | dr.F_CANMATCH | res, "555@127.0.10.1")], (dr.H_UNAFFECTED, "")),
            "5": ([(dr.F_MATCHMORE | dr.F_CANMATCH | res, "")], (dr.H_UNAFFECTED, "")),
            "1337": ([(dr.F_MATCHMORE | dr.F_CANMATCH | res, "")], (dr.H_UNAFFECTED, "")),
            "13371": ([(dr.F_MATCHMORE | dr.F_CANMATCH | res, "")], (dr.H_UNAFFECTED, "")),
            "133712": ([(dr.F_EXISTS | dr.F_MATCHMORE | dr.F_CANMATCH | res, "133712@127.0.10.1")],
                       (dr.H_UNAFFECTED, "")),
            "9": ([], (dr.H_DONT_ASK | dr.H_UNAFFECTED, "9")),
            "14": ([], (dr.H_DONT_ASK | dr.H_UNAFFECTED, "14")),
            "5555": ([], (dr.H_DONT_ASK | dr.H_UNAFFECTED, "5555")),
        }
        for number, (answers, hint) in cases.items():
            with self.subTest(number=number):
                resp = self.lookup(c, number, "e164")
                got = resp.answers()
                self.assertEqual(len(got), len(answers), got)
                for a, (flags, dest) in zip(got, answers):
                    self.assert_answer(a, dr.PROTO_SIP, flags, 10, re.escape(dest))
                self.assertEqual(resp.hint(), hint)
                self.assertEqual(resp.u16(dr.IE_EXPIRATION), 5)
                self.assertEqual(resp.types()[-2:], [dr.IE_HINT, dr.IE_EXPIRATION])

    def test_ttl_one_sets_ttl_expired(self):
        """Spec 4.4: TTL 1 -> decremented to 0 -> TTL_EXPIRED unless a weight-0 answer exists."""
        c = self.client()
        resp = self.lookup(c, "9", "e164", ttl=1)
        self.assertEqual(resp.hint(), (dr.H_TTL_EXPIRED | dr.H_DONT_ASK | dr.H_UNAFFECTED, "9"))
        resp = self.lookup(c, "555", "e164", ttl=1)
        self.assertEqual(len(resp.answers()), 1)
        self.assertEqual(resp.hint(), (dr.H_TTL_EXPIRED | dr.H_UNAFFECTED, ""))
        resp = self.lookup(c, "1001", "priv", ttl=1)  # weight 0: canonical, nothing to forward
        self.assertEqual(len(resp.answers()), 1)
        self.assertEqual(resp.hint(), (dr.H_UNAFFECTED, ""))

    # ---------------------------------------------------------- refusals (raw)

    def refusal(self, c, data, st, resp_cmd, cause, text=""):
        resp = self.request(c, data, st, resp_cmd)
        # Refusals are sent while processing the request: no standalone ACK is needed,
        # and the response carries CAUSE only (spec 2.2).
        self.assertEqual(resp.raw, dr.header(resp.hdr.strans, st, 1, 0, resp_cmd | dr.FLAG_FINAL)
                         + dr.ie_cause(cause, text))
        self.finish(c, st, resp)
        return resp

    def test_refusal_unknown_peer(self):
        c = self.client()
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, "1001", "priv", STRANGER_EID), st, dr.DPRESPONSE, dr.CAUSE_NOAUTH)
        # No EID at all (and no [*] peer): unknown peer as well.
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, "1001", "priv", None), st, dr.DPRESPONSE, dr.CAUSE_NOAUTH)

    def test_refusal_context_denied_and_unsupported(self):
        c = self.client()
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, "1001", "secretctx", CLIENT_EID), st, dr.DPRESPONSE,
                     dr.CAUSE_NOAUTH, "Permission to context denied")
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, "1001", "nosuchctx", ALL_EID), st, dr.DPRESPONSE,
                     dr.CAUSE_NOAUTH, "Unsupported DUNDI Context")

    def test_keyed_peer_unencrypted_refused(self):
        """Scenario 10: the peer has inkey, the request came in clear."""
        c = self.client()
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, "1001", "priv", KEYED_EID), st, dr.DPRESPONSE,
                     dr.CAUSE_NOAUTH, "Unencrypted responses not permitted")
        st = Client.new_trans()
        self.refusal(c, dr.eidquery(st, OUR_EID, KEYED_EID), st, dr.EIDRESPONSE,
                     dr.CAUSE_NOAUTH, "Unencrypted responses not permitted")

    def test_missing_number(self):
        """Scenario 12: CALLED_NUMBER absent or empty -> CAUSE GENERAL."""
        c = self.client()
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, None, "priv", CLIENT_EID), st, dr.DPRESPONSE,
                     dr.CAUSE_GENERAL, "Invalid or missing number/entity")
        st = Client.new_trans()
        self.refusal(c, dr.dpdiscover(st, "", "priv", CLIENT_EID), st, dr.DPRESPONSE,
                     dr.CAUSE_GENERAL, "Invalid or missing number/entity")

    def test_missing_context_means_e164(self):
        c = self.client()
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "555", None, CLIENT_EID), st, dr.DPRESPONSE)
        (a,) = resp.answers()
        self.assert_answer(a, dr.PROTO_SIP, dr.F_EXISTS | dr.F_CANMATCH | dr.F_RESIDENTIAL, 10,
                           r"555@127\.0\.10\.1")
        self.finish(c, st, resp)

    # ---------------------------------------------------------- 5. unknown transactions

    def test_unknown_transaction_gets_invalid(self):
        c = self.client()
        cases = [
            dr.packet(0x1111, 0x2222, 3, 7, dr.DPRESPONSE | dr.FLAG_FINAL,
                      dr.ie_hint(0) + dr.ie_u16(dr.IE_EXPIRATION, 5)),
            dr.packet(0x0123, 0xA222, 9, 4, dr.DPRESPONSE),          # bit 15 mirrored unchanged
            dr.ack(0x0456, 0x3333, 1, 1, True),                      # ACK never opens
            dr.packet(0x0457, 0, 0, 0, dr.CANCEL | dr.FLAG_FINAL),  # CANCEL never opens
            dr.packet(0x0458, 0, 0, 0, 0x3F),                        # unknown command never opens
            dr.packet(0x0459, 0, 0, 0, dr.INVALID | dr.FLAG_FINAL),  # 0xC7 is not 0x47: answered
            dr.dpdiscover(0, "1001", "priv", CLIENT_EID),            # strans 0 cannot open
        ]
        for pkt in cases:
            with self.subTest(pkt=pkt[:8].hex()):
                c.send(pkt)
                self.assert_invalid_for(c, pkt)
        # An INVALID (exactly 0x47) is never answered: the ping's ACK must come first.
        c.send(dr.packet(0x0460, 0x4444, 0, 0, dr.INVALID))
        self.ping(c)

    # ---------------------------------------------------------- 7. NULL

    def test_null_ping(self):
        c = self.client()
        st = Client.new_trans()
        c.send(dr.packet(st, 0, 0, 0, dr.NULL | dr.FLAG_FINAL))
        raw = c.recv(2.0)
        self.assertIsNotNone(raw)
        h = dr.decode_header(raw)
        self.assertEqual(raw, dr.header(h.strans, st, 1, 0, 0xC0))
        self.assertTrue(1 <= h.strans <= 32766)
        # The transaction ended with the final exchange; a repeat of our NULL is a new one.
        self.ping(c)

    # ---------------------------------------------------------- 8. EIDQUERY

    def test_eidquery_dundiq(self):
        rc, out, err = self.q("--eid", CLIENT_EID, "--eidquery", OUR_EID, self.target(), "priv")
        self.assertEqual(rc, 0, out + err)
        for label, value in (("Department", "Integration Dept"), ("Organization", "Integration Org"),
                             ("Locality", "Loopback City"), ("State/Province", "Localhost"),
                             ("Country", "ZZ"), ("E-mail", "dundi@example.invalid"),
                             ("Phone", r"\+1 555 0100")):
            self.assertRegex(out, r"(?m)^%s\s+%s$" % (label, value))

        rc, out, err = self.q("--eid", CLIENT_EID, "--eidquery", "02:00:00:00:00:42", self.target())
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "not found\n")

    def test_eidquery_raw(self):
        c = self.client()
        st = Client.new_trans()
        resp = self.request(c, dr.eidquery(st, OUR_EID, CLIENT_EID, "priv"), st, dr.EIDRESPONSE)
        self.assertEqual(resp.ies, [
            (dr.IE_DEPARTMENT, b"Integration Dept"), (dr.IE_ORGANIZATION, b"Integration Org"),
            (dr.IE_LOCALITY, b"Loopback City"), (dr.IE_STATE_PROV, b"Localhost"),
            (dr.IE_COUNTRY, b"ZZ"), (dr.IE_EMAIL, b"dundi@example.invalid"),
            (dr.IE_PHONE, b"+1 555 0100"), (dr.IE_HINT, b"\x00\x00"),
        ])
        self.finish(c, st, resp)
        # EIDQUERY has no context check (spec 4.3.1 / 11.18): a context the peer may not use.
        st = Client.new_trans()
        resp = self.request(c, dr.eidquery(st, OUR_EID, CLIENT_EID, "secretctx"), st, dr.EIDRESPONSE)
        self.assertEqual(resp.string(dr.IE_ORGANIZATION), "Integration Org")
        self.finish(c, st, resp)
        # Not us: HINT only.
        st = Client.new_trans()
        resp = self.request(c, dr.eidquery(st, "02:00:00:00:00:42", CLIENT_EID), st, dr.EIDRESPONSE)
        self.assertEqual(resp.ies, [(dr.IE_HINT, b"\x00\x00")])
        self.finish(c, st, resp)
        # Unknown requester: CAUSE NOAUTH only.
        st = Client.new_trans()
        self.refusal(c, dr.eidquery(st, OUR_EID, STRANGER_EID), st, dr.EIDRESPONSE, dr.CAUSE_NOAUTH)

    # ---------------------------------------------------------- 11. ENCRYPT

    def test_encrypt_rejected(self):
        c = self.client()
        rng = random.Random(11)
        for sender, key_ie in ((CLIENT_EID, b""), (KEYED_EID, dr.ie(dr.IE_KEYCRC32, b"\x78\x3b\xd4\x9c"))):
            with self.subTest(sender=sender):
                st = Client.new_trans()
                blob = bytes(rng.randrange(256) for _ in range(48))  # IV + 2 cipher blocks
                req = dr.packet(st, 0, 0, 0, dr.ENCRYPT, dr.ie_eid(dr.IE_EID, sender) + key_ie
                                + bytes([dr.IE_ENCDATA, len(blob)]) + blob)
                resp = self.request(c, req, st, dr.ENCREJ)
                self.assertEqual(len(resp.raw), 8, "ENCREJ carries no IEs: %r" % resp)
                self.finish(c, st, resp)

    # ---------------------------------------------------------- 13. CANCEL / UNKNOWN

    def open_lookup(self, c):
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "1001", "priv", CLIENT_EID), st, dr.DPRESPONSE)
        return st, resp.hdr.strans

    def test_unknown_command_in_transaction(self):
        """An unknown command in order (not acknowledging the final DPRESPONSE) -> UNKNOWN with F."""
        c = self.client()
        st, did = self.open_lookup(c)
        c.send(dr.packet(st, did, 0, 1, 0x3F))
        raw = c.recv(2.0)
        self.assertIsNotNone(raw, "no reply to an unknown command")
        self.assertEqual(raw, dr.header(did, st, 2, 1, 0xC8) + dr.ie(dr.IE_UNKNOWN, b"\x3f"))
        # ACK the UNKNOWN (our iseqno 2): the transaction ends; a later packet gets INVALID.
        c.send(dr.ack(st, did, 2, 2, True))
        probe = dr.ack(st, did, 2, 2, True)
        c.send(probe)
        self.assert_invalid_for(c, probe)

    def test_ack_of_final_ends_transaction_before_content(self):
        """Spec 1.5 step 4.1: a packet acknowledging our final response ends the transaction;
        its content (here an unknown command) is not processed, so no UNKNOWN is sent."""
        c = self.client()
        st, did = self.open_lookup(c)
        c.send(dr.packet(st, did, 1, 1, 0x3F))
        probe = dr.packet(st, did, 1, 2, 0x3F)
        c.send(probe)
        self.assert_invalid_for(c, probe)

    def test_cancel_ends_transaction(self):
        """CANCEL with F in order: ACK with F, transaction destroyed, no more retransmissions."""
        c = self.client()
        st, did = self.open_lookup(c)
        c.send(dr.packet(st, did, 0, 1, dr.CANCEL | dr.FLAG_FINAL))
        raw = c.recv(2.0)
        self.assertIsNotNone(raw, "CANCEL not acknowledged")
        self.assertEqual(raw, dr.header(did, st, 2, 1, 0xC0))
        self.assert_silence(c, 1.5)  # the DPRESPONSE (never ACKed) is not retransmitted

    def test_status_is_unknown(self):
        """STATUS (15) is answered as an unknown command."""
        c = self.client()
        st, did = self.open_lookup(c)
        c.send(dr.packet(st, did, 0, 1, dr.STATUS))
        raw = c.recv(2.0)
        self.assertEqual(raw, dr.header(did, st, 2, 1, 0xC8) + dr.ie(dr.IE_UNKNOWN, b"\x0f"))
        c.send(dr.ack(st, did, 2, 2, True))

    # ---------------------------------------------------------- 14. IPv6

    def test_ipv6(self):
        rc, out, err = self.q("--eid", CLIENT_EID, "[::1]:%d" % self.PORT, "1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out.splitlines()[0], r"^0 IAX2/priv:%s@127\.0\.10\.1/1001 \(EXISTS\) from "
                                              r"02:00:00:00:00:0a, expires in 5 s$" % SECRET_RE)
        c = self.client(host="::1", server=("::1", self.PORT), family=socket.AF_INET6)
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "20000", "priv", CLIENT_EID), st, dr.DPRESPONSE)
        (a,) = resp.answers()
        self.assert_answer(a, dr.PROTO_IAX2, dr.F_EXISTS, 0, r"priv:%s@127\.0\.10\.1/20000" % SECRET_RE)
        self.finish(c, st, resp)
        self.ping(c)


# ====================================================================== retransmission


class FreshDaemonCase(DaemonCase):
    """A fresh daemon per test; stop() checks it exits cleanly and returns its stats."""

    WORKDIR = "dundid-"

    def setUp(self):
        tmp = harness.make_workdir(self.WORKDIR)
        self.addCleanup(tmp.cleanup)
        self.daemon, _ = start_daemon(self, tmp.name, self.BIND, self.PORT)
        self.addCleanup(self.daemon.kill)
        self.daemon.start()

    def stop(self):
        stats = self.daemon.stop()
        self.assertEqual(self.daemon.exit_code, 0, self.daemon.log())
        return stats


class RetransmitTests(FreshDaemonCase):
    """Scenario 4: retransmission of the final response (fresh daemon per test)."""

    BIND = "127.0.11.1"
    CLIENT_HOST = "127.0.11.2"
    PORT = 45211

    WORKDIR = "dundid-rexmit-"

    def test_lost_final_ack(self):
        c = self.client()
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "1001", "priv", CLIENT_EID), st, dr.DPRESPONSE)
        t0 = time.monotonic()
        raw = c.recv(2.5)
        t1 = time.monotonic()
        self.assertIsNotNone(raw, "the unacknowledged DPRESPONSE was not retransmitted")
        self.assertEqual(raw, resp.raw, "retransmission must be byte-identical")
        self.assertTrue(0.8 <= t1 - t0 <= 1.6, "retransmitted after %.3f s, expected ~1 s" % (t1 - t0))
        self.finish(c, st, resp)
        self.assert_silence(c, 1.5)
        stats = self.stop()
        self.assertEqual(stats["retransmits"], 1, stats)
        self.assertEqual(stats["timeouts"], 0, stats)
        self.assertEqual(stats["live_trans"], 0, stats)
        self.assertEqual(stats["answered"], 1, stats)

    def test_never_acked(self):
        c = self.client()
        st = Client.new_trans()
        resp = self.request(c, dr.dpdiscover(st, "1001", "priv", CLIENT_EID), st, dr.DPRESPONSE)
        t0 = time.monotonic()
        copies = c.collect(6.5)
        self.assertEqual(len(copies), 4, "expected 4 retransmissions (5 copies in all), got %d: %r"
                         % (len(copies), copies))
        prev = t0
        for t, raw in copies:
            self.assertEqual(raw, resp.raw)
            self.assert_no_rexmit_bits(dr.decode(raw))
            self.assertTrue(0.8 <= t - prev <= 1.6, "gap %.3f s between copies" % (t - prev))
            prev = t
        # Timed out and destroyed: our (late) final ACK now belongs to no transaction.
        late = dr.ack(st, resp.hdr.strans, 1, 1, True)
        c.send(late)
        self.assert_invalid_for(c, late)
        stats = self.stop()
        self.assertEqual(stats["retransmits"], 4, stats)
        self.assertEqual(stats["timeouts"], 1, stats)
        self.assertEqual(stats["live_trans"], 0, stats)


# ====================================================================== robustness


def pad_to(pkt, total):
    """Append unknown IEs (type 99) so that the datagram is exactly total bytes."""
    r = total - len(pkt)
    if r < 0 or r == 1:
        raise ValueError("cannot pad %d bytes to %d" % (len(pkt), total))
    out = pkt
    while r > 258:
        out += dr.ie(99, b"\xaa" * 255)
        r -= 257
    if r == 258:
        out += dr.ie(99, b"\xbb" * 100)
        r -= 102
    if r:
        out += dr.ie(99, b"\xcc" * (r - 2))
    assert len(out) == total
    return out


class RobustnessTests(FreshDaemonCase):
    """Scenarios 3 and 6 (fresh daemon per test, counters checked at the end)."""

    BIND = "127.0.13.1"
    CLIENT_HOST = "127.0.13.2"
    PORT = 45213

    WORKDIR = "dundid-robust-"

    def check_1001(self, c):
        resp = self.lookup(c, "1001", "priv")
        (a,) = resp.answers()
        self.assert_answer(a, dr.PROTO_IAX2, dr.F_EXISTS, 0, r"priv:%s@127\.0\.13\.1/1001" % SECRET_RE)
        self.assertEqual(resp.hint(), (dr.H_UNAFFECTED, ""))

    def test_duplicate_first_packet(self):
        """Scenario 3: the same DPDISCOVER twice before ACKing: one DPRESPONSE, the copy re-ACKed."""
        c = self.client()
        st = Client.new_trans()
        req = dr.dpdiscover(st, "1001", "priv", CLIENT_EID)
        c.send(req)
        c.send(req)
        got = [dr.decode(raw) for _, raw in c.collect(0.6)]  # well before the 1 s retransmission
        responses = [p for p in got if p.hdr.cmd != dr.ACK]
        acks = [p for p in got if p.hdr.cmd == dr.ACK]
        self.assertEqual(len(responses), 1, got)
        resp = responses[0]
        self.assert_reply(resp, st, 0xC2)
        self.assertGreaterEqual(len(acks), 1, "the duplicate was not re-ACKed: %r" % got)
        for a in acks:
            self.assertEqual(len(a.raw), 8)
            self.assertEqual(a.hdr.cmdresp, 0x40, "ACK of a duplicate never carries F: %r" % a)
            self.assertEqual(a.hdr.dtrans, st)
            self.assertEqual(a.hdr.strans, resp.hdr.strans)
            self.assertEqual(a.hdr.iseqno, 1)
            self.assert_no_rexmit_bits(a)
        self.finish(c, st, resp)
        self.ping(c)
        stats = self.stop()
        self.assertGreaterEqual(stats["duplicates"], 1, stats)
        self.assertEqual(stats["requests"], 1, stats)
        self.assertEqual(stats["answered"], 1, stats)
        self.assertEqual(stats["live_trans"], 0, stats)

    def test_tolerated_ie_oddities(self):
        """Wrong-size fixed IEs and unknown IEs are skipped; the rest of the request is used (3.2)."""
        c = self.client()
        base = dr.dpdiscover_ies("1001", "priv", CLIENT_EID, 2)
        variants = {
            "short EID_DIRECT before the real one": dr.ie(dr.IE_EID_DIRECT, b"\x02\x00\x00\x00\x55")
            + base,
            "3-byte TTL and 1-byte VERSION": dr.ie(dr.IE_VERSION, b"\x01") + base + dr.ie(dr.IE_TTL, b"\0\0\1"),
            "unknown IE types": dr.ie(99, b"junk") + base + dr.ie(200) + dr.ie(30, b"\0" * 14),
        }
        for name, ies in variants.items():
            with self.subTest(name):
                st = Client.new_trans()
                resp = self.request(c, dr.packet(st, 0, 0, 0, dr.DPDISCOVER, ies), st, dr.DPRESPONSE)
                self.assertEqual(len(resp.answers()), 1, resp)
                self.finish(c, st, resp)
        # The largest legal datagram (8191 bytes) is processed ...
        st = Client.new_trans()
        big = pad_to(dr.dpdiscover(st, "1001", "priv", CLIENT_EID), 8191)
        resp = self.request(c, big, st, dr.DPRESPONSE)
        self.assertEqual(len(resp.answers()), 1)
        self.finish(c, st, resp)
        # ... one more byte and it is dropped without a reply (the ping's ACK comes first).
        c.send(pad_to(dr.dpdiscover(Client.new_trans(), "1001", "priv", CLIENT_EID), 8192))
        self.ping(c)
        stats = self.stop()
        self.assertEqual(stats["malformed"], 1, stats)
        self.assertEqual(stats["ies_malformed"], 0, stats)
        self.assertEqual(stats["answered"], 4, stats)

    def test_malformed_and_junk(self):
        """Scenario 6: short, oversize, broken IEs, 2000 random datagrams; the daemon survives."""
        c = self.client()
        sync = self.client()
        malformed = 0

        # Header-less and oversize datagrams: silently dropped.
        for data in [b""] + [bytes(range(1, n + 1)) for n in range(1, 8)] + [b"\x01" * 8192, b"\x02" * 9000]:
            c.send(data)
            malformed += 1
        self.ping(sync)
        self.assert_silence(c, 0.05)

        # IE running past the end inside a DPDISCOVER: ACKed, command ignored.
        for bad in (dr.dpdiscover_ies("1001", "priv", CLIENT_EID) + b"\x02\x0apriv",   # length 10, 4 bytes
                    dr.dpdiscover_ies("1001", "priv", CLIENT_EID) + b"\x06"):          # one stray byte
            st = Client.new_trans()
            c.send(dr.packet(st, 0, 0, 0, dr.DPDISCOVER, bad))
            raw = c.recv(2.0)
            self.assertIsNotNone(raw, "a DPDISCOVER with broken IEs must still be ACKed")
            ackp = dr.decode(raw)
            self.assertEqual(len(raw), 8, ackp)
            self.assert_reply(ackp, st, dr.ACK, iseqno=1, oseqno=0)
            self.ping(sync)
            self.assert_silence(c, 0.05)  # no DPRESPONSE
            # Nothing was kept for it: a CANCEL on it belongs to no transaction.
            cancel = dr.packet(st, ackp.hdr.strans, 0, 1, dr.CANCEL | dr.FLAG_FINAL)
            c.send(cancel)
            self.assert_invalid_for(c, cancel)

        # Random junk from a fixed seed, paced by pings so nothing is dropped by the kernel.
        rng = random.Random(0xD0D1)

        def random_ies():
            out = b""
            for _ in range(rng.randrange(6)):
                ln = rng.randrange(0, 40)
                out += bytes([rng.randrange(32), ln]) + rng.randbytes(ln)
            r = rng.random()
            if r < 0.15:
                out += bytes([rng.randrange(32)])                       # stray byte
            elif r < 0.3:
                out += bytes([rng.randrange(32), 200]) + rng.randbytes(5)  # runs past the end
            return out

        junk = self.client()
        openers = [0x01, 0x03, 0x05, 0x09, 0x0A, 0x0D, 0x81, 0x83, 0x89, 0x8A]
        for i in range(2000):
            k = rng.random()
            if k < 0.35:
                data = rng.randbytes(rng.randrange(0, 24))
            elif k < 0.65:
                data = rng.randbytes(8) + random_ies()
            elif k < 0.995:
                data = dr.header(rng.randrange(1, 0x8000), 0, 0, 0, rng.choice(openers)) + random_ies()
            else:
                data = rng.randbytes(rng.randrange(8192, 9000))
            if len(data) < 8 or len(data) > 8191:
                malformed += 1
            junk.send(data)
            if i % 50 == 49:
                self.ping(sync)
                junk.drain()
        self.ping(sync)
        junk.drain()

        self.assertTrue(self.daemon.running(), "dundid died:\n" + self.daemon.log()[-4000:])
        self.check_1001(c)
        rc, out, err = dundiq("--timeout", 3000, "--eid", CLIENT_EID, "%s:%d" % (self.BIND, self.PORT),
                              "1006@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("/1006 (EXISTS)", out)
        self.assertTrue(self.daemon.running())
        stats = self.stop()
        self.assertEqual(stats["malformed"], malformed, stats)
        self.assertGreaterEqual(stats["ies_malformed"], 2, stats)


# ====================================================================== configuration


class ConfigTests(DaemonCase):
    """Scenarios 9, 15 and 16."""

    BIND = "127.0.12.1"
    CLIENT_HOST = "127.0.12.2"
    PORT = 45212

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-config-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        return path

    BAD = ("[general]\n"
           "entityid=02:00:00:00:00:0a\n"
           "bogus=1\n"
           "bindaddr=127.0.12.1\n"
           "port=45219\n")

    # ---------------------------------------------------------- 15

    def test_check_good_config(self):
        path = self.write("good.conf", render_config(self.BIND, self.PORT))
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-t", "-c", path])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(err, "")

    def test_check_bad_config(self):
        path = self.write("bad.conf", self.BAD)
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-t", "-c", path])
        self.assertNotEqual(rc, 0)
        self.assertEqual(err, "%s:3: unknown option 'bogus' in [general]\n" % path)
        self.assertNotIn("OK", out)

    def test_start_with_bad_config(self):
        path = self.write("bad.conf", self.BAD)
        rc, out, err = run_tool([harness.BINARIES["dundid"], "-f", "-c", path], timeout=10)
        self.assertNotEqual(rc, 0)
        self.assertEqual(err, "%s:3: unknown option 'bogus' in [general]\n" % path)

    # ---------------------------------------------------------- 16

    def test_sighup_reload(self):
        path = self.write("dundid.conf", render_config(self.BIND, self.PORT))
        d = Daemon(path, self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        target = "%s:%d" % (self.BIND, self.PORT)

        rc, out, err = dundiq("--timeout", 3000, "--eid", CLIENT_EID, target, "1002@priv")
        self.assertEqual((rc, out), (1, "no answers\nhint: DONT_ASK|UNAFFECTED 1002\n"), err)

        self.write("dundid.conf", render_config(self.BIND, self.PORT, extra_exten=["1002"]))
        d.signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("configuration reloaded"), d.log())
        rc, out, err = dundiq("--timeout", 3000, "--eid", CLIENT_EID, target, "1002@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"^0 IAX2/priv:%s@127\.0\.12\.1/1002 \(EXISTS\) from " % SECRET_RE)

        good = render_config(self.BIND, self.PORT, extra_exten=["1002"]).splitlines()
        at = good.index("[general]") + 1
        broken = good[:at] + ["bogus = 1"] + good[at:]
        self.write("dundid.conf", "\n".join(broken) + "\n")
        d.signal(signal.SIGHUP)
        msg = "%s:%d: unknown option 'bogus' in [general]" % (path, at + 1)
        self.assertTrue(d.wait_log(msg), d.log())
        self.assertTrue(d.wait_log("reload failed"), d.log())
        self.assertTrue(d.running())
        rc, out, err = dundiq("--timeout", 3000, "--eid", CLIENT_EID, target, "1002@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("/1002 (EXISTS)", out)
        self.assertEqual(d.log().count("configuration reloaded"), 1, d.log())
        d.stop()
        self.assertEqual(d.exit_code, 0)

    # ---------------------------------------------------------- wildcard bind

    def test_wildcard_bind_replies_from_the_address_asked(self):
        """bindaddr=0.0.0.0 on a host with several addresses: each reply leaves
        from the address the request was sent to, or the asker drops it."""
        port = 45215
        path = self.write("dundid.conf", render_config("0.0.0.0", port))
        d = Daemon(path, self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        for addr in ("127.0.12.2", "127.0.12.3", "127.0.0.1"):
            with self.subTest(addr=addr):
                rc, out, err = dundiq("--eid", CLIENT_EID, "--timeout", 2500, "%s:%d" % (addr, port),
                                      "1001@priv")
                self.assertEqual(rc, 0, out + err)
                self.assertIn("(EXISTS) from 02:00:00:00:00:0a", out)
                c = self.client(server=(addr, port))
                self.ping(c)
        stats = d.stop()
        self.assertEqual(d.exit_code, 0)
        self.assertEqual(stats["unknown_trans"], 0, stats)

    # ---------------------------------------------------------- 9

    def test_regreq(self):
        port = 45214
        path = self.write("dundid.conf", render_config(self.BIND, port))
        d = Daemon(path, self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        c = self.client(server=(self.BIND, port))

        st = Client.new_trans()
        c.send(dr.regreq(st, DYN_EID, 60))
        raw = c.recv(2.0)
        self.assertIsNotNone(raw, "no REGRESPONSE")
        resp = dr.decode(raw)
        # Answered while processing: the REGRESPONSE itself acknowledges the REGREQ.
        self.assert_reply(resp, st, 0xCB)
        self.assertEqual(resp.ies, [(dr.IE_EXPIRATION, b"\x00\x3c")])
        self.finish(c, st, resp)
        local = c.sock.getsockname()
        self.assertTrue(d.wait_log("registered DUNDi peer %s at %s:%d" % (DYN_EID, local[0], local[1])),
                        d.log())

        # The requested EXPIRATION is ignored: 60 s always (spec 7.4).
        st = Client.new_trans()
        resp = self.request(c, dr.regreq(st, DYN_EID, 300), st, dr.REGRESPONSE)
        self.assertEqual(resp.ies, [(dr.IE_EXPIRATION, b"\x00\x3c")])
        self.finish(c, st, resp)

        # Unknown EID, and a known peer that is not dynamic: CAUSE NOAUTH without text.
        for who in (STRANGER_EID, CLIENT_EID):
            with self.subTest(eid=who):
                st = Client.new_trans()
                resp = self.request(c, dr.regreq(st, who, 60), st, dr.REGRESPONSE)
                self.assertEqual(resp.ies, [(dr.IE_CAUSE, b"\x03")])
                self.finish(c, st, resp)
        self.ping(c)
        stats = d.stop()
        self.assertEqual(d.exit_code, 0)
        self.assertEqual(stats["live_trans"], 0, stats)


def main():
    harness.run_tests()[1]()


if __name__ == "__main__":
    main()
