#!/usr/bin/env python3
"""Integration tests of forwarded lookups: several real dundid daemons.

Usage:
    test_forward.py --dundid PATH --dundiq PATH [unittest args]

Topology of the cluster paper, each daemon on its own loopback address,
all on port 45217:

    dundiq (02:..:00:99 / 00:98) --> L 127.0.15.1 (02:00:00:00:01:00, "priv =>" only)
                                      |-- R1 127.0.15.2 (02:00:00:00:01:01: 1001, _20XX)
                                      `-- R2 127.0.15.3 (02:00:00:00:01:02: 1002)

L <-> R1/R2 are symmetric peers with include/permit priv, encrypted with the
test key pair (inkey = outkey = dundi), unless a test says otherwise. R1 and
R2 have cachetime = 5 and ttl = 2. A UDP relay on 127.0.15.9 can stand in
front of R1 or R2 (L's peer host then points at the relay) to watch or delay
the traffic. Raw clients use 127.0.15.20.

Every test starts its own daemons (so caches, session keys and counters are
fresh) and kills them on the way out. How many DPDISCOVERs a registration
server answered is read from its debug log ("HOST: N@priv -> ...", one line
per DPRESPONSE) while it runs, and from the stats line when it stops.
"""

import heapq
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Client, Daemon, dundiq  # noqa: E402

PORT = 45217
L_HOST, R1_HOST, R2_HOST = "127.0.15.1", "127.0.15.2", "127.0.15.3"
RELAY_HOST = "127.0.15.9"
CLIENT_HOST = "127.0.15.20"

L_EID = "02:00:00:00:01:00"
R1_EID = "02:00:00:00:01:01"
R2_EID = "02:00:00:00:01:02"
CLIENT_EID = "02:00:00:00:00:99"   # unkeyed inbound client of L (dundiq)
CLIENT2_EID = "02:00:00:00:00:98"  # a second one, for a different root

# ${SECRET}: 16 random bytes in base64 with ';', '/', ':', '@' turned into '+'.
SECRET_RE = r"[A-Za-z0-9+]{22}=="
NEWKEY_RE = r"new session key for peer %s \(crc ([0-9a-f]{8})\)"


# ====================================================================== configuration


def peer_section(eid, host=None, keyed=True, extra=()):
    lines = ["[%s]" % eid, "model = symmetric"]
    if host:
        lines += ["host = %s" % host, "port = %d" % PORT]
    lines += ["include = priv", "permit = priv"]
    if keyed:
        lines += ["inkey = dundi", "outkey = dundi"]
    lines += list(extra)
    return "\n".join(lines) + "\n"


NO_STATE = "[registrations]\nstatefile = none\n"  # tests run in parallel: no shared state file


def general_section(host, eid, ttl, extra=()):
    lines = ["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid,
             "cachetime = 5", "ttl = %d" % ttl, "ipaddr = %s" % host, "keydir = %s" % harness.test_keydir()]
    return "\n".join(lines + list(extra)) + "\n" + NO_STATE


