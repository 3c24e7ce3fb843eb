#!/usr/bin/env python3
"""Registration storms and many RealTime rows, smaller than test/bench/storm,
checking that nothing is lost (no timing): every phone of a HEP storm and of
a storm captured on lo ends in the table, every row of the RealTime table is
loaded, again after mariadbd is killed and restarted, rows deleted are gone
after a resync, and the lookups that run meanwhile are all answered.

Uses the bench's own pieces (test/bench/storm, sip-storm, dundi-bench).
Addresses: 127.0.44.21, ports 45630 (DUNDi), 45631 (HEP), 45632/45633 (SIP
on lo for the capture). The capture needs root; RealTime needs mariadb-server
(each is skipped without; exit 77 when everything was skipped).
Usage: test_storm.py --build DIR
"""
import argparse
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)


def load_bench():
    path = os.path.join(ROOT, "test", "bench", "storm")
    loader = importlib.machinery.SourceFileLoader("storm_bench", path)
    spec = importlib.util.spec_from_loader("storm_bench", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    mod.ADDR, mod.PORT, mod.HEP_PORT = "127.0.44.21", 45630, 45631
    mod.SIP_REG, mod.SIP_PHONE = ("127.0.44.22", 45632), ("127.0.44.23", 45633)
    mod.CAPTURE_FILTER = "udp port 45632 and (udp[8:4] = 0x52454749 or udp[8:4] = 0x5349502f)"
    mod.PRELOAD = 1000
    return mod


S = load_bench()
BUILD = None
SKIPPED = []


class Args:
    rate = 1000


def storm(d, phones, seconds, args, first):
    a = Args()
    a.build = BUILD
    res, st, lost, gen = S.storm_run(a, d, args + ["--first", str(first)], phones, seconds, None)
    return res, st, lost, gen


class StormTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="dundid-storm-test-")

    def tearDown(self):
        self.tmp.cleanup()

    def check_exit(self, d):
        """A clean exit: sanitizer reports (the ASan tree) make the status non-zero."""
        self.assertEqual(d.p.returncode, 0, d.log()[-4000:])
        self.assertNotIn("Sanitizer", d.log())
        self.assertNotIn("runtime error", d.log())

    def check_lookups(self, res):
        self.assertGreater(res["lookups"], 0)
        self.assertEqual(res["timeouts"], 0, res)
        self.assertEqual(res["failed"], 0, res)
        self.assertEqual(res["answered"], res["lookups"], res)

    def test_hep_storm(self):
        """5000 phones through HEP in 1 s, then 5000 more at once: every one in the table."""
        d = S.Dundid(BUILD, self.tmp.name, "hep", reg="hep = %s:%d" % (S.ADDR, S.HEP_PORT))
        try:
            self.assertTrue(S.wait_until(lambda: d.answers(S.PRELOAD_FIRST), 30, "first answer"), d.log())
            first = 3000000
            for seconds in (1, 0.2):
                res, st, lost, gen = storm(d, 5000, seconds, ["--hep", "%s:%d" % (S.ADDR, S.HEP_PORT)], first)
                self.assertEqual(lost, 0, "%s %s" % (st, gen))
                self.assertEqual(st["hep_drops"], 0, st)
                self.check_lookups(res)
                first += 2000000
            self.assertEqual(d.stats()["reg_bindings"], S.PRELOAD + 10000)
            self.assertTrue(d.answers(3004999) and d.answers(5004999))
        finally:
            d.stop()
        self.check_exit(d)

    def test_capture_storm(self):
        """3000 phones as plain SIP on lo, captured by libpcap with the REGISTER filter."""
        if os.geteuid() != 0:
            SKIPPED.append("capture")
            self.skipTest("needs root for libpcap on lo")
        d = S.Dundid(BUILD, self.tmp.name, "cap", reg="capture = lo\ncapture_filter = %s\ncapture_buffer = 65536\ncapture_immediate = no"
                     % S.CAPTURE_FILTER)
        try:
            self.assertTrue(S.wait_until(lambda: d.answers(S.PRELOAD_FIRST), 30, "first answer"), d.log())
            res, st, lost, gen = storm(d, 3000, 1, ["--sip", "%s:%d" % S.SIP_REG, "%s:%d" % S.SIP_PHONE], 6000000)
            self.assertEqual(st["capture_drops"], 0, st)
            self.assertEqual(lost, 0, "%s %s" % (st, gen))
            self.check_lookups(res)
            self.assertTrue(d.answers(6002999))
        finally:
            d.stop()
        self.check_exit(d)

    def test_realtime_rows(self):
        """10 000 rows in sippeers and in ps_contacts: all loaded, again after a reconnect;
        deleted rows gone after the next full resync; lookups answered throughout."""
        import mariadb
        try:
            db = mariadb.Server()
        except mariadb.Unavailable as e:
            SKIPPED.append("realtime")
            self.skipTest(str(e))
        db.start()
        try:
            db.sql("CREATE USER dundid@localhost IDENTIFIED BY 'storm'; GRANT SELECT ON *.* TO dundid@localhost")
            for schema, table, key in (("chan_sip", "sippeers", "name"), ("pjsip", "ps_contacts", "endpoint")):
                rows = 10000
                S.load_rows(db, schema, rows, int(S.time.time()))
                extra = ("[realtime]\nsocket = %s\nuser = dundid\npassword = storm\ndatabase = ast\nschema = %s\n"
                         "table = %s\npoll = 1\nresync = 3\n[registrars]\nregpbx1 = 10.0.0.1\n"
                         % (db.socket, schema, table))
                d = S.Dundid(BUILD, self.tmp.name, "rt", extra=extra, state=False)
                try:
                    lk = S.Lookups(BUILD, 500, 4, numbers=S.row_numbers(rows))
                    self.assertTrue(S.wait_until(lambda: d.stats()["reg_bindings"] == rows, 60, "load"), d.log())
                    self.check_lookups(lk.result())
                    rt0 = d.ctljson("show", "realtime")
                    db.kill()
                    db.start()
                    self.assertTrue(S.wait_until(lambda: d.ctljson("show", "realtime")["full_loads"]
                                                 > rt0["full_loads"] and d.ctljson("show", "realtime")["connects"]
                                                 > rt0["connects"], 60, "reload"), d.log())
                    self.assertEqual(d.stats()["reg_bindings"], rows)
                    db.sql("DELETE FROM %s WHERE %s >= %d" % (table, key, 1000000 + rows - 250), "ast")
                    self.assertTrue(S.wait_until(lambda: d.stats()["reg_bindings"] == rows - 250, 30, "resync"),
                                    "%s\n%s" % (d.stats(), d.log()))
                    self.assertTrue(d.answers(1000000) and not d.answers(1000000 + rows - 1))
                finally:
                    d.stop()
                self.check_exit(d)
        finally:
            db.stop()
            db.cleanup()


def main():
    global BUILD
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    a, rest = ap.parse_known_args()
    BUILD = a.build
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
