#!/usr/bin/env python3
"""Two lookup servers (contrib/asterisk/ha/), for real: two dundid lookup
servers, three dundid registration servers playing the registration PBXes
(as test_cluster.py does), RealTime on a two-node MariaDB Galera cluster, and
the failures of issue 14 item 4: a database node, the primary lookup server
(killed, then restarted) and a registration server die while lookups run.

Usage:
    test_ha.py --dundid PATH --dundiq PATH [unittest args]

Loopback, port 45700 (DUNDi), 45701 (HEP):
    LA  127.0.46.1  (02:00:00:00:46:01)  lookup server "primary", RealTime on Galera node 0
    LB  127.0.46.2  (02:00:00:00:46:02)  lookup server "secondary", RealTime on Galera node 1
    R1..R3 127.0.46.21-23 (02:00:00:00:46:2N)  registration servers; each peers with LA and LB
    the test's lookup client 127.0.46.30; Galera nodes 127.0.46.11/12, ports 45711/45712
    (gcomm +10, IST +20, SST +30).

Choices, explained in contrib/asterisk/ha/README.md:
- LA and LB are both `order = primary` on the registration servers. Asterisk
  (and dundid) go to a higher order only when no peer of the lower order can
  be asked at all, so with primary/secondary every lookup is lost until a
  ping has marked the dead primary unreachable; in one order both are asked,
  the survivor answers and a dead one costs a wait, not a call.
- Both lookup servers get every registration by HEP (the test sends each
  copy to both, as a HEP relay would) and read the same RealTime table, each
  from its own Galera node; no precache between them: neither depends on the
  other being up, and what one missed while it was down comes back from the
  database and its state file, not from the other.

Without Galera (not installed, or the cluster does not form here) the
driver prints the reason and exits 77 (a ctest skip).
"""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import galera  # noqa: E402
import harness  # noqa: E402
from harness import Client  # noqa: E402
import test_registrations as tr  # noqa: E402

PORT, HEP_PORT = 45700, 45701
LA = ("127.0.46.1", "02:00:00:00:46:01")
LB = ("127.0.46.2", "02:00:00:00:46:02")
R = {i: ("127.0.46.2%d" % i, "02:00:00:00:46:2%d" % i) for i in (1, 2, 3)}
CLIENT_HOST, CLIENT_EID = "127.0.46.30", "02:00:00:00:00:99"
DB_NODES = [("127.0.46.11", 45711), ("127.0.46.12", 45712)]
DB_USER, DB_PASSWORD, DB_NAME = "dundid", "ha-secret", "asterisk"
CONTRIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "mysql")


def lookup_config(me, db, statefile, qualify="1000"):
    host, eid = me
    lines = ["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid,
             "ipaddr = %s" % host, "cachetime = 5", "ttl = 1", "autokill = yes",
             "keydir = %s" % harness.test_keydir(), "",
             "[registrations]", "hep = %s:%d" % (host, HEP_PORT), "statefile = %s" % statefile,
             "state_interval = 1", ""]
    if db:
        lines += ["[realtime]", "host = %s" % db[0], "port = %d" % db[1], "user = %s" % DB_USER,
                  "password = %s" % DB_PASSWORD, "database = %s" % DB_NAME, "schema = pjsip", "poll = 1", "",
                  "[registrars]"] + ["regpbx%d = %s" % (i, R[i][0]) for i in sorted(R)] + [""]
    lines += ["[mappings]", "priv => sipregistration,0,IAX2,priv:secret@${REGISTRAR}/${NUMBER},nopartial", ""]
    for i in sorted(R):
        lines += ["[%s]" % R[i][1], "model = symmetric", "host = %s" % R[i][0], "port = %d" % PORT,
                  "include = priv", "permit = priv", "inkey = dundi", "outkey = dundi", "qualify = %s" % qualify, ""]
    return "\n".join(lines + ["[%s]" % CLIENT_EID, "model = inbound", "permit = priv", ""])


