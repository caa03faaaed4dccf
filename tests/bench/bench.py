#!/usr/bin/python3
"""Side-by-side benchmarks: Causeway's core and IRC transport against biboumi.

    make bench                      (builds ./causeway and the driver, then runs this)
    BENCH_USERS="1 100" BENCH_RUNS=1 make bench      (a quick look)

One load driver written for the purpose (xmppdriver.c: a tiny XEP-0114 server
that plays many XMPP users, plus a raw IRC client) runs against Causeway and
then against biboumi (Debian package; installed on demand by
ensure-biboumi.sh), one after the other in the same run, on the same ngIRCd
(a fresh one per scenario, on a free loopback port). Everything listens on
127.0.0.1 only; every process is started here or by the driver and stopped by
its PID; every wait has a deadline.

Each figure is the median over BENCH_RUNS runs; each comparison is the median
of the per-run ratios Causeway/biboumi. The Markdown table is printed and
written to tests/bench/RESULTS.md; raw per-run values go to
tests/bench/.run/results.json and every log stays in tests/bench/.run/.

Settings (environment):
  BENCH_USERS        XMPP users bridged into the channel, one scenario each ("1 100 500": about
                     7 minutes on 2 cores; "1 100 500 1000" takes about 16, mostly biboumi's
                     join storm at N=1000)
  BENCH_RUNS         runs per figure (3)
  BENCH_IDLE         seconds of the idle-CPU window (10)
  BENCH_WINDOW       messages in flight in the throughput phases (50) ...
  BENCH_INFLIGHT     ... but at most this many stanzas: min(BENCH_WINDOW, BENCH_INFLIGHT/N) (20000)
  BENCH_DELIVERIES   stanzas to deliver per throughput phase: N * messages (100000)
  BENCH_PHASE_CAP    seconds a throughput phase may offer load (10)
  BENCH_LAT_MSGS     messages of the latency phases, one in flight (100)
  BENCH_LAT_CAP      seconds a latency phase may offer load (3)
  BENCH_REGISTERED   registered users in the store for the start-up figure (10000)
  BENCH_IQS          IQs per round-trip phase (20000); BENCH_IQ_WINDOW in flight (100)
  BENCH_TIMEOUT      seconds any single wait may take (120)
  BENCH_GATEWAYS     "causeway biboumi"
  BENCH_BIBOUMI_HISTORY  off (default: biboumi keeps no archive, like Causeway) or on (biboumi's
                     own default: every line archived per user in SQLite, one fsync'd
                     transaction each; far slower, so the run takes much longer)
  BENCH_HISTORY_USERS  user counts of the history-cost scenarios ("100"; "" skips them): each run
                     also runs the IRC scenario at these N with history recording flipped
                     (Causeway with `history = 0`; biboumi with its SQLite archive on, or off
                     when BENCH_BIBOUMI_HISTORY=on), plus the normal scenario if N is not in
                     BENCH_USERS
  BENCH_OUT          where to write the Markdown (tests/bench/RESULTS.md)
"""
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN = os.path.join(HERE, ".run")

DOMAIN = "irc.bench.local"
SECRET = "benchsecret"
CHANNEL = "#bench"
IRC_HOST = "127.0.0.1"          # the IRC server as written in JIDs: #bench%127.0.0.1@irc.bench.local


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    return int(v) if v else default


def env_float(name, default):
    v = os.environ.get(name, "").strip()
    return float(v) if v else default


USERS = [int(x) for x in os.environ.get("BENCH_USERS", "1 100 500").split()]
RUNS = env_int("BENCH_RUNS", 3)
IDLE = env_float("BENCH_IDLE", 10)
WINDOW = env_int("BENCH_WINDOW", 50)
INFLIGHT = env_int("BENCH_INFLIGHT", 20000)
DELIVERIES = env_int("BENCH_DELIVERIES", 100000)
PHASE_CAP = env_float("BENCH_PHASE_CAP", 10)
LAT_MSGS = env_int("BENCH_LAT_MSGS", 100)
LAT_CAP = env_float("BENCH_LAT_CAP", 3)
REGISTERED = env_int("BENCH_REGISTERED", 10000)
IQS = env_int("BENCH_IQS", 20000)
IQ_WINDOW = env_int("BENCH_IQ_WINDOW", 100)
TIMEOUT = env_float("BENCH_TIMEOUT", 120)
GATEWAYS = os.environ.get("BENCH_GATEWAYS", "causeway biboumi").split()
BIBOUMI_HISTORY = os.environ.get("BENCH_BIBOUMI_HISTORY", "off").strip() or "off"
HISTORY_USERS = [int(x) for x in os.environ.get("BENCH_HISTORY_USERS", "100").split()]
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "RESULTS.md"))
CAUSEWAY_BIN = os.path.abspath(os.environ.get("CAUSEWAY_BIN", os.path.join(ROOT, "causeway")))
DRIVER = os.path.abspath(os.environ.get("BENCH_DRIVER", os.path.join(ROOT, "build", "bench", "xmppdriver")))

SETTINGS = ["BENCH_USERS", "BENCH_RUNS", "BENCH_IDLE", "BENCH_WINDOW", "BENCH_INFLIGHT", "BENCH_DELIVERIES",
            "BENCH_PHASE_CAP", "BENCH_LAT_MSGS", "BENCH_LAT_CAP", "BENCH_REGISTERED", "BENCH_IQS",
            "BENCH_IQ_WINDOW", "BENCH_TIMEOUT", "BENCH_GATEWAYS", "BENCH_BIBOUMI_HISTORY", "BENCH_HISTORY_USERS"]

