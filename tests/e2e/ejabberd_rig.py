"""ejabberd 23.01 (Debian bookworm) for the end-to-end tests, run from a
per-test directory on loopback ports, with a config made of
fixtures/ejabberd-base.yml.in plus a snippet merged into it the way an admin
merges conf/ejabberd-causeway.yml into their ejabberd.yml.

How it is run comes from /work/shared/fixtures/xmpp (verified there): a copy
of Debian's ejabberdctl without INSTALLUSER (as root it would otherwise `su
ejabberd` and fail on a root-owned directory), `--config-dir/--logs/--spool`
into the run directory, a fixed Erlang distribution port (no epmd daemon is
started) and a private cookie on the command line (no ~/.erlang.cookie).
Users are registered with `ejabberdctl register` once it runs. Stopped by the
beam.smp PID that ejabberd writes (checked against its command line), SIGTERM
then SIGKILL.
"""
import os
import secrets
import signal
import subprocess
import time

import yaml

import harness
from harness import free_ports, port_open, pid_alive, proc_cmdline, tail, wait_until

EJABBERDCTL = "/usr/sbin/ejabberdctl"


def available():
    return os.access(EJABBERDCTL, os.X_OK)


def merge_config(base, snippet):
    """Merge snippet into base as an admin does by hand: a list is extended,
    a mapping merged key by key (recursively), anything else replaced."""
    if isinstance(base, dict) and isinstance(snippet, dict):
        out = dict(base)
        for k, v in snippet.items():
            out[k] = merge_config(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(snippet, list):
        return base + snippet
    return snippet


class Ejabberd:
    def __init__(self, run_dir, snippet_text, users=harness.USERS):
        self.dir = os.path.abspath(run_dir)
        if any(c.isspace() for c in self.dir):
            raise ValueError("ejabberdctl cannot run from a directory with whitespace: %s" % self.dir)
        self.c2s, self.dist = free_ports(2)
        self.users = {u: (h, pw) for u, (h, pw) in users.items() if h == "localhost"}
        self.spool = os.path.join(self.dir, "spool")
        self.logs = os.path.join(self.dir, "logs")
        self.cfg = os.path.join(self.dir, "ejabberd.yml")
        self.pid_file = os.path.join(self.dir, "ejabberd.pid")
        self.out_path = os.path.join(self.dir, "ejabberd.stdout")
        self.ctl_path = os.path.join(self.dir, "ejabberdctl")
        self.launcher = None
        self.beam = None
        os.makedirs(self.spool, exist_ok=True)
        os.makedirs(self.logs, exist_ok=True)
        self._write_config(snippet_text)

    def _write_config(self, snippet_text):
        with open(os.path.join(harness.FIXTURES, "ejabberd-base.yml.in")) as f:
            base = yaml.safe_load(f.read().replace("@DIR@", self.dir).replace("@C2S@", str(self.c2s)))
        self.config = merge_config(base, yaml.safe_load(snippet_text))
        with open(self.cfg, "w") as f:
            yaml.safe_dump(self.config, f, default_flow_style=False, sort_keys=False)
        with open(os.path.join(harness.FIXTURES, "ejabberdctl.cfg.in")) as f:
            t = f.read()
        for k, v in (("@DIR@", self.dir), ("@C2S@", str(self.c2s)), ("@DIST@", str(self.dist)),
                     ("@COOKIE@", secrets.token_hex(16))):
            t = t.replace(k, v)
        with open(os.path.join(self.dir, "ejabberdctl.cfg"), "w") as f:
            f.write(t)
        with open(os.path.join(harness.FIXTURES, "ejabberd-inetrc")) as f:
            inetrc = f.read()
        with open(os.path.join(self.dir, "inetrc"), "w") as f:
            f.write(inetrc)
        with open(EJABBERDCTL) as f:
            ctl = f.read()
        assert "\nINSTALLUSER=ejabberd\n" in ctl, "Debian's ejabberdctl changed: no INSTALLUSER line"
        with open(self.ctl_path, "w") as f:
            f.write(ctl.replace("\nINSTALLUSER=ejabberd\n", "\nINSTALLUSER=\n"))
        os.chmod(self.ctl_path, 0o755)

    def component_ports(self):
        return [ln["port"] for ln in self.config["listen"] if ln.get("module") == "ejabberd_service"]

    def _ctl_argv(self, *args):
        return [self.ctl_path, "--config-dir", self.dir, "--logs", self.logs, "--spool", self.spool] + list(args)

    def ctl(self, *args, timeout=60):
        return subprocess.run(self._ctl_argv(*args), cwd=self.spool, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, timeout=60.0):
        ports = [self.c2s, self.dist] + self.component_ports()
        for p in ports:
            if port_open(p):
                raise RuntimeError("port %d already in use" % p)
        self.launcher = harness.Proc(self._ctl_argv("foreground"), self.out_path, cwd=self.spool)

        def up():
            if not self.launcher.alive():
                raise RuntimeError("ejabberd exited early with %s:\n%s\n%s" % (
                    self.launcher.returncode, tail(self.out_path, 30),
                    tail(os.path.join(self.logs, "error.log"), 30)))
            return (os.path.exists(self.pid_file) and os.path.getsize(self.pid_file) > 0
                    and all(port_open(p) for p in [self.c2s] + self.component_ports()))
        wait_until(up, timeout, "ejabberd ports %s" % ports, interval=0.1)
        with open(self.pid_file) as f:
            self.beam = int(f.read().strip())
        for user, (host, pw) in self.users.items():
            r = self.ctl("register", user, host, pw)
            if r.returncode != 0:
                raise RuntimeError("ejabberdctl register %s@%s failed (%d): %s%s"
                                   % (user, host, r.returncode, r.stdout, r.stderr))
        return self

    def log(self):
        """What ejabberd logged: its stdout (foreground), which has every
        record at once (logs/ejabberd.log lags behind)."""
        try:
            with open(self.out_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.beam and pid_alive(self.beam) and self.spool in " ".join(proc_cmdline(self.beam)):
            os.kill(self.beam, signal.SIGTERM)
            end = time.monotonic() + 20
            while pid_alive(self.beam) and time.monotonic() < end:
                time.sleep(0.05)
            if pid_alive(self.beam):
                os.kill(self.beam, signal.SIGKILL)
        if self.launcher is not None:
            self.launcher.stop(timeout=10)

    def report(self, n=60):
        return "--- %s (tail)\n%s\n--- ejabberd.log (tail)\n%s\n--- error.log (tail)\n%s" % (
            self.out_path, tail(self.out_path, 20), tail(os.path.join(self.logs, "ejabberd.log"), n),
            tail(os.path.join(self.logs, "error.log"), 20))
