"""A private MariaDB server for one test run: its own data folder under a
temporary directory, a unix socket, no TCP (--skip-networking). Works as
root (CI) and as a normal user. Every wait is bounded; the server is killed
and its folder removed at exit even when a test fails.

    db = mariadb.Server()          # raises Unavailable when not installed
    db.start()
    db.sql("CREATE DATABASE x")
    db.kill()                      # SIGKILL, data kept
    db.start()                     # same data folder again
    db.stop()
"""

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time


class Unavailable(Exception):
    """mariadbd or its tools are not installed."""


def _find(*names):
    for name in names:
        for d in ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"):
            p = os.path.join(d, name)
            if os.access(p, os.X_OK):
                return p
        p = shutil.which(name)
        if p:
            return p
    return None


class Server:
    START_TIMEOUT = 60.0
    STOP_TIMEOUT = 30.0

    def __init__(self):
        self.mariadbd = _find("mariadbd", "mysqld")
        self.install_db = _find("mariadb-install-db", "mysql_install_db")
        self.client = _find("mariadb", "mysql")
        missing = [n for n, p in (("mariadbd", self.mariadbd), ("mariadb-install-db", self.install_db),
                                  ("mariadb", self.client)) if not p]
        if missing:
            raise Unavailable("not installed: %s (apt-get install mariadb-server)" % ", ".join(missing))
        self.tmp = tempfile.mkdtemp(prefix="dundid-mariadb-")
        self.datadir = os.path.join(self.tmp, "data")
        self.socket = os.path.join(self.tmp, "mysql.sock")
        self.pidfile = os.path.join(self.tmp, "mariadbd.pid")
        self.errlog = os.path.join(self.tmp, "mariadbd.err")
        # Its own: a starting server deletes the "#sql" files it finds in its
        # tmpdir, so servers sharing /tmp break each other's installs.
        self.tmpdir = os.path.join(self.tmp, "tmp")
        os.makedirs(self.tmpdir, exist_ok=True)
        self.proc = None
        self._installed = False
        atexit.register(self.cleanup)

    def _user_args(self):
        # mariadbd refuses to run as root unless told to.
        return ["--user=root"] if os.geteuid() == 0 else []

    def _install(self):
        args = [self.install_db, "--no-defaults", "--datadir=" + self.datadir, "--tmpdir=" + self.tmpdir,
                "--auth-root-authentication-method=normal", "--skip-test-db"] + self._user_args()
        p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=self.START_TIMEOUT)
        if p.returncode != 0:
            raise Unavailable("mariadb-install-db failed (%d): %s" % (p.returncode, p.stdout.decode(errors="replace")[-2000:]))
        self._installed = True

    def start(self):
        if not self._installed:
            self._install()
        if self.running():
            return self
        args = [self.mariadbd, "--no-defaults", "--datadir=" + self.datadir, "--tmpdir=" + self.tmpdir,
                "--socket=" + self.socket,
                "--skip-networking", "--pid-file=" + self.pidfile, "--log-error=" + self.errlog,
                "--skip-name-resolve", "--performance-schema=off", "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M", "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=50"] + self._user_args()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("mariadbd exited (%s):\n%s" % (self.proc.returncode, self.log()[-3000:]))
            if os.path.exists(self.socket) and self._ping():
                return self
            time.sleep(0.1)
        self.kill()
        raise AssertionError("mariadbd did not accept connections within %.0f s:\n%s"
                             % (self.START_TIMEOUT, self.log()[-3000:]))

    def _ping(self):
        try:
            p = subprocess.run([self.client, "--no-defaults", "-S", self.socket, "-uroot", "-e", "SELECT 1"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return p.returncode == 0

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.errlog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sql(self, text, database=None, timeout=30.0):
        """Run SQL through the mariadb client; returns its output (tab-separated rows)."""
        args = [self.client, "--no-defaults", "-S", self.socket, "-uroot", "--batch", "--skip-column-names"]
        if database:
            args.append(database)
        p = subprocess.run(args, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("SQL failed (%d): %s\n%s" % (p.returncode, p.stderr.decode(errors="replace"),
                                                              text[:2000]))
        return p.stdout.decode(errors="replace")

    def sql_file(self, path, database):
        with open(path) as f:
            return self.sql(f.read(), database)

    def _wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self):
        """Clean shutdown (SIGTERM), SIGKILL if it takes too long."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            if not self._wait_exit(self.STOP_TIMEOUT):
                self.kill()
        self.proc = None

    def kill(self):
        """Hard stop, as a crash: the data folder stays for the next start."""
        if self.running():
            self.proc.kill()
            self._wait_exit(10)
        self.proc = None
        # A killed server leaves its socket file behind; the next start makes a new one.
        for p in (self.socket, self.pidfile):
            try:
                os.unlink(p)
            except OSError:
                pass

    def _stopped(self):
        """Every thread of the server in state T (stopped)."""
        try:
            tasks = os.listdir("/proc/%d/task" % self.proc.pid)
            for t in tasks:
                with open("/proc/%d/task/%s/stat" % (self.proc.pid, t)) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
                        return False
            return bool(tasks)
        except OSError:
            return False

    def pause(self, timeout=5.0):
        """SIGSTOP: the server holds its connections but answers nothing.
        Returns once every thread has stopped (the signal is asynchronous)."""
        if not self.running():
            return
        self.proc.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + timeout
        while not self._stopped():
            if time.monotonic() >= deadline:
                raise AssertionError("mariadbd did not stop within %.1f s of SIGSTOP" % timeout)
            time.sleep(0.01)

    def resume(self):
        if self.running():
            self.proc.send_signal(signal.SIGCONT)

    def cleanup(self):
        try:
            self.resume()
            self.kill()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_with_user(user, password):
    """A started private server with USER@localhost, for a test module's
    setUpModule; unittest.SkipTest when MariaDB is not installed."""
    import unittest
    try:
        server = Server()
    except Unavailable as e:
        raise unittest.SkipTest(str(e))
    server.start()
    server.sql("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s';" % (user, password))
    return server
