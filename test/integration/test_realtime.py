#!/usr/bin/env python3
"""Integration tests of the Asterisk RealTime feed: a real mariadbd (private,
unix socket only, see mariadb.py) with the schemas of contrib/mysql/, a real
dundid reading it, real DUNDi lookups over loopback UDP.

Usage:
    test_realtime.py --dundid PATH --dundiq PATH [unittest args]

Addresses: dundid on 127.0.20.1 port 45220, its metrics on port 45221 (one
daemon at a time; a second configuration for the reload test on the same
address), its HEP listener (WireAndRealtimeTests) on 127.0.45.1 port 45650.
The lookup client binds 127.0.20.2; HEP is sent from 127.0.45.2.

When mariadbd is not installed every test is skipped and the driver exits
with 77, which ctest reports as a skip (SKIP_RETURN_CODE), not a pass.
"""

import http.client
import os
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
from harness import Client, Daemon, dundiq  # noqa: E402

HOST, PORT = "127.0.20.1", 45220
METRICS_PORT = 45221
CLIENT_HOST = "127.0.20.2"
EID = "02:00:00:00:20:01"
CLIENT_EID = "02:00:00:00:00:99"
CONTRIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "mysql")
DB_USER, DB_PASSWORD = "dundid", "s3cret;#pw"  # a ';' and '#' that the config reader must keep

SERVER = None  # the module's mariadbd
_db_counter = [0]


def setUpModule():
    global SERVER
    SERVER = mariadb.start_with_user(DB_USER, DB_PASSWORD)


def tearDownModule():
    if SERVER is not None:
        SERVER.cleanup()


def now():
    return int(time.time())


def lookup(number, context="priv", timeout=3.0):
    """One DPDISCOVER from the test client; returns (answer destinations, seconds to the reply)."""
    c = Client(CLIENT_HOST, (HOST, PORT))
    try:
        st = Client.new_trans()
        t0 = time.monotonic()
        _, resp = c.transact(dr.dpdiscover(st, number, context, CLIENT_EID), timeout)
        took = time.monotonic() - t0
        if resp.hdr.cmd != dr.DPRESPONSE:
            raise AssertionError("expected DPRESPONSE, got %r" % resp)
        c.send(dr.ack(st, resp.hdr.strans, 1, 1, True))
        return sorted(a.dest for a in resp.answers()), took
    finally:
        c.close()


def answers(number, context="priv"):
    return lookup(number, context)[0]


def wait_for(predicate, timeout, what):
    """Poll predicate (bounded in time and count) until it returns true."""
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / 0.1) + 2):
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    raise AssertionError("%s: not within %.1f s (last: %r)" % (what, timeout, last))


def counters(log):
    """The 'realtime counters:' line dundid logs at exit, as a dict."""
    lines = [line for line in log.splitlines() if "realtime counters:" in line]
    if not lines:
        raise AssertionError("no realtime counters in the log:\n" + log[-3000:])
    out = {}
    for item in lines[-1].split("realtime counters:", 1)[1].split():
        k, _, v = item.partition("=")
        out[k] = int(v) if v.isdigit() else v
    return out