NAMES = {"causeway": "Causeway", "biboumi": "biboumi"}


def log(msg):
    print(msg, flush=True)


def die(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def stop_pid(proc, timeout=10.0):
    """SIGTERM the process we started, SIGKILL after timeout; returns its status."""
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    try:
        os.kill(proc.pid, signal.SIGTERM)
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(5)
    except ProcessLookupError:
        return proc.wait(5)


def kill_if_ours(pid, marker):
    """Kill pid only if it still runs a command line holding marker (our run dir)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().decode("utf-8", "replace")
    except OSError:
        return
    if marker in cmd:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


NGIRCD_CONF = """# ngIRCd for Causeway's benchmarks (generated by tests/bench/bench.py)
[Global]
	Name = irc.bench.local
	Info = Causeway bench server
	AdminInfo1 = Causeway bench
	AdminInfo2 = loopback only
	AdminEMail = nobody@localhost
	Listen = 127.0.0.1
	Ports = {port}
	MotdPhrase = Causeway bench ngIRCd
	Network = CausewayBench
{uidgid}
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 50
	MaxNickLength = 30
	MaxPenaltyTime = 0
	PingTimeout = 3600
	PongTimeout = 600
	ConnectRetry = 60

[Options]
	IncludeDir = {dir}/conf.d
	DNS = no
	Ident = no
	PAM = no
	MorePrivacy = no
	ScrubCTCP = no
	OperCanUseMode = yes
"""


class Ngircd:
    def __init__(self, run_dir):
        self.dir = run_dir
        os.makedirs(os.path.join(run_dir, "conf.d"), exist_ok=True)
        self.cfg = os.path.join(run_dir, "ngircd.conf")
        self.log = os.path.join(run_dir, "ngircd.log")
        self.proc = None
        self.port = None

    def start(self):
        uidgid = "\tServerUID = 0\n\tServerGID = 0" if os.geteuid() == 0 else ""
        for _attempt in range(5):
            self.port = free_port()
            with open(self.cfg, "w") as f:
                f.write(NGIRCD_CONF.format(port=self.port, dir=self.dir, uidgid=uidgid))
            with open(self.log, "ab") as lf:
                self.proc = subprocess.Popen(["ngircd", "-f", self.cfg, "-n"], stdin=subprocess.DEVNULL,
                                             stdout=lf, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if port_open(self.port):
                    return self
                time.sleep(0.02)
            stop_pid(self.proc)
        raise RuntimeError("ngircd did not start; see %s" % self.log)

    def stop(self):
        stop_pid(self.proc)


# --------------------------------------------------------------------------
# gateways
# --------------------------------------------------------------------------

def causeway_template(run_dir, data_dir, irc_port=None, history=None):
    """history: None or True keeps Causeway's default (20 lines per room), False writes history = 0."""
    irc = ("irc_port = %d\n" % irc_port) if irc_port else ""
    if history is False:
        irc += "history = 0\n"
    text = ("[xmpp]\nhost = 127.0.0.1\nport = @XMPP_PORT@\n\n"
            "[gateway]\ndata_dir = %s\nallowed_domains = bench.local\n\n"
            "[transport:irc]\ntype = irc\ndomain = %s\nsecret = %s\n%sflood_burst = 0\n"
            # up to 1000 bench users on the one ngIRCd (the default allows 200)
            "irc_servers = %s\nmax_connections_per_server = 100000\n"
            % (data_dir, DOMAIN, SECRET, irc, IRC_HOST))
    path = os.path.join(run_dir, "causeway.conf.in")
    with open(path, "w") as f:
        f.write(text)
    return path


def causeway_argv(run_dir):
    return [CAUSEWAY_BIN, "-c", os.path.join(run_dir, "causeway.conf"), "--transport", "irc"]



def biboumi_template(run_dir, db):
    text = ("hostname=%s\npassword=%s\nxmpp_server_ip=127.0.0.1\nport=@XMPP_PORT@\n"
            "db_name=%s\nidentd_port=0\nlog_level=1\nlog_file=\npolicy_directory=%s\n"
            "realname_customization=true\nrealname_from_jid=false\n" % (DOMAIN, SECRET, db, run_dir))
    path = os.path.join(run_dir, "biboumi.cfg.in")
    with open(path, "w") as f:
        f.write(text)
    return path


def biboumi_argv(run_dir):
    return ["biboumi", os.path.join(run_dir, "biboumi.cfg")]


def biboumi_users(db, n, irc_port=None, history=True):
    """biboumi has no registration: its per-user state is option rows. Each
    user gets the IRC server's port (plain text only, no TLS ports to try
    first) and no throttling (like Causeway's flood_burst = 0)."""
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO globaloptions_ (owner_, maxhistorylength_, recordhistory_, persistent_) "
            "VALUES (?, 20, ?, 0)", [("u%d@bench.local" % k, 1 if history else 0) for k in range(1, n + 1)])
        con.executemany(
            "INSERT INTO ircserveroptions_ (owner_, server_, pass_, tlsports_, ports_, username_, realname_, "
            "verifycert_, trustedfingerprint_, encodingout_, encodingin_, maxhistorylength_, address_, nick_, "
            "saslpassword_, throttlelimit_) VALUES (?, ?, '', '', ?, '', '', 1, '', '', '', 20, '', '', '', -1)",
            [("u%d@bench.local" % k, IRC_HOST, str(irc_port or 6667)) for k in range(1, n + 1)])
    con.close()


