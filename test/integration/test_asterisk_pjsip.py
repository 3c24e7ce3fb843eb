#!/usr/bin/env python3
"""What a real Asterisk 20 res_pjsip did, replayed (test/data/asterisk-pjsip,
see its README): phones registering with digest auth, re-registering and
unregistering, as a pcap of the SIP per step, the HEP datagrams res_hep_pjsip
sent per step (a pcap of them), and the ps_contacts rows res_pjsip wrote
through RealTime (res_config_odbc) after each step, as SQL. dundid reads the
rows (RealTime, poll 1 s, resync 2 s) together with the HEP Asterisk sent
(replayed byte for byte) or the SIP capture (capture_file per step, SIGHUP),
and must answer after each step what Asterisk then held. A third run reads
the rows alone: pjsip deletes a contact's row when the phone unregisters, so
the table alone is right too (at the next full read). A fourth asks for one
extension on demand (the id as res_config_odbc stores it, "AOR^3B@hash").

Each step's rows go in before its SIP, as res_pjsip writes the row before it
answers. Their expiration_time is moved by (now - the step's recording time).

Addresses: dundid 127.0.49.40 port 45880, HEP 127.0.49.40:45881; lookups from
127.0.49.41; HEP sent from 127.0.49.42. The recorded SIP (registrar
127.0.49.10:45860, phones 127.0.49.20:45861) is only replayed, never sent.
"""

import os
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import mariadb  # noqa: E402
import test_asterisk_chansip as chansip  # noqa: E402
from harness import Daemon  # noqa: E402

HOST, PORT, HEP_PORT = "127.0.49.40", 45880, 45881
CLIENT_HOST, HEP_FROM = "127.0.49.41", "127.0.49.42"
REGISTRAR = "127.0.49.10"
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "asterisk-pjsip")
CONTRIB = os.path.join(HERE, "..", "..", "contrib", "mysql")
DB_USER, DB_PASSWORD = "dundid", "pw"

# What Asterisk held after each step (`pjsip show contacts` agreed when recorded).
EXPECTED = [
    ("step0-before", {"1003"}),                       # its row from before Asterisk started
    ("step1-register", {"1001", "1002", "1003"}),     # 401 then 200 for each
    ("step2-reregister", {"1001", "1002", "1003"}),
    ("step3-unregister-1001", {"1002", "1003"}),     # 1001's row deleted
    ("step4-unregister-1003", {"1002"}),             # 1003's row deleted
    ("step5-register-1001-again", {"1001", "1002"}),  # a new row
    ("step6-db-down-reregister-1002", {"1001", "1002"}),  # 200 OK without Contact: not an unregistration
]

SERVER = None


def setUpModule():
    global SERVER
    SERVER = mariadb.start_with_user(DB_USER, DB_PASSWORD)


def tearDownModule():
    if SERVER is not None:
        SERVER.cleanup()


# The chan_sip test's lookup helpers, at this test's addresses.
chansip.HOST, chansip.PORT, chansip.CLIENT_HOST, chansip.REGISTRAR = HOST, PORT, CLIENT_HOST, REGISTRAR
chansip.DATA = DATA
answered = chansip.answered


