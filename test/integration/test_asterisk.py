#!/usr/bin/env python3
"""dundid -A DIR: an Asterisk configuration folder read as Asterisk reads it.

    test_asterisk.py --dundid PATH --dundiq PATH --keygen PATH --dundictl PATH [unittest args]

CheckTests run `dundid -t -A` over Asterisk's sample folder as shipped, with
its examples enabled (keys made first), the cluster paper's configurations in
contrib/asterisk/, and broken folders. ReloadTests run a daemon on
127.0.42.1 port 45500 with -A and a dundid file for the control socket, and
check that SIGHUP re-reads every file (an included one too) and that a broken
file keeps the running configuration.
"""

import os
import re
import shutil
import signal
import subprocess
import unittest

import harness

HOST, PORT = "127.0.42.1", 45500
TOOLS = {}
DATA = harness.DATA
CONTRIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "asterisk")
EXAMPLE_KEYS = ("digium", "misery", "ourkey", "littleguy", "dhcp34", "foo")


def check(folder, *extra):
    return harness.run_tool([harness.BINARIES["dundid"], "-t", "-A", folder] + list(extra))


def keygen(keydir, name):
    rc, out, err = harness.run_tool([TOOLS["keygen"], "-d", keydir, name])
    if rc:
        raise AssertionError("dundid-keygen %s: %s%s" % (name, out, err))


def asterisk_conf(folder, keyroot, more=""):
    with open(os.path.join(folder, "asterisk.conf"), "w") as f:
        f.write("[options]\n%s[directories]\nastkeydir => %s\n" % (more, keyroot))


def enable_examples(text):
    """The sample's commented-out example lines (';key=', ';[peer]') uncommented."""
    return re.sub(r"(?m)^;(?=[A-Za-z0-9_\[])", "", text)