def causeway_users(db, n):
    con = sqlite3.connect(db)
    now = int(time.time())
    with con:
        con.executemany("INSERT OR IGNORE INTO users (jid, registered) VALUES (?, ?)",
                        [("u%d@bench.local" % k, now) for k in range(1, n + 1)])
    con.close()


# --------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------

def parse_kv(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, sep, v = line.strip().partition("=")
                if not sep:
                    continue
                try:
                    out[k] = float(v)
                except ValueError:
                    out[k] = v
    except OSError:
        pass
    return out


def run_driver(run_dir, args, gw_argv, limit):
    """Runs the driver; returns (results dict, stderr text)."""
    out_path = os.path.join(run_dir, "driver.out")
    err_path = os.path.join(run_dir, "driver.err")
    argv = [DRIVER] + args + ["--"] + gw_argv
    with open(os.path.join(run_dir, "driver.cmd"), "w") as f:
        f.write(" ".join(argv) + "\n")
    with open(out_path, "w") as fo, open(err_path, "w") as fe:
        proc = subprocess.Popen(argv, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            log("  driver exceeded %.0fs: stopping it" % limit)
            stop_pid(proc)
        except BaseException:
            stop_pid(proc)
            res = parse_kv(out_path)
            if "gateway_pid" in res:
                kill_if_ours(int(res["gateway_pid"]), run_dir)
            raise
    res = parse_kv(out_path)
    if "gateway_pid" in res:
        kill_if_ours(int(res["gateway_pid"]), run_dir)   # only if it outlived the driver
    res["driver_rc"] = proc.returncode
    with open(err_path) as f:
        err = f.read()
    return res, err


def irc_messages(n):
    return max(200, min(5000, DELIVERIES // max(n, 1)))


def irc_window(n):
    """Messages in flight in the throughput phases: each one makes N stanzas."""
    return max(1, min(WINDOW, INFLIGHT // max(n, 1)))


def irc_scenario(gw, n, run, history=None, tag=None):
    """history: None = the normal setting (Causeway's default 20 lines; biboumi per
    BENCH_BIBOUMI_HISTORY), True/False forces recording on/off. tag names the variant's run dir."""
    d = os.path.join(RUN, "irc-n%d-run%d-%s%s" % (n, run, gw, "-" + tag if tag else ""))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    ircd = Ngircd(d).start()
    try:
        if gw == "causeway":
            data = os.path.join(d, "data")
            tmpl = causeway_template(d, data, ircd.port, history)
            cfg_out = os.path.join(d, "causeway.conf")
            argv = causeway_argv(d)
        else:
            db = os.path.join(d, "biboumi.sqlite")
            shutil.copy(os.path.join(RUN, "biboumi-template.sqlite"), db)
            biboumi_users(db, n, ircd.port, history=(BIBOUMI_HISTORY == "on") if history is None else history)
            tmpl = biboumi_template(d, db)
            cfg_out = os.path.join(d, "biboumi.cfg")
            argv = biboumi_argv(d)
        m = irc_messages(n)
        args = ["--mode", "irc", "--config-template", tmpl, "--config-out", cfg_out,
                "--log", os.path.join(d, gw + ".log"), "--domain", DOMAIN, "--secret", SECRET,
                "--users", str(n), "--irc-port", str(ircd.port), "--irc-host", IRC_HOST,
                "--channel", CHANNEL, "--ircd-pid", str(ircd.proc.pid),
                "--x2i-msgs", str(m), "--fan-msgs", str(m), "--window", str(irc_window(n)),
                "--lat-msgs", str(LAT_MSGS), "--lat-cap", str(LAT_CAP),
                "--idle", str(IDLE), "--phase-cap", str(PHASE_CAP), "--timeout", str(TIMEOUT)]
        limit = 8 * TIMEOUT + 4 * PHASE_CAP + IDLE + 0.5 * n + 60
        res, err = run_driver(d, args, argv, limit)
    finally:
        ircd.stop()
    res["dir"] = d
    res["stderr"] = err
    return res


def core_scenario(gw, run, data, iqs=IQS, tag=None):
    d = os.path.join(RUN, tag or "core-run%d-%s" % (run, gw))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    if gw == "causeway":
        tmpl = causeway_template(d, data)
        cfg_out = os.path.join(d, "causeway.conf")
        argv = causeway_argv(d)
        extra = ["--ready", "component %s ready" % DOMAIN]
        if iqs:
            extra += ["--expect-presences", str(2 * REGISTERED)]
    else:
        tmpl = biboumi_template(d, data)
        cfg_out = os.path.join(d, "biboumi.cfg")
        argv = biboumi_argv(d)
        extra = []
    args = ["--mode", "core", "--config-template", tmpl, "--config-out", cfg_out,
            "--log", os.path.join(d, gw + ".log"), "--domain", DOMAIN, "--secret", SECRET,
            "--iq-count", str(iqs), "--iq-window", str(IQ_WINDOW), "--phase-cap", str(PHASE_CAP),
            "--timeout", str(TIMEOUT)] + extra
    res, err = run_driver(d, args, argv, 4 * TIMEOUT + 2 * PHASE_CAP + 60)
    res["dir"] = d
    res["stderr"] = err
    return res


# --------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------

# (key, label, unit scale, format, lower_is_better, footnote)
CORE_FIGS = [
    ("handshake_ms", "start-up to component handshake, %s registered users (ms)", 1, "%.0f", True, None),
    ("ready_ms", "start-up to ready, %s registered users (ms)", 1, "%.0f", True, "ready"),
    ("startup_rss_kb", "RSS after start-up (MB)", 1 / 1024, "%.1f", True, None),
    ("disco_per_s", "disco#info round trips/s (%d in flight)" % IQ_WINDOW, 1, "%.0f", False, None),
    ("ping_per_s", "XEP-0199 ping round trips/s (%d in flight)" % IQ_WINDOW, 1, "%.0f", False, None),
]

IRC_FIGS = [
    ("join_storm_s", "join storm: N joins until all N got their self-presence (s)", 1, "%.2f", True, "join"),
    ("rss_kb", "gateway RSS right after the join storm settled (MB)", 1 / 1024, "%.1f", True, None),
    ("rss_hwm_idle_kb", "gateway peak RSS (VmHWM), join storm included (MB)", 1 / 1024, "%.1f", True, None),
    ("rss_idle_kb", "gateway RSS with N users joined, after the idle window (MB)", 1 / 1024, "%.1f", True, None),
    ("x2i_msgs_per_s", "XMPP→IRC messages/s, throughput phase", 1, "%.0f", False, "x2i"),
    ("x2i_p50_ms", "XMPP→IRC latency p50, one in flight (ms)", 1, "%.2f", True, None),
    ("x2i_p99_ms", "XMPP→IRC latency p99, one in flight (ms)", 1, "%.2f", True, None),
    ("x2i_load_p50_ms", "XMPP→IRC latency p50, throughput phase (ms)", 1, "%.1f", True, None),
    ("x2i_load_p99_ms", "XMPP→IRC latency p99, throughput phase (ms)", 1, "%.1f", True, None),
    ("fan_stanzas_per_s", "IRC→XMPP fan-out: delivered stanzas/s, throughput phase", 1, "%.0f", False, "fan1"),
    ("fan_p50_ms", "IRC→XMPP latency p50, one line in flight (ms)", 1, "%.2f", True, None),
    ("fan_p99_ms", "IRC→XMPP latency p99, one line in flight (ms)", 1, "%.2f", True, None),
    ("fan_load_p50_ms", "IRC→XMPP latency p50, throughput phase (ms)", 1, "%.1f", True, None),
    ("fan_load_p99_ms", "IRC→XMPP latency p99, throughput phase (ms)", 1, "%.1f", True, None),
    ("fan_cpu_s_per_10k", "gateway CPU seconds per 10,000 delivered stanzas (fan-out phase)", 1, "%.3f",
     True, None),
    ("idle_cpu_pct", "idle CPU, %g s with N users joined (%% of a core)" % IDLE, 1, "%.2f", True, "idle"),
]


def median(vals):
    vals = [v for v in vals if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def fmt(v, f, scale=1):
    if v is None:
        return "n/a"
    return f % (v * scale)


def ratio_str(r):
    if r is None:
        return "n/a"
    return "%.2f" % r if r < 100 else "%.0f" % r


def per_run_ratios(cw_runs, bb_runs, key):
    out = []
    for a, b in zip(cw_runs, bb_runs):
        x, y = (a or {}).get(key), (b or {}).get(key)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0:
            out.append(x / y)
    return out


def slope_per_user(runs_by_n, key, n1, n2, run):
    a = runs_by_n.get(n1, [None] * (run + 1))
    b = runs_by_n.get(n2, [None] * (run + 1))
    ra, rb = (a[run] or {}).get(key) if run < len(a) else None, (b[run] or {}).get(key) if run < len(b) else None
    if not isinstance(ra, (int, float)) or not isinstance(rb, (int, float)):
        return None
    return (rb - ra) / (n2 - n1)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine():
    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    mem = sh("free -h | awk '/^Mem:/ {print $2}'")
    return {
        "nproc": sh("nproc"),
        "cpu": model,
        "mem": mem,
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo \"$PRETTY_NAME\""),
        "disk": sh("df -h %s | awk 'NR==2 {print $1\" (\"$2\")\"}'" % RUN),
        "fstype": sh("stat -f -c %%T %s" % RUN),
    }


def versions():
    return {
        "causeway": sh("%s --version" % CAUSEWAY_BIN) or "?",
        "git": sh("git -C %s describe --always --dirty" % ROOT),
        "biboumi": sh("dpkg-query -W -f='${Version}' biboumi"),
        "ngircd": sh("ngircd --version | head -1").split("-")[0],
        "sqlite": sqlite3.sqlite_version,
    }


def preflight():
    for path, what in ((CAUSEWAY_BIN, "causeway (make)"), (DRIVER, "the driver (make bench)")):
        if not os.access(path, os.X_OK):
            die("%s is missing: %s" % (what, path))
    if shutil.which("ngircd") is None:
        die("ngircd is not installed (make deps)")
    if "biboumi" in GATEWAYS and shutil.which("biboumi") is None:
        r = subprocess.run(["sh", os.path.join(HERE, "ensure-biboumi.sh")])
        if r.returncode != 0 or shutil.which("biboumi") is None:
            die("biboumi could not be installed; run with BENCH_GATEWAYS=causeway to skip it")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * max(USERS + HISTORY_USERS + [1]) + 256
    if hard != resource.RLIM_INFINITY and hard < want:
        log("bench: warning: the open-files hard limit is %d; %d users want about %d"
            % (hard, max(USERS + HISTORY_USERS), want))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))   # ulimit -n for ngircd, driver, gateways


def prepare_stores():
    """One start of each gateway against the driver creates its store; then
    the registered users are written into it with its own schema."""
    stores = {}
    if "causeway" in GATEWAYS:
        data = os.path.join(RUN, "causeway-core-data")
        os.makedirs(data, exist_ok=True)
        res = core_scenario("causeway", 0, data, iqs=0, tag="prepare-causeway")
        db = os.path.join(data, "irc.db")
        if res.get("status") != "ok" or not os.path.exists(db):
            die("Causeway did not start against the driver:\n%s\n%s" % (res.get("stderr", ""), tail(
                os.path.join(res["dir"], "causeway.log"))))
        causeway_users(db, REGISTERED)
        stores["causeway"] = data
    if "biboumi" in GATEWAYS:
        db = os.path.join(RUN, "biboumi-template.sqlite")
        res = core_scenario("biboumi", 0, db, iqs=0, tag="prepare-biboumi")
        if res.get("status") != "ok" or not os.path.exists(db):
            die("biboumi did not start against the driver:\n%s\n%s" % (res.get("stderr", ""), tail(
                os.path.join(res["dir"], "biboumi.log"))))
        core_db = os.path.join(RUN, "biboumi-core.sqlite")
        shutil.copy(db, core_db)
        biboumi_users(core_db, REGISTERED)
        stores["biboumi"] = core_db
    return stores


def tail(path, n=25):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(%s)" % e


def summarize(res):
    def g(k, f="%.0f", s=1):
        v = res.get(k)
        return f % (v * s) if isinstance(v, (int, float)) else "-"
    if "join_storm_s" in res or "rss_kb" in res:
        return ("join %ss, RSS %s/%sMB, x2i %s msg/s, fan %s st/s, p99 %s/%sms, idle %s%%"
                % (g("join_storm_s", "%.2f"), g("rss_kb", "%.0f", 1 / 1024), g("rss_idle_kb", "%.0f", 1 / 1024),
                   g("x2i_msgs_per_s"),
                   g("fan_stanzas_per_s"), g("x2i_p99_ms", "%.1f"), g("fan_p99_ms", "%.1f"),
                   g("idle_cpu_pct", "%.2f")))
    return ("handshake %sms, ready %sms, disco %s/s, ping %s/s"
            % (g("handshake_ms"), g("ready_ms"), g("disco_per_s"), g("ping_per_s")))


def problem_of(gw, what, res):
    idle = res.get("idle_stanzas")
    if res.get("status") == "ok" and not res.get("anomalies") and not idle:
        return None
    lines = [l for l in res.get("stderr", "").splitlines()
             if any(w in l for w in ("WRONG", "TIMEOUT", "DIED", "EXITED", "gone", "closed", "error"))]
    status = res.get("status", "driver failed (rc %s)" % res.get("driver_rc"))
    if status == "ok":
        status = "completed, but with unexpected stanzas"
    if idle:
        status += "; %d stanza(s) arrived during the idle window (expected none)" % idle
    return {"gateway": gw, "what": what, "status": status,
            "anomalies": res.get("anomaly_detail", ""), "driver": lines[:12], "dir": res.get("dir"),
            "log_tail": tail(os.path.join(res.get("dir", ""), gw + ".log"), 15),
            "cmd": tail(os.path.join(res.get("dir", ""), "driver.cmd"), 1)}


def history_on(gw):
    """Whether the normal IRC scenarios run gw with history recording on."""
    return gw == "causeway" or BIBOUMI_HISTORY == "on"


def main():
    t_start = time.monotonic()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    preflight()
    load_start = loadavg()
    if float(load_start.split()[0]) > 0.5:
        log("bench: warning: load average %s before the run: other work on this machine skews the figures"
            % load_start)
    shutil.rmtree(RUN, ignore_errors=True)
    os.makedirs(RUN)
    # One binary for the whole run, even if ./causeway is rebuilt meanwhile.
    global CAUSEWAY_BIN, VERSIONS
    VERSIONS = versions()
    snapshot = os.path.join(RUN, "causeway")
    shutil.copy2(CAUSEWAY_BIN, snapshot)
    CAUSEWAY_BIN = snapshot
    log("bench: Causeway %s vs %s; users %s; %d run(s); logs in %s"
        % (CAUSEWAY_BIN, "biboumi" if "biboumi" in GATEWAYS else "(no biboumi)", USERS, RUNS, RUN))
    stores = prepare_stores()

    core = {gw: [] for gw in GATEWAYS}
    irc = {gw: {n: [] for n in USERS} for gw in GATEWAYS}
    # history[gw][n]["on"/"off"][r]: run r of the IRC scenario with history recording on/off
    history = {gw: {n: {"on": [], "off": []} for n in HISTORY_USERS} for gw in GATEWAYS}
    problems = []

    def irc_run(gw, n, run, hist=None, tag=None):
        t0 = time.monotonic()
        res = irc_scenario(gw, n, run + 1, hist, tag)
        log("[run %d/%d] N=%-5d %-8s %s (%.1fs)%s" % (run + 1, RUNS, n, gw + ("-" + tag if tag else ""),
                                                     summarize(res), time.monotonic() - t0,
                                                     "" if res.get("status") == "ok"
                                                     else "  ** %s" % res.get("status")))
        p = problem_of(gw, "IRC, N=%d%s, run %d" % (n, ", " + tag if tag else "", run + 1), res)
        if p:
            problems.append(p)
        return res

    for run in range(RUNS):
        for gw in GATEWAYS:
            t0 = time.monotonic()
            res = core_scenario(gw, run + 1, stores[gw])
            core[gw].append(res)
            log("[run %d/%d] core %-8s %s (%.1fs)%s" % (run + 1, RUNS, gw, summarize(res), time.monotonic() - t0,
                                                       "" if res.get("status") == "ok" else "  ** %s" % res.get("status")))
            p = problem_of(gw, "core, run %d" % (run + 1), res)
            if p:
                problems.append(p)
        for n in USERS:
            for gw in GATEWAYS:
                irc[gw][n].append(irc_run(gw, n, run))
        # history cost: the normal scenario against the same one with history recording flipped
        for n in HISTORY_USERS:
            for gw in GATEWAYS:
                normal_on = history_on(gw)
                normal = irc[gw][n][run] if n in USERS else irc_run(gw, n, run)
                flipped = irc_run(gw, n, run, hist=not normal_on,
                                  tag="nohistory" if normal_on else "history")
                history[gw][n]["on"].append(normal if normal_on else flipped)
                history[gw][n]["off"].append(flipped if normal_on else normal)

    elapsed = time.monotonic() - t_start
    with open(os.path.join(RUN, "results.json"), "w") as f:
        json.dump({"core": core, "irc": {gw: {str(n): v for n, v in d.items()} for gw, d in irc.items()},
                   "history": {gw: {str(n): v for n, v in d.items()} for gw, d in history.items()},
                   "problems": problems}, f, indent=1, default=str)
    md = render(core, irc, history, problems, started, elapsed, (load_start, loadavg()))
    with open(OUT, "w") as f:
        f.write(md)
    print()
    print(md)
    log("bench: wrote %s (%.1f min)" % (OUT, elapsed / 60))
    if any(p["gateway"] == "causeway" for p in problems):
        log("bench: Causeway misbehaved in %d scenario(s): see \"Problems seen in this run\" in %s"
            % (sum(p["gateway"] == "causeway" for p in problems), OUT))
        return 1
    return 0


VERSIONS = None


def render(core, irc, history, problems, started, elapsed, loads):
    cw, bb = "causeway", "biboumi"
    have_bb = bb in GATEWAYS
    m, v = machine(), VERSIONS or versions()
    notes = {}

    def note(key, text):
        if key not in notes:
            notes[key] = (len(notes) + 1, text)
        return "[^%s]" % notes[key][0]

    L = []
    L.append("# Causeway vs biboumi: side-by-side benchmarks\n")
    L.append("Generated by `make bench` (tests/bench/bench.py) on %s; the whole run took %.1f min.\n"
             % (started, elapsed / 60))
    L.append("- Machine: %s CPU(s), %s; %s RAM; %s; Linux %s; run directory on %s, %s"
             % (m["nproc"], m["cpu"] or "?", m["mem"], m["os"], m["kernel"], m["disk"], m["fstype"]))
    L.append("- Load average (1, 5, 15 min) before the run: %s; after: %s (anything above ~0.1 before the "
             "run means other work shared the CPUs)" % loads)
    L.append("- Software: Causeway %s (git %s when the run started, `-O2 -g`; the binary was copied to "
             "tests/bench/.run/causeway and that copy ran throughout), biboumi %s (Debian package), ngIRCd %s, "
             "SQLite %s" % (v["causeway"].replace("causeway ", ""), v["git"], v["biboumi"] or "not installed",
                            v["ngircd"].replace("ngIRCd ", ""), v["sqlite"]))
    L.append("- Settings: " + ", ".join("%s=%s" % (k, os.environ.get(k) or "(default)") for k in SETTINGS))
    L.append("- Each figure is the median of %d run(s); the ratio column is the median of the per-run ratios "
             "Causeway/biboumi, each taken in the same run (same machine state, same ngIRCd build, same driver)."
             " \"better\" says which direction wins.\n" % RUNS)

    def row(label, n, a_runs, b_runs, key, scale, f, lower, foot=None):
        a = median([(r or {}).get(key) for r in a_runs])
        b = median([(r or {}).get(key) for r in b_runs]) if have_bb else None
        rr = median(per_run_ratios(a_runs, b_runs, key)) if have_bb else None
        bcell = fmt(b, f, scale)
        if foot == "ready" and have_bb:
            bcell = "n/a" + note("ready", "biboumi does nothing per user at start-up (no registrations, no "
                                          "presence probes): it is ready when its handshake completes.")
        cells = [label] + ([str(n)] if n is not None else []) + [
            fmt(a, f, scale), bcell, ratio_str(rr), "lower" if lower else "higher"]
        return "| " + " | ".join(cells) + " |"

    # core
    L.append("## Core\n")
    L.append("Start-up from `exec` to the end of the XEP-0114 handshake (seen by the driver) and, for Causeway, "
             "to its `component %s ready` log line, with %d registered users in the store; then IQ round trips "
             "to the gateway's own JID from %d distinct users, %d in flight.\n" % (DOMAIN, REGISTERED, 100,
                                                                                    IQ_WINDOW))
    L.append("| figure | Causeway | biboumi | Causeway/biboumi | better |")
    L.append("|---|---:|---:|---:|---|")
    for key, label, scale, f, lower, foot in CORE_FIGS:
        if "%s" in label:
            label = label % "{:,}".format(REGISTERED)
        L.append(row(label, None, core.get(cw, []), core.get(bb, []), key, scale, f, lower, foot))
    L.append("")

    # IRC
    L.append("## IRC transport\n")
    L.append("N XMPP users (`uK@bench.local/r`) join `%s%%%s@%s`, each through their own IRC connection to a "
             "fresh ngIRCd; a raw IRC client `benchirc` sits in the channel. Messages carry a sequence number and "
             "the driver's send time; latency is measured from the driver writing the stanza (or IRC line) to "
             "the listener's receipt (XMPP→IRC) or to each bridged user's groupchat stanza (IRC→XMPP: one sample "
             "per delivered stanza)." % (CHANNEL, IRC_HOST, DOMAIN))
    L.append("")
    L.append("Each direction has a *throughput phase*: max(200, min(5000, %d/N)) messages, or what fits in %g s, "
             "with min(%d, %d/N) messages in flight (a message is in flight until the IRC channel and all N "
             "bridged users have it: every message makes N stanzas either way); and a *latency phase*: %d "
             "messages (or what fits in %g s), one in flight. The join storm sends all N joins at once. RSS "
             "is read when every user has seen all N+1 occupants (buffers the storm filled may still be held), "
             "and again after the idle window, before any message; the per-user slopes use the latter."
             % (DELIVERIES, PHASE_CAP, WINDOW, INFLIGHT, LAT_MSGS, LAT_CAP))
    L.append("")
    L.append("| figure | N | Causeway | biboumi | Causeway/biboumi | better |")
    L.append("|---|---:|---:|---:|---:|---|")
    for key, label, scale, f, lower, foot in IRC_FIGS:
        if foot == "x2i":
            label += note("x2i", "Every XMPP→IRC message is also delivered back to all N bridged users (the "
                                 "sender's reflection plus N−1 copies arriving over their IRC connections), so "
                                 "at large N this rate is bounded by that fan-out, for both gateways.")
        if foot == "join":
            label += note("join", "ngIRCd listens with a backlog of 10 connections: when a gateway opens many "
                                  "connections at once, the kernel drops the SYNs that do not fit and the "
                                  "gateway's TCP retries them after 1 s (its initial retransmission timeout). "
                                  "Join storms of about 1 s at N=100 are that retry, seen in the ngIRCd log as "
                                  "a second batch of registrations one second after the first.")
        if foot == "fan1" and 1 in USERS:
            label += note("fan1", "At N=1 neither gateway nor ngIRCd is busy in this phase (see where the CPU "
                                  "went): the rate is set by round trips between the processes (TCP "
                                  "acknowledgements) and varies widely from run to run.")
        if foot == "idle":
            label += note("idle", "From utime+stime in /proc/PID/stat (10 ms ticks) over the window: 0.00 "
                                  "means fewer than one tick.")
        for n in USERS:
            L.append(row(label, n, irc.get(cw, {}).get(n, []), irc.get(bb, {}).get(n, []), key, scale, f, lower))
        if key == "rss_idle_kb" and len(USERS) >= 2:
            us = sorted(USERS)
            pairs = [(us[0], us[-1])] + ([(a, b) for a, b in zip(us, us[1:])] if len(us) > 2 else [])
            for n1, n2 in pairs:
                lab = "RSS per bridged user (after the idle window), slope N=%d→%d (kB)" % (n1, n2)
                cw_s = [slope_per_user(irc.get(cw, {}), "rss_idle_kb", n1, n2, r) for r in range(RUNS)]
                bb_s = [slope_per_user(irc.get(bb, {}), "rss_idle_kb", n1, n2, r) for r in range(RUNS)] \
                    if have_bb else []
                a, b = median(cw_s), median(bb_s)
                rr = median([x / y for x, y in zip(cw_s, bb_s)
                             if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0])
                L.append("| %s | %d→%d | %s | %s | %s | lower |" % (lab, n1, n2, fmt(a, "%.1f"), fmt(b, "%.1f"),
                                                                     ratio_str(rr)))
    L.append("")

    # where the CPU went
    L.append("### Where the CPU went\n")
    L.append("Median CPU use in %% of one core during the throughput phases (gateway / ngIRCd / driver), to show "
             "which process was the bottleneck. The machine has %s core(s).\n" % m["nproc"])
    L.append("| phase | N | Causeway: gw / ircd / driver | biboumi: gw / ircd / driver |")
    L.append("|---|---:|---|---|")
    for phase, label in (("x2i", "XMPP→IRC"), ("fan", "IRC→XMPP")):
        for n in USERS:
            cells = []
            for gw in (cw, bb):
                runs = irc.get(gw, {}).get(n, [])
                vals = [median([(r or {}).get("%s_%s_cpu_pct" % (phase, who)) for r in runs])
                        for who in ("gw", "ircd", "driver")]
                cells.append(" / ".join(fmt(x, "%.0f") for x in vals) if gw in GATEWAYS else "n/a")
            L.append("| %s | %d | %s | %s |" % (label, n, cells[0], cells[1]))
    L.append("")

    # history recording cost
    if HISTORY_USERS:
        L.append("## History recording cost\n")
        L.append("The IRC scenario's throughput phases with each gateway's history recording on and off; the "
                 "cost is 1 − on/off, taken per run (both settings in the same run) and then the median. *On* "
                 "means, for Causeway, its default: the last 20 lines of each room kept in memory (off: "
                 "`history = 0`); for biboumi, its own default: every groupchat line archived in SQLite once per "
                 "bridged user (`recordhistory_ = 1`; off: `recordhistory_ = 0`). The other IRC figures above "
                 "were measured with history %s.\n"
                 % ("on for both gateways" if BIBOUMI_HISTORY == "on" else
                    "on for Causeway and off for biboumi" if have_bb else "on"))
        L.append("| figure | N | gateway | history on | history off | cost of recording | better |")
        L.append("|---|---:|---|---:|---:|---:|---|")
        for key, label in (("x2i_msgs_per_s", "XMPP→IRC messages/s, throughput phase"),
                           ("fan_stanzas_per_s", "IRC→XMPP fan-out: delivered stanzas/s, throughput phase")):
            for n in HISTORY_USERS:
                for gw in GATEWAYS:
                    h = history.get(gw, {}).get(n, {})
                    on = median([(r or {}).get(key) for r in h.get("on", [])])
                    off = median([(r or {}).get(key) for r in h.get("off", [])])
                    cost = median([1 - rr for rr in per_run_ratios(h.get("on", []), h.get("off", []), key)])
                    L.append("| %s | %d | %s | %s | %s | %s | lower |"
                             % (label, n, NAMES.get(gw, gw), fmt(on, "%.0f"), fmt(off, "%.0f"),
                                fmt(cost, "%.0f%%", 100)))
        L.append("")

    # the end-to-end mode's own report (tests/bench/bench-e2e.py writes it)
    L.append("## End to end with Prosody in the path\n")
    L.append("`make bench-e2e` runs the same gateways behind a real Prosody with raw c2s users (one TCP "
             "connection each), N up to 2,000 in one channel and 10,000 users over 1,000 channels: "
             "[RESULTS-e2e.md](RESULTS-e2e.md), plots [RSS vs N](e2e-rss.svg) and "
             "[stanzas/s vs N](e2e-fanout.svg).\n")

    # problems
    L.append("## Problems seen in this run\n")
    if not problems:
        L.append("None: every scenario completed, with the expected number of stanzas, no error stanzas, no "
                 "crash and a clean exit on SIGTERM.\n")
    for p in problems:
        L.append("- **%s, %s**: %s. %s" % (NAMES.get(p["gateway"], p["gateway"]), p["what"], p["status"],
                                          p["anomalies"]))
        L.append("  - run directory: `%s`" % os.path.relpath(p["dir"] or "", ROOT))
        L.append("  - reproduce: `%s`" % p["cmd"].replace(ROOT + "/", ""))
        if p["driver"]:
            L.append("  - driver:\n\n```\n%s\n```" % "\n".join(p["driver"]))
        L.append("  - gateway log (tail):\n\n```\n%s\n```" % p["log_tail"])
    L.append("")

    # method and commands
    L.append("## How it was run\n")
    L.append("```\nmake bench   # = make deps causeway build/bench/xmppdriver; "
             "/usr/bin/python3 tests/bench/bench.py\n```\n")
    L.append("- The driver (`tests/bench/xmppdriver.c`, GLib + epoll) listens on a loopback port as the XMPP "
             "server (XEP-0114, it checks SHA-1(stream id + secret)), starts the gateway itself and writes "
             "stanzas from the users straight into the component stream; no XMPP server is involved.")
    L.append("- Gateways, one at a time, each started by the driver:")
    L.append("  - `causeway -c causeway.conf --transport irc` with `[transport:irc] type = irc, domain = %s, "
             "irc_port = <ngIRCd port>, flood_burst = 0` (no flood control; history: the default 20 lines in "
             "memory), `allowed_domains = bench.local`, default log level." % DOMAIN)
    L.append("  - `biboumi biboumi.cfg` with `hostname=%s, db_name=<run dir>/biboumi.sqlite, identd_port=0, "
             "log_level=1`; every bench user has a row in `ircserveroptions_` (the ngIRCd port, no TLS ports, "
             "`throttlelimit_ = -1`: no throttling) and in `globaloptions_` (%s)." %
             (DOMAIN, "history recording on, biboumi's default" if BIBOUMI_HISTORY == "on"
              else "history recording off: `BENCH_BIBOUMI_HISTORY=off`"))
    L.append("- ngIRCd: `ngircd -f ngircd.conf -n` on a free 127.0.0.1 port, a fresh server per scenario, "
             "`MaxConnectionsIP = 0`, `MaxPenaltyTime = 0`, `PingTimeout = 3600`, open files limit raised to "
             "the hard limit (`ulimit -n %s`)." % resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    L.append("- Registered users for the start-up figure: written into each gateway's own store after one "
             "start created it (Causeway: the `users` table of `irc.db`; biboumi: one `globaloptions_` and one "
             "`ircserveroptions_` row per user). Causeway sends each registered user its presence and a probe "
             "when it connects; the driver waits for all %d before the IQ phases." % (2 * REGISTERED))
    L.append("- Every driver command line is in `tests/bench/.run/*/driver.cmd`, the gateways' logs and "
             "configs next to it, all raw figures in `tests/bench/.run/results.json`. For example (N=%d, "
             "run 1):" % USERS[-1])
    for gw in GATEWAYS:
        cmd = tail(os.path.join(RUN, "irc-n%d-run1-%s" % (USERS[-1], gw), "driver.cmd"), 1)
        L.append("\n  ```\n  %s\n  ```" % cmd.replace(ROOT + "/", ""))
    if have_bb and BIBOUMI_HISTORY == "on":
        L.append("- biboumi archives every groupchat line, once per bridged user, in SQLite (`muclogline_`, one "
                 "autocommit transaction each): its message rates depend on the disk's fsync speed. "
                 "`BENCH_BIBOUMI_HISTORY=off` (the default) measures it without the archive.")
    elif have_bb:
        L.append("- biboumi's own default archives every groupchat line, once per bridged user, in SQLite "
                 "(`muclogline_`, one fsync'd autocommit transaction each), which bounds its message rates by "
                 "the disk rather than by its routing; Causeway keeps only 20 lines per room in memory. To "
                 "compare the routing work, the bench turns biboumi's archive off (`recordhistory_ = 0`); "
                 "`BENCH_BIBOUMI_HISTORY=on` measures biboumi as installed, and \"History recording cost\" "
                 "measures what the archive costs it.")
    L.append("")
    if notes:
        for _k, (i, text) in sorted(notes.items(), key=lambda kv: kv[1][0]):
            L.append("[^%d]: %s" % (i, text))
        L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
