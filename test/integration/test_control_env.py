#!/usr/bin/env python3
"""Control socket tests that depend on the machine: the default path when
/run/dundid is missing, and the socket's group (control_group), used by a
user of that group without root. Each class is its own ctest entry and
skips visibly (exit 77) where it cannot run.

Usage:
    test_control_env.py --dundid PATH --dundiq PATH --dundictl PATH [unittest args]

Addresses:
    DefaultPathTests   127.0.40.2  UDP 45401
    ControlGroupTests  127.0.40.3  UDP 45402
"""

import grp
import os
import shutil
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Daemon, dundiq, render_config  # noqa: E402

CLIENT_EID = "02:00:00:00:00:99"
DUNDICTL = [""]


class DefaultPathTests(unittest.TestCase):
    """Without control =, a missing /run/dundid is one warning and no socket.
    Where /run/dundid exists, dundid runs in a private mount namespace with
    an empty /run."""
    HOST, PORT = "127.0.40.2", 45401

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-ctlenv-")
        self.addCleanup(self.tmp.cleanup)
        self.wrap = []
        if os.path.exists("/run/dundid"):
            reason = harness.mount_ns_unusable()
            if reason:
                self.skipTest("/run/dundid exists and it cannot be hidden: %s" % reason)
            self.wrap = ["unshare", "-m", "sh", "-c",
                         'mount --make-rprivate / && mount -t tmpfs tmpfs /run && exec "$0" "$@"']

    def test_default_path_unusable_is_a_warning(self):
        path = os.path.join(self.tmp.name, "d.conf")
        with open(path, "w") as f:
            f.write(render_config(self.HOST, self.PORT))
        d = Daemon(path, self.tmp.name, wrap=self.wrap)
        self.addCleanup(d.kill)
        d.start()
        self.assertTrue(d.wait_log("warning: control socket: /run/dundid/dundid.ctl: No such file or directory; "
                                   "running without it"), d.log())
        rc, out, err = dundiq("--timeout", 3000, "--eid", CLIENT_EID, "%s:%d" % (self.HOST, self.PORT), "1001@priv")
        self.assertEqual(rc, 0, out + err)
        d.stop()
        self.assertEqual(d.exit_code, 0)


GROUP, MEMBER, OTHER = "dundidt40", "dundidt40m", "dundidt40o"


def run(*args):
    return subprocess.run(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30)


class ControlGroupTests(unittest.TestCase):
    """control_group: the socket is root:GROUP 0660; a member runs dundictl
    as itself (runuser), a user outside the group is refused."""
    HOST, PORT = "127.0.40.3", 45402

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("creating a group and users needs root")
        for tool in ("groupadd", "useradd", "userdel", "groupdel", "runuser"):
            if not shutil.which(tool):
                raise unittest.SkipTest("%s is not installed" % tool)
        cls.cleanup()  # a leftover of an interrupted run
        for cmd in (["groupadd", "--system", GROUP],
                    ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "-G", GROUP, MEMBER],
                    ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER]):
            p = run(*cmd)
            if p.returncode != 0:
                cls.cleanup()
                raise AssertionError("%s: %s" % (" ".join(cmd), p.stderr.decode()))

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    @staticmethod
    def cleanup():
        run("userdel", MEMBER)
        run("userdel", OTHER)
        run("groupdel", GROUP)

    def setUp(self):
        self.tmp = harness.make_workdir("dundid-ctlgroup-")
        self.addCleanup(self.tmp.cleanup)
        os.chmod(self.tmp.name, 0o711)  # the users reach the socket, not the rest
        self.sock = os.path.join(self.tmp.name, "d.ctl")
        self.conf = os.path.join(self.tmp.name, "d.conf")
        # dundictl where the users can run it, whatever the build tree's modes
        self.ctl = os.path.join(self.tmp.name, "dundictl")
        shutil.copy(DUNDICTL[0], self.ctl)
        os.chmod(self.ctl, 0o755)

    def start(self, group_line):
        with open(self.conf, "w") as f:
            f.write(render_config(self.HOST, self.PORT, general_extra=["control = %s" % self.sock] + group_line))
        d = Daemon(self.conf, self.tmp.name)
        self.addCleanup(d.kill)
        d.start()
        self.assertTrue(d.wait_log(" started, entity id"), d.log())
        return d

    def as_user(self, user, *args):
        p = run("runuser", "-u", user, "--", self.ctl, "-s", self.sock, *args)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_member_runs_dundictl(self):
        d = self.start(["control_group = %s" % GROUP])
        self.assertIn("control socket %s (group %s)" % (self.sock, GROUP), d.log())
        st = os.stat(self.sock)
        self.assertEqual(st.st_gid, grp.getgrnam(GROUP).gr_gid)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        rc, out, err = self.as_user(MEMBER, "show", "entityid")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("02:00:00:00:00:0a", out.lower())
        rc, out, err = self.as_user(OTHER, "show", "entityid")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("Permission denied", err)
        d.stop()

    def test_default_group(self):
        """Without control_group: group dundid when it exists, else the
        daemon's own group, said in the log."""
        d = self.start([])
        try:
            gid = grp.getgrnam("dundid").gr_gid
            self.assertIn("(group dundid)", d.log())
        except KeyError:
            gid = os.getegid()
            self.assertIn("(group %s: there is no group dundid (set control_group))" % grp.getgrgid(gid).gr_name,
                          d.log())
        self.assertEqual(os.stat(self.sock).st_gid, gid)
        d.stop()

    def test_unknown_group_stops_the_start(self):
        with open(self.conf, "w") as f:
            f.write(render_config(self.HOST, self.PORT,
                                  general_extra=["control = %s" % self.sock, "control_group = nosuchgroup40"]))
        p = run(harness.BINARIES["dundid"], "-f", "-c", self.conf)
        self.assertEqual(p.returncode, 1)
        self.assertIn("control_group: no group named nosuchgroup40", p.stderr.decode())
        self.assertFalse(os.path.exists(self.sock))


def main():
    extra, run_all = harness.run_tests(extra_tools=("dundictl",))
    DUNDICTL[0] = extra["dundictl"]
    run_all()


if __name__ == "__main__":
    main()
