#!/usr/bin/env python3
"""What a real Asterisk 20 chan_sip did, replayed (test/data/asterisk-chansip,
see its README): phones registering with digest auth, re-registering and
unregistering, as a pcap per step, and the sippeers rows chan_sip wrote
through RealTime after each step, as SQL. dundid reads the capture (one
capture_file per step, given by SIGHUP) or the same SIP as HEP, together with
the rows (RealTime, poll 1 s, resync 2 s), and must answer after each step
what Asterisk then held. A third run reads the rows alone and shows what a
reader of the table answers instead (the phone that left, still).

The rows' regseconds are moved by (now - the step's recording time), so the
registrations are as live as they were.

Addresses: dundid 127.0.45.30 port 45670, HEP 127.0.45.30:45671; lookups from
127.0.45.31; HEP sent from 127.0.45.32. The recorded SIP (registrar
127.0.45.10:45660, phones 127.0.45.20:45661) is only replayed, never sent.
"""

import json
import os
import re
import signal
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
import mariadb  # noqa: E402
from harness import Client, Daemon  # noqa: E402

HOST, PORT, HEP_PORT = "127.0.45.30", 45670, 45671
CLIENT_HOST, HEP_FROM = "127.0.45.31", "127.0.45.32"
CLIENT_EID = "02:00:00:00:00:99"
REGISTRAR = "127.0.45.10"
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "asterisk-chansip")
CONTRIB = os.path.join(HERE, "..", "..", "contrib", "mysql")
DB_USER, DB_PASSWORD = "dundid", "pw"
PHONES = ("1001", "1002", "1003")

# What Asterisk held after each step (the recording's README says why).
EXPECTED = [
    ("step0-before", {"1003"}),                       # registered before Asterisk started: its row
    ("step1-register", {"1001", "1002", "1003"}),     # 401 then 200 for each
    ("step2-reregister", {"1001", "1002", "1003"}),
    ("step3-unregister-1001", {"1002", "1003"}),     # the row of 1001 stays as it was
    ("step4-unregister-1003", {"1002"}),             # the row of 1003 is cleared
    ("step5-register-1001-again", {"1001", "1002"}),  # a newer regseconds
]

SERVER = None


def setUpModule():
    global SERVER
    SERVER = mariadb.start_with_user(DB_USER, DB_PASSWORD)


def tearDownModule():
    if SERVER is not None:
        SERVER.cleanup()


def steps():
    with open(os.path.join(DATA, "steps.json")) as f:
        return {s["step"]: s["time"] for s in json.load(f)}


def lookup(number):
    c = Client(CLIENT_HOST, (HOST, PORT))
    try:
        st = Client.new_trans()
        _, resp = c.transact(dr.dpdiscover(st, number, "priv", CLIENT_EID), 3.0)
        if resp.hdr.cmd != dr.DPRESPONSE:
            raise AssertionError("expected DPRESPONSE, got %r" % resp)
        c.send(dr.ack(st, resp.hdr.strans, 1, 1, True))
        return sorted(a.dest for a in resp.answers())
    finally:
        c.close()


def answered():
    """The phones dundid answers, each checked to name the recorded registrar."""
    out = set()
    for p in PHONES:
        dests = lookup(p)
        if dests:
            if dests != ["priv:secret@%s/%s" % (REGISTRAR, p)]:
                raise AssertionError("%s: %r" % (p, dests))
            out.add(p)
    return out