def reg_config(i, orders=("primary", "primary"), qualify="yes"):
    """Registration server i: its own extensions 10i1/10i2, both lookup servers as peers."""
    host, eid = R[i]
    lines = ["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid, "ipaddr = %s" % host,
             "ttl = 2", "cachetime = 5", "keydir = %s" % harness.test_keydir(), "",
             "[mappings]", "priv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial", ""]
    for (lhost, leid), order in zip((LA, LB), orders):
        lines += ["[%s]" % leid, "model = symmetric", "host = %s" % lhost, "port = %d" % PORT, "include = priv",
                  "permit = priv", "inkey = dundi", "outkey = dundi", "qualify = %s" % qualify,
                  "order = %s" % order, ""]
    lines += ["[%s]" % CLIENT_EID, "model = inbound", "permit = priv", "",
              "[context sipregistration]", "exten => 10%d1" % i, "exten => 10%d2" % i, ""]
    return "\n".join(lines)


def expected(number, registrar):
    return "priv:secret@%s/%s" % (R[registrar][0], number)


class Phones:
    """Registrations as the registration servers' feeds show them: HEP copies of REGISTER/200 OK
    sent to both lookup servers (a HEP relay's work), or RealTime ps_contacts rows written to a
    Galera node (res_pjsip's work)."""

    def __init__(self, db):
        self.db = db
        self.where = {}  # number -> registrar index
        self.pool = []   # what the lookup load asks: numbers the lookup servers were seen to know
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def hep(self, number, registrar, targets=(LA, LB)):
        reg = R[registrar][0]
        for src, dst, sp, dp, msg in ((tr.PHONES, reg, tr.PHONE_PORT, tr.SIP_PORT,
                                       tr.register(number, reg, 3600, "ha-%s" % number)),
                                      (reg, tr.PHONES, tr.SIP_PORT, tr.PHONE_PORT,
                                       tr.ok(number, reg, 3600, "ha-%s" % number))):
            for t in targets:
                self.sock.sendto(tr.hep3(src, dst, sp, dp, msg), (t[0], HEP_PORT))
        self.where[number] = registrar

    def rows(self, numbers, registrar, node=0):
        vals = ",".join("('%s;@ha%s', 'sip:%s@10.46.0.1:5060', %d, 60, 'test phone', 'regpbx%d', '10.46.0.1', 5060, "
                        "'%s', 'no')" % (n, n, n, int(time.time()) + 3600, registrar, n) for n in numbers)
        self.db.sql(node, "INSERT INTO ps_contacts (id, uri, expiration_time, qualify_frequency, user_agent, "
                    "reg_server, via_addr, via_port, endpoint, prune_on_boot) VALUES " + vals, DB_NAME)
        for n in numbers:
            self.where[n] = registrar

    def close(self):
        self.sock.close()


def ask(server, number, timeout=6.0, ttl=3):
    """One DPDISCOVER from the client: (answer destinations or None when none came, seconds)."""
    c = Client(CLIENT_HOST, (server, PORT))
    try:
        st = Client.new_trans()
        t0 = time.monotonic()
        try:
            _, resp = c.transact(dr.dpdiscover(st, number, "priv", CLIENT_EID, ttl=ttl), timeout)
        except AssertionError:
            return None, time.monotonic() - t0
        took = time.monotonic() - t0
        c.send(dr.ack(st, resp.hdr.strans, 1, 1, True))
        if resp.hdr.cmd != dr.DPRESPONSE:
            return None, took
        return sorted(a.dest for a in resp.answers()), took
    finally:
        c.close()


def expiration_of(server, number):
    """The EXPIRATION a server gives its answer for number (asked directly, TTL 0)."""
    c = Client(CLIENT_HOST, (server, PORT))
    try:
        st = Client.new_trans()
        _, resp = c.transact(dr.dpdiscover(st, number, "priv", CLIENT_EID, ttl=0), 3.0)
        c.send(dr.ack(st, resp.hdr.strans, 1, 1, True))
        return resp.u16(dr.IE_EXPIRATION)
    finally:
        c.close()