def l_config(r1_host=R1_HOST, r2_host=R2_HOST, r2_keyed=True, general=(), peer_extra=()):
    """The lookup server: no answers of its own, asks R1 and R2."""
    return (general_section(L_HOST, L_EID, 1, general)
            + "\n[mappings]\npriv =>\n\n"
            + peer_section(R1_EID, r1_host, True, peer_extra) + "\n"
            + peer_section(R2_EID, r2_host, r2_keyed, peer_extra) + "\n"
            + "[%s]\nmodel = inbound\npermit = priv\n\n" % CLIENT_EID
            + "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT2_EID)


def r_config(host, eid, extens, keyed=True, via_relay=False):
    """A registration server: answers its extensions (weight 0), peers only with L.
    Behind the relay L's requests come from the relay's address: no address check."""
    return (general_section(host, eid, 2)
            + "\n[mappings]\npriv => sipregistration,0,IAX2,priv:${SECRET}@${IPADDR}/${NUMBER},nopartial\n\n"
            + peer_section(L_EID, L_HOST, keyed, ["peer_address_check = no"] if via_relay else [])
            + "\n[context sipregistration]\n" + "".join("exten => %s\n" % e for e in extens))


# ====================================================================== relay


class Relay:
    """A UDP relay between L and one registration server: datagrams from
    `left` go to `right` and back. Records every datagram; can delay the
    right-to-left direction. Runs in a thread, stopped by close()."""

    def __init__(self, host, port, left, right, delay_back=0.0):
        self.left, self.right, self.delay_back = left, right, delay_back
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.seen = []  # (monotonic time, "fwd" | "back", bytes)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._queue = []  # (due, seq, data, dest)
        self._seq = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            now = time.monotonic()
            while self._queue and self._queue[0][0] <= now:
                _, _, data, dest = heapq.heappop(self._queue)
                self.sock.sendto(data, dest)
            timeout = 0.05
            if self._queue:
                timeout = min(timeout, max(0.0, self._queue[0][0] - now))
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                continue
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                continue
            with self.lock:
                if addr == self.left:
                    self.seen.append((time.monotonic(), "fwd", data))
                    self.sock.sendto(data, self.right)
                elif addr == self.right:
                    self.seen.append((time.monotonic(), "back", data))
                    if self.delay_back > 0:
                        self._seq += 1
                        heapq.heappush(self._queue, (time.monotonic() + self.delay_back, self._seq, data, self.left))
                    else:
                        self.sock.sendto(data, self.left)

    def packets(self, direction=None):
        with self.lock:
            return [(t, d, dr.decode(b)) for t, d, b in self.seen
                    if len(b) >= dr.HDR_LEN and (direction is None or d == direction)]

    def close(self):
        self._stop.set()
        self.thread.join(2.0)
        self.sock.close()


# ====================================================================== tests


class ForwardTests(harness.DaemonsCase):
    WORKDIR_PREFIX = "dundid-forward-"

    """Lookup server L forwarding to registration servers R1 and R2."""

    def setUp(self):
        super().setUp()
        self.relays = {}

    # ---------------------------------------------------------- plumbing


    def relay(self, name, server_host, delay_back=0.0):
        r = Relay(RELAY_HOST, PORT, (L_HOST, PORT), (server_host, PORT), delay_back)
        self.addCleanup(r.close)
        self.relays[name] = r
        return r

    def topology(self, r1_via_relay=False, r2_via_relay=False, r2_keyed=True, r1_delay=0.0,
                 l_general=(), l_peer_extra=()):
        """Start R1, R2 and L (and at most one relay)."""
        assert not (r1_via_relay and r2_via_relay)
        r1_host, r2_host = R1_HOST, R2_HOST
        if r1_via_relay:
            self.relay("R1", R1_HOST, r1_delay)
            r1_host = RELAY_HOST
        if r2_via_relay:
            self.relay("R2", R2_HOST)
            r2_host = RELAY_HOST
        self.start("R1", r_config(R1_HOST, R1_EID, ["1001", "_20XX"], via_relay=r1_via_relay))
        self.start("R2", r_config(R2_HOST, R2_EID, ["1002"], keyed=r2_keyed, via_relay=r2_via_relay))
        self.start("L", l_config(r1_host, r2_host, r2_keyed, l_general, l_peer_extra))

    def stop(self, name):
        d = self.daemons[name]
        stats = d.stop()
        self.assertEqual(d.exit_code, 0, "%s exited with %s:\n%s" % (name, d.exit_code, d.log()[-4000:]))
        return stats

    def stop_all(self):
        """Stop every daemon still running; all must exit 0. Returns {name: stats}."""
        out = {}
        for name, d in self.daemons.items():
            if d.proc is not None and d.exit_code is None:
                self.assertTrue(d.running(), "%s died:\n%s" % (name, d.log()[-4000:]))
                out[name] = self.stop(name)
        return out

    def ask(self, number, ttl=2, eid=CLIENT_EID, bypass=False, timeout_ms=5000):
        """dundiq --json to L; returns (exit code, document, elapsed seconds)."""
        args = self.ask_args(number, ttl, eid, bypass, timeout_ms)
        t0 = time.monotonic()
        rc, out, err = dundiq(*args, timeout=30)
        elapsed = time.monotonic() - t0
        return rc, self.parse(out, err), elapsed

    @staticmethod
    def ask_args(number, ttl=2, eid=CLIENT_EID, bypass=False, timeout_ms=5000):
        args = ["--json", "--eid", eid, "--ttl", ttl, "--timeout", timeout_ms]
        if bypass:
            args.append("--bypass")
        return [str(a) for a in args] + ["%s:%d" % (L_HOST, PORT), "%s@priv" % number]

    def parse(self, out, err):
        try:
            return json.loads(out)
        except ValueError:
            self.fail("dundiq printed no JSON: %r %r" % (out, err))

    def served(self, name, number):
        """How many DPRESPONSEs for number@priv a daemon's log shows."""
        return self.daemons[name].log().count(" %s@priv -> " % number)

    def wait_served(self, name, number, n, timeout=2.0):
        """Wait (bounded) until the log shows at least n, then return the count."""
        self.daemons[name].wait_log(" %s@priv -> " % number, timeout=timeout, count=n)
        return self.served(name, number)

    def new_keys(self, eid):
        return re.findall(NEWKEY_RE % eid, self.daemons["L"].log())

    def assert_forwarded(self, rc, doc, number, owner, host, expires=5, hint="TTL_EXPIRED|UNAFFECTED"):
        """One answer: the registration server's, passed on unchanged by L. The default
        hint is that of a TTL 2 lookup: the other server, without the number, got TTL 1
        and could not forward (TTL 0), and L propagates its TTL_EXPIRED (4.4)."""
        self.assertEqual(rc, 0, doc)
        self.assertEqual(doc["number"], number)
        self.assertEqual(doc["context"], "priv")
        self.assertEqual(len(doc["answers"]), 1, doc)
        a = doc["answers"][0]
        self.assertEqual(a["eid"], owner, doc)
        self.assertEqual(a["weight"], 0, doc)
        self.assertEqual(a["tech"], "IAX2", doc)
        self.assertEqual(a["flags"], "EXISTS", doc)
        self.assertRegex(a["dest"], r"^priv:%s@%s/%s$" % (SECRET_RE, re.escape(host), number))
        if isinstance(expires, int):
            expires = (expires,)
        self.assertIn(a["expires"], expires, doc)
        self.assertEqual(doc["expiration"], a["expires"], doc)
        if isinstance(hint, str):
            hint = (hint,)
        self.assertIn(doc["hint"]["flags"], hint, doc)
        self.assertEqual(doc["hint"]["data"], "", doc)
        self.assertNotIn("cause", doc)
        return a

    def assert_no_answer(self, rc, doc, flags, data):
        self.assertEqual(rc, 1, doc)
        self.assertEqual(doc["answers"], [], doc)
        self.assertEqual(doc["hint"], {"flags": flags, "data": data}, doc)
        self.assertNotIn("cause", doc)

    def assert_clean_crypto(self, stats, name):
        self.assertEqual(stats["crypto_rejected"], 0, "%s: %r" % (name, stats))
        self.assertEqual(stats["encrej"], 0, "%s: %r" % (name, stats))
        log = self.daemons[name].log()
        self.assertNotIn("unencrypted", log)
        self.assertNotIn("rejected:", log)
        self.assertNotIn("giving up", log)

    @staticmethod
    def wait_for_second_start(max_frac=0.25):
        """Sleep until the wall clock is early in a second (cache lifetimes are whole seconds)."""
        frac = time.time() % 1.0
        if frac > max_frac or frac < 0.01:
            time.sleep((1.0 - frac) % 1.0 + 0.02)

    @staticmethod
    def wait_wall_second(sec):
        """Sleep until int(time.time()) >= sec (plus a little)."""
        while True:
            left = sec - time.time()
            if left <= -0.03:
                return
            time.sleep(left + 0.04)

    # ---------------------------------------------------------- 1. forwarding

    def test_1_forwarding(self):
        """L answers with R1's/R2's answers; DONT_ASK hints are combined (longest prefix)."""
        self.topology(r1_via_relay=True)

        rc, doc, _ = self.ask("1001")
        self.assert_forwarded(rc, doc, "1001", R1_EID, R1_HOST)
        rc, doc, _ = self.ask("1002")
        self.assert_forwarded(rc, doc, "1002", R2_EID, R2_HOST)

        # No one has 2199: R1 (1001, _20XX) says "21", R2 (1002) says "2"; L keeps the longer.
        rc, doc, _ = self.ask("2199", ttl=3)
        self.assert_no_answer(rc, doc, "DONT_ASK|UNAFFECTED", "21")
        self.assertEqual(doc["expiration"], 5, doc)

        # R2 is not asked (its hint "2" is cached, see below), so no TTL_EXPIRED from it.
        rc, doc, _ = self.ask("2042")
        self.assert_forwarded(rc, doc, "2042", R1_EID, R1_HOST, hint="UNAFFECTED")

        # 9999: both say "9". TTL 3: R1/R2 still have TTL 1 left (nobody to ask, no TTL_EXPIRED).
        rc, doc, _ = self.ask("9999", ttl=3)
        self.assert_no_answer(rc, doc, "DONT_ASK|UNAFFECTED", "9")
        # TTL 2: R1/R2 receive TTL 1, their own lookups would have TTL 0: TTL_EXPIRED comes back.
        rc, doc, _ = self.ask("8888", ttl=2)
        self.assert_no_answer(rc, doc, "TTL_EXPIRED|DONT_ASK|UNAFFECTED", "8")

        # Who was asked what (one DPRESPONSE line per request in the R logs).
        for number in ("1001", "1002", "2199", "2042", "9999", "8888"):
            self.assertEqual(self.wait_served("R1", number, 1), 1, "R1 asked for %s:\n%s"
                             % (number, self.daemons["R1"].log()))
        for number in ("1001", "1002", "2199", "9999", "8888"):
            self.assertEqual(self.wait_served("R2", number, 1), 1, "R2 asked for %s" % number)
        # R2's DONT_ASK hint "2" (from 2199, 5 s) is cached: L does not ask it about 2042 (5.3).
        self.assertEqual(self.served("R2", "2042"), 0, self.daemons["R2"].log())
        # L answered each lookup once, with 1 forwarded answer or none.
        llog = self.daemons["L"].log()
        self.assertEqual(len(re.findall(r" 1001@priv -> 0 local \+ 1 forwarded answer\(s\), hint 0005 ''", llog)),
                         1, llog)
        self.assertEqual(len(re.findall(r" 9999@priv -> 0 local \+ 0 forwarded answer\(s\), hint 0006 '9'", llog)),
                         1, llog)

        # L <-> R1 traffic on the wire: every DPDISCOVER/DPRESPONSE travelled inside ENCRYPT.
        pkts = self.relays["R1"].packets()
        self.assertTrue(pkts)
        cmds = {p.hdr.cmd for _, _, p in pkts}
        self.assertTrue(cmds <= {dr.ENCRYPT, dr.ACK}, "clear commands between L and R1: %r"
                        % sorted(dr.CMD_NAMES.get(c, c) for c in cmds))
        self.assertIn(dr.ENCRYPT, cmds)
        firsts = [p for _, d, p in pkts if d == "fwd" and p.hdr.cmd == dr.ENCRYPT and p.hdr.dtrans == 0]
        self.assertEqual(len(firsts), 6, firsts)
        # The first carries the full key, the later ones its CRC (6.3).
        self.assertIsNotNone(firsts[0].get(dr.IE_SHAREDKEY))
        self.assertIsNotNone(firsts[0].get(dr.IE_SIGNATURE))
        self.assertEqual(firsts[0].get(dr.IE_EID), dr.eid(L_EID))
        for p in firsts[1:]:
            self.assertIsNone(p.get(dr.IE_SHAREDKEY), p)
            self.assertIsNotNone(p.get(dr.IE_KEYCRC32), p)
        self.assertEqual(len(self.new_keys(R1_EID)), 1)
        self.assertEqual(len(self.new_keys(R2_EID)), 1)

        stats = self.stop_all()
        self.assertEqual(stats["R1"]["requests"], 6, stats["R1"])
        self.assertEqual(stats["R1"]["answered"], 6, stats["R1"])
        self.assertEqual(stats["R2"]["requests"], 5, stats["R2"])
        self.assertEqual(stats["L"]["requests"], 6, stats["L"])
        self.assertEqual(stats["L"]["answered"], 6, stats["L"])
        for name in ("L", "R1", "R2"):
            self.assert_clean_crypto(stats[name], name)
            self.assertEqual(stats[name]["live_trans"], 0, (name, stats[name]))

    # ---------------------------------------------------------- 2. TTL


    # ---------------------------------------------------------- 3. cache


    # ---------------------------------------------------------- 4. path lists

    def raw_lookup(self, c, path, number, ttl=3, bypass=True):
        """DPDISCOVER to L with the given path [(eid, direct)], as the first EID names the client."""
        st = Client.new_trans()
        ies = dr.ie_u16(dr.IE_VERSION, 1)
        for e, direct in path:
            ies += dr.ie_eid(dr.IE_EID_DIRECT if direct else dr.IE_EID, e)
        ies += dr.ie(dr.IE_CALLED_NUMBER, number) + dr.ie(dr.IE_CALLED_CONTEXT, "priv") + dr.ie_u16(dr.IE_TTL, ttl)
        if bypass:
            ies += dr.ie(dr.IE_CACHEBYPASS)
        acks, resp = c.transact(dr.packet(st, 0, 0, 0, dr.DPDISCOVER, ies), timeout=5.0)
        self.assertEqual(resp.hdr.cmdresp, dr.DPRESPONSE | dr.FLAG_FINAL, resp)
        self.assertEqual(resp.hdr.dtrans, st, resp)
        c.send(dr.ack(st, resp.hdr.strans, 1, 1, True))
        return resp

    def discovers_to_r2(self):
        return [p for _, _, p in self.relays["R2"].packets("fwd") if p.hdr.cmd == dr.DPDISCOVER]

    def assert_path_request(self, p, number, ttl, bypass):
        """4.2: us (direct), R1 (a peer including priv: direct), then the root 99 (not a peer including priv)."""
        expected = [(dr.IE_VERSION, b"\x00\x01"),
                    (dr.IE_EID_DIRECT, dr.eid(L_EID)),
                    (dr.IE_EID_DIRECT, dr.eid(R1_EID)),
                    (dr.IE_EID, dr.eid(CLIENT_EID)),
                    (dr.IE_CALLED_NUMBER, number.encode()),
                    (dr.IE_CALLED_CONTEXT, b"priv"),
                    (dr.IE_TTL, bytes([0, ttl]))]
        if bypass:
            expected.append((dr.IE_CACHEBYPASS, b""))
        self.assertEqual(p.ies, expected, p)


    # ---------------------------------------------------------- 5. dead peer



    # ---------------------------------------------------------- 6. key rotation


    # ---------------------------------------------------------- 7. ENCREJ


    # ---------------------------------------------------------- 8. duplicates and joins

    def concurrent(self, number, eids, bypass=False):
        procs = []
        for eid in eids:
            procs.append(subprocess.Popen([harness.BINARIES["dundiq"]] + self.ask_args(number, 2, eid, bypass),
                                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        out = []
        for p in procs:
            try:
                o, e = p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail("dundiq hung")
            out.append((p.returncode, self.parse(o.decode(), e.decode())))
        return out



def main():
    harness.run_tests()[1]()


if __name__ == "__main__":
    main()
