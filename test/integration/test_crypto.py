#!/usr/bin/env python3
"""Integration tests of DUNDi encryption (docs/dundi-protocol.md section 6).

Usage:
    test_crypto.py --dundid PATH --dundiq PATH --keygen PATH [unittest args]

(DUNDID / DUNDIQ / DUNDID_KEYGEN in the environment work too.)

Addresses (kept apart from test_daemon.py so that ctest -j can run both):

    127.0.14.1:45216  dundid as the capture's PBX A (a fresh daemon per test)
    127.0.14.2:45217  a UDP relay that records what dundiq and dundid exchange
    127.0.14.3:*      raw test clients (replays of the real Asterisk packets)

The replayed packets come byte for byte from test/data/asterisk-pair.pcap:
#1 is PBX B's ENCRYPT REGREQ with the full key (SHAREDKEY + SIGNATURE), #4 and
#8 are B's DPDISCOVERs for 1001 and 1009 carrying only KEYCRC32 783bd49c. Both
PBXes used test/data/dundi.key/.pub, which the daemon here uses too.

When the openssl command-line tool is present, the daemon's encrypted replies
are also opened here (RSA-OAEP with dundi.key gives PBX B's AES session key
from packet #1) and checked for the expected inner message, and envelopes are
built with that key for the nested/garbage cases. Without it those checks are
skipped; everything else still runs.
"""

import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Client, Daemon, dundiq, run_tool  # noqa: E402

BIND = "127.0.14.1"
PORT = 45216
RELAY = ("127.0.14.2", 45217)
CLIENT_HOST = "127.0.14.3"

OUR_EID = "02:00:00:00:00:0a"       # the daemon (PBX A)
KEYED_EID = "02:00:00:00:00:0b"     # PBX B: symmetric, dynamic, inkey/outkey dundi
PLAIN_EID = "02:00:00:00:00:99"     # an inbound peer without keys
STRANGER_EID = "02:00:00:00:00:55"  # not configured

CAPTURE_KEYCRC = 0x783BD49C  # CRC-32 of packet #1's SHAREDKEY
ENCREJ_F = dr.ENCREJ | dr.FLAG_FINAL  # 0xCE
SECRET_RE = r"[A-Za-z0-9+]{22}=="

PCAP = os.path.join(harness.DATA, "asterisk-pair.pcap")
OPENSSL = shutil.which("openssl")
KEYGEN = {"path": os.environ.get("DUNDID_KEYGEN", "")}

CONFIG = """; test_crypto.py: dundid as the capture's PBX A, with PBX B as a keyed peer
[general]
bindaddr=127.0.14.1
port=45216
entityid=02:00:00:00:00:0a
cachetime=5
ttl=2
ipaddr=127.0.14.1
keydir=<<KEYDIR>>
department=Crypto Dept
organization=Crypto Test Org
locality=Loopback City
stateprov=Localhost
country=ZZ
email=dundi@example.invalid
phone=+1 555 0114

[registrations]
statefile=none

[mappings]
priv => sipregistration,0,IAX2,priv:${SECRET}@127.0.14.1/${NUMBER},nopartial

; PBX B of the capture
[02:00:00:00:00:0b]
model = symmetric
host = dynamic
inkey = dundi
outkey = dundi
include = priv
permit = priv

; an unkeyed inbound peer, for comparison
[02:00:00:00:00:99]
model = inbound
permit = priv

[context sipregistration]
exten => 1001
exten => 1006
exten => _1007X
exten => 20000
"""


# ====================================================================== pcap