class RealtimeCase(unittest.TestCase):
    SCHEMA = "chan_sip"

    def setUp(self):
        _db_counter[0] += 1
        self.db = "rt%d" % _db_counter[0]
        SERVER.sql("CREATE DATABASE %s; GRANT SELECT ON %s.* TO '%s'@'localhost';" % (self.db, self.db, DB_USER))
        SERVER.sql_file(os.path.join(CONTRIB, "sippeers.sql"), self.db)
        SERVER.sql_file(os.path.join(CONTRIB, "ps_contacts.sql"), self.db)
        self.work = harness.make_workdir("dundid-rt-")
        self.daemon = None

    def tearDown(self):
        SERVER.resume()
        if self.daemon and self.daemon.running():
            try:
                self.stop()
            finally:
                self.daemon.kill()
        if not SERVER.running():
            SERVER.start()
        SERVER.sql("DROP DATABASE IF EXISTS %s;" % self.db)
        self.work.cleanup()

    def sql(self, text):
        return SERVER.sql(text, self.db)

    def config(self, realtime=(), registrars=("regpbx1 = 10.0.0.1", "regpbx2 = 10.0.0.2"), database=None,
               general=(), registrations=("statefile = none",)):
        rt = ["socket = %s" % SERVER.socket, "user = %s" % DB_USER, "password = %s" % DB_PASSWORD.replace(";", "\\;"),
              "database = %s" % (database or self.db), "schema = %s" % self.SCHEMA, "poll = 1"] + list(realtime)
        return "\n".join([
            "[general]", "bindaddr = %s" % HOST, "port = %d" % PORT, "entityid = %s" % EID,
            "ipaddr = %s" % HOST, "cachetime = 30"] + list(general) + [
            "[registrations]"] + list(registrations) + [
            "[mappings]",
            "priv => sipregistration,0,IAX2,priv:secret@${REGISTRAR}/${NUMBER},nopartial",
            "phone => sipregistration,0,SIP,${CONTACT},nopartial",
            "[%s]" % CLIENT_EID, "model = inbound", "permit = priv", "permit = phone",
            "[realtime]"] + rt + ["[registrars]"] + list(registrars)) + "\n"

    def start(self, **kw):
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(self.config(**kw))
        self.conf_path = path
        self.daemon = Daemon(path, self.work.name).start()
        self.assertTrue(self.daemon.wait_log("realtime: loaded", timeout=10),
                        "no first load:\n" + self.daemon.log())
        return self.daemon

    def stop(self):
        """SIGTERM; a clean exit (sanitizer reports make it fail) and the final counters."""
        self.daemon.stop()
        log = self.daemon.log()
        self.assertEqual(self.daemon.exit_code, 0, "dundid exit status:\n" + log[-4000:])
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error", log)
        return counters(log)

    def insert_sip(self, name, contact, expires, regserver="regpbx1", ip="10.10.10.61", port=5060,
                   table="sippeers"):
        self.sql("INSERT INTO %s (name, type, host, fullcontact, regseconds, ipaddr, port, regserver, useragent) "
                 "VALUES ('%s', 'friend', 'dynamic', '%s', %d, '%s', %d, '%s', 'test phone')"
                 % (table, name, contact, expires, ip, port, regserver))

    def insert_contact(self, aor, tag, uri, expires, regserver="regpbx1", endpoint=None):
        self.sql("INSERT INTO ps_contacts (id, uri, expiration_time, qualify_frequency, user_agent, reg_server, "
                 "via_addr, via_port, endpoint, prune_on_boot) VALUES ('%s;@%s', '%s', %d, 60, 'test phone', '%s', "
                 "'10.10.30.21', 5060, '%s', 'no')" % (aor, tag, uri, expires, regserver, endpoint or aor))


HEP_ADDR = ("127.0.45.1", 45650)
HEP_FROM = "127.0.45.2"
PHONE_IP = "10.10.10.61"


def hep3(src, dst, sport, dport, payload):
    """A HEPv3 packet (our own encoder, independent of dundid's decoder)."""
    def chunk(ctype, value):
        return struct.pack("!HHH", 0, ctype, 6 + len(value)) + value
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, socket.inet_aton(src)) + chunk(4, socket.inet_aton(dst))
            + chunk(7, struct.pack("!H", sport)) + chunk(8, struct.pack("!H", dport))
            + chunk(9, struct.pack("!I", now())) + chunk(10, struct.pack("!I", 0))
            + chunk(11, b"\x01") + chunk(12, struct.pack("!I", 2001)) + chunk(15, payload))
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def sip_register(user, registrar, expires, call_id, cseq):
    return ("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s%d\r\n"
            "From: <sip:%s@%s>;tag=f1\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n"
            "Contact: <sip:%s@%s:5060>\r\nExpires: %d\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
            "Content-Length: 0\r\n\r\n" % (registrar, PHONE_IP, call_id, cseq, user, registrar, user, registrar,
                                           call_id, cseq, user, PHONE_IP, expires)).encode()


def sip_ok(user, registrar, expires, call_id, cseq):
    """chan_sip's 200 OK: the contact with its expiry, or no Contact at all for Expires: 0."""
    contact = "Contact: <sip:%s@%s:5060>;expires=%d\r\n" % (user, PHONE_IP, expires) if expires else ""
    return ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s%d;received=%s;rport=5060\r\n"
            "From: <sip:%s@%s>;tag=f1\r\nTo: <sip:%s@%s>;tag=as1\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n"
            "Server: Asterisk PBX 20\r\nExpires: %d\r\n%sContent-Length: 0\r\n\r\n"
            % (PHONE_IP, call_id, cseq, PHONE_IP, user, registrar, user, registrar, call_id, cseq, expires,
               contact)).encode()


