#!/usr/bin/env python3
"""Differential test against real Asterisk (issue 13, item 5).

test/data/asterisk-answers/ holds what a real Asterisk (branch 20, pbx_dundi)
answered to dundiq for each NUMBER@CONTEXT of FOLDER.pairs, asked with
`dundiq --json --ttl 1 --eid 02:00:00:00:43:99`, for the configuration
folder FOLDER/ (see the README there). This test starts dundid on the same
folder (`dundid -A`), asks it the same pairs the same way over loopback and
compares answers, weights, flags, destinations, EIDs, expirations, hints and
causes after normalising what is host- or time-dependent:

- ${SECRET}: any 22 base64 characters then "==" (the rotating secret);
- ${IPADDR}: Asterisk puts the first address its host name resolves to
  there (127.0.0.1 on the recording host), and so does dundid for an
  Asterisk folder; the recording's 127.0.0.1 is replaced with what that rule
  gives on this host (also when the name does not resolve: then nothing),
  so the test does not depend on how this host's name resolves;
- answer order: Asterisk sends its mappings' answers in reverse file order,
  dundiq sorts by weight only; both sides are sorted fully here.

Each folder is copied to a temporary folder with @DIR@ replaced by its path,
the DUNDi port changed to the test's and peer hosts off this machine changed
to loopback addresses (keep_peers_local): none of them plays a part in
answers asked with TTL 1.

Addresses: 127.0.43.10 port 45550 (sample), 127.0.43.11 port 45551 (paper);
dundiq asks from 127.0.0.1 (the asker peer's host); peers 127.0.43.31-33.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "asterisk-answers")
BIN = {"dundid": "", "dundiq": "", "asterisk": ""}
ASKER_EID = "02:00:00:00:43:99"
RECORDED_IPADDR = "127.0.0.1"  # what "vm" resolved to on the recording host
SECRET_RE = re.compile(r"[A-Za-z0-9+]{22}==")
FOLDERS = {"sample": ("127.0.43.10", 45550), "paper": ("127.0.43.11", 45551)}


def asterisk_ipaddr():
    """${IPADDR} as pbx_dundi computes it (bindaddr is IPv4): the first IPv4
    address getaddrinfo() gives for gethostname(), "" when there is none."""
    try:
        return socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]
    except (OSError, IndexError):
        return ""


def normalise(resp, ipaddr=None, here=None):
    """A comparable form of one dundiq --json response (None: no response);
    ipaddr, when given, is replaced with here."""
    if resp is None:
        return None
    out = json.loads(json.dumps(resp))
    for a in out.get("answers", []):
        d = SECRET_RE.sub("${SECRET}", a["dest"])
        if ipaddr:
            d = d.replace(ipaddr, here)
        a["dest"] = d
    out["answers"] = sorted(out.get("answers", []),
                            key=lambda a: (a["weight"], a["tech"], a["dest"], a["flags"], a["eid"]))
    return out


def keep_peers_local(text):
    """Peer hosts that are not loopback (the sample's Digium addresses and
    misery.digium.com, the paper's 10.10.10.120) become 127.0.43.31, .32,
    ...: the test sends nothing off this host and resolves no name. Asked
    with TTL 1, neither Asterisk nor dundid asks any peer, so the answers do
    not depend on these addresses."""
    n = [30]

    def local(m):
        if m.group(2).lower() == "dynamic" or m.group(2).startswith("127."):
            return m.group(0)
        n[0] += 1
        return "%s127.0.43.%d" % (m.group(1), n[0])
    return re.sub(r"(?m)^(\s*host\s*=\s*)([^\s;]+)", local, text)


def install_folder(name, dest, port):
    """Copy FOLDER to dest with @DIR@ replaced and the DUNDi port set."""
    src = os.path.join(DATA, name)
    shutil.copytree(src, dest)
    for fn in os.listdir(dest):
        p = os.path.join(dest, fn)
        if not fn.endswith(".conf"):
            continue
        with open(p) as f:
            text = f.read()
        text = text.replace("@DIR@", dest)
        if fn == "dundi.conf":
            text, n = re.subn(r"(?m)^port\s*=.*$", "port=%d" % port, text)
            if not n:
                text = re.sub(r"(?m)^\[general\][^\n]*$", "[general]\nport=%d" % port, text, count=1)
        if fn.startswith("dundi"):
            text = keep_peers_local(text)
        with open(p, "w") as f:
            f.write(text)
    keys = os.path.join(dest, "keys")
    for fn in os.listdir(keys):
        os.chmod(os.path.join(keys, fn), 0o600 if fn.endswith(".key") else 0o644)


def read_known():
    """{(folder, pair): category} from known-differences.txt."""
    known = {}
    with open(os.path.join(DATA, "known-differences.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                folder, pair, category = line.split()
                known[(folder, pair)] = category
    return known


def without_weights(resp):
    if resp is None:
        return None
    out = json.loads(json.dumps(resp))
    for a in out["answers"]:
        a["weight"] = 0
    out["answers"].sort(key=lambda a: (a["tech"], a["dest"], a["flags"], a["eid"]))
    return out


def explained(category, want, got):
    """Whether the category accounts for the whole difference (checked for
    the categories where that can be told; the others are taken as listed)."""
    if category.startswith("weight-"):
        return without_weights(got) == without_weights(want)
    return True


def read_recording(name):
    rows = []
    with open(os.path.join(DATA, name + ".jsonl")) as f:
        for line in f:
            rows.append(json.loads(line))
    return rows


def ask(addr, port, pair):
    r = subprocess.run([BIN["dundiq"], "--json", "--ttl", "1", "--eid", ASKER_EID, "--timeout", "3000",
                        "%s:%d" % (addr, port), pair], capture_output=True, text=True, timeout=30)
    resp = json.loads(r.stdout) if r.stdout.strip() else None
    return r.returncode, resp, r.stderr.strip()


class Dundid:
    def __init__(self, folder, workdir):
        self.log_path = os.path.join(workdir, "dundid.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN["dundid"], "-f", "-d", "-A", folder], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_listening(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dundid -A exited (code %s):\n%s" % (self.proc.returncode, self.text()))
            if "listening on" in self.text():
                return
            time.sleep(0.02)
        raise AssertionError("dundid -A did not report 'listening on':\n%s" % self.text())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


class Asterisk(Dundid):
    """The reference itself on the same folder (--asterisk PATH): checks the
    recording and this test's normalisation; needs the Asterisk build the
    folder's asterisk.conf names (astmoddir, astdatadir)."""

    def __init__(self, folder, workdir):
        self.conf = os.path.join(folder, "asterisk.conf")
        for sub in ("var/lib", "var/spool", "var/run", "var/log", "var/cache"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        self.log_path = os.path.join(workdir, "asterisk.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN["asterisk"], "-C", self.conf, "-f", "-n"], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_listening(self, timeout=30.0):
        r = subprocess.run([BIN["asterisk"], "-C", self.conf, "-rx", "core waitfullybooted"],
                           capture_output=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        while r.returncode and time.monotonic() < deadline:
            time.sleep(0.2)
            r = subprocess.run([BIN["asterisk"], "-C", self.conf, "-rx", "core waitfullybooted"],
                               capture_output=True, timeout=timeout)
        if r.returncode:
            raise AssertionError("asterisk did not boot:\n%s" % self.text())


def compare(name):
    """Runs dundid on FOLDER and returns (pairs compared, list of differences)."""
    addr, port = FOLDERS[name]
    with tempfile.TemporaryDirectory(prefix="dundid-astdiff-") as tmp:
        folder = os.path.join(tmp, name)
        install_folder(name, folder, port)
        d = (Asterisk if BIN["asterisk"] else Dundid)(folder, tmp)
        try:
            d.wait_listening()
            ipaddr = asterisk_ipaddr()
            diffs, n = [], 0
            for row in read_recording(name):
                want = normalise(row["response"], RECORDED_IPADDR, ipaddr)
                code, resp, err = ask(addr, port, row["ask"])
                got = normalise(resp)
                n += 1
                if code != row["exit"] or got != want:
                    diffs.append({"ask": row["ask"], "asterisk": want, "dundid": got,
                                  "exit": [row["exit"], code], "stderr": err,
                                  "explained": explained(KNOWN.get((name, row["ask"]), ""), want, got)})
            return n, diffs, d.text()
        finally:
            d.stop()


def short(resp):
    if resp is None:
        return "(no response)"
    parts = ["%d %s/%s [%s] %s %d" % (a["weight"], a["tech"], a["dest"], a["flags"], a["eid"], a["expires"])
             for a in resp["answers"]]
    if "hint" in resp:
        parts.append("hint %s '%s'" % (resp["hint"]["flags"], resp["hint"]["data"]))
    if "cause" in resp:
        parts.append("cause %s '%s'" % (resp["cause"]["name"], resp["cause"]["text"]))
    parts.append("expiration %d" % resp["expiration"])
    return "; ".join(parts)


KNOWN = {}


class AsteriskDiffTests(unittest.TestCase):
    def check(self, name):
        KNOWN.clear()
        if not BIN["asterisk"]:  # the reference itself must answer as recorded, every pair
            KNOWN.update(read_known())
        n, diffs, log = compare(name)
        listed = {p for (f, p) in KNOWN if f == name}
        by_cat = {}
        for d in diffs:
            c = KNOWN.get((name, d["ask"]), "NEW")
            by_cat[c] = by_cat.get(c, 0) + 1
        report = ["%s: %d pairs compared, %d differ (%s)" % (
            name, n, len(diffs), ", ".join("%s %d" % kv for kv in sorted(by_cat.items())) or "none")]
        bad = []
        for d in diffs:
            cat = KNOWN.get((name, d["ask"]))
            line = "  %s [%s]\n    asterisk: %s\n    dundid:   %s%s" % (
                d["ask"], cat or "NOT LISTED", short(d["asterisk"]), short(d["dundid"]),
                ("\n    dundiq: " + d["stderr"]) if d["stderr"] else "")
            report.append(line)
            if not cat:
                bad.append(line)
            elif not d["explained"]:
                bad.append(line + "\n    (differs in more than %s)" % cat)
        gone = sorted(listed - {d["ask"] for d in diffs})
        for p in gone:
            bad.append("  %s: listed in known-differences.txt (%s) but dundid now answers as Asterisk: remove it"
                       % (p, KNOWN[(name, p)]))
        print("\n".join(report), file=sys.stderr)
        self.assertGreater(n, 0)
        if bad:
            self.fail("\n".join(bad) + "\n--- dundid log (tail) ---\n" + log[-3000:])

    def test_sample(self):
        self.check("sample")

    def test_paper(self):
        self.check("paper")


class NormaliseSelfTest(unittest.TestCase):
    def test_secret_ipaddr_order(self):
        a = {"answers": [{"weight": 5, "tech": "IAX2", "dest": "x:bx4AQT5mlF3iiZ8jc0YjMQ==@10.0.0.7/1",
                          "flags": "EXISTS", "eid": "e", "expires": 1},
                         {"weight": 5, "tech": "IAX2", "dest": "a", "flags": "EXISTS", "eid": "e", "expires": 1}],
             "expiration": 1}
        n = normalise(a, "10.0.0.7", "127.0.1.1")
        self.assertEqual([x["dest"] for x in n["answers"]], ["a", "x:${SECRET}@127.0.1.1/1"])
        n = normalise(a, "10.0.0.7", "")
        self.assertEqual([x["dest"] for x in n["answers"]], ["a", "x:${SECRET}@/1"])

    def test_recordings_hold_enough_pairs(self):
        total = sum(len(read_recording(n)) for n in FOLDERS)
        self.assertGreaterEqual(total, 200)
        for name in FOLDERS:
            for row in read_recording(name):
                self.assertIsNotNone(row["response"], row["ask"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dundid", required=True)
    ap.add_argument("--dundiq", required=True)
    ap.add_argument("--asterisk", default="", help="ask this Asterisk binary instead of dundid (checks the recording)")
    args, rest = ap.parse_known_args()
    BIN["dundid"], BIN["dundiq"], BIN["asterisk"] = args.dundid, args.dundiq, args.asterisk
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