def read_pcap(path):
    """UDP payloads of a classic pcap (Ethernet/IPv4): list of (src, dst, payload)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\xd4\xc3\xb2\xa1":
        end = "<"
    elif data[:4] == b"\xa1\xb2\xc3\xd4":
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    (linktype,) = struct.unpack(end + "I", data[20:24])
    if linktype != 1:
        raise ValueError("%s: link type %d, expected Ethernet" % (path, linktype))
    out = []
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < 14 + 20 or struct.unpack(">H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        src = (socket.inet_ntoa(ip[12:16]), sport)
        dst = (socket.inet_ntoa(ip[16:20]), dport)
        out.append((src, dst, bytes(udp[8:ulen])))
    return out


# ====================================================================== packet surgery


class Span:
    """Where one IE sits in a raw datagram."""

    def __init__(self, ie_type, start, vstart, vend):
        self.type, self.start, self.vstart, self.vend = ie_type, start, vstart, vend

    def ie(self, raw):
        """The whole IE (type, length byte, value) as bytes."""
        return raw[self.start:self.vend]


def spans(raw):
    """IE positions in wire order; ENCDATA runs to the end (spec 6.5)."""
    out = []
    i = dr.HDR_LEN
    while i < len(raw):
        t, ln = raw[i], raw[i + 1]
        if t == dr.IE_ENCDATA:
            out.append(Span(t, i, i + 2, len(raw)))
            break
        out.append(Span(t, i, i + 2, i + 2 + ln))
        i += 2 + ln
    return out


def span(raw, ie_type):
    found = [s for s in spans(raw) if s.type == ie_type]
    if len(found) != 1:
        raise AssertionError("expected one IE %d in %s" % (ie_type, raw.hex()))
    return found[0]


def flip(raw, at):
    """raw with the byte at offset at inverted."""
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:]


def encrypt_header(strans):
    """Header of a first ENCRYPT of a transaction (byte 6 = 0x0D, F clear)."""
    return dr.header(strans, 0, 0, 0, dr.ENCRYPT)


# ====================================================================== envelope (openssl CLI)


def _openssl(args, data):
    p = subprocess.run([OPENSSL] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    if p.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), p.stderr.decode("utf-8", "replace")))
    return p.stdout


def rsa_oaep_decrypt(keyfile, data):
    return _openssl(["pkeyutl", "-decrypt", "-inkey", keyfile, "-pkeyopt", "rsa_padding_mode:oaep"], data)


def aes_cbc(key, iv, data, decrypt):
    return _openssl(["enc", "-d" if decrypt else "-e", "-aes-128-cbc", "-nopad", "-K", key.hex(), "-iv", iv.hex()],
                    data)


def open_envelope(raw, key):
    """The inner packet of an ENCRYPT (spec 6.5, receiver side), decoded."""
    enc = span(raw, dr.IE_ENCDATA)
    value = raw[enc.vstart:]
    iv, ct = value[:16], value[16:]
    if not ct or len(ct) % 16:
        raise AssertionError("ENCDATA of %d bytes is not an IV plus whole blocks" % len(value))
    z = zlib.decompressobj()
    inner = z.decompress(aes_cbc(key, iv, ct, True))
    if not z.eof:
        raise AssertionError("decrypted ENCDATA is not a complete zlib stream")
    if z.unused_data.strip(b"\0"):
        raise AssertionError("non-zero padding after the zlib stream: %r" % z.unused_data)
    return dr.decode(raw[:6] + inner)


def seal(plain, key, first_ies=b"", compressed=None):
    """An ENCRYPT envelope around the plaintext packet plain (spec 6.5, sender side).
    compressed, when given, replaces zlib(plain[6:]) (for broken contents)."""
    z = zlib.compress(plain[6:]) if compressed is None else compressed
    z += b"\0" * (-len(z) % 16)
    iv = os.urandom(16)
    ct = aes_cbc(key, iv, z, False)
    return plain[:6] + bytes([dr.ENCRYPT, 0]) + first_ies + bytes([dr.IE_ENCDATA, (16 + len(ct)) % 256]) + iv + ct


# ====================================================================== relay


class Relay:
    """A UDP relay between one client (dundiq) and the daemon that records every datagram.
    The client talks only to the relay; the daemon sees the relay's address as the peer."""

    def __init__(self, listen, target):
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(listen)
        self.client = None
        self.seen = []  # ("c2d" | "d2c", bytes)
        self.last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        return False

    def _run(self):
        while not self._stop.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            data, addr = self.sock.recvfrom(65535)
            self.last = time.monotonic()
            if addr == self.target:
                self.seen.append(("d2c", data))
                if self.client is not None:
                    self.sock.sendto(data, self.client)
            else:
                self.client = addr
                self.seen.append(("c2d", data))
                self.sock.sendto(data, self.target)

    def settle(self, quiet=0.2, limit=2.0):
        """Wait until nothing has passed for quiet seconds (at most limit)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and time.monotonic() - self.last < quiet:
            time.sleep(0.02)


# ====================================================================== tests


class CryptoTests(unittest.TestCase):
    """Scenarios 1-6 of the encryption test plan; a fresh daemon for every test."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_workdir("dundid-crypto-")
        cls.addClassCleanup(cls.tmp.cleanup)
        # The client side's key folder: the capture's pair plus a second pair from dundid-keygen.
        cls.ckeys = os.path.join(cls.tmp.name, "client-keys")
        os.mkdir(cls.ckeys, 0o700)
        for name in ("dundi.pub", "dundi.key"):
            shutil.copyfile(os.path.join(harness.test_keydir(), name), os.path.join(cls.ckeys, name))
            os.chmod(os.path.join(cls.ckeys, name), 0o600)
        rc, out, err = run_tool([KEYGEN["path"], "-d", cls.ckeys, "other"])
        if rc != 0:
            raise AssertionError("dundid-keygen failed (%d): %s%s" % (rc, out, err))
        for name in ("other.key", "other.pub"):
            if not os.path.isfile(os.path.join(cls.ckeys, name)):
                raise AssertionError("dundid-keygen did not write %s" % name)
        if os.stat(os.path.join(cls.ckeys, "other.key")).st_mode & 0o077:
            raise AssertionError("dundid-keygen wrote a private key readable by others")
        with open(os.path.join(cls.ckeys, "other.pub"), "rb") as a, \
                open(os.path.join(cls.ckeys, "dundi.pub"), "rb") as b:
            if a.read() == b.read():
                raise AssertionError("dundid-keygen reproduced the test key")

        cls.conf = os.path.join(cls.tmp.name, "dundid.conf")
        with open(cls.conf, "w") as f:
            f.write(CONFIG.replace("<<KEYDIR>>", harness.test_keydir()))

        cls.capture = read_pcap(PCAP)
        src, dst, p1 = cls.capture[0]
        if (src, dst) != (("127.0.0.3", 4520), ("127.0.0.2", 4520)) or p1[:8] != bytes.fromhex("568a000000000d00"):
            raise AssertionError("packet #1 of the capture is not B's ENCRYPT REGREQ: %s" % p1[:8].hex())

        # PBX B's AES session key, from #1's SHAREDKEY and A's private key (needs openssl).
        cls.b_key = None
        if OPENSSL:
            sk = p1[span(p1, dr.IE_SHAREDKEY).vstart:span(p1, dr.IE_SHAREDKEY).vend]
            cls.b_key = rsa_oaep_decrypt(os.path.join(harness.test_keydir(), "dundi.key"), sk)
            if len(cls.b_key) != 16:
                raise AssertionError("SHAREDKEY of #1 decrypts to %d bytes" % len(cls.b_key))

    def setUp(self):
        self.daemon = self.start_daemon()

    def start_daemon(self):
        d = Daemon(self.conf, self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        return d

    # ---------------------------------------------------------- helpers

    def cap(self, n):
        """The UDP payload of capture packet #n (numbered as in asterisk-pair.decoded.txt)."""
        return self.capture[n - 1][2]

    def client(self):
        c = Client(CLIENT_HOST, (BIND, PORT))
        self.addCleanup(c.close)
        return c

    def target(self):
        return "%s:%d" % (BIND, PORT)

    def q(self, *args):
        return dundiq("--timeout", 3000, *args)

    def qk(self, target, what, inkey="dundi", outkey="dundi", eid=KEYED_EID, extra=()):
        """An encrypted dundiq lookup (or EID query: what = None, extra = ("--eidquery", EID))."""
        args = ["--eid", eid, "--keydir", self.ckeys, "--inkey", inkey, "--outkey", outkey] + list(extra)
        args.append(target)
        if what is not None:
            args.append(what)
        return self.q(*args)

    def exchange(self, c, raw, timeout=3.0):
        """Send the first packet of a transaction; return the daemon's first non-ACK answer."""
        st = dr.decode_header(raw).strans
        acks, pkt = c.transact(raw, timeout)
        for a in acks:
            self.assertEqual(a.raw, dr.header(pkt.hdr.strans, st, 1, 0, dr.ACK), "odd ACK %r" % a)
        self.assertEqual(pkt.hdr.dtrans, st, "answer to another transaction: %r" % pkt)
        self.assertEqual((pkt.hdr.iseqno, pkt.hdr.oseqno), (1, 0), pkt)
        self.assertTrue(1 <= pkt.hdr.strans <= 32766, pkt)
        return pkt

    def ack_final(self, c, raw, pkt):
        """Our ACK (F) of the daemon's final packet: ends the transaction (capture #3)."""
        st = dr.decode_header(raw).strans
        c.send(dr.ack(st, pkt.hdr.strans, 1, 1, True))

    def expect_encrej(self, c, raw):
        """raw must be refused with ENCREJ: final, in clear, no IEs (spec 6.4)."""
        pkt = self.exchange(c, raw)
        st = dr.decode_header(raw).strans
        self.assertEqual(pkt.raw, dr.header(pkt.hdr.strans, st, 1, 0, ENCREJ_F),
                         "expected a bare ENCREJ (0xCE), got %r" % pkt)
        self.ack_final(c, raw, pkt)
        return pkt

    def expect_encrypted(self, c, raw):
        """raw must be accepted: the answer is an ENCRYPT carrying only ENCDATA."""
        pkt = self.exchange(c, raw)
        self.assertEqual(pkt.raw[6:8], b"\x0d\x00", "expected an ENCRYPT answer, got %r" % pkt)
        self.assertEqual(pkt.types(), [dr.IE_ENCDATA], pkt)
        n = len(pkt.get(dr.IE_ENCDATA))
        self.assertTrue(n > 16 and n % 16 == 0, "ENCDATA of %d bytes" % n)
        self.ack_final(c, raw, pkt)
        return pkt

    def inner(self, pkt):
        """The decrypted inner message of an answer in PBX B's transaction key, or None."""
        if self.b_key is None:
            return None
        return open_envelope(pkt.raw, self.b_key)

    def ping(self, c):
        """NULL(F) -> ACK(F): the daemon has processed everything we sent before."""
        st = Client.new_trans()
        c.send(dr.packet(st, 0, 0, 0, dr.NULL | dr.FLAG_FINAL))
        raw = c.recv(3.0)
        self.assertIsNotNone(raw, "no ACK to NULL")
        pkt = dr.decode(raw)
        self.assertEqual(raw, dr.header(pkt.hdr.strans, st, 1, 0, dr.ACK | dr.FLAG_FINAL), pkt)

    def stop(self):
        """Sync, SIGTERM, exit 0, no transaction left; returns the stats."""
        self.ping(self.client())
        stats = self.daemon.stop()
        self.assertEqual(self.daemon.exit_code, 0, self.daemon.log()[-4000:])
        self.assertEqual(stats["live_trans"], 0, stats)
        return stats

    def assert_log(self, needle, count=1):
        self.assertTrue(self.daemon.wait_log(needle, 3.0, count),
                        "expected %d x %r in the log:\n%s" % (count, needle, self.daemon.log()[-4000:]))
        self.assertEqual(self.daemon.log().count(needle), count, self.daemon.log()[-4000:])

    def assert_1001_answer(self, inner_pkt, number="1001"):
        self.assertEqual(inner_pkt.hdr.cmdresp, dr.DPRESPONSE | dr.FLAG_FINAL, inner_pkt)
        self.assertEqual(inner_pkt.types(), [dr.IE_ANSWER, dr.IE_HINT, dr.IE_EXPIRATION], inner_pkt)
        (a,) = inner_pkt.answers()
        self.assertEqual((a.eid, a.proto, a.flags, a.weight), (OUR_EID, dr.PROTO_IAX2, dr.F_EXISTS, 0), a)
        self.assertRegex(a.dest, r"^priv:%s@127\.0\.14\.1/%s$" % (SECRET_RE, number))
        self.assertEqual(inner_pkt.hint(), (dr.H_UNAFFECTED, ""))
        self.assertEqual(inner_pkt.u16(dr.IE_EXPIRATION), 5)

    def assert_encrypted_wire(self, seen, needles):
        """What the relay saw: an ENCRYPT with EID + full key, an ENCRYPT answer, ACKs, nothing in clear."""
        c2d = [d for w, d in seen if w == "c2d"]
        d2c = [d for w, d in seen if w == "d2c"]
        self.assertTrue(c2d and d2c, "relay saw %r" % seen)
        req = dr.decode(c2d[0])
        self.assertEqual(req.raw[6:8], b"\x0d\x00", "request byte 6 must be 0x0D: %r" % req)
        self.assertEqual((req.hdr.dtrans, req.hdr.iseqno, req.hdr.oseqno), (0, 0, 0), req)
        self.assertEqual(req.types(), [dr.IE_EID, dr.IE_SHAREDKEY, dr.IE_SIGNATURE, dr.IE_ENCDATA], req)
        self.assertEqual(req.get(dr.IE_EID), dr.eid(KEYED_EID))
        self.assertEqual(len(req.get(dr.IE_SHAREDKEY)), 128)
        self.assertEqual(len(req.get(dr.IE_SIGNATURE)), 128)
        enc = req.get(dr.IE_ENCDATA)
        self.assertTrue(len(enc) > 16 and len(enc) % 16 == 0, "ENCDATA of %d bytes" % len(enc))
        self.assertEqual(req.raw[span(req.raw, dr.IE_ENCDATA).start + 1], len(enc) % 256, "ENCDATA length byte")
        answers = [dr.decode(d) for d in d2c if dr.decode(d).hdr.cmd != dr.ACK]
        self.assertTrue(answers, "no answer through the relay: %r" % seen)
        for a in answers:
            self.assertEqual(a.raw[6:8], b"\x0d\x00", "answer byte 6 must be 0x0D: %r" % a)
            self.assertEqual(a.hdr.dtrans, req.hdr.strans, a)
            self.assertEqual(a.types(), [dr.IE_ENCDATA], a)
        for w, d in seen:
            self.assertIn(d[6], (dr.ENCRYPT, dr.ACK, dr.ACK | dr.FLAG_FINAL),
                          "%s datagram neither ENCRYPT nor ACK: %s" % (w, d.hex()))
            for n in needles:
                self.assertNotIn(n, d, "plaintext %r on the wire (%s): %s" % (n, w, d.hex()))

    # ---------------------------------------------------------- 1

    def test_1_encrypted_dundiq(self):
        """dundiq --inkey/--outkey as PBX B: answers, no-answer hint, EID query; the wire is encrypted."""
        relay = "%s:%d" % RELAY
        with Relay(RELAY, (BIND, PORT)) as r:
            rc, out, err = self.qk(relay, "1001@priv")
            r.settle()
        self.assertEqual(rc, 0, out + err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertRegex(lines[0], r"^0 IAX2/priv:%s@127\.0\.14\.1/1001 \(EXISTS\) from 02:00:00:00:00:0a, "
                                   r"expires in 5 s$" % SECRET_RE)
        self.assertEqual(lines[1], "hint: UNAFFECTED")
        secret = re.search(r"priv:(%s)@" % SECRET_RE, lines[0]).group(1).encode()
        self.assert_encrypted_wire(r.seen, [b"1001", b"priv", secret, b"127.0.14.1"])

        with Relay(RELAY, (BIND, PORT)) as r:
            rc, out, err = self.qk(relay, "1009@priv")
            r.settle()
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "no answers\nhint: DONT_ASK|UNAFFECTED 1009\n")
        self.assert_encrypted_wire(r.seen, [b"1009", b"priv"])

        with Relay(RELAY, (BIND, PORT)) as r:
            rc, out, err = self.qk(relay, None, extra=("--eidquery", OUR_EID))
            r.settle()
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"(?m)^Organization\s+Crypto Test Org$")
        self.assertRegex(out, r"(?m)^Department\s+Crypto Dept$")
        self.assert_encrypted_wire(r.seen, [b"Crypto", b"Loopback", b"example.invalid"])

        # The daemon saw the relay as the peer, three times with a fresh full key.
        self.assertNotIn("rejected", self.daemon.log())
        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (0, 0), stats)
        self.assertEqual(stats["requests"], 3, stats)

    # ---------------------------------------------------------- 2

    def test_2_unencrypted_from_keyed_peer(self):
        """A keyed peer asking in clear gets NOAUTH; the unkeyed peer is answered in clear."""
        rc, out, err = self.q("--eid", KEYED_EID, self.target(), "1001@priv")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "no answers: cause NOAUTH, Unencrypted responses not permitted\n")

        rc, out, err = self.q("--eid", PLAIN_EID, self.target(), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out.splitlines()[0], r"^0 IAX2/priv:%s@127\.0\.14\.1/1001 \(EXISTS\) from " % SECRET_RE)

        # Raw: the refusal itself travels in clear (the transaction is not encrypted).
        c = self.client()
        st = Client.new_trans()
        req = dr.dpdiscover(st, "1001", "priv", KEYED_EID)
        pkt = self.exchange(c, req)
        self.assertEqual(pkt.raw, dr.header(pkt.hdr.strans, st, 1, 0, dr.DPRESPONSE | dr.FLAG_FINAL)
                         + dr.ie_cause(dr.CAUSE_NOAUTH, "Unencrypted responses not permitted"))
        self.ack_final(c, req, pkt)

        # A clear REGREQ from the keyed dynamic peer: only the generic ACK, no registration (7.4).
        st = Client.new_trans()
        c.send(dr.regreq(st, KEYED_EID))
        raw = c.recv(2.0)
        self.assertIsNotNone(raw, "a clear REGREQ must still be ACKed")
        ackp = dr.decode(raw)
        self.assertEqual(raw, dr.header(ackp.hdr.strans, st, 1, 0, dr.ACK), ackp)
        self.assertEqual(c.collect(0.3), [], "a clear REGREQ from a keyed peer must get no REGRESPONSE")
        # Nothing is kept for it: a CANCEL on it belongs to no transaction (INVALID).
        c.send(dr.packet(st, ackp.hdr.strans, 0, 1, dr.CANCEL | dr.FLAG_FINAL))
        self.assertEqual(c.recv(2.0), dr.header(ackp.hdr.strans, st, 1, 0, dr.INVALID))
        self.assertNotIn("registered DUNDi peer", self.daemon.log())

        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (0, 0), stats)
        self.assertEqual(stats["registrations"], 0, stats)

    # ---------------------------------------------------------- 3

    def test_3_wrong_keys(self):
        """A session key signed by a key the daemon does not trust, or sealed for a key it does not hold."""
        rc, out, err = self.qk(self.target(), "1001@priv", inkey="dundi", outkey="other")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("ENCREJ", err)
        self.assertEqual(out, "")
        self.assert_log("encrypted request from %s rejected: signature does not verify" % KEYED_EID)

        rc, out, err = self.qk(self.target(), "1001@priv", inkey="other", outkey="dundi")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("ENCREJ", err)
        self.assertEqual(out, "")
        self.assert_log("encrypted request from %s rejected: shared key does not decrypt" % KEYED_EID)

        # The right pair still works afterwards.
        rc, out, err = self.qk(self.target(), "1006@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("/1006 (EXISTS) from 02:00:00:00:00:0a", out)

        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (2, 2), stats)

    # ---------------------------------------------------------- 4

    def test_4_replay_asterisk_capture(self):
        """Packets #1 (REGREQ, full key), #4 and #8 (KEYCRC32) of the real Asterisk PBX B."""
        c = self.client()
        p1 = self.cap(1)
        self.assertEqual(span(p1, dr.IE_SHAREDKEY).vend - span(p1, dr.IE_SHAREDKEY).vstart, 128)
        self.assertEqual(zlib.crc32(p1[span(p1, dr.IE_SHAREDKEY).vstart:span(p1, dr.IE_SHAREDKEY).vend]),
                         CAPTURE_KEYCRC)
        resp = self.expect_encrypted(c, p1)
        self.assertEqual(resp.hdr.dtrans, 22154)
        local = c.sock.getsockname()
        self.assert_log("registered DUNDi peer %s at %s:%d" % (KEYED_EID, local[0], local[1]))
        inner = self.inner(resp)
        if inner is not None:
            self.assertEqual(inner.hdr.cmdresp, dr.REGRESPONSE | dr.FLAG_FINAL, inner)
            self.assertEqual(inner.ies, [(dr.IE_EXPIRATION, b"\x00\x3c")])

        p4 = self.cap(4)
        self.assertEqual(p4[span(p4, dr.IE_KEYCRC32).vstart:span(p4, dr.IE_KEYCRC32).vend],
                         struct.pack(">I", CAPTURE_KEYCRC))
        resp = self.expect_encrypted(c, p4)
        self.assertEqual(resp.hdr.dtrans, 24209)
        inner = self.inner(resp)
        if inner is not None:
            self.assert_1001_answer(inner)

        resp = self.expect_encrypted(c, self.cap(8))
        self.assertEqual(resp.hdr.dtrans, 9396)
        inner = self.inner(resp)
        if inner is not None:
            self.assertEqual(inner.hdr.cmdresp, dr.DPRESPONSE | dr.FLAG_FINAL, inner)
            self.assertEqual(inner.ies, [(dr.IE_HINT, b"\x00\x061009"), (dr.IE_EXPIRATION, b"\x00\x05")])

        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (0, 0), stats)
        self.assertEqual(stats["registrations"], 1, stats)

    def test_4_keycrc_of_unknown_key(self):
        """#4 first (a KEYCRC32 the daemon never saw) -> ENCREJ; Asterisk's resend with the full key works."""
        c = self.client()
        p4 = self.cap(4)
        self.expect_encrej(c, p4)
        self.assert_log("encrypted request from %s rejected: KEYCRC32 783bd49c of a key we do not hold" % KEYED_EID)

        # Spec 6.7: a new transaction with EID + SHAREDKEY + SIGNATURE and the SAME ENCDATA.
        p1 = self.cap(1)
        resend = (encrypt_header(Client.new_trans()) + span(p1, dr.IE_EID).ie(p1) + span(p1, dr.IE_SHAREDKEY).ie(p1)
                  + span(p1, dr.IE_SIGNATURE).ie(p1) + span(p4, dr.IE_ENCDATA).ie(p4))
        resp = self.expect_encrypted(c, resend)
        inner = self.inner(resp)
        if inner is not None:
            self.assert_1001_answer(inner)
        # Now the key is known: #8 with only KEYCRC32 is accepted.
        self.expect_encrypted(c, self.cap(8))

        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (1, 1), stats)

    # ---------------------------------------------------------- 5

    def test_5_tampering(self):
        """One flipped byte in SHAREDKEY, SIGNATURE or ENCDATA, or a truncated ENCDATA: ENCREJ."""
        c = self.client()
        p1 = self.cap(1)
        sk, sig = span(p1, dr.IE_SHAREDKEY), span(p1, dr.IE_SIGNATURE)
        self.expect_encrej(c, flip(p1, sk.vstart + 40))
        self.expect_encrej(c, flip(p1, sig.vstart + 100))
        self.assert_log("rejected: signature does not verify", 2)
        self.assertNotIn("registered DUNDi peer", self.daemon.log())

        # The genuine packet is still accepted: the forgeries left nothing behind.
        self.expect_encrypted(c, p1)
        self.assert_log("registered DUNDi peer %s" % KEYED_EID)

        # A forged full key after that does not evict the verified one: #4 (KEYCRC32) still works below.
        self.expect_encrej(c, flip(p1, sk.vstart + 7))
        self.assert_log("rejected: signature does not verify", 3)

        p4 = self.cap(4)
        enc = span(p4, dr.IE_ENCDATA)
        self.expect_encrej(c, flip(p4, enc.vstart + 16 + 5))  # a ciphertext byte, not the IV
        truncated = bytearray(p4[:enc.vstart + 16])         # the IV only
        truncated[enc.start + 1] = 16
        self.expect_encrej(c, bytes(truncated))
        self.assert_log("cannot decrypt", 2)

        # The genuine #4 and a normal encrypted lookup still work.
        resp = self.expect_encrypted(c, p4)
        inner = self.inner(resp)
        if inner is not None:
            self.assert_1001_answer(inner)
        rc, out, err = self.qk(self.target(), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("/1001 (EXISTS) from 02:00:00:00:00:0a", out)

        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (5, 5), stats)

    # ---------------------------------------------------------- 6

    def test_6_garbage(self):
        """Unknown EID, no key IE, no EID, zero KEYCRC32, a peer without keys: ENCREJ."""
        c = self.client()
        p1, p4 = self.cap(1), self.cap(4)
        eid_ie, sk_ie = span(p1, dr.IE_EID).ie(p1), span(p1, dr.IE_SHAREDKEY).ie(p1)
        sig_ie, enc_ie = span(p1, dr.IE_SIGNATURE).ie(p1), span(p1, dr.IE_ENCDATA).ie(p1)
        rejected = 0

        self.expect_encrej(c, encrypt_header(Client.new_trans()) + dr.ie_eid(dr.IE_EID, STRANGER_EID)
                           + sk_ie + sig_ie + enc_ie)
        self.assert_log("encrypted request from %s rejected: unknown or missing EID" % STRANGER_EID)
        self.expect_encrej(c, encrypt_header(Client.new_trans()) + eid_ie + enc_ie)
        self.assert_log("encrypted request from %s rejected: no key material" % KEYED_EID)
        self.expect_encrej(c, encrypt_header(Client.new_trans()) + sk_ie + sig_ie + enc_ie)
        self.assert_log("encrypted request from (no EID) rejected: unknown or missing EID")
        self.expect_encrej(c, encrypt_header(Client.new_trans()) + eid_ie + dr.ie(dr.IE_KEYCRC32, b"\0\0\0\0")
                           + span(p4, dr.IE_ENCDATA).ie(p4))
        self.assert_log("rejected: no key material", 2)
        self.expect_encrej(c, encrypt_header(Client.new_trans()) + eid_ie + sk_ie + enc_ie)  # no SIGNATURE
        self.assert_log("rejected: no key material", 3)
        rejected += 5

        # An encrypted request from a configured peer without keys.
        rc, out, err = self.qk(self.target(), "1001@priv", eid=PLAIN_EID)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("ENCREJ", err)
        self.assert_log("encrypted request from %s rejected: no keys configured for this peer" % PLAIN_EID)
        rejected += 1

        if self.b_key is not None:
            self.expect_encrypted(c, p1)  # the daemon now holds B's key
            keyed = dr.ie_eid(dr.IE_EID, KEYED_EID) + dr.ie(dr.IE_KEYCRC32, struct.pack(">I", CAPTURE_KEYCRC))

            # Control: an envelope sealed here with B's key is accepted (so the cases below fail
            # for their content, not for the sealing).
            st = Client.new_trans()
            resp = self.expect_encrypted(c, seal(dr.dpdiscover(st, "1006", "priv", KEYED_EID), self.b_key, keyed))
            self.assert_1001_answer(self.inner(resp), "1006")

            # ENCRYPT inside ENCRYPT (6.6).
            st = Client.new_trans()
            nested = dr.packet(st, 0, 0, 0, dr.ENCRYPT, keyed + dr.ie(dr.IE_ENCDATA, os.urandom(48)))
            self.expect_encrej(c, seal(nested, self.b_key, keyed))
            self.assert_log("ENCRYPT inside ENCRYPT refused")
            # Inflates to a single byte (no cmdflags), to garbage, and to more than 8186 bytes.
            for content in (zlib.compress(b"\x01"), b"not a zlib stream, just text" * 2):
                st = Client.new_trans()
                self.expect_encrej(c, seal(dr.header(st, 0, 0, 0, 0), self.b_key, keyed, compressed=content))
            st = Client.new_trans()
            big = dr.dpdiscover(st, "1001", "priv", KEYED_EID) + dr.ie(99, b"x" * 255) * 33
            self.expect_encrej(c, seal(big, self.b_key, keyed))
            self.assert_log("cannot decrypt", 3)
            rejected += 4

        # Still serving.
        rc, out, err = self.qk(self.target(), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("/1001 (EXISTS) from 02:00:00:00:00:0a", out)
        self.assertTrue(self.daemon.running())
        stats = self.stop()
        self.assertEqual((stats["crypto_rejected"], stats["encrej"]), (rejected, rejected), stats)


def main():
    extra, run = harness.run_tests(("keygen",))
    KEYGEN["path"] = extra["keygen"]
    if not OPENSSL:
        print("note: no openssl command: the daemon's encrypted replies are not opened", file=sys.stderr)
    run()


if __name__ == "__main__":
    main()
