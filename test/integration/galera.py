"""A private two-node MariaDB Galera cluster on loopback for one test run
(Debian's galera-4 + mariadb-server): each node its own data folder, its own
TCP address for clients and its own gcomm/IST/SST ports. Every wait is
bounded; the nodes are killed and their folders removed at exit.

    c = galera.Cluster([("127.0.46.11", 45711), ("127.0.46.12", 45712)])
    c.start()                 # raises Unavailable (with the reason) when Galera cannot run here
    c.sql(0, "CREATE DATABASE x")
    c.kill(1); c.restart(1)   # SIGKILL a node, bring it back (it rejoins by IST/SST)
    c.cleanup()

Ports per node: client PORT, gcomm PORT+10, IST PORT+20, SST (rsync) PORT+30.
Node 0 has pc.weight = 2: with two nodes, the survivor of a crash keeps the
quorum only if it outweighs the dead one, so the node to kill is node 1 (a
real two-node site uses garbd as the third vote, or the same weights).
"""

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time

import mariadb

PROVIDER = "/usr/lib/galera/libgalera_smm.so"


class Unavailable(Exception):
    """Galera or MariaDB is not installed, or the cluster does not form here."""


class Node:
    def __init__(self, root, index, host, port):
        self.index, self.host, self.port = index, host, port
        self.dir = os.path.join(root, "node%d" % index)
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysql.sock")
        self.errlog = os.path.join(self.dir, "mariadbd.err")
        # Its own: a starting server deletes the "#sql" files it finds in its tmpdir, so two
        # servers (or installs) sharing /tmp at the same time break each other's temporary tables.
        self.tmpdir = os.path.join(self.dir, "tmp")
        self.proc = None

    def gcomm(self):
        return "%s:%d" % (self.host, self.port + 10)

    def log(self):
        try:
            with open(self.errlog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    START_TIMEOUT = 90.0

    def __init__(self, nodes):
        self.mariadbd = mariadb._find("mariadbd", "mysqld")
        self.install_db = mariadb._find("mariadb-install-db", "mysql_install_db")
        self.client = mariadb._find("mariadb", "mysql")
        missing = [n for n, p in (("mariadbd", self.mariadbd), ("mariadb-install-db", self.install_db),
                                  ("mariadb", self.client)) if not p]
        if not os.path.exists(PROVIDER):
            missing.append(PROVIDER + " (apt-get install galera-4)")
        if not shutil.which("rsync"):
            missing.append("rsync (the state transfer)")
        if missing:
            raise Unavailable("not installed: %s" % ", ".join(missing))
        self.tmp = tempfile.mkdtemp(prefix="dundid-galera-")
        self.nodes = [Node(self.tmp, i, h, p) for i, (h, p) in enumerate(nodes)]
        atexit.register(self.cleanup)

    def _user(self):
        return ["--user=root"] if os.geteuid() == 0 else []

    def _args(self, n, bootstrap):
        peers = ",".join(m.gcomm() for m in self.nodes)
        args = [self.mariadbd, "--no-defaults", "--datadir=" + n.datadir, "--socket=" + n.socket,
                "--tmpdir=" + n.tmpdir,
                "--bind-address=" + n.host, "--port=%d" % n.port, "--log-error=" + n.errlog,
                "--pid-file=" + os.path.join(n.dir, "mariadbd.pid"),
                "--skip-name-resolve", "--performance-schema=off", "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M", "--innodb-flush-log-at-trx-commit=2", "--max-connections=50",
                "--binlog-format=ROW", "--default-storage-engine=InnoDB", "--innodb-autoinc-lock-mode=2",
                "--wsrep-on=ON", "--wsrep-provider=" + PROVIDER, "--wsrep-cluster-name=dundid-test",
                "--wsrep-cluster-address=gcomm://" + ("" if bootstrap else peers),
                "--wsrep-node-name=node%d" % n.index, "--wsrep-node-address=" + n.gcomm(),
                "--wsrep-provider-options=gmcast.listen_addr=tcp://%s;ist.recv_addr=%s:%d;"
                "gcache.size=16M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;"
                "evs.install_timeout=PT6S;pc.wait_prim_timeout=PT30S;pc.weight=%d"
                % (n.gcomm(), n.host, n.port + 20, 2 if n.index == 0 else 1),
                "--wsrep-sst-method=rsync", "--wsrep-sst-receive-address=%s:%d" % (n.host, n.port + 30),
                ] + self._user()
        return args

    def _install(self, n):
        os.makedirs(n.dir, exist_ok=True)
        os.makedirs(n.tmpdir, exist_ok=True)
        p = subprocess.run([self.install_db, "--no-defaults", "--datadir=" + n.datadir, "--tmpdir=" + n.tmpdir,
                            "--auth-root-authentication-method=normal", "--skip-test-db"] + self._user(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=self.START_TIMEOUT)
        if p.returncode != 0:
            raise Unavailable("mariadb-install-db failed: %s" % p.stdout.decode(errors="replace")[-1500:])

    def _open_to_rsync(self):
        """Even an IST runs wsrep_sst_rsync, whose rsync daemon, started by root, writes into the
        joiner's data folder as 'nobody': let it in (these folders are the test's own)."""
        if os.geteuid() != 0:
            return
        os.chmod(self.tmp, 0o755)
        for n in self.nodes:
            os.chmod(n.dir, 0o755)
            os.chmod(n.datadir, 0o777)

    def _launch(self, n, bootstrap, extra=()):
        n.proc = subprocess.Popen(self._args(n, bootstrap) + list(extra), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)

    def _wait_synced(self, n, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if n.proc.poll() is not None:
                return "exited (%s)" % n.proc.returncode
            if os.path.exists(n.socket) and self.status(n.index, "wsrep_local_state_comment") == "Synced":
                return None
            time.sleep(0.2)
        return "not Synced within %.0f s" % timeout

    def start(self):
        """Bootstrap node 0, join the others; Unavailable with the reason if the cluster does not form.
        The others start from a copy of node 0's cleanly stopped data folder (same history), so they
        join by IST: no state-transfer script runs at start."""
        first = self.nodes[0]
        self._install(first)
        self._launch(first, True)
        why = self._wait_synced(first, self.START_TIMEOUT)
        if why:
            raise Unavailable("Galera node 0 %s:\n%s" % (why, first.log()[-2500:]))
        first.proc.terminate()
        first.proc.wait(self.START_TIMEOUT)
        for n in self.nodes[1:]:
            shutil.copytree(first.datadir, n.datadir, symlinks=True)
            os.makedirs(n.tmpdir, exist_ok=True)
        self._open_to_rsync()
        self._launch(first, True)
        why = self._wait_synced(first, self.START_TIMEOUT)
        if why:
            raise Unavailable("Galera node 0 (second start) %s:\n%s" % (why, first.log()[-2500:]))
        for n in self.nodes[1:]:
            self._launch(n, False)
            why = self._wait_synced(n, self.START_TIMEOUT)
            if why:
                raise Unavailable("Galera node %d %s:\n%s" % (n.index, why, n.log()[-2500:]))
        size = self.status(0, "wsrep_cluster_size")
        if size != str(len(self.nodes)):
            raise Unavailable("Galera cluster size %r, expected %d" % (size, len(self.nodes)))
        return self

    def kill(self, i):
        """SIGKILL node i, as a crash; its data stays for restart()."""
        n = self.nodes[i]
        if n.running():
            n.proc.kill()
            n.proc.wait(10)
        for p in (n.socket, os.path.join(n.dir, "mariadbd.pid")):
            try:
                os.unlink(p)
            except OSError:
                pass

    def restart(self, i):
        """Bring node i back into the running cluster. As Debian's galera_recovery does, the position
        its InnoDB reached is read first (--wsrep-recover), so it rejoins by IST, not by a full SST."""
        n = self.nodes[i]
        before = len(n.log())
        p = subprocess.run(self._args(n, False) + ["--wsrep-recover"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=self.START_TIMEOUT)
        found = re.findall(r"WSREP: Recovered position: (\S+)", n.log()[before:])
        if p.returncode != 0 or not found:
            raise AssertionError("node %d: --wsrep-recover gave no position:\n%s" % (i, n.log()[before:][-3000:]))
        self._open_to_rsync()
        self._launch(n, False, ["--wsrep-start-position=" + found[-1]])
        why = self._wait_synced(n, self.START_TIMEOUT)
        if why:
            raise AssertionError("Galera node %d did not rejoin: %s\n%s" % (i, why, n.log()[-3000:]))

    def status(self, i, name):
        try:
            out = self.sql(i, "SHOW GLOBAL STATUS LIKE '%s'" % name, timeout=5)
        except (AssertionError, subprocess.TimeoutExpired):
            return None
        parts = out.split()
        return parts[1] if len(parts) == 2 else None

    def sql(self, i, text, database=None, timeout=30.0):
        """SQL on node i through its unix socket; returns the output (tab-separated rows)."""
        args = [self.client, "--no-defaults", "-S", self.nodes[i].socket, "-uroot", "--batch", "--skip-column-names"]
        if database:
            args.append(database)
        p = subprocess.run(args, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("SQL on node %d failed (%d): %s\n%s" % (i, p.returncode,
                                                                          p.stderr.decode(errors="replace"),
                                                                          text[:1000]))
        return p.stdout.decode(errors="replace")

    def cleanup(self):
        for n in self.nodes:
            if n.running():
                n.proc.kill()
                try:
                    n.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)