class Replay(unittest.TestCase):
    FEED = None  # "capture", "hep" or "none"
    EXPECTED = EXPECTED

    def setUp(self):
        self.db = "pjsip_%s" % self.FEED
        SERVER.sql("CREATE DATABASE %s; GRANT SELECT ON %s.* TO '%s'@'localhost';" % (self.db, self.db, DB_USER))
        SERVER.sql_file(os.path.join(CONTRIB, "ps_contacts.sql"), self.db)
        self.work = harness.make_workdir("dundid-pjsip-")
        self.times = chansip.steps()
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
        SERVER.sql("DELETE FROM ps_contacts;\n" + text + "\nUPDATE ps_contacts SET expiration_time = expiration_time "
                   "+ %d WHERE expiration_time > 0;" % (int(time.time()) - self.times[step]), self.db)

    def config(self, capture_file=None, realtime=("poll = 1", "resync = 2")):
        reg = ["statefile = %s" % os.path.join(self.work.name, "registrations.state")]
        if capture_file:
            reg += ["capture_file = %s" % capture_file, "capture_filter = udp port 45860"]
        if self.FEED == "hep":
            reg += ["hep = %s:%d" % (HOST, HEP_PORT), "hep_allow = %s/32" % HEP_FROM]
        text = "\n".join([
            "[general]", "bindaddr = %s" % HOST, "port = %d" % PORT, "entityid = 02:00:00:00:49:40",
            "cachetime = 30",
            "[registrations]"] + reg + [
            "[mappings]", "priv => sipregistration,0,IAX2,priv:secret@${REGISTRAR}/${NUMBER},nopartial",
            "[%s]" % chansip.CLIENT_EID, "model = inbound", "permit = priv",
            "[realtime]", "socket = %s" % SERVER.socket, "user = %s" % DB_USER, "password = %s" % DB_PASSWORD,
            "database = %s" % self.db, "schema = pjsip"] + list(realtime) + [
            "[registrars]", "regpbx1 = %s" % REGISTRAR]) + "\n"
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def sip(self, step):
        """The step's SIP to dundid: a capture file (SIGHUP) or the HEP Asterisk sent."""
        if self.FEED == "none":
            return
        if self.FEED == "capture":
            self.config(os.path.join(DATA, step + ".pcap"))
            self.daemon.signal(signal.SIGHUP)
            self.replays += 1
            self.assertTrue(self.daemon.wait_log("replayed", timeout=10, count=self.replays), self.daemon.log())
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HEP_FROM, 0))
            for _, _, _, _, datagram in chansip.pcap_udp(os.path.join(DATA, step + "-hep.pcap")):
                s.sendto(datagram, (HOST, HEP_PORT))
        finally:
            s.close()

    def check(self, step, want):
        # Settle within a few polls and a full read, then hold across more.
        chansip.wait_for(lambda: answered() == want, 6, "%s: %s answered" % (step, sorted(want)))
        deadline = time.monotonic() + 2.5
        while True:
            self.assertEqual(answered(), want, step)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)

    def finish(self):
        self.daemon.stop()
        log = self.daemon.log()
        self.assertEqual(self.daemon.exit_code, 0, log[-3000:])
        self.assertNotIn("Sanitizer", log)
        m = re.search(r"realtime counters:.* applied=(\d+) .* bad=(\d+) no_registrar=(\d+)", log)
        self.assertTrue(m, log[-3000:])
        # Every row Asterisk wrote was read ("1001^3B@..." ids included).
        self.assertTrue(int(m.group(1)) >= 1 and m.group(2) == "0" and m.group(3) == "0", m.group(0))
        return log

    def test_replay(self):
        self.rows("step0-before")
        self.daemon = Daemon(self.config(), self.work.name).start()
        self.assertTrue(self.daemon.wait_log("realtime: loaded", timeout=10), self.daemon.log())
        self.check("step0-before", self.EXPECTED[0][1])
        for step, want in self.EXPECTED[1:]:
            self.rows(step)
            self.sip(step)
            self.check(step, want)
        self.finish()


class CaptureReplay(Replay):
    FEED = "capture"


class HepReplay(Replay):
    FEED = "hep"


class RealtimeOnlyReplay(Replay):
    """The rows alone: pjsip deletes the row of a phone that leaves, so a
    full read (resync) shows the unregistration."""
    FEED = "none"


class OndemandReplay(Replay):
    """No polls in the test's time: a lookup for a number the table lacks
    asks the database for that extension, whose row id res_config_odbc
    stored as "1001^3B@hash"."""
    FEED = "ondemand"

    def test_replay(self):
        self.rows("step0-before")
        self.daemon = Daemon(self.config(realtime=("poll = 3600", "resync = 86400", "ondemand = yes",
                                                   "ondemand_timeout = 1000")), self.work.name).start()
        self.assertTrue(self.daemon.wait_log("realtime: loaded", timeout=10), self.daemon.log())
        # (Not 1001 or 1002 yet: an extension just asked for is not asked again soon.)
        self.assertEqual(chansip.lookup("1003"), ["priv:secret@%s/1003" % REGISTRAR])
        self.rows("step1-register")
        self.assertEqual(answered(), {"1001", "1002", "1003"})
        log = self.finish()
        m = re.search(r"ondemand_answered=(\d+)", log)
        self.assertTrue(m and int(m.group(1)) >= 2, log[-3000:])


del Replay  # only its variants run


if __name__ == "__main__":
    _, main = harness.run_tests()
    try:
        mariadb.Server().cleanup()
    except mariadb.Unavailable as e:
        print("SKIP: %s" % e)
        sys.exit(77)
    main()
