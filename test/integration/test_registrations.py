#!/usr/bin/env python3
"""Integration tests of the registration table (issue 4): real SIP traffic
from sipp captured with libpcap on lo, HEPv3/HEPv2 copies sent to the HEP
listener, a pcap file replayed at start, and the state file across restarts.
dundid answers regcontext mappings from what it saw; dundiq asks.

Addresses: dundid 127.0.30.1 (DUNDi port 45280, HEP 127.0.30.1:45290);
registrars 127.0.31.2 and 127.0.31.4, phones 127.0.31.3, all SIP on udp
port 45270/45271 (the capture filter keeps other tests' traffic out)."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import unittest

import harness

HOST = "127.0.30.1"
PORT = 45280
HEP_PORT = 45290
SIP_PORT = 45270
PHONE_PORT = 45271
REG_A, PHONES, REG_B, REG_REFUSE, REG_TCP = "127.0.31.2", "127.0.31.3", "127.0.31.4", "127.0.31.5", "127.0.31.6"
CLIENT_EID = "02:00:00:00:00:99"
HERE = os.path.dirname(os.path.abspath(__file__))
SIPP = shutil.which("sipp")


def config(workdir, reg_lines, cachetime=300):
    return "\n".join([
        "[general]", "bindaddr = %s" % HOST, "port = %d" % PORT, "entityid = 02:00:00:00:30:01",
        "cachetime = %d" % cachetime, "",
        "[registrations]", "statefile = %s" % os.path.join(workdir, "registrations.state")] + list(reg_lines) + [
        "",
        "[mappings]",
        "priv => sipregistration,0,IAX2,priv:secret@${REGISTRAR}/${NUMBER},nopartial",
        "direct => sipregistration,0,SIP,${CONTACT},nopartial",
        "",
        "[%s]" % CLIENT_EID, "model = inbound", "permit = all", ""])


def lookup(number, context="priv"):
    """(dests, expiration) of a dundiq lookup."""
    rc, out, err = harness.dundiq("--json", "--eid", CLIENT_EID, "%s:%d" % (HOST, PORT), "%s@%s" % (number, context))
    if rc not in (0, 1):
        raise AssertionError("dundiq failed (%d): %s" % (rc, err))
    doc = json.loads(out)
    return sorted("%s/%s" % (a["tech"], a["dest"]) for a in doc["answers"]), doc["expiration"]


def wait_for(pred, timeout=5.0):
    """Poll pred() until it is true or the time is up; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


# ---------------------------------------------------------------- SIP text


def register(user, registrar, expires, call_id, cseq=1, phone=PHONES, contact_expires=True):
    contact = "<sip:%s@%s:%d>%s" % (user, phone, PHONE_PORT, (";expires=%d" % expires) if contact_expires else "")
    return ("REGISTER sip:%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s%d\r\n"
            "From: <sip:%s@%s>;tag=f%s\r\n"
            "To: <sip:%s@%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: %s\r\n"
            "Expires: %d\r\n"
            "User-Agent: TestPhone %s\r\n"
            "Content-Length: 0\r\n\r\n" % (registrar, SIP_PORT, phone, PHONE_PORT, call_id, cseq, user, registrar,
                                           call_id, user, registrar, call_id, cseq, contact, expires, user)).encode()


def ok(user, registrar, expires, call_id, cseq=1, phone=PHONES, status="200 OK"):
    contact = ("Contact: <sip:%s@%s:%d>;expires=%d\r\n" % (user, phone, PHONE_PORT, expires)) if expires else ""
    return ("SIP/2.0 %s\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s%d\r\n"
            "From: <sip:%s@%s>;tag=f%s\r\n"
            "To: <sip:%s@%s>;tag=r%s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d REGISTER\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n" % (status, phone, PHONE_PORT, call_id, cseq, user, registrar, call_id, user,
                                           registrar, call_id, call_id, cseq, contact)).encode()


# ---------------------------------------------------------------- HEP and pcap encoders (independent of dundid's)


