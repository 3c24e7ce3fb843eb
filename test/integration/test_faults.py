#!/usr/bin/env python3
"""Fault and abuse tests (issue 8): packet loss between the lookup server L
and a registration server R, peers that die, answer only some packets or
answer from another address, reloads under load, kill -9 and restart,
junk floods. Real dundid processes over loopback UDP.

Addresses 127.0.24.0/24, ports 45310-45319:
  L 127.0.24.1:45310, R 127.0.24.2:45310, fake peers' other address
  127.0.24.3, relay 127.0.24.9:45310, client 127.0.24.20, flooders
  127.0.24.100-199, HEP on 127.0.24.1:45312.

Every loop is bounded in count and time. Timing is never asserted as a
speed; the loop-lag figure is reported, and only a generous bound (< 1 s)
is asserted, which proves nothing blocks the loop.

The nftables variant of the loss test runs as its own ctest entry
(NetnsLossTests) and exits 77 (skip) when it cannot create a network
namespace or nftables is missing."""

import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dundi_raw as dr  # noqa: E402
import harness  # noqa: E402
from harness import Daemon  # noqa: E402

PORT = 45310
HEP_PORT = 45312
L_HOST, R_HOST, OTHER_HOST, RELAY_HOST, CLIENT_HOST = "127.0.24.1", "127.0.24.2", "127.0.24.3", "127.0.24.9", \
    "127.0.24.20"
L_EID, R_EID = "02:00:00:00:24:01", "02:00:00:00:24:02"
CLIENT_EID = "02:00:00:00:00:99"
LAG_BOUND_MS = 1000  # generous: only proves that nothing stalls the loop
FIGURES = []  # (test, text): printed at the end, for the report


def figure(name, text):
    FIGURES.append((name, text))
    print("\n  [figure] %s: %s" % (name, text), flush=True)


# ====================================================================== configurations


def general(host, eid, ttl=2, extra=()):
    return "\n".join(["[general]", "bindaddr = %s" % host, "port = %d" % PORT, "entityid = %s" % eid,
                      "cachetime = 0", "ttl = %d" % ttl, "ipaddr = %s" % host] + list(extra)) + "\n"


def l_config(r_host=R_HOST, general_extra=(), peer_extra=(), statefile="none", reg_extra=()):
    """The lookup server: a static context of its own (priv 1001), asks R for the rest."""
    return (general(L_HOST, L_EID, extra=general_extra)
            + "[registrations]\nstatefile = %s\n%s\n" % (statefile, "\n".join(reg_extra))
            + "[mappings]\npriv => local,0,IAX2,priv:x@%s/${NUMBER},nopartial\n" % L_HOST
            + "regs => sipregistration,0,SIP,${CONTACT},nopartial\n\n"
            + "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n%s\n\n"
            % (R_EID, r_host, PORT, "\n".join(peer_extra))
            + "[%s]\nmodel = inbound\npermit = priv\npermit = regs\n\n" % CLIENT_EID
            + "[context local]\nexten => 1001\n")


def r_config(l_host=L_HOST, extra_peer=()):
    """A registration server: answers _2XXX itself (weight 0)."""
    return (general(R_HOST, R_EID)
            + "[registrations]\nstatefile = none\n\n"
            + "[mappings]\npriv => regs,0,IAX2,priv:y@%s/${NUMBER},nopartial\n\n" % R_HOST
            + "[%s]\nmodel = symmetric\nhost = %s\nport = %d\ninclude = priv\npermit = priv\n%s\n\n"
            % (L_EID, l_host, PORT, "\n".join(extra_peer))
            + "[context regs]\nexten => _2XXX\n")


# ====================================================================== helpers


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def live_stats(d, timeout=5.0):
    """SIGUSR2: the daemon logs its stats line now; returns it parsed."""
    before = d.log().count("stats: ")
    d.signal(signal.SIGUSR2)
    if not d.wait_log("stats: ", timeout=timeout, count=before + 1):
        raise AssertionError("no stats line after SIGUSR2:\n" + d.log()[-3000:])
    line = harness.STATS_RE.findall(d.log())[-1]
    return {k: int(v) for k, _, v in (item.partition("=") for item in line.split())}


def wait_quiet(d, timeout=30.0):
    """Poll live stats until the daemon has read nothing new for 0.5 s."""
    end = time.monotonic() + timeout
    last = live_stats(d)
    while time.monotonic() < end:
        time.sleep(0.5)
        st = live_stats(d)
        if st["rx"] == last["rx"]:
            return st
        last = st
    return last


def wait_stats(d, pred, timeout):
    """Poll live stats until pred(stats) holds or the time is up; returns the last stats."""
    end = time.monotonic() + timeout
    while True:
        st = live_stats(d)
        if pred(st) or time.monotonic() > end:
            return st
        time.sleep(0.2)