class LookupLoad:
    """Lookups from registration server R1 for registered numbers, one after another every
    `gap` seconds, in a thread; bounded by count and time. Each record: (start time, seconds,
    answered right)."""

    def __init__(self, phones, gap=0.05, limit=4000, max_seconds=240, via=None):
        self.phones, self.gap, self.limit, self.max_seconds = phones, gap, limit, max_seconds
        self.via = via or R[1][0]
        self.records = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        t_end = time.monotonic() + self.max_seconds
        k = 0
        while not self.stop_flag.is_set() and len(self.records) < self.limit and time.monotonic() < t_end:
            numbers = self.phones.pool
            number = numbers[k % len(numbers)]
            k += 7  # a stride: consecutive lookups differ, so R1's cache rarely answers
            dests, took = ask(self.via, number)
            self.records.append((time.monotonic() - took, took,
                                 dests is not None and expected(number, self.phones.where[number]) in dests,
                                 number))
            time.sleep(self.gap)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(15)

    def window(self, t0, t1=None):
        return [r for r in self.records if r[0] >= t0 and (t1 is None or r[0] < t1)]


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def summary(records, base_p50):
    """lookups, lost, p50/p99 added delay (ms) against base_p50, lookups that paid a wait (> 100 ms)."""
    lat = [r[1] for r in records]
    return {"lookups": len(records), "lost": sum(1 for r in records if not r[2]),
            "p50_added_ms": max(0.0, (pct(lat, 50) - base_p50) * 1000), "p99_added_ms": max(0.0, (pct(lat, 99)
                                                                                             - base_p50) * 1000),
            "waits": sum(1 for x in lat if x > 0.1)}


def fmt(s):
    return ("%(lookups)d lookups, %(lost)d lost, %(waits)d paid a wait (>100 ms), added delay p50 "
            "%(p50_added_ms).1f ms, p99 %(p99_added_ms).1f ms" % s)


class Site:
    """The whole layout: Galera, LA, LB, R1..R3. Used by the test and by test/bench/failover."""

    def __init__(self, case, orders=("primary", "primary"), use_db=True):
        self.case, self.orders, self.db = case, orders, None
        if use_db:
            self.db = galera.Cluster(DB_NODES)
            self.db.start()
            self.db.sql(0, "CREATE DATABASE %s; CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; "
                        "GRANT SELECT ON %s.* TO '%s'@'%%';" % (DB_NAME, DB_USER, DB_PASSWORD, DB_NAME, DB_USER))
            with open(os.path.join(CONTRIB, "ps_contacts.sql")) as f:
                self.db.sql(0, f.read(), DB_NAME)
        self.phones = Phones(self.db)
        self.state = {name: os.path.join(case.tmp.name, name + ".state") for name in ("LA", "LB")}

    def start_lookup(self, name):
        me, db = (LA, DB_NODES[0]) if name == "LA" else (LB, DB_NODES[1])
        d = self.case.start(name, lookup_config(me, db if self.db else None, self.state[name]))
        if self.db and not d.wait_log("realtime: loaded", 15.0):
            raise AssertionError("%s: no RealTime load:\n%s" % (name, d.log()[-3000:]))
        return d

    def start_all(self):
        self.start_lookup("LA")
        self.start_lookup("LB")
        for i in sorted(R):
            self.case.start("R%d" % i, reg_config(i, self.orders))

    def answers_all(self, server, numbers):
        for n in numbers:
            dests, _ = ask(server, n, timeout=3.0, ttl=0)
            if dests is None or expected(n, self.phones.where[n]) not in dests:
                return False
        return True

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 2):
            if pred():
                return time.monotonic()
            if time.monotonic() > end:
                break
            time.sleep(0.05)
        raise AssertionError("%s: not within %.0f s" % (what, timeout))

    def close(self):
        self.phones.close()
        if self.db:
            self.db.cleanup()