def hep3(src, dst, sport, dport, payload, password=None):
    def chunk(ctype, value):
        return struct.pack("!HHH", 0, ctype, 6 + len(value)) + value
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, socket.inet_aton(src)) + chunk(4, socket.inet_aton(dst))
            + chunk(7, struct.pack("!H", sport)) + chunk(8, struct.pack("!H", dport))
            + chunk(9, struct.pack("!I", int(time.time()))) + chunk(10, struct.pack("!I", 0))
            + chunk(11, b"\x01") + chunk(12, struct.pack("!I", 2001)))
    if password is not None:
        body += chunk(14, password.encode())
    body += chunk(15, payload)
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def hep2(src, dst, sport, dport, payload):
    hdr = struct.pack("!BBBBHH", 2, 16, 2, 17, sport, dport) + socket.inet_aton(src) + socket.inet_aton(dst)
    return hdr + struct.pack("<IIHH", int(time.time()), 0, 2001, 0) + payload


def udp_frame(src, dst, sport, dport, payload):
    """Ethernet + IPv4 + UDP, checksums left 0 (as a capture of lo may show)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, socket.inet_aton(src),
                     socket.inet_aton(dst))
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(fr), len(fr)))
            f.write(fr)


# ---------------------------------------------------------------- base


class RegBase(unittest.TestCase):
    REG = []

    def start_daemon(self, reg_lines=None, cachetime=300):
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(config(self.work.name, self.REG if reg_lines is None else reg_lines, cachetime))
        self.d = harness.Daemon(path, self.work.name)
        self.d.start()
        return self.d

    def setUp(self):
        self.work = harness.make_workdir("dundid-reg-")
        self.d = None

    def tearDown(self):
        if self.d and self.d.running():
            self.d.stop()
        self.work.cleanup()


# ---------------------------------------------------------------- sipp + libpcap on lo


@unittest.skipUnless(os.geteuid() == 0, "live capture on lo needs root")
@unittest.skipUnless(SIPP, "sipp (Debian package sip-tester) is not installed")
class SippCaptureTests(RegBase):
    REG = ["capture = lo", "capture_filter = port %d" % SIP_PORT]

    def setUp(self):
        super().setUp()
        self.uas = []
        self.start_daemon()
        self.d.wait_log("capturing SIP on lo")

    def tearDown(self):
        for p in self.uas:
            p.kill()
            p.wait()
        super().tearDown()

    def registrar(self, ip, scenario="uas-registrar.xml", transport="u1"):
        p = subprocess.Popen([SIPP, "-sf", os.path.join(HERE, "sipp", scenario), "-i", ip, "-p", str(SIP_PORT),
                              "-t", transport, "-nostdin", "-timeout", "120s", "-timeout_error"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=self.work.name)
        self.uas.append(p)
        time.sleep(0.3)  # let it bind
        return p

    def phones(self, registrar, users, expires, rate=500, transport="u1"):
        csv = os.path.join(self.work.name, "users.csv")
        with open(csv, "w") as f:
            f.write("SEQUENTIAL\n" + "".join("%s;%d;\n" % (u, expires) for u in users))
        p = subprocess.run([SIPP, "-sf", os.path.join(HERE, "sipp", "uac-register.xml"), "-inf", csv,
                            "-i", PHONES, "-p", str(PHONE_PORT), "-m", str(len(users)), "-r", str(rate),
                            "-t", transport,
                            "-l", "200", "-nostdin", "-timeout", "60s", "-timeout_error",
                            "%s:%d" % (registrar, SIP_PORT)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           cwd=self.work.name, timeout=90)
        return p.returncode

    def test_hundreds_of_phones_answered(self):
        self.registrar(REG_A)
        users = [str(10000 + i) for i in range(300)]
        self.assertEqual(self.phones(REG_A, users, 3600), 0, "sipp UAC: every REGISTER got its 200 OK")
        last = users[-1]
        self.assertTrue(wait_for(lambda: lookup(last)[0]), "the last phone is answered")
        for u in users[::37] + [last]:
            dests, exp = lookup(u)
            self.assertEqual(dests, ["IAX2/priv:secret@%s/%s" % (REG_A, u)], u)
            self.assertTrue(0 < exp <= 300, exp)
            dests, _ = lookup(u, "direct")
            self.assertEqual(dests, ["SIP/%s@%s:%d" % (u, PHONES, PHONE_PORT)], u)
        dests, exp = lookup("19999")
        self.assertEqual(dests, [])
        self.assertEqual(exp, 60, "not registered: cached for negative_cachetime only")

    def test_tcp_registration(self):
        """A REGISTER and its 200 OK over TCP, each whole in one segment."""
        self.registrar(REG_TCP, transport="t1")
        self.assertEqual(self.phones(REG_TCP, ["2501", "2502"], 3600, transport="t1"), 0)
        self.assertTrue(wait_for(lambda: lookup("2502")[0]), "TCP registrations are seen")
        self.assertEqual(lookup("2501")[0], ["IAX2/priv:secret@%s/2501" % REG_TCP])

    def test_move_unregister_expire_refuse(self):
        self.registrar(REG_A)
        self.registrar(REG_B)
        self.registrar(REG_REFUSE, "uas-refuse.xml")
        self.assertEqual(self.phones(REG_A, ["2001", "3001"], 3600), 0)
        self.assertTrue(wait_for(lambda: lookup("2001")[0]))
        # The phone re-registers at the other registrar: answered there at once.
        t0 = time.monotonic()
        self.assertEqual(self.phones(REG_B, ["2001"], 3600), 0)
        moved = wait_for(lambda: lookup("2001")[0] == ["IAX2/priv:secret@%s/2001" % REG_B])
        print("re-REGISTER to answer at the new registrar: %.0f ms (includes sipp start)"
              % ((time.monotonic() - t0) * 1000))
        self.assertTrue(moved, lookup("2001"))
        # Unregister (expires=0): the answer goes.
        self.assertEqual(self.phones(REG_A, ["3001"], 0), 0)
        self.assertTrue(wait_for(lambda: lookup("3001")[0] == []), lookup("3001"))
        # A short registration expires by itself.
        self.assertEqual(self.phones(REG_A, ["4001"], 2), 0)
        dests, exp = lookup("4001")
        self.assertEqual(dests, ["IAX2/priv:secret@%s/4001" % REG_A])
        self.assertLessEqual(exp, 2, "EXPIRATION never outlives the binding")
        self.assertTrue(wait_for(lambda: lookup("4001")[0] == [], timeout=5), lookup("4001"))
        # A registrar that answers 403: nothing is committed.
        self.assertNotEqual(self.phones(REG_REFUSE, ["5001"], 3600), 0, "sipp sees the 403")
        time.sleep(0.3)
        self.assertEqual(lookup("5001")[0], [])


# ---------------------------------------------------------------- HEP


class HepTests(RegBase):
    REG = ["hep = %s:%d" % (HOST, HEP_PORT), "hep_password = s3cret", "hep_allow = 127.0.30.0/24"]

    def setUp(self):
        super().setUp()
        self.start_daemon()
        self.d.wait_log("listening for HEP")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.30.5", 0))

    def tearDown(self):
        self.sock.close()
        super().tearDown()

    def send_pair(self, user, registrar, expires, call_id, password="s3cret", version=3):
        req, resp = register(user, registrar, expires, call_id), ok(user, registrar, expires, call_id)
        if version == 3:
            a = hep3(PHONES, registrar, PHONE_PORT, SIP_PORT, req, password)
            b = hep3(registrar, PHONES, SIP_PORT, PHONE_PORT, resp, password)
        else:
            a = hep2(PHONES, registrar, PHONE_PORT, SIP_PORT, req)
            b = hep2(registrar, PHONES, SIP_PORT, PHONE_PORT, resp)
        self.sock.sendto(a, (HOST, HEP_PORT))
        self.sock.sendto(b, (HOST, HEP_PORT))

    def test_hep3_commits_and_wrong_password_is_ignored(self):
        self.send_pair("6001", REG_A, 3600, "hep-a")
        self.assertTrue(wait_for(lambda: lookup("6001")[0] == ["IAX2/priv:secret@%s/6001" % REG_A]))
        self.send_pair("6002", REG_A, 3600, "hep-b", password="wrong")
        self.send_pair("6003", REG_A, 3600, "hep-c", password=None)
        time.sleep(0.3)
        self.assertEqual(lookup("6002")[0], [])
        self.assertEqual(lookup("6003")[0], [])
        # A 401 challenge never commits; the 200 to the authenticated retry does.
        self.sock.sendto(hep3(PHONES, REG_B, PHONE_PORT, SIP_PORT, register("6004", REG_B, 600, "hep-d"), "s3cret"),
                         (HOST, HEP_PORT))
        self.sock.sendto(hep3(REG_B, PHONES, SIP_PORT, PHONE_PORT,
                              ok("6004", REG_B, 600, "hep-d", status="401 Unauthorized"), "s3cret"),
                         (HOST, HEP_PORT))
        time.sleep(0.3)
        self.assertEqual(lookup("6004")[0], [])
        self.sock.sendto(hep3(PHONES, REG_B, PHONE_PORT, SIP_PORT, register("6004", REG_B, 600, "hep-d", 2),
                              "s3cret"), (HOST, HEP_PORT))
        self.sock.sendto(hep3(REG_B, PHONES, SIP_PORT, PHONE_PORT, ok("6004", REG_B, 600, "hep-d", 2), "s3cret"),
                         (HOST, HEP_PORT))
        self.assertTrue(wait_for(lambda: lookup("6004")[0] == ["IAX2/priv:secret@%s/6004" % REG_B]))
        # Junk on the HEP port changes nothing and the daemon keeps answering.
        for junk in (b"", b"HEP3", b"HEP3\xff\xff" + b"\x00" * 40, os.urandom(300)):
            self.sock.sendto(junk, (HOST, HEP_PORT))
        self.assertEqual(lookup("6001")[0], ["IAX2/priv:secret@%s/6001" % REG_A])

    def test_hep_allow(self):
        outsider = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        outsider.bind(("127.0.29.5", 0))
        try:
            req, resp = register("6101", REG_A, 3600, "hep-x"), ok("6101", REG_A, 3600, "hep-x")
            outsider.sendto(hep3(PHONES, REG_A, PHONE_PORT, SIP_PORT, req, "s3cret"), (HOST, HEP_PORT))
            outsider.sendto(hep3(REG_A, PHONES, SIP_PORT, PHONE_PORT, resp, "s3cret"), (HOST, HEP_PORT))
        finally:
            outsider.close()
        time.sleep(0.3)
        self.assertEqual(lookup("6101")[0], [], "HEP from outside hep_allow is dropped")


class Hep2Tests(RegBase):
    REG = ["hep = %s:%d" % (HOST, HEP_PORT)]

    def test_hep2_commits(self):
        self.start_daemon()
        self.d.wait_log("listening for HEP")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            req, resp = register("6201", REG_A, 3600, "hep2-a"), ok("6201", REG_A, 3600, "hep2-a")
            s.sendto(hep2(PHONES, REG_A, PHONE_PORT, SIP_PORT, req), (HOST, HEP_PORT))
            s.sendto(hep2(REG_A, PHONES, SIP_PORT, PHONE_PORT, resp), (HOST, HEP_PORT))
        finally:
            s.close()
        self.assertTrue(wait_for(lambda: lookup("6201")[0] == ["IAX2/priv:secret@%s/6201" % REG_A]))


# ---------------------------------------------------------------- pcap replay and the state file


class ReplayAndStateTests(RegBase):
    def replay_config(self, frames):
        path = os.path.join(self.work.name, "regs.pcap")
        write_pcap(path, frames)
        return ["capture_file = %s" % path, "capture_filter = udp port %d" % SIP_PORT]

    def frames(self, users, registrar=REG_A, expires=3600):
        out = []
        for u in users:
            cid = "pc-%s" % u
            out.append(udp_frame(PHONES, registrar, PHONE_PORT, SIP_PORT, register(u, registrar, expires, cid)))
            out.append(udp_frame(registrar, PHONES, SIP_PORT, PHONE_PORT, ok(u, registrar, expires, cid)))
        return out

    def test_replay_then_restart_restores(self):
        users = [str(70000 + i) for i in range(2000)]
        self.start_daemon(self.replay_config(self.frames(users)))
        self.d.wait_log("replayed", timeout=10)
        self.assertEqual(lookup("70000")[0], ["IAX2/priv:secret@%s/70000" % REG_A])
        self.assertEqual(lookup("71999")[0], ["IAX2/priv:secret@%s/71999" % REG_A])
        # SIGTERM writes the state file; a restart without any feed answers from it.
        self.d.stop()
        state = os.path.join(self.work.name, "registrations.state")
        with open(state) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "# dundid registrations 2")
        self.assertEqual(lines[-1], "E\t2000\t0")
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o600)
        self.start_daemon([])
        self.d.wait_log("2000 binding(s) restored")
        self.assertEqual(lookup("71234")[0], ["IAX2/priv:secret@%s/71234" % REG_A])
        self.assertEqual(lookup("71234", "direct")[0], ["SIP/71234@%s:%d" % (PHONES, PHONE_PORT)])

    def test_corrupt_state_file_gives_empty_table(self):
        state = os.path.join(self.work.name, "registrations.state")
        good = "# dundid registrations 1\nB\t8001\t%s\tsip:8001@%s:5060\t\t%d\t%d\tpcap\tua\nE\t1\n" % (
            REG_A, PHONES, int(time.time()) + 3600, int(time.time()))
        with open(state, "w") as f:
            f.write(good)
        self.start_daemon([])
        self.d.wait_log("1 binding(s) restored")
        self.assertEqual(lookup("8001")[0], ["IAX2/priv:secret@%s/8001" % REG_A])
        self.d.kill()  # no state written: the file stays as it was
        for bad in (good[:-3], good.replace("pcap", "bogus"), good.replace("E\t1", "E\t2"), "\x00" * 100,
                    good.replace("8001\t", "8001\x01\t", 1)):
            with open(state, "w") as f:
                f.write(bad)
            self.start_daemon([])
            self.d.wait_log("not used")
            self.assertIn("starting with an empty table", self.d.log())
            self.assertEqual(lookup("8001")[0], [])
            self.d.kill()


class StateFileFolderTests(RegBase):
    """Issue 15: the default state file is not used without a feed (no error
    at stop); a configured one whose folder is missing is an error at start,
    said once."""

    def start_with_statefile(self, statefile, reg_lines):
        text = config(self.work.name, reg_lines).replace(
            "statefile = %s" % os.path.join(self.work.name, "registrations.state"), statefile)
        path = os.path.join(self.work.name, "dundid.conf")
        with open(path, "w") as f:
            f.write(text)
        self.d = harness.Daemon(path, self.work.name)
        self.d.start()

    def test_no_feed_no_state_file_lines(self):
        self.start_with_statefile("", [])  # the default file, no feed
        self.assertEqual(lookup("8001")[0], [])
        self.d.stop()
        self.assertNotIn("state file", self.d.log())

    def test_missing_folder_is_an_error_at_start(self):
        missing = os.path.join(self.work.name, "absent", "registrations.state")
        self.start_with_statefile("statefile = %s" % missing, ["hep = %s:%d" % (HOST, HEP_PORT)])
        self.d.wait_log("listening for HEP")
        self.assertIn("error: registration state file %s: its folder %s cannot be written" %
                      (missing, os.path.dirname(missing)), self.d.log())
        self.d.stop()
        self.assertEqual(self.d.log().count("state file"), 1, self.d.log())


if __name__ == "__main__":
    harness.run_tests()[1]()