class Lookups:
    """Raw DPDISCOVERs to L from one socket, `window` in flight, each
    retransmitted byte-identically every second until something of its
    transaction arrives (at most 5 copies), as a DUNDi requester does.
    Records each lookup's DPRESPONSE (or None)."""

    def __init__(self, host=CLIENT_HOST, server=(L_HOST, PORT), eid=CLIENT_EID):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((host, 0))
        self.server, self.eid = server, eid
        self.next_id = random.Random(os.getpid()).randrange(1, 30000)
        self.results = []  # (number, Packet or None)
        self.client_rexmits = 0

    def close(self):
        self.sock.close()

    def _id(self):
        self.next_id = self.next_id % 32766 + 1
        return self.next_id

    def run(self, numbers, context="priv", ttl=2, window=20, per_lookup_s=10.0, budget_s=240.0,
            between=None):
        """Ask every number; between(i) is called after each lookup is sent."""
        pending = {}  # st -> [number, request, sent_at, copies, heard]
        todo = list(numbers)
        end = time.monotonic() + budget_s
        i = 0
        while (todo or pending) and time.monotonic() < end:
            while todo and len(pending) < window:
                st = self._id()
                n = todo.pop(0)
                req = dr.dpdiscover(st, n, context, self.eid, ttl)
                self.sock.sendto(req, self.server)
                pending[st] = [n, req, time.monotonic(), 1, False, time.monotonic()]
                if between:
                    between(i)
                i += 1
            now = time.monotonic()
            for st, p in list(pending.items()):
                if now - p[5] > per_lookup_s:
                    self.results.append((p[0], None))
                    del pending[st]
                elif not p[4] and p[3] < 5 and now - p[2] >= 1.0:
                    self.sock.sendto(p[1], self.server)
                    p[2], p[3] = now, p[3] + 1
                    self.client_rexmits += 1
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            for _ in range(256):
                try:
                    raw, _ = self.sock.recvfrom(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if len(raw) < 8:
                    continue
                pkt = dr.decode(raw)
                p = pending.get(pkt.hdr.dtrans)
                if pkt.hdr.cmd == dr.DPRESPONSE:
                    # ACK every copy, recorded or not (a retransmission of a lost ACK).
                    self.sock.sendto(dr.ack(pkt.hdr.dtrans, pkt.hdr.strans, 1, 1, True), self.server)
                    if p:
                        self.results.append((p[0], pkt))
                        del pending[pkt.hdr.dtrans]
                elif p:
                    p[4] = True
        for st, p in pending.items():
            self.results.append((p[0], None))
        return self.results


class LossyRelay:
    """UDP relay between L and R that drops a seeded share of the datagrams
    in each direction (a deterministic sequence of decisions per direction)."""

    def __init__(self, host, port, left, right, loss, seed=0x2424):
        self.left, self.right, self.loss = left, right, loss
        self.rng = {"fwd": random.Random(seed), "back": random.Random(seed + 1)}
        self.passed = {"fwd": 0, "back": 0}
        self.dropped = {"fwd": 0, "back": 0}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((host, port))
        self.mode = "relay"  # "relay", "hold_back" (drop everything R sends), "dead"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                continue  # ICMP port unreachable from a dead peer
            way = "fwd" if addr == self.left else "back" if addr == self.right else None
            if way is None:
                continue
            if self.mode == "hold_back" and way == "back":
                self.dropped[way] += 1
                continue
            if self.rng[way].random() < self.loss:
                self.dropped[way] += 1
                continue
            self.passed[way] += 1
            try:
                self.sock.sendto(data, self.right if way == "fwd" else self.left)
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


class FaultCase(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_workdir("dundid-faults-")
        self.addCleanup(self.work.cleanup)
        self.daemons = {}

    def start(self, name, text, listen_count=1):
        path = os.path.join(self.work.name, name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        d = Daemon(path, self.work.name, listen_count)
        self.addCleanup(d.kill)
        d.start()
        self.daemons[name] = d
        return d

    def write(self, name, text):
        path = os.path.join(self.work.name, name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def lookups(self, **kw):
        c = Lookups(**kw)
        self.addCleanup(c.close)
        return c

    def assert_lag(self, name, stats):
        figure(name, "loop lag max %d ms, last %d ms" % (stats["lag_max_ms"], stats["lag_last_ms"]))
        self.assertLess(stats["lag_max_ms"], LAG_BOUND_MS, "the event loop stalled: %r" % stats)

    def stop(self, name):
        d = self.daemons[name]
        self.assertTrue(d.running(), "%s died:\n%s" % (name, d.log()[-4000:]))
        stats = d.stop()
        self.assertEqual(d.exit_code, 0, d.log()[-3000:])
        return stats

    @staticmethod
    def dests(pkt):
        return sorted(a.dest for a in pkt.answers()) if pkt is not None else None


# ====================================================================== packet loss


def loss_run(case, name, relay=None, count=200, min_share=0.97):
    """200 forwarded lookups of R's numbers through a lossy L<->R link. TTL 20
    gives L a wait of 2000 + 200 x 19 ms: time for all five transmissions.
    min_share: the share that must carry R's answer."""
    c = case.lookups()
    numbers = ["%d" % (2000 + i % 1000) for i in range(count)]
    res = c.run(numbers, ttl=20, window=25, per_lookup_s=12.0)
    case.assertEqual(len(res), count)
    lost = [n for n, p in res if p is None]
    case.assertEqual(lost, [], "lookups with no DPRESPONSE at all")
    good = [n for n, p in res if case.dests(p) == ["priv:y@%s/%s" % (R_HOST, n)]]
    others = [(n, case.dests(p)) for n, p in res if case.dests(p) not in ([], ["priv:y@%s/%s" % (R_HOST, n)])]
    case.assertEqual(others, [], "wrong answers")
    ls = live_stats(case.daemons["L"])
    rs = live_stats(case.daemons["R"])
    drop = ""
    if relay:
        sent = sum(relay.passed.values()) + sum(relay.dropped.values())
        drop = ", relay dropped %d of %d datagrams (%.1f %%)" % (sum(relay.dropped.values()), sent,
                                                                  100.0 * sum(relay.dropped.values()) / max(1, sent))
    figure(name, "%d/%d lookups answered with R's answer (%.1f %%), all %d answered; retransmissions "
           "L=%d R=%d, L timeouts=%d%s" % (len(good), count, 100.0 * len(good) / count, count,
                                           ls["retransmits"], rs["retransmits"], ls["timeouts"], drop))
    # With five transmissions each way inside the wait, a lookup fails only
    # if some packet is lost five times over (0.3^5): nearly all get through.
    case.assertGreaterEqual(len(good), int(count * min_share), "too few answered through retransmission")
    case.assertGreater(ls["retransmits"] + rs["retransmits"], 0, "the loss did not make anyone retransmit")
    case.assert_lag(name, ls)
    # Everything settles: no transaction is left behind on either side.
    ls = wait_stats(case.daemons["L"], lambda s: s["live_trans"] == 0, 15)
    rs = wait_stats(case.daemons["R"], lambda s: s["live_trans"] == 0, 15)
    case.assertEqual((ls["live_trans"], rs["live_trans"]), (0, 0))
    return good


class LossTests(FaultCase):
    def test_loss_30pct_relay(self):
        """30 % seeded loss each way between L and R (user-space relay)."""
        relay = LossyRelay(RELAY_HOST, PORT, (L_HOST, PORT), (R_HOST, PORT), 0.30)
        self.addCleanup(relay.close)
        self.start("R", r_config(extra_peer=["peer_address_check = no"]))  # L's requests come from the relay
        self.start("L", l_config(r_host=RELAY_HOST))
        loss_run(self, "loss 30% relay", relay)
        self.stop("L")
        self.stop("R")


# ====================================================================== peers misbehaving


class FakePeer:
    """A raw DUNDi 'registration server' on R_HOST: answers DPDISCOVERs per
    a policy; can answer from another socket (another address)."""

    def __init__(self, answer_if, reply_host=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((R_HOST, PORT))
        self.out = self.sock
        if reply_host:
            self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.out.bind((reply_host, PORT))
        self.answer_if = answer_if
        self.seen, self.answered, self.from_l_to_out = 0, 0, []
        self._stop = threading.Event()
        self._ids = 500
        self._done = {}  # L's strans -> our strans (answer each transaction once)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        socks = [self.sock] + ([self.out] if self.out is not self.sock else [])
        while not self._stop.is_set():
            r, _, _ = select.select(socks, [], [], 0.05)
            for s in r:
                try:
                    raw, addr = s.recvfrom(65535)
                except OSError:
                    continue
                if s is self.out and s is not self.sock:
                    self.from_l_to_out.append(raw)
                    continue
                if len(raw) < 8:
                    continue
                pkt = dr.decode(raw)
                if pkt.hdr.cmd != dr.DPDISCOVER:
                    continue
                self.seen += 1
                number = pkt.string(dr.IE_CALLED_NUMBER)
                if not self.answer_if(number):
                    continue  # not even an ACK: this packet never arrived, as far as L knows
                ours = self._done.setdefault(pkt.hdr.strans, self._ids)
                if ours == self._ids:
                    self._ids += 1
                self.answered += 1
                ies = (dr.ie_answer(R_EID, dr.PROTO_IAX2, dr.F_EXISTS, 0, "priv:fake@%s/%s" % (R_HOST, number))
                       + dr.ie_hint(0) + dr.ie_u16(dr.IE_EXPIRATION, 60))
                self.out.sendto(dr.packet(ours, pkt.hdr.strans, 1, 0, dr.DPRESPONSE | dr.FLAG_FINAL, ies), addr)

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()
        if self.out is not self.sock:
            self.out.close()


class PeerFaultTests(FaultCase):
    def test_peer_killed_mid_transaction(self):
        """R answers into a relay that holds its replies back, then R is killed
        (SIGKILL): L still answers every lookup within its wait, its transactions
        to R end (retransmissions exhausted or autokill), nothing is left."""
        for autokill in (False, True):
            with self.subTest(autokill=autokill):
                relay = LossyRelay(RELAY_HOST, PORT, (L_HOST, PORT), (R_HOST, PORT), 0.0)
                self.addCleanup(relay.close)
                relay.mode = "hold_back"
                r = self.start("R", r_config(extra_peer=["peer_address_check = no"]))
                l_ = self.start("L", l_config(r_host=RELAY_HOST,
                                              peer_extra=["autokill = yes"] if autokill else []))
                c = self.lookups()
                killed = []

                def kill_r(i):
                    if i == 4 and not killed:
                        # R got the first requests (the relay passes them) but its answers are held back.
                        deadline = time.monotonic() + 5
                        while relay.passed["fwd"] < 3 and time.monotonic() < deadline:
                            time.sleep(0.01)
                        r.proc.kill()
                        r.proc.wait(5)
                        killed.append(time.monotonic())

                t0 = time.monotonic()
                res = c.run(["2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008"], ttl=2,
                            window=8, per_lookup_s=10.0, between=kill_r)
                elapsed = time.monotonic() - t0
                self.assertTrue(killed)
                self.assertEqual([n for n, p in res if p is None], [], "a lookup got no answer")
                self.assertEqual([self.dests(p) for _, p in res], [[]] * 8, "answers from a dead peer?")
                # TTL 2 -> L waits 2000 + 200 x 1 ms; a generous bound only proves the wait is bounded.
                self.assertLess(elapsed, 2.2 + 4.0, "answers not bounded by the wait")
                st = wait_stats(l_, lambda s: s["live_trans"] == 0, 10)
                self.assertEqual(st["live_trans"], 0, st)
                if autokill:
                    self.assertGreaterEqual(st["autokilled"], 1, st)
                else:
                    self.assertGreaterEqual(st["timeouts"], 1, st)
                figure("peer killed (autokill=%s)" % autokill,
                       "8/8 answered (empty) in %.2f s; L autokilled=%d timeouts=%d retransmits=%d"
                       % (elapsed, st["autokilled"], st["timeouts"], st["retransmits"]))
                self.assert_lag("peer killed", st)
                # L keeps working: its own numbers are answered.
                (n, p), = self.lookups().run(["1001"])
                self.assertEqual(self.dests(p), ["priv:x@%s/1001" % L_HOST])
                self.stop("L")
                relay.close()

    def test_peer_answers_only_some(self):
        """A peer that answers even numbers and ignores odd ones (no ACK at all):
        every lookup is answered, the ignored ones empty after the wait."""
        peer = FakePeer(lambda n: int(n) % 2 == 0)
        self.addCleanup(peer.close)
        l_ = self.start("L", l_config())
        numbers = [str(2100 + i) for i in range(20)]
        res = dict(self.lookups().run(numbers, ttl=2, window=20, per_lookup_s=10.0))
        for n in numbers:
            self.assertIsNotNone(res[n], n)
            want = ["priv:fake@%s/%s" % (R_HOST, n)] if int(n) % 2 == 0 else []
            self.assertEqual(self.dests(res[n]), want, n)
        st = wait_stats(l_, lambda s: s["live_trans"] == 0, 10)
        self.assertEqual(st["live_trans"], 0, st)
        figure("peer answers half", "20/20 answered, 10 with the peer's answer; L timeouts=%d retransmits=%d"
               % (st["timeouts"], st["retransmits"]))
        self.assert_lag("peer answers half", st)
        self.stop("L")

    def test_peer_replies_from_another_address(self):
        """Replies must come from the address asked: a DPRESPONSE from
        127.0.24.3 for a request sent to 127.0.24.2 belongs to no transaction.
        L answers INVALID there (rate-limited), keeps retransmitting to .2,
        and answers the client (empty) after its wait."""
        peer = FakePeer(lambda n: True, reply_host=OTHER_HOST)
        self.addCleanup(peer.close)
        l_ = self.start("L", l_config())
        res = self.lookups().run(["2201", "2202", "2203"], ttl=2, window=3, per_lookup_s=10.0)
        self.assertEqual([self.dests(p) for _, p in res], [[], [], []], "a reply from another address was used")
        self.assertGreaterEqual(peer.seen, 6, "L did not retransmit to the address it asked")
        invalids = [raw for raw in peer.from_l_to_out if len(raw) == 8 and raw[6] == dr.INVALID]
        self.assertGreater(len(invalids), 0, "no INVALID to the other address")
        st = wait_stats(l_, lambda s: s["live_trans"] == 0, 10)
        self.assertEqual(st["live_trans"], 0, st)
        figure("reply from another address", "3/3 answered without it; %d INVALIDs to %s, L saw %d "
               "unknown-transaction packets" % (len(invalids), OTHER_HOST, st["unknown_trans"]))
        self.stop("L")


# ====================================================================== reloads, restarts


class ReloadTests(FaultCase):
    def run_under_load(self, l_, count, action, window=20):
        c = self.lookups()
        self.client = c
        numbers = ["1001" if i % 2 else "%d" % (2000 + i % 1000) for i in range(count)]
        res = c.run(numbers, ttl=2, window=window, per_lookup_s=10.0, between=action)
        lost = [n for n, p in res if p is None]
        wrong = [(n, self.dests(p)) for n, p in res
                 if p is not None and self.dests(p) != (["priv:x@%s/1001" % L_HOST] if n == "1001"
                                                        else ["priv:y@%s/%s" % (R_HOST, n)])]
        return res, lost, wrong

    def test_sighup_broken_config_under_load(self):
        """SIGHUP with a broken file while lookups run: the running
        configuration stays, no lookup is lost; then a good file again."""
        self.start("R", r_config())
        l_ = self.start("L", l_config())
        good = l_config()
        path = l_.conf_path

        def act(i):
            if i == 300:
                with open(path, "w") as f:
                    f.write(good.replace("model = inbound", "model = sideways"))
                l_.signal(signal.SIGHUP)
                # before the good file comes back (lookups in flight keep waiting meanwhile)
                self.assertTrue(l_.wait_log("reload failed", timeout=5))
            elif i == 700:
                with open(path, "w") as f:
                    f.write(good)
                l_.signal(signal.SIGHUP)

        res, lost, wrong = self.run_under_load(l_, 1000, act)
        self.assertEqual(lost, [])
        self.assertEqual(wrong, [])
        self.assertTrue(l_.wait_log("reload failed; still running with the previous configuration"))
        self.assertTrue(l_.wait_log("configuration reloaded"))
        st = live_stats(l_)
        figure("SIGHUP broken config", "1000/1000 answered correctly; client retransmissions %d" %
               self.client.client_rexmits)
        self.assert_lag("SIGHUP broken config", st)
        self.stop("L")
        self.stop("R")

    def test_sighup_during_startup(self):
        """SIGHUPs right after the sockets are bound (before the loop runs) are
        held and handled as reloads, not the default action that kills."""
        for _ in range(5):
            l_ = self.start("L", l_config())
            for _ in range(5):
                l_.signal(signal.SIGHUP)
            time.sleep(0.3)
            self.assertTrue(l_.running(), l_.log())
            c = self.lookups()
            res = c.run(["1001"], ttl=2, window=1, per_lookup_s=5.0)
            self.assertEqual(self.dests(res[0][1]), ["priv:x@%s/1001" % L_HOST])
            l_.stop()

    def test_sighup_storm_under_load(self):
        """50 SIGHUPs in about 5 s while forwarded and local lookups run."""
        self.start("R", r_config())
        l_ = self.start("L", l_config())
        sent = []
        t_start = [None]

        def act(i):
            if t_start[0] is None:
                t_start[0] = time.monotonic()
            # one SIGHUP per 100 ms of lookups, 50 in all
            while len(sent) < 50 and time.monotonic() - t_start[0] >= 0.1 * len(sent):
                l_.signal(signal.SIGHUP)
                sent.append(time.monotonic())

        c = self.lookups()
        numbers = ["1001" if i % 2 else "%d" % (2000 + i % 1000) for i in range(4000)]
        res = c.run(numbers, ttl=2, window=20, per_lookup_s=10.0, between=act)
        while len(sent) < 50:  # the lookups were faster than 5 s: finish the storm
            l_.signal(signal.SIGHUP)
            sent.append(time.monotonic())
            time.sleep(0.1)
        lost = [n for n, p in res if p is None]
        wrong = [n for n, p in res if self.dests(p) != (["priv:x@%s/1001" % L_HOST] if n == "1001"
                                                        else ["priv:y@%s/%s" % (R_HOST, n)])]
        self.assertEqual(lost, [])
        self.assertEqual(wrong, [])
        self.assertTrue(l_.wait_log("configuration reloaded", timeout=10, count=1))
        st = live_stats(l_)
        reloads = l_.log().count("configuration reloaded")
        figure("SIGHUP storm", "%d SIGHUPs in %.1f s (%d reloads logged; signals may coalesce); "
               "%d/%d lookups answered correctly" % (len(sent), sent[-1] - sent[0], reloads, len(res), len(res)))
        self.assertGreaterEqual(reloads, 1)
        self.assert_lag("SIGHUP storm", st)
        self.stop("L")
        self.stop("R")

    def test_kill9_restart_restores_bindings(self):
        """Bindings fed over HEP reach the state file (state_interval = 1);
        kill -9, restart: they are answered again."""
        state = os.path.join(self.work.name, "registrations.state")
        conf = l_config(statefile=state, reg_extra=["hep = %s:%d" % (L_HOST, HEP_PORT), "state_interval = 1"])
        l_ = self.start("L", conf)
        from test_registrations import hep3, ok, register, REG_A, PHONES, PHONE_PORT, SIP_PORT  # noqa: E402
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        users = [str(7000 + i) for i in range(50)]
        for u in users:
            s.sendto(hep3(PHONES, REG_A, PHONE_PORT, SIP_PORT, register(u, REG_A, 3600, "k9-" + u)), (L_HOST, HEP_PORT))
            s.sendto(hep3(REG_A, PHONES, SIP_PORT, PHONE_PORT, ok(u, REG_A, 3600, "k9-" + u)), (L_HOST, HEP_PORT))
        want = "%s@%s:%d" % ("7049", PHONES, PHONE_PORT)

        def ask(n):
            (_, p), = self.lookups().run([n], context="regs", window=1)
            return self.dests(p)

        end = time.monotonic() + 10
        while ask("7049") != ["sip:" + want] and ask("7049") != [want] and time.monotonic() < end:
            time.sleep(0.1)
        got = ask("7049")
        self.assertIn(got, (["sip:" + want], [want]), "binding not learnt over HEP")
        # Wait until the state file holds all 50 (written every second).
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with open(state) as f:
                    if "E\t50\n" in f.read():
                        break
            except OSError:
                pass
            time.sleep(0.1)
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o600)
        l_.proc.kill()
        l_.proc.wait(5)
        l2 = self.start("L2", conf)
        self.assertTrue(l2.wait_log("50 binding(s) restored"), l2.log()[-2000:])
        self.assertEqual(ask("7049"), got)
        self.assertEqual(ask("7000"), [x.replace("7049", "7000") for x in got])
        figure("kill -9 restart", "50/50 bindings restored from the state file after SIGKILL")
        self.daemons["L"] = l2
        self.stop("L")


# ====================================================================== floods


def unknown_dpdiscover(rng, st):
    return dr.dpdiscover(st, "%d" % rng.randrange(10000), "priv", "02:%02x:%02x:%02x:%02x:%02x" % tuple(
        rng.randrange(256) for _ in range(5)))


def junk_packet(rng, i):
    k = i % 8
    st = rng.randrange(1, 0x8000)
    if k == 0:
        return rng.randbytes(rng.randrange(0, 40))
    if k == 1:
        return dr.header(st, rng.randrange(0x10000), rng.randrange(256), rng.randrange(256), dr.ACK)
    if k == 2:
        return dr.packet(st, 0, 0, 0, dr.NULL)  # a ping without F: CANCEL, sent once
    if k == 3:
        return dr.packet(st, 0, 0, 0, dr.DPDISCOVER, b"\x03\x40" + b"1")  # IE past the end
    if k == 4:
        return dr.packet(st, 0, 0, 0, dr.ENCRYPT, dr.ie_eid(dr.IE_EID, "02:00:00:00:99:99") + dr.ie(
            dr.IE_ENCDATA, rng.randbytes(32)))
    if k == 5:
        return dr.regreq(st, "02:00:00:00:99:%02x" % rng.randrange(256))
    return unknown_dpdiscover(rng, st)


def asan_build():
    try:
        with open(harness.BINARIES["dundid"], "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


class FloodTests(FaultCase):
    def setUp(self):
        super().setUp()
        # ASan keeps freed memory in a quarantine (256 MB by default), which a
        # flood fills: RSS would measure the quarantine, not dundid. A small
        # one, filled by the warm-up, leaves RSS to measure what is kept.
        if asan_build():
            old = os.environ.get("ASAN_OPTIONS")
            os.environ["ASAN_OPTIONS"] = (old + ":" if old else "") + "quarantine_size_mb=4"
            self.addCleanup(lambda: os.environ.__setitem__("ASAN_OPTIONS", old) if old is not None
                            else os.environ.pop("ASAN_OPTIONS", None))

    def flood_socks(self, n=100):
        socks = []
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.24.%d" % (100 + i), 0))
            s.setblocking(False)
            self.addCleanup(s.close)
            socks.append(s)
        return socks

    def test_unknown_eids_leave_no_state(self):
        """100 000 DPDISCOVERs from unknown EIDs (and other junk) from 100
        addresses: no transaction is left, RSS returns to its level, the
        replies stay within the rate limit, L still answers its peers."""
        l_ = self.start("L", l_config())
        socks = self.flood_socks()
        rng = random.Random(8)
        base = live_stats(l_)

        def blast(count, packet):
            sent = 0
            t0 = time.monotonic()
            for i in range(count):
                try:
                    socks[i % len(socks)].sendto(packet(i), (L_HOST, PORT))
                    sent += 1
                except (BlockingIOError, OSError):
                    pass
                if i % 2000 == 1999:
                    for s in socks:  # throw away what the daemon sent back
                        for _ in range(64):
                            try:
                                s.recv(65535)
                            except (BlockingIOError, OSError):
                                break
            return sent, time.monotonic() - t0

        t_first = time.monotonic()
        blast(30000, lambda i: unknown_dpdiscover(rng, rng.randrange(1, 0x8000)))  # warm-up
        wait_quiet(l_)
        rss0 = rss_kb(l_.proc.pid)
        sent, secs = blast(100000, lambda i: unknown_dpdiscover(rng, rng.randrange(1, 0x8000)) if i % 2
                           else junk_packet(rng, i))
        st = wait_quiet(l_)  # whatever the daemon still had queued is read
        rss1 = rss_kb(l_.proc.pid)
        refused = st["refused"] - base["refused"]
        figure("100k unknown EIDs", "sent %d in %.1f s; L read %d; live_trans %d; RSS %d -> %d kB; "
               "refused %d, NOAUTH suppressed %d, INVALID sent %d suppressed %d, tx %d"
               % (sent, secs, st["rx"] - base["rx"], st["live_trans"], rss0, rss1, refused,
                  st["noauth_suppressed"], st["invalid_sent"], st["invalid_suppressed"], st["tx"] - base["tx"]))
        # No lasting state: nothing of the flood is left in the transaction table.
        self.assertEqual(st["live_trans"], 0, st)
        self.assertEqual(st["peer_states"], 0, st)
        self.assertLess(rss1 - rss0, 4096, "RSS grew by %d kB" % (rss1 - rss0))
        # Replies are bounded by the global bucket (burst 2000 + 1000/s), however many came.
        elapsed = time.monotonic() - t_first
        self.assertLessEqual(st["tx"] - base["tx"], 2000 + 1000 * elapsed + 100, st)
        self.assertGreater(st["noauth_suppressed"] + st["invalid_suppressed"], 0, st)
        self.assert_lag("100k unknown EIDs", st)
        # Still answering.
        (n, p), = self.lookups().run(["1001"])
        self.assertEqual(self.dests(p), ["priv:x@%s/1001" % L_HOST])
        self.stop("L")

    def test_flood_1m_junk_with_lookups(self):
        """Up to 1 000 000 junk datagrams, as fast as Python sends them for at
        most 20 s, while a client keeps asking: RSS stays flat, every lookup
        is answered (the client retransmits as DUNDi requesters do)."""
        l_ = self.start("L", l_config())
        socks = self.flood_socks()
        rng = random.Random(1)
        pool = [junk_packet(rng, i) for i in range(4096)]  # precomputed: send speed matters here
        stop = threading.Event()
        counts = {"sent": 0, "secs": 0.0}

        def flood(total, budget):
            t0 = time.monotonic()
            i = 0
            while i < total and not stop.is_set() and time.monotonic() - t0 < budget:
                for _ in range(1000):
                    try:
                        socks[i % 100].sendto(pool[i % 4096], (L_HOST, PORT))
                        counts["sent"] += 1
                    except (BlockingIOError, OSError):
                        pass
                    i += 1
                if i % 20000 == 0:
                    for s in socks:
                        for _ in range(32):
                            try:
                                s.recv(65535)
                            except (BlockingIOError, OSError):
                                break
            counts["secs"] = time.monotonic() - t0

        flood(100000, 10)  # warm-up: allocator and ASan quarantine reach their level
        time.sleep(0.5)
        rss0 = rss_kb(l_.proc.pid)
        counts["sent"] = 0
        th = threading.Thread(target=flood, args=(1000000, 20.0), daemon=True)
        th.start()
        c = self.lookups()
        res = []
        # Lookups for as long as the flood runs (bounded: at most 400 of them).
        while th.is_alive() and len(res) < 400:
            res += c.run(["1001"] * 20, window=10, per_lookup_s=10.0, budget_s=30.0)
        th.join(30)
        stop.set()
        time.sleep(1.0)
        st = live_stats(l_)
        rss1 = rss_kb(l_.proc.pid)
        answered = [p for _, p in res if self.dests(p) == ["priv:x@%s/1001" % L_HOST]]
        figure("1M junk flood", "sent %d junk datagrams in %.1f s; L read %d; RSS %d -> %d kB; "
               "%d/%d interleaved lookups answered (client retransmissions %d); live_trans %d; "
               "malformed %d, suppressed INVALID %d NOAUTH %d"
               % (counts["sent"], counts["secs"], st["rx"], rss0, rss1, len(answered), len(res), c.client_rexmits,
                  st["live_trans"], st["malformed"], st["invalid_suppressed"], st["noauth_suppressed"]))
        self.assertGreater(len(res), 0)
        self.assertEqual(len(answered), len(res), "lookups lost during the flood")
        self.assertLess(rss1 - rss0, 4096, "RSS grew by %d kB" % (rss1 - rss0))
        st = wait_stats(l_, lambda s: s["live_trans"] == 0, 10)
        self.assertEqual(st["live_trans"], 0, st)
        self.assert_lag("1M junk flood", st)
        self.stop("L")


# ====================================================================== access rules


class AccessTests(FaultCase):
    def test_peer_address_check(self):
        """R's EID from R's host is answered; from another address it is NOAUTH
        (peer_address_check defaults to yes); per-peer 'no' relaxes it."""
        from_r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        from_r.bind((R_HOST, 0))
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((OTHER_HOST, 0))
        self.addCleanup(from_r.close)
        self.addCleanup(other.close)

        def ask(sock, st):
            sock.sendto(dr.dpdiscover(st, "1001", "priv", R_EID), (L_HOST, PORT))
            end = time.monotonic() + 3
            while time.monotonic() < end:
                r, _, _ = select.select([sock], [], [], 0.2)
                if r:
                    pkt = dr.decode(sock.recv(65535))
                    if pkt.hdr.cmd == dr.DPRESPONSE:
                        sock.sendto(dr.ack(st, pkt.hdr.strans, 1, 1, True), (L_HOST, PORT))
                        return pkt
            return None

        l_ = self.start("L", l_config())
        p = ask(from_r, 3001)
        self.assertEqual(self.dests(p), ["priv:x@%s/1001" % L_HOST])
        p = ask(other, 3002)
        self.assertIsNotNone(p)
        self.assertEqual(p.cause()[0], dr.CAUSE_NOAUTH, p)
        self.assertEqual(p.answers(), [])
        st = live_stats(l_)
        self.assertEqual(st["addr_mismatch"], 1, st)
        self.assertIn("not from its host", l_.log())
        self.stop("L")
        # [general] no, and the per-peer override back to yes.
        for gen, peer, allowed in ((["peer_address_check = no"], [], True),
                                   (["peer_address_check = no"], ["peer_address_check = yes"], False),
                                   ([], ["peer_address_check = no"], True)):
            with self.subTest(general=gen, peer=peer):
                self.daemons.pop("L")
                self.start("L", l_config(general_extra=gen, peer_extra=peer))
                p = ask(other, 3003)
                self.assertIsNotNone(p)
                if allowed:
                    self.assertEqual(self.dests(p), ["priv:x@%s/1001" % L_HOST])
                else:
                    self.assertEqual(p.cause()[0], dr.CAUSE_NOAUTH, p)
                self.stop("L")

    def test_per_source_cap(self):
        """max_transactions_per_source = 5: a sixth concurrent transaction from
        one address is not opened (counted), another address is unaffected."""
        # R is a black hole (nobody listens): lookups to it stay open for the wait.
        l_ = self.start("L", l_config(general_extra=["max_transactions_per_source = 5"]))
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind((CLIENT_HOST, 0))
        self.addCleanup(c.close)
        acked = set()
        for st in range(4001, 4011):  # distinct numbers: no duplicate-request answers
            c.sendto(dr.dpdiscover(st, str(2990 + st - 4001), "priv", CLIENT_EID, 2), (L_HOST, PORT))
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            r, _, _ = select.select([c], [], [], 0.1)
            if r:
                pkt = dr.decode(c.recv(65535))
                if pkt.hdr.cmd == dr.ACK:
                    acked.add(pkt.hdr.dtrans)
        st = live_stats(l_)
        # 5 inbound from the client; L's own transactions towards R count for R's address.
        self.assertEqual(len(acked), 5, acked)
        self.assertEqual(st["refused_source"], 5, st)
        (n, p), = self.lookups(host="127.0.24.21").run(["1001"])
        self.assertEqual(self.dests(p), ["priv:x@%s/1001" % L_HOST])
        figure("per-source cap", "5 of 10 concurrent transactions from one address opened, refused_source=%d"
               % st["refused_source"])
        self.stop("L")

    def test_wildcard_dynamic_registrations_bounded(self):
        """[*] with host = dynamic accepts REGREQs from any EID, but holds a
        bounded number of them (CONF_MAX_CLONES, 1024, peers cloned from [*];
        REG_MAX_PEERS, 4096, registrations in all); further new EIDs get
        NOAUTH, rate-limited."""
        text = (general(L_HOST, L_EID) + "[registrations]\nstatefile = none\n[mappings]\n"
                + "priv => local,0,IAX2,x/${NUMBER}\n"
                + "[*]\nhost = dynamic\nmodel = symmetric\ninclude = priv\npermit = priv\n"
                + "[context local]\nexten => 1001\n")
        l_ = self.start("L", text)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.bind((CLIENT_HOST, 0))
        self.addCleanup(s.close)
        got = {"ok": 0, "noauth": 0}

        def drain(wait):
            end = time.monotonic() + wait
            while True:
                r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
                if not r:
                    return
                pkt = dr.decode(s.recv(65535))
                if pkt.hdr.cmd == dr.REGRESPONSE:
                    s.sendto(dr.ack(pkt.hdr.dtrans, pkt.hdr.strans, 1, 1, True), (L_HOST, PORT))
                    got["noauth" if pkt.cause() and pkt.cause()[0] == dr.CAUSE_NOAUTH else "ok"] += 1

        total = 4200
        for i in range(total):
            eid = "02:00:01:%02x:%02x:%02x" % (i >> 16, (i >> 8) & 255, i & 255)
            s.sendto(dr.regreq(1 + i % 32000, eid), (L_HOST, PORT))
            if i % 100 == 99:
                drain(0.05)
        drain(1.0)
        st = wait_stats(l_, lambda x: x["peers_registered"] + x["regs_refused"] >= total, 10)
        figure("[*] dynamic registrations", "%d REGREQs of new EIDs: %d registered, %d refused (NOAUTH replies "
               "seen %d)" % (total, st["peers_registered"], st["regs_refused"], got["noauth"]))
        self.assertEqual(st["peers_registered"], 1024, st)
        self.assertEqual(st["regs_refused"], total - 1024, st)
        self.assertEqual(got["ok"], 1024)
        self.assertLessEqual(got["noauth"], 40 + 20 * 10, "NOAUTH replies beyond the rate limit")
        self.stop("L")

    def test_logfile_mode_and_symlink(self):
        """logfile= is created 0640 (not world-readable) and never opened
        through a symlink."""
        log = os.path.join(self.work.name, "d.log")
        pidfile = os.path.join(self.work.name, "d.pid")
        conf = self.write("L", l_config(general_extra=["logfile = %s" % log]))

        def run():
            return subprocess.run([harness.BINARIES["dundid"], "-c", conf, "-p", pidfile],
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=10)

        def stop():
            with open(pidfile) as f:
                pid = int(f.read())
            os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + 10
            while os.path.exists("/proc/%d" % pid) and time.monotonic() < end:
                time.sleep(0.05)

        old = os.umask(0o022)
        try:
            r = run()
            self.assertEqual(r.returncode, 0, r.stderr)
            stop()
            self.assertEqual(os.stat(log).st_mode & 0o777, 0o640)
            os.unlink(log)
            target = os.path.join(self.work.name, "elsewhere")
            with open(target, "w") as f:
                f.write("")
            os.symlink(target, log)
            r = run()
            if r.returncode == 0:
                stop()
            self.assertNotEqual(r.returncode, 0, "started with its log file a symlink")
            with open(target) as f:
                self.assertEqual(f.read(), "", "wrote through the symlink")
        finally:
            os.umask(old)

    def test_keyed_wildcard_junk_creates_no_peer_state(self):
        """A [*] peer with keys: ENCRYPTs with random EIDs and junk key material
        are refused (ENCREJ) and leave no per-EID state behind."""
        text = (general(L_HOST, L_EID, extra=["keydir = %s" % harness.test_keydir()])
                + "[registrations]\nstatefile = none\n[mappings]\npriv => local,0,IAX2,x/${NUMBER}\n"
                + "[*]\nmodel = inbound\npermit = priv\ninkey = dundi\noutkey = dundi\n"
                + "[context local]\nexten => 1001\n")
        l_ = self.start("L", text)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((CLIENT_HOST, 0))
        self.addCleanup(s.close)
        rng = random.Random(3)
        for i in range(300):
            eid = "02:%02x:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(5))
            ies = (dr.ie_eid(dr.IE_EID, eid) + dr.ie(dr.IE_SHAREDKEY, rng.randbytes(128))
                   + dr.ie(dr.IE_SIGNATURE, rng.randbytes(128)) + dr.ie(dr.IE_ENCDATA, rng.randbytes(48)))
            s.sendto(dr.packet(5000 + i, 0, 0, 0, dr.ENCRYPT, ies), (L_HOST, PORT))
            if i % 20 == 19:
                time.sleep(0.05)
        st = wait_stats(l_, lambda x: x["crypto_rejected"] >= 300, 20)
        self.assertEqual(st["crypto_rejected"], 300, st)
        self.assertEqual(st["peer_states"], 0, st)
        self.assertEqual(st["live_trans"], 0, st)
        self.stop("L")

    def test_key_flood_is_rate_limited(self):
        """2000 ENCRYPTs offering junk full keys for a keyed dynamic peer's
        EID (anyone may claim it): the RSA work is bounded by the key-check
        rate limit (20 at once, 10/s per source), the loop does not stall,
        the peer's real lookups are still answered."""
        text = (general(L_HOST, L_EID, extra=["keydir = %s" % harness.test_keydir()])
                + "[registrations]\nstatefile = none\n[mappings]\npriv => local,0,IAX2,x/${NUMBER}\n"
                + "[02:00:00:00:24:77]\nhost = dynamic\nmodel = inbound\npermit = priv\n"
                + "inkey = dundi\noutkey = dundi\n"
                + "[%s]\nmodel = inbound\npermit = priv\n" % CLIENT_EID
                + "[context local]\nexten => 1001\n")
        l_ = self.start("L", text)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.24.30", 0))
        self.addCleanup(s.close)
        rng = random.Random(4)
        t0 = time.monotonic()
        for i in range(2000):
            ies = (dr.ie_eid(dr.IE_EID, "02:00:00:00:24:77") + dr.ie(dr.IE_SHAREDKEY, rng.randbytes(128))
                   + dr.ie(dr.IE_SIGNATURE, rng.randbytes(128)) + dr.ie(dr.IE_ENCDATA, rng.randbytes(48)))
            s.sendto(dr.packet(1 + i, 0, 0, 0, dr.ENCRYPT, ies), (L_HOST, PORT))
            if i % 200 == 199:
                time.sleep(0.02)
        st = wait_stats(l_, lambda x: x["crypto_rejected"] >= 2000, 30)
        elapsed = time.monotonic() - t0
        figure("junk key flood", "2000 offered keys in %.1f s: %d RSA checks, %d refused unchecked, %d log lines"
               % (elapsed, st["key_checks"], st["key_checks_suppressed"], l_.log().count("rejected:")))
        self.assertEqual(st["crypto_rejected"], 2000, st)
        self.assertLessEqual(st["key_checks"], 20 + 10 * elapsed + 1, st)
        self.assertEqual(st["key_checks"] + st["key_checks_suppressed"], 2000, st)
        self.assertLess(l_.log().count("rejected:"), 200, "a log line per junk packet")
        self.assert_lag("junk key flood", st)
        (n, p), = self.lookups().run(["1001"])
        self.assertEqual(self.dests(p), ["x/1001"])
        self.stop("L")


# ====================================================================== nftables in a netns


class NetnsLossTests(FaultCase):
    """30 % loss by nftables (numgen random) on the L<->R path, in a network
    namespace of this process's own (unshare). Run alone, as its own ctest
    entry: main() exits 77 (skip) when there is no namespace or nftables."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or not shutil_which("nft") or not shutil_which("ip"):
            raise unittest.SkipTest("needs root, ip and nft")
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
            raise unittest.SkipTest("unshare(CLONE_NEWNET): %s" % os.strerror(ctypes.get_errno()))
        # A counting rule for each direction, then the dropping one (also counted).
        rules = "table inet dundidfault {\n chain c {\n  type filter hook input priority 0;\n"
        for a, b in ((L_HOST, R_HOST), (R_HOST, L_HOST)):
            rules += ("  ip saddr %s ip daddr %s udp dport %d counter\n"
                      "  ip saddr %s ip daddr %s udp dport %d numgen random mod 10 < 3 counter drop\n"
                      % (a, b, PORT, a, b, PORT))
        rules += " }\n}\n"
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True, timeout=10)
            subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True, capture_output=True, timeout=10)
        except (subprocess.SubprocessError, OSError) as e:
            raise unittest.SkipTest("cannot set up nftables in the namespace: %s" % e)

    def test_loss_30pct_nftables(self):
        self.start("R", r_config())
        self.start("L", l_config())
        # nft's drops cannot be seeded, so the share varies from run to run
        # (193 to 200 of 200 in seven runs at 28-32 % drops): each transaction
        # to R that times out (all five sends lost) makes R SUSPECT for about
        # a second, and lookups then wait for it only briefly (passive failure
        # detection). The seeded relay above keeps the 97 % bound.
        loss_run(self, "loss 30% nftables netns", min_share=0.95)
        out = subprocess.run(["nft", "list", "ruleset"], capture_output=True, timeout=10).stdout.decode()
        counts = [int(n) for n in re.findall(r"counter packets (\d+)", out)]
        self.assertEqual(len(counts), 4, out)
        seen, dropped = counts[0] + counts[2], counts[1] + counts[3]
        figure("nftables drops", "%d of %d datagrams between L and R dropped (%.1f %%)"
               % (dropped, seen, 100.0 * dropped / max(1, seen)))
        self.assertGreater(dropped, 0, out)
        self.stop("L")
        self.stop("R")


def shutil_which(name):
    import shutil
    return shutil.which(name)


def main():
    extra, run = harness.run_tests()
    netns_only = "NetnsLossTests" in sys.argv
    if netns_only:
        # A visible skip for ctest: 77 when the namespace or nftables is not available.
        import unittest as ut
        suite = ut.defaultTestLoader.loadTestsFromTestCase(NetnsLossTests)
        result = ut.TextTestRunner(verbosity=2).run(suite)
        for name, text in FIGURES:
            print("figure: %s: %s" % (name, text))
        # A skip in setUpClass counts no test run: nothing ran but skips.
        if result.skipped and result.wasSuccessful() and result.testsRun <= len(result.skipped):
            sys.exit(77)
        sys.exit(0 if result.wasSuccessful() else 1)
    try:
        run()
    finally:
        for name, text in FIGURES:
            print("figure: %s: %s" % (name, text))


if __name__ == "__main__":
    main()