class HaTests(harness.DaemonsCase):
    WORKDIR_PREFIX = "dundid-ha-"

    def test_two_lookup_servers(self):
        try:
            site = Site(self)
        except galera.Unavailable as e:
            self.skipTest("Galera: %s" % e)
        self.addCleanup(site.close)
        ph = site.phones
        h1 = ["2%03d" % k for k in range(0, 40)]       # HEP, at R2
        d1 = ["2%03d" % k for k in range(200, 240)]    # RealTime rows, at R3
        ph.rows(d1, 3)
        site.start_all()
        for n in h1:
            ph.hep(n, 2)
        start = time.monotonic()
        for name in ("LA", "LB"):
            site.wait(lambda: site.answers_all((LA if name == "LA" else LB)[0], h1 + d1), 15, name + " full table")
        R1 = self.daemons["R1"]
        for _, eid in (LA, LB):
            self.assertTrue(R1.wait_log("peer %s is now OK" % eid, 15.0), R1.log()[-3000:])
        figures = {"setup_s": time.monotonic() - start}
        ph.pool.extend(h1 + d1)
        marks = []

        with LookupLoad(ph) as load:
            time.sleep(2.0)  # the baseline
            base = [r[1] for r in load.records]
            base_p50 = pct(base, 50)
            figures["baseline"] = summary(load.records, 0.0)

            # 1. A database node dies: LB's. LB keeps answering from memory; a row written meanwhile
            # reaches LA at once, LB once its node is back (Galera IST) and it has reconnected.
            t_db = time.monotonic()
            marks.append(("db node 1 killed", t_db))
            site.db.kill(1)
            LB_ = self.daemons["LB"]
            self.assertTrue(LB_.wait_log("lost:", 15.0), LB_.log()[-3000:])
            d2 = ["2%03d" % k for k in range(240, 250)]
            ph.rows(d2, 3)
            site.wait(lambda: site.answers_all(LA[0], d2), 10, "LA sees rows written while node 1 is down")
            # LB, without its database, says "not registered" for them, but for 1 s only: a PBX
            # must not keep that stale "no" (60 s otherwise) in case LA dies meanwhile.
            self.assertEqual(expiration_of(LB[0], d2[0]), 1)
            self.assertEqual(expiration_of(LA[0], "2999"), 5)  # its cachetime (< negative_cachetime)
            ph.pool.extend(d2)
            time.sleep(1.0)
            site.db.restart(1)
            t_back = time.monotonic()
            t_lb = site.wait(lambda: site.answers_all(LB[0], d2), 40, "LB sees them after node 1 rejoined")
            figures["db_node_kill"] = summary(load.window(t_db, time.monotonic()), base_p50)
            figures["lb_rows_after_rejoin_s"] = t_lb - t_back

            # 2. The primary lookup server dies (kill -9) and comes back.
            time.sleep(1.0)
            seen_back = sum(R1.log().count(b) for b in ("peer %s is now OK" % LA[1], "peer %s answers again" % LA[1]))
            t_kill = time.monotonic()
            marks.append(("LA killed", t_kill))
            self.daemons["LA"].kill()
            # One lookup waits for it (autokill), the next ones briefly (SUSPECT); a probe within
            # the qualify limit then makes it UNREACHABLE and no longer asked.
            self.assertTrue(R1.wait_log("peer %s is now UNREACHABLE" % LA[1], 15.0), R1.log()[-3000:])
            time.sleep(1.0)
            h2 = ["2%03d" % k for k in range(100, 110)]  # HEP while LA is down: only LB hears it
            for n in h2:
                ph.hep(n, 2)
            d3 = ["2%03d" % k for k in range(250, 260)]  # RealTime rows while LA is down
            ph.rows(d3, 3)
            time.sleep(2.0)
            t_restart = time.monotonic()
            marks.append(("LA restarted", t_restart))
            site.start_lookup("LA")
            t_full = site.wait(lambda: site.answers_all(LA[0], h1 + d1 + d2 + d3), 30, "LA's full table again")
            ph.pool.extend(h2 + d3)
            back = ("peer %s is now OK" % LA[1], "peer %s answers again" % LA[1])
            t_again = site.wait(lambda: sum(R1.log().count(b) for b in back) > seen_back, 30,
                                "R1 asks LA again")
            time.sleep(2.0)
            figures["primary_down_and_back"] = summary(load.window(t_kill, time.monotonic()), base_p50)
            figures["primary_down_only"] = summary(load.window(t_kill, t_restart), base_p50)
            figures["la_full_table_after_restart_s"] = t_full - t_restart
            figures["r1_uses_la_again_after_restart_s"] = t_again - t_restart

            # 3. A registration server dies: LA and LB forward what they do not know to R2 and R3;
            # lookups of R2's own extensions go on.
            t_r3 = time.monotonic()
            marks.append(("R3 killed", t_r3))
            self.daemons["R3"].kill()
            for n in ("1021", "1022"):
                ph.where[n] = 2
            ph.pool.extend(["1021", "1022"])
            time.sleep(4.0)
            figures["regserver_kill"] = summary(load.window(t_r3, time.monotonic()), base_p50)

        # No lookup lost at any time: both lookup servers are asked, one alone answers.
        lost = [r for r in load.records if not r[2]]
        for r in lost[:3]:  # what the servers logged about it
            for name in ("R1", "LA", "LB"):
                lines = [x for x in self.daemons[name].log().splitlines() if r[3] in x]
                print("  %s about lost %s: %s" % (name, r[3], "\n    ".join(lines[-12:])), file=sys.stderr)
        self.assertEqual(lost, [], "lost lookups (number, s after start, seconds taken): %r; marks: %r"
                         % ([(r[3], round(r[0] - start, 2), round(r[1], 3)) for r in lost],
                            [(m, round(t - start, 2)) for m, t in marks]))
        # What LA missed while down (h2) it has only by HEP from now on; LB has it.
        self.assertTrue(site.answers_all(LB[0], h2))
        after = R1.log()[R1.log().rfind("peer %s is now UNREACHABLE" % LA[1]):]
        self.assertLessEqual(after.count("peer %s is now SUSPECT" % LA[1]), 1, "no flapping after LA's restart")
        transitions = [line for line in R1.log().splitlines() if "peer %s" % LA[1] in line and
                       ("is now" in line or "again" in line)]
        print("\n  R1 about LA: %s" % "\n    ".join(transitions), file=sys.stderr)
        for name in ("LA", "LB", "R1", "R2"):
            d = self.daemons[name]
            d.stop()
            self.assertEqual(d.exit_code, 0, "%s:\n%s" % (name, d.log()[-4000:]))
            self.assertNotIn("Sanitizer", d.log())
            self.assertNotIn("runtime error", d.log())
        print("\n  two lookup servers, one order, qualify = yes (lookups every 50 ms from R1):", file=sys.stderr)
        for k in ("baseline", "db_node_kill", "primary_down_only", "primary_down_and_back", "regserver_kill"):
            print("    %-22s %s" % (k, fmt(figures[k])), file=sys.stderr)
        for k in ("setup_s", "lb_rows_after_rejoin_s", "la_full_table_after_restart_s",
                  "r1_uses_la_again_after_restart_s"):
            print("    %-34s %.2f s" % (k, figures[k]), file=sys.stderr)


def main():
    import argparse
    harness.run_tests()  # the binaries' paths
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--dundid")
    ap.add_argument("--dundiq")
    _, rest = ap.parse_known_args()
    prog = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
    r = prog.result
    if r.skipped and not r.failures and not r.errors:
        print("SKIP: %s" % "; ".join(why.splitlines()[0] for _, why in r.skipped))
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