class CheckTests(unittest.TestCase):
    def setUp(self):
        self.tmp = harness.make_workdir("dundid-asterisk-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name

    def assertOK(self, folder, *extra):
        rc, out, err = check(folder, *extra)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("configuration OK", out)
        return err

    def assertFails(self, folder, *needles):
        rc, out, err = check(folder)
        self.assertEqual(rc, 1, out + err)
        for n in needles:
            self.assertIn(n, err)
        return err

    def test_samples_as_shipped(self):
        samples = os.path.join(DATA, "asterisk-samples")
        rc, out, err = check(samples)
        # The sample sets no entityid: the host's MAC address gives it, and a
        # test namespace has none; then the EID comes from a dundid file.
        if rc and "no network interface with a MAC address" in err:
            self.assertEqual(err.count(": warning: "), len(err.strip().split("\n")) - 1, err)
            own = os.path.join(self.dir, "eid.conf")
            with open(own, "w") as f:
                f.write("[general]\nentityid = 02:00:00:00:42:02\n")
            err = self.assertOK(samples, "-c", own)
        else:
            self.assertEqual(rc, 0, out + err)
        self.assertIn("extensions.conf:25: warning: switch => DUNDi/e164", err)

    def test_samples_with_examples(self):
        src = os.path.join(DATA, "asterisk-samples")
        with open(os.path.join(src, "dundi.conf")) as f:
            dundi = enable_examples(f.read())
        with open(os.path.join(self.dir, "dundi.conf"), "w") as f:
            f.write(dundi)
        shutil.copy(os.path.join(src, "extensions.conf"), self.dir)
        keys = os.path.join(self.dir, "lib", "keys")
        os.makedirs(keys)
        for k in EXAMPLE_KEYS:
            keygen(keys, k)
        asterisk_conf(self.dir, os.path.join(self.dir, "lib"))
        err = self.assertOK(self.dir)
        # what Asterisk would do, said with file:line
        self.assertRegex(err, r"dundi\.conf:\d+: warning: peer \[\*\]: neither model nor precache is set, .*"
                              r"Asterisk discards the peer, and so does dundid")
        self.assertRegex(err, r"dundi\.conf:31: warning: mapping 'testmap3': weight '\$\{SHELL\(echo 123\)\}' "
                              r"cannot be evaluated")
        # without the keys Asterisk's folder names them
        shutil.rmtree(keys)
        err = self.assertFails(self.dir, "%s/ourkey.key" % keys)

    def test_contrib_configs(self):
        keys = os.path.join(self.dir, "lib", "keys")
        os.makedirs(keys)
        keygen(keys, "dundi")
        asterisk_conf(self.dir, os.path.join(self.dir, "lib"))
        shutil.copy(os.path.join(CONTRIB, "regpbx-extensions.conf"), os.path.join(self.dir, "extensions.conf"))
        for dundi in ("regpbx-dundi.conf", os.path.join("ha", "regpbx-dundi.conf")):
            shutil.copy(os.path.join(CONTRIB, dundi), os.path.join(self.dir, "dundi.conf"))
            self.assertOK(self.dir)

    def test_broken_folders(self):
        asterisk_conf(self.dir, self.dir)
        dundi = os.path.join(self.dir, "dundi.conf")
        with open(dundi, "w") as f:
            f.write("[general]\nentityid = 02:00:00:00:00:01\n#include dundi.d/*.conf\n")
        os.makedirs(os.path.join(self.dir, "dundi.d"))
        # a glob that matches nothing is what Asterisk refuses
        self.assertFails(self.dir, "dundi.conf:3: #include dundi.d/*.conf: no file matches")
        # a template loop through an included file, with the chain named
        with open(os.path.join(self.dir, "dundi.d", "a.conf"), "w") as f:
            f.write("[t](t)\n")
        self.assertFails(self.dir, "dundi.d/a.conf:1: section [t]: template or section 't' is not defined before "
                                   "this line (included from %s:3)" % dundi)
        # binary
        with open(os.path.join(self.dir, "dundi.d", "a.conf"), "wb") as f:
            f.write(b"[general]\n\x00\x01\x02")
        self.assertFails(self.dir, "dundi.d/a.conf:2: not a text file (a NUL byte)")
        # huge
        with open(os.path.join(self.dir, "dundi.d", "a.conf"), "wb") as f:
            f.write(b";" * (9 << 20))
        self.assertFails(self.dir, "cannot include '%s/dundi.d/a.conf': larger than" % self.dir)
        # not a file
        os.remove(os.path.join(self.dir, "dundi.d", "a.conf"))
        os.makedirs(os.path.join(self.dir, "dundi.d", "a.conf"))
        self.assertFails(self.dir, "a.conf': not a regular file")
        # a missing dundi.conf
        os.remove(dundi)
        self.assertFails(self.dir, "%s: cannot open" % dundi)

    def test_passphrase_key(self):
        keys = os.path.join(self.dir, "lib", "keys")
        os.makedirs(keys)
        keygen(keys, "k")
        key = os.path.join(keys, "k.key")
        subprocess.run(["openssl", "rsa", "-aes256", "-passout", "pass:x", "-in", key, "-out", key + ".enc"],
                       check=True, capture_output=True, timeout=30)
        os.replace(key + ".enc", key)
        os.chmod(key, 0o600)
        asterisk_conf(self.dir, os.path.join(self.dir, "lib"))
        with open(os.path.join(self.dir, "dundi.conf"), "w") as f:
            f.write("[general]\nentityid = 02:00:00:00:00:01\n[02:00:00:00:00:02]\nmodel = symmetric\n"
                    "host = 192.0.2.1\ninkey = k\noutkey = k\n")
        self.assertFails(self.dir, "passphrase", "write it without one: openssl rsa -traditional -in k.key")


class ReloadTests(unittest.TestCase):
    def setUp(self):
        self.tmp = harness.make_workdir("dundid-asterisk-reload-")
        self.addCleanup(self.tmp.cleanup)
        d = self.dir = os.path.join(self.tmp.name, "ast")
        os.makedirs(os.path.join(d, "ext.d"))
        asterisk_conf(d, d, "entityid = 02:00:00:00:42:01\n")
        self.write("dundi.conf", "[general]\nttl = 32\n[mappings]\n"
                                 "e164 => local,${W},SIP,${NUMBER}@%s\n" % HOST)
        self.write("extensions.conf", "[globals]\nW = 7\n[local]\nexten => 1001,1,NoOp\n#include ext.d/*.conf\n")
        self.write("ext.d/a.conf", "exten => 1002,1,NoOp\n")
        self.sock = os.path.join(self.tmp.name, "ctl")
        own = os.path.join(self.tmp.name, "dundid.conf")
        with open(own, "w") as f:
            f.write("[general]\nbindaddr = %s\nport = %d\ncontrol = %s\n" % (HOST, PORT, self.sock))
        self.daemon = harness.Daemon(own, self.tmp.name, args=["-A", d])
        self.addCleanup(self.daemon.kill)
        self.daemon.start()

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def lookup(self, number):
        rc, out, err = harness.run_tool([TOOLS["dundictl"], "-s", self.sock, "lookup", "%s@e164" % number])
        self.assertEqual(rc, 0, out + err)
        return out

    def test_sighup_rereads_every_file(self):
        self.assertIn("7 SIP/1002@%s (EXISTS|CANMATCH)" % HOST, self.lookup("1002"))
        self.assertNotIn("1003@", self.lookup("1003"))
        # an included file and a global change: both seen after SIGHUP
        self.write("ext.d/a.conf", "exten => 1003,1,NoOp\n")
        self.write("extensions.conf", "[globals]\nW = 9\n[local]\nexten => 1001,1,NoOp\n#include ext.d/*.conf\n")
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_log("configuration reloaded", timeout=5.0)
        self.assertIn("9 SIP/1003@%s (EXISTS|CANMATCH)" % HOST, self.lookup("1003"))
        self.assertNotIn("1002@", self.lookup("1002"))
        # a broken included file: the running configuration stays
        self.write("ext.d/a.conf", "[local](+\n")
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_log("reload failed; still running with the previous configuration", timeout=5.0)
        self.assertIn("ext.d/a.conf:1: section [local]: '(' without ')' (included from %s/extensions.conf:5)"
                      % self.dir, self.daemon.log())
        self.assertIn("9 SIP/1003@%s (EXISTS|CANMATCH)" % HOST, self.lookup("1003"))


if __name__ == "__main__":
    extra, run = harness.run_tests(("keygen", "dundictl"))
    TOOLS.update(extra)
    run()