def hep_transaction(user, registrar, expires, call_id, cseq):
    """The REGISTER and its 200 OK as the registrar's res_hep sends them."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((HEP_FROM, 0))
        s.sendto(hep3(PHONE_IP, registrar, 5060, 5060, sip_register(user, registrar, expires, call_id, cseq)),
                 HEP_ADDR)
        s.sendto(hep3(registrar, PHONE_IP, 5060, 5060, sip_ok(user, registrar, expires, call_id, cseq)), HEP_ADDR)
    finally:
        s.close()


class WireAndRealtimeTests(RealtimeCase):
    """RealTime (poll 1 s, resync 2 s) and HEP together, as with chan_sip and
    res_hep: the wire's unregistration wins over the database's rows."""

    def start_both(self, statefile="none"):
        return self.start(realtime=("resync = 2",),
                          registrations=("statefile = %s" % statefile, "hep = %s:%d" % HEP_ADDR))

    def test_1_unregistration_beats_stale_row(self):
        """chan_sip leaves the row of a never-registered peer as it was: the wire's word stands."""
        contact = "sip:1701@%s:5060" % PHONE_IP
        self.insert_sip("1701", contact, now() + 3600, ip=PHONE_IP)
        self.insert_sip("1702", "sip:1702@%s:5060" % PHONE_IP, now() + 3600, ip=PHONE_IP)
        self.start_both()
        self.assertEqual(answers("1701"), ["priv:secret@10.0.0.1/1701"])
        hep_transaction("1701", "10.0.0.1", 3600, "c1701", 1)     # the registration, on the wire too
        hep_transaction("1702", "10.0.0.1", 3600, "c1702", 1)
        self.assertEqual(answers("1701", "phone"), ["1701@%s:5060" % PHONE_IP], "one binding, two vouchers")
        # Expires: 0, answered with a 200 OK without Contact; the row stays.
        t0 = time.monotonic()
        hep_transaction("1701", "10.0.0.1", 0, "c1701", 2)
        wait_for(lambda: answers("1701") == [], 5, "1701 gone after the wire's unregistration")
        took = time.monotonic() - t0
        # Several polls and two full reads return the stale row: still gone.
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            self.assertEqual(answers("1701"), [], "the stale row brought it back")
            time.sleep(0.3)
        print("\n  wire unregistration to no answer: %.1f ms (RealTime poll 1 s, resync 2 s; the row stays)"
              % (took * 1000))
        self.assertEqual(answers("1702"), ["priv:secret@10.0.0.1/1702"], "the other phone is untouched")
        # A real re-registration that only the database shows: newer regseconds.
        self.sql("UPDATE sippeers SET regseconds = %d WHERE name = '1701'" % (now() + 3700))
        wait_for(lambda: answers("1701") == ["priv:secret@10.0.0.1/1701"], 6, "re-registration seen in RealTime")
        c = self.stop()
        self.assertGreaterEqual(c["departed"], 2)

    def test_2_unregistration_of_a_cleared_row(self):
        """The usual chan_sip unregistration (row cleared) and one the table never had."""
        self.insert_sip("1711", "sip:1711@%s:5060" % PHONE_IP, now() + 3600, ip=PHONE_IP)
        self.start_both()
        self.assertEqual(answers("1711"), ["priv:secret@10.0.0.1/1711"])
        hep_transaction("1711", "10.0.0.1", 0, "c1711", 2)
        self.sql("UPDATE sippeers SET fullcontact = '', regseconds = 0, ipaddr = '', port = 0, regserver = '' "
                 "WHERE name = '1711'")
        wait_for(lambda: answers("1711") == [], 5, "1711 gone")
        # A phone registered before dundid could see it, unregistering on the
        # wire before its row was ever read: the row that comes later is stale.
        hep_transaction("1712", "10.0.0.1", 0, "c1712", 2)
        self.insert_sip("1712", "sip:1712@%s:5060" % PHONE_IP, now() + 3000, ip=PHONE_IP)
        time.sleep(2.5)  # polls and a full read
        self.assertEqual(answers("1712"), [])
        # Registering on the wire again brings it back at once.
        hep_transaction("1712", "10.0.0.1", 3600, "c1712", 3)
        wait_for(lambda: answers("1712") == ["priv:secret@10.0.0.1/1712"], 5, "1712 registered again")
        self.stop()

    def test_3_departure_survives_restart(self):
        """The state file keeps what the wire saw leave: a restart does not let the stale row back."""
        state = os.path.join(self.work.name, "registrations.state")
        self.insert_sip("1721", "sip:1721@%s:5060" % PHONE_IP, now() + 3600, ip=PHONE_IP)
        self.start_both(state)
        hep_transaction("1721", "10.0.0.1", 3600, "c1721", 1)
        hep_transaction("1721", "10.0.0.1", 0, "c1721", 2)
        wait_for(lambda: answers("1721") == [], 5, "1721 gone")
        self.stop()
        with open(state) as f:
            text = f.read()
        self.assertTrue(text.startswith("# dundid registrations 2\n"), text)
        self.assertIn("D\t1721\t10.0.0.1\tsip:1721@%s:5060\t" % PHONE_IP, text)
        self.start_both(state)
        self.assertEqual(answers("1721"), [], "the stale row after a restart")
        c = self.stop()
        self.assertGreaterEqual(c["departed"], 1)


SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "realtime-schemas")


class SchemaTests(RealtimeCase):
    """Asterisk's current tables (contrib/mysql), older revisions, and tables
    with columns of their own or without some of ours: read by column name."""

    def load(self, path):
        self.sql("DROP TABLE IF EXISTS sippeers; DROP TABLE IF EXISTS ps_contacts;")
        SERVER.sql_file(path, self.db)

    def test_1_current_sippeers_takes_a_long_user_agent(self):
        """The first revision's useragent VARCHAR(20) refuses chan_sip's whole UPDATE in strict mode; the current
        table takes it, and dundid answers the row."""
        ua = "Yealink SIP-T46S 66.86.0.15"
        update = ("UPDATE sippeers SET fullcontact = 'sip:1801@10.10.10.61:5060', regseconds = %d, "
                  "ipaddr = '10.10.10.61', port = 5060, regserver = 'regpbx1', useragent = '%s' WHERE name = '1801'"
                  % (now() + 3600, ua))
        self.load(os.path.join(SCHEMAS, "sippeers-4da0c5f79a9c.sql"))
        self.sql("INSERT INTO sippeers (name) VALUES ('1801')")
        with self.assertRaises(Exception, msg="strict mode: the old column is too short") as cm:
            self.sql(update)
        self.assertIn("useragent", str(cm.exception))
        self.load(os.path.join(CONTRIB, "sippeers.sql"))
        self.sql("INSERT INTO sippeers (name) VALUES ('1801')")
        self.sql(update)
        self.start()
        self.assertEqual(answers("1801"), ["priv:secret@10.0.0.1/1801"])
        c = self.stop()
        self.assertEqual(c["bad"], 0)

    def test_2_old_sippeers(self):
        """The first revision still reads (a user agent that fits)."""
        self.load(os.path.join(SCHEMAS, "sippeers-4da0c5f79a9c.sql"))
        self.insert_sip("1811", "sip:1811@10.10.10.61:5060", now() + 3600)
        self.start()
        self.assertEqual(answers("1811"), ["priv:secret@10.0.0.1/1811"])

    def test_3_odd_sippeers(self):
        """Columns in another order and case, extra ones, no ipaddr/port/regserver/useragent."""
        self.load(os.path.join(SCHEMAS, "sippeers-odd.sql"))
        self.sql("INSERT INTO sippeers (Notes, RegSeconds, secret, FULLCONTACT, name, lastms) VALUES "
                 "('desk', %d, 'x', 'sip:1821@10.10.10.62:5062', '1821', 12)" % (now() + 3600))
        self.start(realtime=("default_registrar = 10.0.0.9",))
        self.assertEqual(answers("1821"), ["priv:secret@10.0.0.9/1821"])
        self.assertEqual(answers("1821", "phone"), ["1821@10.10.10.62:5062"])

    def test_4_missing_needed_column(self):
        """No regseconds: a clear error naming it, nothing loaded, no crash."""
        self.load(os.path.join(SCHEMAS, "sippeers-no-regseconds.sql"))
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(self.config())
        self.daemon = Daemon(path, self.work.name).start()
        self.assertTrue(self.daemon.wait_log("no column regseconds", timeout=10), self.daemon.log())
        self.assertIn("table sippeers: the table has no column regseconds (chan_sip needs it)", self.daemon.log())
        self.assertNotIn("realtime: loaded", self.daemon.log())
        self.stop()

    def test_5_pjsip_revisions(self):
        """ps_contacts of 2014 (no reg_server, via_*, endpoint; text expiry), before 2023, and current."""
        for name, has_via in (("ps_contacts-e96a0b8071c.sql", False), ("ps_contacts-before-dac2b4c328b8.sql", True),
                              (os.path.join("..", "..", "..", "contrib", "mysql", "ps_contacts.sql"), True)):
            self.load(os.path.join(SCHEMAS, name))
            if has_via:
                self.insert_contact("1831", "t1", "sip:1831@10.10.30.21:5060", now() + 3600)
            else:
                self.sql("INSERT INTO ps_contacts (id, uri, expiration_time, qualify_frequency, user_agent) VALUES "
                         "('1831;@t1', 'sip:1831@10.10.30.21:5060', '%d', 60, 'old phone')" % (now() + 3600))
            self.start(realtime=("schema = pjsip", "default_registrar = 10.0.0.9"))
            want = "10.0.0.1" if has_via else "10.0.0.9"  # no reg_server column: the default registrar
            self.assertEqual(answers("1831"), ["priv:secret@%s/1831" % want], name)
            c = self.stop()
            self.assertEqual(c["bad"], 0, name)