def pcap_udp(path):
    """(src, dst, sport, dport, payload) of each UDP/IPv4 frame of an Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    pos, out = 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "IIII", data[pos:pos + 16])[2]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        ihl = (frame[14] & 15) * 4
        udp = frame[14 + ihl:]
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        out.append((socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]), sport, dport, udp[8:ulen]))
    return out


def hep3(src, dst, sport, dport, payload):
    def chunk(ctype, value):
        return struct.pack("!HHH", 0, ctype, 6 + len(value)) + value
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, socket.inet_aton(src)) + chunk(4, socket.inet_aton(dst))
            + chunk(7, struct.pack("!H", sport)) + chunk(8, struct.pack("!H", dport))
            + chunk(9, struct.pack("!I", int(time.time()))) + chunk(10, struct.pack("!I", 0))
            + chunk(11, b"\x01") + chunk(12, struct.pack("!I", 2001)) + chunk(15, payload))
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / 0.1) + 2):
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    raise AssertionError("%s: not within %.1f s (last: %r)" % (what, timeout, last))


class Replay(unittest.TestCase):
    """One daemon; each step's rows into the database and its SIP to dundid."""
    FEED = None  # "capture" or "hep"

    def setUp(self):
        self.db = "chansip_%s" % self.FEED
        SERVER.sql("CREATE DATABASE %s; GRANT SELECT ON %s.* TO '%s'@'localhost';" % (self.db, self.db, DB_USER))
        SERVER.sql_file(os.path.join(CONTRIB, "sippeers.sql"), self.db)
        self.work = harness.make_workdir("dundid-chansip-")
        self.times = steps()
        self.daemon = None
        self.replays = 0

    def tearDown(self):
        if self.daemon and self.daemon.running():
            self.daemon.kill()
        SERVER.sql("DROP DATABASE IF EXISTS %s;" % self.db)
        self.work.cleanup()

    def rows(self, step):
        """The rows after step, their expiries moved to now."""
        with open(os.path.join(DATA, step + ".sql")) as f:
            text = "".join(line for line in f if not line.startswith("/*M!999999"))
        SERVER.sql("DELETE FROM sippeers;\n" + text + "\nUPDATE sippeers SET regseconds = regseconds + %d "
                   "WHERE regseconds > 0;" % (int(time.time()) - self.times[step]), self.db)

    def config(self, capture_file=None):
        reg = ["statefile = %s" % os.path.join(self.work.name, "registrations.state")]
        if capture_file:
            reg += ["capture_file = %s" % capture_file, "capture_filter = udp port 45660"]
        if self.FEED == "hep":
            reg += ["hep = %s:%d" % (HOST, HEP_PORT)]
        text = "\n".join([
            "[general]", "bindaddr = %s" % HOST, "port = %d" % PORT, "entityid = 02:00:00:00:45:30",
            "cachetime = 30",
            "[registrations]"] + reg + [
            "[mappings]", "priv => sipregistration,0,IAX2,priv:secret@${REGISTRAR}/${NUMBER},nopartial",
            "[%s]" % CLIENT_EID, "model = inbound", "permit = priv",
            "[realtime]", "socket = %s" % SERVER.socket, "user = %s" % DB_USER, "password = %s" % DB_PASSWORD,
            "database = %s" % self.db, "schema = chan_sip", "poll = 1", "resync = 2",
            "[registrars]", "regpbx1 = %s" % REGISTRAR]) + "\n"
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def sip(self, step):
        """The step's SIP to dundid: a capture file (SIGHUP) or HEP."""
        pcap = os.path.join(DATA, step + ".pcap")
        if self.FEED == "none":
            return
        if self.FEED == "capture":
            self.config(pcap)
            self.daemon.signal(signal.SIGHUP)
            self.replays += 1
            self.assertTrue(self.daemon.wait_log("replayed", timeout=10, count=self.replays), self.daemon.log())
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HEP_FROM, 0))
            for src, dst, sport, dport, payload in pcap_udp(pcap):
                s.sendto(hep3(src, dst, sport, dport, payload), (HOST, HEP_PORT))
        finally:
            s.close()

    def check(self, step, want):
        # The answers settle within a few polls and a full read of the rows,
        # then hold across more of them (a stale row must not come back).
        wait_for(lambda: answered() == want, 6, "%s: %s answered" % (step, sorted(want)))
        deadline = time.monotonic() + 2.5
        while True:
            got = answered()
            self.assertEqual(got, want, step)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)

    EXPECTED = EXPECTED

    def test_replay(self):
        self.rows("step0-before")
        self.daemon = Daemon(self.config(), self.work.name).start()
        self.assertTrue(self.daemon.wait_log("realtime: loaded", timeout=10), self.daemon.log())
        self.check("step0-before", self.EXPECTED[0][1])
        for step, want in self.EXPECTED[1:]:
            self.sip(step)
            self.rows(step)
            self.check(step, want)
        self.daemon.stop()
        log = self.daemon.log()
        self.assertEqual(self.daemon.exit_code, 0, log[-3000:])
        self.assertNotIn("Sanitizer", log)
        m = re.search(r"realtime counters:.* departed=(\d+)", log)
        if self.FEED != "none":
            self.assertTrue(m and int(m.group(1)) >= 1, "the stale row of 1001 was refused:\n" + log[-3000:])


class CaptureReplay(Replay):
    FEED = "capture"


class HepReplay(Replay):
    FEED = "hep"


class RealtimeOnlyReplay(Replay):
    """The rows alone: what a reader of the table sees. 1001's row, left as it
    was by its unregistration, keeps answering it (chan_sip's behaviour)."""
    FEED = "none"
    EXPECTED = [(step, want | {"1001"} if step in ("step3-unregister-1001", "step4-unregister-1003") else want)
                for step, want in EXPECTED]


del Replay  # only its two variants run


if __name__ == "__main__":
    _, main = harness.run_tests()
    try:
        mariadb.Server().cleanup()
    except mariadb.Unavailable as e:
        print("SKIP: %s" % e)
        sys.exit(77)
    main()