class ChanSipTests(RealtimeCase):
    def metrics(self):
        """GET /metrics over loopback TCP: {"name{labels}": value}."""
        conn = http.client.HTTPConnection(HOST, METRICS_PORT, timeout=5)
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            body = resp.read().decode()
        finally:
            conn.close()
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v) if "." in v else int(v)  # a histogram's _sum is in seconds
        return out

    def test_1_load_and_answer(self):
        """The sample rows: mapped, unmapped, unregistered and registrar-less peers."""
        SERVER.sql_file(os.path.join(CONTRIB, "sample-rows.sql"), self.db)
        self.start(general=("metrics = %s:%d" % (HOST, METRICS_PORT),))
        self.assertEqual(answers("1001"), ["priv:secret@10.0.0.1/1001"])
        self.assertEqual(answers("1002"), ["priv:secret@10.0.0.1/1002"])
        self.assertEqual(answers("1003"), ["priv:secret@10.0.0.2/1003"])
        self.assertEqual(answers("1002", "phone"), ["1002@10.10.10.63:5060"])
        self.assertEqual(answers("1004"), [], "an unregistered peer (fullcontact '', regseconds 0)")
        self.assertEqual(answers("1005"), [], "empty regserver and no default_registrar")
        self.assertEqual(answers("9999"), [])
        # dundiq, the operator's tool, sees the same.
        rc, out, err = dundiq("--timeout", 3000, "--eid", CLIENT_EID, "%s:%d" % (HOST, PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("IAX2/priv:secret@10.0.0.1/1001", out)
        # The feed's status on the metrics endpoint.
        self.assertTrue(self.daemon.wait_log("/metrics", 5), self.daemon.log())
        m = self.metrics()
        self.assertEqual(m["dundid_realtime_connected"], 1)
        self.assertEqual(m['dundid_registrations{feed="realtime"}'], 3)
        self.assertGreaterEqual(m['dundid_realtime_queries_total{kind="full"}'], 1)
        self.assertGreaterEqual(m['dundid_realtime_rows_total{result="no_registrar"}'], 1)
        SERVER.kill()
        wait_for(lambda: self.metrics()["dundid_realtime_connected"] == 0, 10, "metrics show the loss")
        self.assertEqual(self.metrics()["dundid_realtime_losses_total"], 1)
        SERVER.start()
        c = self.stop()
        self.assertGreaterEqual(c["no_registrar"], 1)
        self.assertGreaterEqual(c["full_loads"], 1)
        self.assertEqual(c["bad"], 0)

    def test_2_update_within_poll(self):
        """A REGISTER elsewhere (regserver and contact rewritten) shows within the poll."""
        SERVER.sql_file(os.path.join(CONTRIB, "dundid-indexes.sql"), self.db)
        self.insert_sip("1101", "sip:1101@10.10.10.61:5060", now() + 3600)
        self.start()
        self.assertEqual(answers("1101"), ["priv:secret@10.0.0.1/1101"])
        # chan_sip rewrites the row on every REGISTER: a new expiry, here at another server.
        self.sql("UPDATE sippeers SET regserver = 'regpbx2', fullcontact = 'sip:1101@10.10.20.5:5062', "
                 "regseconds = %d WHERE name = '1101'" % (now() + 3601))
        t0 = time.monotonic()
        wait_for(lambda: answers("1101") == ["priv:secret@10.0.0.2/1101"], 6, "moved to regpbx2")
        print("\n  update seen after %.2f s (poll 1 s)" % (time.monotonic() - t0))
        self.assertEqual(answers("1101", "phone"), ["1101@10.10.20.5:5062"], "the old contact is gone")
        # A new phone registering.
        self.insert_sip("1102", "sip:1102@10.10.10.62:5060", now() + 3602)
        wait_for(lambda: answers("1102") == ["priv:secret@10.0.0.1/1102"], 6, "new registration")
        c = self.stop()
        self.assertGreaterEqual(c["polls"], 2)

    def test_3_expiry(self):
        """Expired regseconds is no answer: at load, when it runs out, and after an unregistration."""
        self.insert_sip("1201", "sip:1201@h:5060", now() - 10)          # expired before we start
        self.insert_sip("1202", "sip:1202@h:5060", now() + 3)           # runs out while we watch
        self.insert_sip("1203", "sip:1203@h:5060", now() + 3600)        # will unregister
        self.start(realtime=("resync = 2",))
        self.assertEqual(answers("1201"), [])
        self.assertEqual(answers("1202"), ["priv:secret@10.0.0.1/1202"])
        self.assertEqual(answers("1203"), ["priv:secret@10.0.0.1/1203"])
        wait_for(lambda: answers("1202") == [], 8, "1202 expired")
        # What chan_sip writes on an unregistration: no incremental poll sees
        # that (regseconds went down), the resync does.
        self.sql("UPDATE sippeers SET fullcontact = '', regseconds = 0, ipaddr = '', port = 0, regserver = '' "
                 "WHERE name = '1203'")
        wait_for(lambda: answers("1203") == [], 8, "1203 unregistered")
        c = self.stop()
        self.assertGreaterEqual(c["stale_removed"], 1)

    def test_4_sip_table_and_default_registrar(self):
        """The cluster paper's table name 'sip'; rows without regserver use default_registrar."""
        SERVER.sql_file(os.path.join(CONTRIB, "sip.sql"), self.db)
        self.insert_sip("1301", "sip:1301@h:5060", now() + 3600, regserver="", table="sip")
        self.insert_sip("1302", "sip:1302@h:5060", now() + 3600, regserver="regpbx9", table="sip")
        self.start(realtime=("table = sip", "default_registrar = 10.0.0.9"))
        self.assertEqual(answers("1301"), ["priv:secret@10.0.0.9/1301"])
        self.assertEqual(answers("1302"), ["priv:secret@regpbx9/1302"], "unmapped: the name itself")

    def test_5_bad_rows_are_counted(self):
        """Rows the decoder refuses are skipped and counted; the others still load."""
        self.insert_sip("1401", "sip:1401@h:5060", now() + 3600)
        self.insert_sip("14 02", "sip:1402@h:5060", now() + 3600)       # space in the name
        self.insert_sip("1403", "http://1403@h", now() + 3600)          # not a SIP URI
        self.insert_sip("1404", "sip:1404@h:5060", now() + 3600, ip="not-an-ip")
        self.sql("UPDATE sippeers SET regseconds = -5 WHERE name = '1401'")
        self.insert_sip("1405", "sip:1405@h:5060", now() + 3600)
        self.start()
        self.assertEqual(answers("1405"), ["priv:secret@10.0.0.1/1405"])
        self.assertEqual(answers("1403"), [])
        c = self.stop()
        self.assertGreaterEqual(c["bad"], 3)

    def test_6_database_killed_and_restarted(self):
        """mariadbd dies: answers keep coming from memory; it comes back: dundid reconnects."""
        for i in range(20):
            self.insert_sip("15%02d" % i, "sip:15%02d@h:5060" % i, now() + 3600)
        self.start()
        before = [lookup("1507")[1] for _ in range(20)]
        SERVER.kill()
        self.assertTrue(self.daemon.wait_log("realtime: connection to", timeout=10), self.daemon.log())
        during = []
        for _ in range(20):
            dests, took = lookup("1507")
            self.assertEqual(dests, ["priv:secret@10.0.0.1/1507"], "answered from memory")
            during.append(took)
        print("\n  lookup latency, database up: median %.2f ms max %.2f ms; database dead: median %.2f ms max %.2f ms"
              % (1000 * sorted(before)[10], 1000 * max(before), 1000 * sorted(during)[10], 1000 * max(during)))
        SERVER.start()
        self.assertTrue(self.daemon.wait_log("realtime: connected", timeout=40, count=2),
                        "no reconnect:\n" + self.daemon.log())
        self.insert_sip("1599", "sip:1599@h:5060", now() + 3600)
        wait_for(lambda: answers("1599") == ["priv:secret@10.0.0.1/1599"], 6, "change after the restart")
        log = self.daemon.log()
        self.assertEqual(log.count("realtime: connection to"), 1, "one line for the loss, none per retry")
        c = self.stop()
        self.assertEqual(c["losses"], 1)
        self.assertEqual(c["connects"], 2)

    def test_7_database_hangs(self):
        """mariadbd stops answering (SIGSTOP) in the middle of polls: lookups still answer."""
        self.insert_sip("1601", "sip:1601@h:5060", now() + 3600)
        self.start()
        SERVER.pause()
        try:
            took = []
            deadline = time.monotonic() + 3
            for _ in range(100):
                if time.monotonic() >= deadline:
                    break
                dests, t = lookup("1601")
                self.assertEqual(dests, ["priv:secret@10.0.0.1/1601"])
                took.append(t)
                time.sleep(0.05)
            print("\n  lookup latency while the database hangs: %d lookups, max %.2f ms"
                  % (len(took), 1000 * max(took)))
        finally:
            SERVER.resume()
        self.insert_sip("1602", "sip:1602@h:5060", now() + 3600)
        wait_for(lambda: answers("1602") == ["priv:secret@10.0.0.1/1602"], 20, "polls resume")

    def test_8_ondemand(self):
        """A row written after the last poll is found by an on-demand query within the lookup."""
        self.insert_sip("1701", "sip:1701@h:5060", now() + 3600)
        self.start(realtime=("poll = 3600", "ondemand = yes", "ondemand_timeout = 1500"))
        self.assertEqual(answers("1701"), ["priv:secret@10.0.0.1/1701"])
        self.insert_sip("1702", "sip:1702@h:5060", now() + 3600)
        self.assertEqual(answers("1702"), ["priv:secret@10.0.0.1/1702"], "first lookup, no poll in between")
        self.assertEqual(answers("1703"), [], "not in the database either")
        # A hung database: the lookup goes on without it after ondemand_timeout.
        SERVER.pause()
        try:
            dests, took = lookup("1704", timeout=5)
            self.assertEqual(dests, [])
            print("\n  on-demand lookup with the database hung: answered after %.0f ms (timeout 1500 ms)"
                  % (1000 * took))
        finally:
            SERVER.resume()
        c = self.stop()
        self.assertGreaterEqual(c["ondemand_answered"], 2, self.daemon.log()[-3000:])
        self.assertGreaterEqual(c["ondemand_timeouts"], 1, self.daemon.log()[-3000:])
        self.assertEqual(c["polls"], 1, "only the first load: 1702 came from the on-demand query")

    def test_9_reload(self):
        """SIGHUP: same database keeps the connection; another one reconnects and replaces the rows."""
        self.insert_sip("1801", "sip:1801@h:5060", now() + 3600)
        self.start()
        self.daemon.signal(signal.SIGHUP)
        self.assertTrue(self.daemon.wait_log("configuration reloaded", timeout=5))
        time.sleep(1.5)
        self.assertEqual(self.daemon.log().count("realtime: connected"), 1, "unchanged: no reconnect")
        self.assertEqual(answers("1801"), ["priv:secret@10.0.0.1/1801"])
        # A second database with other rows.
        other = self.db + "b"
        SERVER.sql("CREATE DATABASE %s; GRANT SELECT ON %s.* TO '%s'@'localhost';" % (other, other, DB_USER))
        try:
            SERVER.sql_file(os.path.join(CONTRIB, "sippeers.sql"), other)
            SERVER.sql("INSERT INTO sippeers (name, fullcontact, regseconds, regserver) VALUES "
                       "('1802', 'sip:1802@h:5060', %d, 'regpbx2')" % (now() + 3600), other)
            with open(self.conf_path, "w") as f:
                f.write(self.config(database=other))
            self.daemon.signal(signal.SIGHUP)
            self.assertTrue(self.daemon.wait_log("realtime: connected", timeout=10, count=2), self.daemon.log())
            wait_for(lambda: answers("1802") == ["priv:secret@10.0.0.2/1802"], 6, "rows of the new database")
            wait_for(lambda: answers("1801") == [], 6, "rows of the old database gone")
        finally:
            SERVER.sql("DROP DATABASE IF EXISTS %s;" % other)

    def test_10_wrong_table(self):
        """A table that does not exist: one clear error, retries, the daemon keeps answering."""
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(self.config(realtime=("table = nosuchtable",)))
        self.daemon = Daemon(path, self.work.name).start()
        self.assertTrue(self.daemon.wait_log("nosuchtable", timeout=10), self.daemon.log())
        self.assertEqual(answers("1001"), [])
        time.sleep(2)
        self.assertEqual(self.daemon.log().count("realtime: cannot connect"), 1, "logged once, not per retry")
        c = self.stop()
        self.assertEqual(c["connects"], 0)


    def test_11_short_refresh_below_the_mark(self):
        """A refresh with a shorter expiry than the highest one seen escapes the
        incremental query; the re-check of expiring bindings still keeps it."""
        self.insert_sip("1901", "sip:1901@h:5060", now() + 3600)  # sets the mark an hour ahead
        self.insert_sip("1902", "sip:1902@h:5060", now() + 4)     # a phone with a short expiry
        self.start(realtime=("resync = 3600",))                   # no full reads to help
        self.assertEqual(answers("1902"), ["priv:secret@10.0.0.1/1902"])
        refreshed = now() + 30
        self.sql("UPDATE sippeers SET regseconds = %d WHERE name = '1902'" % refreshed)
        # Past the first expiry: still there, with the new one.
        while now() < refreshed - 24:
            time.sleep(0.2)
        self.assertEqual(answers("1902"), ["priv:secret@10.0.0.1/1902"], "refresh below the mark was missed")
        c = self.stop()
        self.assertGreaterEqual(c["rechecks"], 1)
        self.assertEqual(c["full_loads"], 1)

    def test_12_wrong_password_then_fixed(self):
        """Refused login: said once, retried quietly; a SIGHUP with the right password connects."""
        self.insert_sip("2201", "sip:2201@h:5060", now() + 3600)
        good = self.config()
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(good.replace("password = %s" % DB_PASSWORD.replace(";", "\\;"), "password = wrong"))
        self.daemon = Daemon(path, self.work.name).start()
        self.assertTrue(self.daemon.wait_log("Access denied", timeout=10), self.daemon.log())
        self.assertEqual(answers("2201"), [])
        time.sleep(2)  # several retries (backoff 0.5, 1, 2 s)
        self.assertEqual(self.daemon.log().count("realtime: cannot connect"), 1)
        with open(path, "w") as f:
            f.write(good)
        self.daemon.signal(signal.SIGHUP)
        self.assertTrue(self.daemon.wait_log("realtime: connected", timeout=40), self.daemon.log())
        wait_for(lambda: answers("2201") == ["priv:secret@10.0.0.1/2201"], 6, "answers after the fix")
        self.assertNotIn("wrong", self.daemon.log(), "passwords are never logged")

class PjsipTests(RealtimeCase):
    SCHEMA = "pjsip"

    def test_1_contacts(self):
        """ps_contacts: several contacts per AOR, refresh, deletion (what res_pjsip does on unregister)."""
        SERVER.sql_file(os.path.join(CONTRIB, "sample-rows.sql"), self.db)
        self.start(realtime=("resync = 2",), registrars=("regpbx3 = 10.0.0.3",))
        self.assertEqual(answers("2001"), ["priv:secret@10.0.0.3/2001"], "two contacts, one registrar: one answer")
        self.assertEqual(answers("2001", "phone"), ["2001@10.10.30.21:5060", "2001@10.10.30.99:5080;transport=udp"])
        self.assertEqual(answers("2002", "phone"), ["2002@10.10.30.22:5060"])
        # A new contact.
        self.insert_contact("2003", "aa11", "sip:2003@10.10.30.23:5060", now() + 3700, regserver="regpbx3")
        wait_for(lambda: answers("2003", "phone") == ["2003@10.10.30.23:5060"], 6, "new contact")
        # res_pjsip deletes a contact row on unregistration.
        self.sql("DELETE FROM ps_contacts WHERE id = '2001;@5a6b7c8d9e0f1a2b'")
        wait_for(lambda: answers("2001", "phone") == ["2001@10.10.30.21:5060"], 8, "deleted contact gone")
        # An expired row is no answer.
        self.sql("UPDATE ps_contacts SET expiration_time = %d WHERE id LIKE '2002;@%%'" % (now() - 1))
        wait_for(lambda: answers("2002", "phone") == [], 8, "expired contact gone")
        c = self.stop()
        self.assertGreaterEqual(c["stale_removed"], 2)

    def test_2_ondemand(self):
        self.start(realtime=("poll = 3600", "ondemand = yes", "ondemand_timeout = 1500"))
        self.insert_contact("2101", "bb22", "sip:2101@10.10.30.31:5060", now() + 3600)
        self.assertEqual(answers("2101"), ["priv:secret@10.0.0.1/2101"])


if __name__ == "__main__":
    _, main = harness.run_tests()
    try:
        SERVER_CHECK = mariadb.Server()
        SERVER_CHECK.cleanup()
    except mariadb.Unavailable as e:
        print("SKIP: %s" % e)
        sys.exit(77)
    main()
