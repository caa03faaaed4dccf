#!/usr/bin/python3
"""End-to-end benchmark with Prosody in the path: Causeway beside biboumi.

    make bench-e2e                                     (N = 1, 100, 1000; 3 runs: about 25 min)
    E2E_USERS="100" E2E_RUNS=1 make bench-e2e          (a quick look)
    the big cases, added to the same report (one run each; an hour or more with biboumi):
    E2E_USERS=2000 E2E_RUNS=1 E2E_APPEND=1 make bench-e2e
    E2E_USERS= E2E_SPREAD=10000/1000 E2E_RUNS=1 E2E_APPEND=1 make bench-e2e

Per scenario (gateway, N users, C channels, run) a fresh ngIRCd and a fresh
Prosody 0.12 (c2s without TLS on loopback, SASL PLAIN; the N accounts are
written straight into Prosody's internal_plain storage, which takes
milliseconds for thousands) and the gateway as a XEP-0114 component of that
Prosody; then tests/bench/e2edriver.c logs in N raw c2s users (one TCP
connection each) and measures the join storm (time to the last
self-presence), IRC->XMPP fan-out (stanzas/s delivered to the users),
XMPP->IRC (messages/s reaching the IRC side), the CPU seconds of Prosody and
of the gateway (and ngIRCd's) per phase (/proc/PID/stat), and the gateway's RSS.
Gateways: every one in E2E_GATEWAYS, one after the other with the same
configuration; "causeway-base" is a second Causeway binary (E2E_BASE_BIN,
e.g. the start commit built elsewhere) for before/after figures.

Figures are medians over E2E_RUNS runs with the range; ratios are medians of
per-run ratios against biboumi. Markdown goes to tests/bench/RESULTS-e2e.md,
plots (SVG, python3-matplotlib) beside it, raw values to
tests/bench/.run-e2e/results.json, logs in tests/bench/.run-e2e/.

Settings (environment):
  E2E_USERS      users in one channel, one scenario each ("1 100 1000"; "" for none)
  E2E_SPREAD     "USERS/CHANNELS" scenarios with users spread over channels ("" by default;
                 "10000/1000" is the big case: memory and time heavy)
  E2E_RUNS       runs per figure (3)
  E2E_FAN        stanzas to deliver per fan-out phase (60000): lines = this / users per channel
  E2E_X2I        messages of the XMPP->IRC phase (3000), at most E2E_FAN / users per channel
                 (every message is reflected to every user of its room)
  E2E_INFLIGHT   fan-out: at most this many stanzas in flight (20000), and at most E2E_LINES lines
  E2E_LINES      lines (messages) in flight (50 in one channel, 1000 when users are spread)
  E2E_TIMEOUT    seconds any single wait may take (120)
  E2E_GATEWAYS   "causeway biboumi" (add causeway-base with E2E_BASE_BIN)
  E2E_BASE_BIN   the causeway-base binary
  E2E_WRAP       a command line put before the gateway's ({d}: the run directory), e.g. strace to
                 capture what it writes to the component socket (the CPU figures are then strace's)
  E2E_PROSODY_LOG  Prosody's log level (info)
  E2E_RESULTS    the raw results file (tests/bench/.run-e2e/results.json)
  E2E_APPEND     1: add this invocation's runs to E2E_RESULTS and report every scenario in it, so the
                 big cases can run in separate invocations (E2E_USERS="" E2E_SPREAD=10000/1000
                 E2E_RUNS=1 E2E_APPEND=1) and the report still has them all
"""
import importlib.util
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench", os.path.join(HERE, "bench.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

RUN = os.path.join(HERE, ".run-e2e")
DOMAIN, SECRET, IRC_HOST = bench.DOMAIN, bench.SECRET, bench.IRC_HOST
USER_DOMAIN = "bench.local"
PASSWORD = "benchpw"


def env(name, default):
    v = os.environ.get(name, "").strip()
    return v if v else default


USERS = [int(x) for x in os.environ.get("E2E_USERS", "1 100 1000").split()]
SPREAD = [tuple(int(y) for y in x.split("/")) for x in os.environ.get("E2E_SPREAD", "").split()]
RUNS = int(env("E2E_RUNS", "3"))
FAN = int(env("E2E_FAN", "60000"))
X2I = int(env("E2E_X2I", "3000"))
INFLIGHT = int(env("E2E_INFLIGHT", "20000"))
LINES = os.environ.get("E2E_LINES", "").strip()
TIMEOUT = float(env("E2E_TIMEOUT", "120"))
GATEWAYS = env("E2E_GATEWAYS", "causeway biboumi").split()
BASE_BIN = os.path.abspath(env("E2E_BASE_BIN", os.path.join(bench.ROOT, "build", "base-src", "causeway")))
OUT = env("E2E_OUT", os.path.join(HERE, "RESULTS-e2e.md"))
RESULTS = env("E2E_RESULTS", os.path.join(RUN, "results.json"))
APPEND = env("E2E_APPEND", "0") == "1"
DRIVER = os.path.abspath(env("E2E_DRIVER", os.path.join(bench.ROOT, "build", "bench", "e2edriver")))
NAMES = {"causeway": "Causeway", "causeway-base": "Causeway (start commit)", "biboumi": "biboumi"}
log = bench.log


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", bench.ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", bench.ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except OSError:
        return ""


# the commit the binaries were built from (E2E_COMMIT when they were copied aside)
COMMIT = env("E2E_COMMIT", "") or git_rev()

# ngIRCd: 2,000+ connections from loopback, and benchirc joins up to 1,000 channels
bench.NGIRCD_CONF = bench.NGIRCD_CONF.replace("MaxJoins = 50", "MaxJoins = 0")

PROSODY_CFG = """-- Prosody for Causeway's end-to-end benchmark (generated by tests/bench/bench-e2e.py)
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}/certificates"
run_as_root = {root}
network_backend = "epoll"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{ }}
component_ports = {{ {comp} }}
component_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
allow_registration = false
modules_enabled = {{ "roster"; "saslauth"; "disco"; "posix"; }}
modules_disabled = {{ "s2s"; "offline"; "carbons"; "pep"; "vcard"; "vcard_legacy"; "private"; "blocklist";
                     "smacks"; "csi_simple"; "mam"; "bookmarks"; "limits" }}
log = {{ {{ levels = {{ min = "{level}" }}, to = "file", filename = "{d}/prosody.log" }}; }}
VirtualHost "{host}"
Component "{gw}"
	component_secret = "{secret}"
"""


def prosody_enc(s):
    return "".join(c if c.isalnum() else "%%%02x" % ord(c) for c in s)


class Prosody:
    def __init__(self, d, n):
        self.dir = d
        self.c2s, self.comp = bench.free_port(), bench.free_port()
        acc = os.path.join(d, "data", prosody_enc(USER_DOMAIN), "accounts")
        os.makedirs(acc)
        os.makedirs(os.path.join(d, "certificates"))
        for k in range(1, n + 1):
            with open(os.path.join(acc, "u%d.dat" % k), "w") as f:
                f.write('return {\n\t["password"] = "%s";\n};\n' % PASSWORD)
        self.cfg = os.path.join(d, "prosody.cfg.lua")
        with open(self.cfg, "w") as f:
            f.write(PROSODY_CFG.format(d=d, c2s=self.c2s, comp=self.comp, host=USER_DOMAIN, gw=DOMAIN,
                                       secret=SECRET, level=env("E2E_PROSODY_LOG", "info"), root="true" if os.geteuid() == 0 else "false"))
        self.log = os.path.join(d, "prosody.log")
        self.proc = None

    def start(self, wrap=(), wait_s=20):
        """wrap: argv put before Prosody's (stanza-cost.py runs it under callgrind)."""
        out = open(os.path.join(self.dir, "prosody.out"), "wb")
        self.proc = subprocess.Popen(list(wrap) + [shutil.which("prosody") or "prosody", "--config", self.cfg, "-F"], stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait_s
        while not (bench.port_open(self.c2s) and bench.port_open(self.comp)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("prosody did not start: see %s" % self.dir)
            time.sleep(0.05)
        return self

    def component_count(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read().count("successfully authenticated")
        except OSError:
            return 0

    def stop(self):
        bench.stop_pid(self.proc)


BIBOUMI_TEMPLATE = os.path.join(RUN, "biboumi-template.sqlite")


def start_gateway(gw, d, prosody, ircd, n):
    """Starts the gateway as a component of prosody; returns the Popen once it authenticated."""
    port = str(prosody.comp)
    before = prosody.component_count()
    if gw.startswith("causeway"):
        tmpl = bench.causeway_template(d, os.path.join(d, "data"), ircd.port)
        cfg = os.path.join(d, "causeway.conf")
        with open(tmpl) as f, open(cfg, "w") as g:
            g.write(f.read().replace("@XMPP_PORT@", port))
        binary = BASE_BIN if gw == "causeway-base" else bench.CAUSEWAY_BIN
        argv = [binary, "-c", cfg, "--transport", "irc"]
    else:
        db = os.path.join(d, "biboumi.sqlite")
        shutil.copy(BIBOUMI_TEMPLATE, db)
        bench.biboumi_users(db, n, ircd.port, history=False)
        tmpl = bench.biboumi_template(d, db)
        cfg = os.path.join(d, "biboumi.cfg")
        with open(tmpl) as f, open(cfg, "w") as g:
            g.write(f.read().replace("@XMPP_PORT@", port))
        argv = ["biboumi", cfg]
    wrap = os.environ.get("E2E_WRAP", "").strip()   # e.g. "strace -f -e trace=write,writev,sendto -s 4000 -o {d}/strace.txt"
    if wrap:
        argv = wrap.replace("{d}", d).split() + argv
    out = open(os.path.join(d, gw + ".log"), "wb")
    proc = subprocess.Popen(argv, cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while prosody.component_count() <= before:
        if proc.poll() is not None or time.monotonic() > deadline:
            bench.stop_pid(proc)
            raise RuntimeError("%s did not attach to Prosody: see %s" % (gw, d))
        time.sleep(0.05)
    return proc


def make_biboumi_template():
    """biboumi creates its schema on start: start it once, keep the empty database."""
    if os.path.exists(BIBOUMI_TEMPLATE):
        return
    d = os.path.join(RUN, "biboumi-template")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    p = Prosody(d, 0).start()
    db = os.path.join(d, "biboumi.sqlite")
    tmpl = bench.biboumi_template(d, db)
    cfg = os.path.join(d, "biboumi.cfg")
    with open(tmpl) as f, open(cfg, "w") as g:
        g.write(f.read().replace("@XMPP_PORT@", str(p.comp)))
    proc = subprocess.Popen(["biboumi", cfg], cwd=d, stdin=subprocess.DEVNULL,
                            stdout=open(os.path.join(d, "biboumi.log"), "wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                con = sqlite3.connect(db)
                ok = con.execute("SELECT count(*) FROM sqlite_master WHERE name='ircserveroptions_'").fetchone()[0]
                con.close()
                if ok and p.component_count():
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.1)
    finally:
        bench.stop_pid(proc)
        p.stop()
    shutil.copy(db, BIBOUMI_TEMPLATE)


def scenario(gw, n, chans, run):
    d = os.path.join(RUN, "n%d-c%d-run%d-%s" % (n, chans, run, gw))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    per = max(1, n // chans)
    fan_msgs = max(20, FAN // per)
    x2i_msgs = max(20, min(X2I, FAN // per))   # each is reflected to the room: at most E2E_FAN reflections
    window = max(1, min(int(LINES) if LINES else (50 if chans == 1 else 1000), INFLIGHT // per))
    ircd = bench.Ngircd(d).start()
    prosody = gwp = None
    try:
        prosody = Prosody(d, n).start()
        gwp = start_gateway(gw, d, prosody, ircd, n)
        argv = [DRIVER, "--c2s-port", str(prosody.c2s), "--irc-port", str(ircd.port), "--users", str(n),
                "--channels", str(chans), "--domain", DOMAIN, "--user-domain", USER_DOMAIN,
                "--password", PASSWORD, "--irc-host", IRC_HOST, "--channel", bench.CHANNEL,
                "--prosody-pid", str(prosody.proc.pid), "--gw-pid", str(gwp.pid), "--ircd-pid", str(ircd.proc.pid),
                "--fan-msgs", str(fan_msgs), "--x2i-msgs", str(x2i_msgs), "--window", str(window),
                "--timeout", str(TIMEOUT)]
        with open(os.path.join(d, "driver.cmd"), "w") as f:
            f.write(" ".join(argv) + "\n")
        with open(os.path.join(d, "driver.out"), "w") as fo, open(os.path.join(d, "driver.err"), "w") as fe:
            drv = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
            try:
                drv.wait(8 * TIMEOUT + n * 0.5 + fan_msgs * per / 1000.0)
            except subprocess.TimeoutExpired:
                log("  driver exceeded its time: stopping it")
                bench.stop_pid(drv)
        res = bench.parse_kv(os.path.join(d, "driver.out"))
        res["driver_rc"] = drv.returncode
        res["gw_alive"] = gwp.poll() is None
    finally:
        bench.stop_pid(gwp)
        if prosody:
            prosody.stop()
        ircd.stop()
    res["dir"] = d
    with open(os.path.join(d, "driver.err")) as f:
        res["stderr"] = f.read()[-3000:]
    res["users"], res["channels"], res["window"] = n, chans, window
    return derive(res)


def derive(res):
    """the figures computed from the driver's (also for results read back from a file)"""
    n = res.get("users") or int(res["dir"].rsplit("/", 1)[1].split("-")[0][1:])
    if res.get("fan_delivered"):
        k = 1e4 / res["fan_delivered"]
        res["fan_prosody_cpu_per_10k"] = res.get("fan_prosody_cpu_s", 0) * k
        res["fan_gw_cpu_per_10k"] = res.get("fan_gw_cpu_s", 0) * k
        if "fan_ircd_cpu_s" in res:
            res["fan_ircd_cpu_per_10k"] = res["fan_ircd_cpu_s"] * k
    if res.get("fan_delivered"):
        res["fan_prosody_sys_share"] = res.get("fan_prosody_sys_s", 0) / max(res.get("fan_prosody_cpu_s", 0), 1e-9)
    if res.get("x2i_received"):
        # over the whole phase: until every reflection reached the users (x2i_all_*)
        k = 1e4 / res["x2i_received"]
        res["x2i_prosody_cpu_per_10k"] = res.get("x2i_all_prosody_cpu_s", res.get("x2i_prosody_cpu_s", 0)) * k
        res["x2i_gw_cpu_per_10k"] = res.get("x2i_all_gw_cpu_s", res.get("x2i_gw_cpu_s", 0)) * k
        if res.get("x2i_reflections"):
            # per stanza Prosody routed: the message to the gateway and its reflections to the room
            k = 1e4 / (res["x2i_received"] + res["x2i_reflections"])
            res["x2i_prosody_cpu_per_10k_stanzas"] = res.get("x2i_all_prosody_cpu_s", 0) * k
    if res.get("failed") == "join" and "joined" in res:
        # the time to the last self-presence of those who got one is not the storm's
        res["join_storm_s"] = None
        res["join_incomplete"] = "%d of %d users had their self-presence when the driver gave up" % (res["joined"], n)
    if res.get("join_presences"):
        k = 1e4 / res["join_presences"]
        res["join_prosody_cpu_per_10k"] = res.get("join_prosody_cpu_s", 0) * k
    if isinstance(res.get("rss_kb"), (int, float)) and isinstance(res.get("rss_before_join_kb"), (int, float)):
        # the gateway has seen nothing of the users before their join presences
        res["rss_per_user_kb"] = (res["rss_kb"] - res["rss_before_join_kb"]) / n
    return res


FIGS = [
    ("login_wall_s", "login of N c2s users (s, the driver's own setup)", "%.2f", True),
    ("join_storm_s", "join storm: N joins at once until the last self-presence (s)", "%.2f", True),
    ("join_wall_s", "join storm until its last presence was delivered (s)", "%.2f", True),
    ("join_presences", "presences delivered to the users in the join storm", "%.0f", True),
    ("join_prosody_cpu_s", "Prosody CPU-s in the join storm", "%.2f", True),
    ("join_gw_cpu_s", "gateway CPU-s in the join storm", "%.2f", True),
    ("rss_before_join_kb", "gateway RSS before the joins (MiB)", "%.1f", True),
    ("rss_kb", "gateway RSS after the join storm (MiB)", "%.1f", True),
    ("rss_per_user_kb_", "gateway RSS per bridged user: (after − before the joins) / N (KiB)", "%.1f", True),
    ("rss_hwm_kb", "gateway peak RSS (MiB)", "%.1f", True),
    ("prosody_rss_kb", "Prosody RSS after the join storm (MiB)", "%.1f", True),
    ("join_prosody_cpu_per_10k", "Prosody CPU-s per 10k join-storm presences", "%.3f", True),
    ("fan_stanzas_per_s", "IRC→XMPP fan-out: stanzas/s delivered to the users", "%.0f", False),
    ("fan_prosody_cpu_per_10k", "Prosody CPU-s per 10k fan-out stanzas", "%.3f", True),
    ("fan_gw_cpu_per_10k", "gateway CPU-s per 10k fan-out stanzas", "%.3f", True),
    ("fan_ircd_cpu_per_10k", "ngIRCd CPU-s per 10k fan-out stanzas", "%.3f", True),
    ("fan_prosody_sys_share", "share of Prosody's fan-out CPU in the kernel", "%.2f", True),
    ("x2i_msgs_per_s", "XMPP→IRC messages/s reaching the IRC side", "%.0f", False),
    ("x2i_all_msgs_per_s", "XMPP→IRC messages/s until every reflection reached the room", "%.0f", False),
    ("x2i_prosody_cpu_per_10k", "Prosody CPU-s per 10k XMPP→IRC messages (all reflections included)", "%.3f", True),
    ("x2i_prosody_cpu_per_10k_stanzas", "Prosody CPU-s per 10k XMPP→IRC stanzas routed (messages + reflections)", "%.3f", True),
    ("x2i_gw_cpu_per_10k", "gateway CPU-s per 10k XMPP→IRC messages (reflections included)", "%.3f", True),
    ("x2i_ircd_cpu_s", "ngIRCd CPU-s in the XMPP→IRC phase (until the IRC side had every message)", "%.2f", True),
]


def med_range(vals, f, scale=1.0):
    vals = [v * scale for v in vals if isinstance(v, (int, float))]
    if not vals:
        return "n/a"
    m = statistics.median(vals)
    if len(vals) == 1:
        return f % m
    return "%s (%s–%s)" % (f % m, f % min(vals), f % max(vals))


def ratios(a_runs, b_runs, key):
    out = []
    for a, b in zip(a_runs, b_runs):
        x, y = a.get(key), b.get(key)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0:
            out.append(x / y)
    return out


def plots(results, cases):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("no python3-matplotlib: no plots (scripts/install-deps.sh bench installs it)")
        return []
    out = []
    GATEWAYS = present(results)
    ones = [c for c in cases if c[1] == 1]
    spread = [c for c in cases if c[1] != 1]
    where = os.path.dirname(os.path.abspath(OUT))
    for key, label, scale, fname in [("rss_kb", "gateway RSS after the join storm (MiB)", 1 / 1024, "e2e-rss.svg"),
                                     ("fan_stanzas_per_s", "IRC→XMPP stanzas/s delivered (Prosody in the path)",
                                      1, "e2e-fanout.svg")]:
        fig, ax = plt.subplots(figsize=(6.4, 4))
        for gw in GATEWAYS:
            for sel, style, what in [(ones, "-o", ""), (spread, "x", ", N over N/10 channels")]:
                xs, ys = [], []
                for n, c in sel:
                    vals = [r.get(key) for r in results.get("%s/%d/%d" % (gw, n, c), [])
                            if isinstance(r.get(key), (int, float))]
                    if vals:
                        xs.append(n)
                        ys.append(statistics.median(vals) * scale)
                if xs:
                    line = ax.plot(xs, ys, style, markersize=9 if what else 6, label=NAMES.get(gw, gw) + what,
                                   color="C%d" % GATEWAYS.index(gw))
        ax.set_xscale("log")
        ax.set_xlabel("users (N): in one channel, or spread (x)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(where, fname))
        plt.close(fig)
        out.append(fname)
    return out


def present(results):
    """the gateways with results, in GATEWAYS' order, then the others"""
    have = {k.split("/")[0] for k in results}
    known = ["causeway", "causeway-base", "biboumi"]
    order = [g for g in known if g in have] + sorted(have - set(known))
    return order


def report(results, cases):
    GATEWAYS = present(results)
    lines = ["# End-to-end benchmark with Prosody in the path (`make bench-e2e`)", "",
             "Generated by tests/bench/bench-e2e.py on %s; medians of %d runs unless a section says otherwise (range in brackets); "
             "ratios are medians of per-run ratios against biboumi (> 1 means more of the figure). "
             "Load average at the end: %s. Settings: E2E_FAN=%d E2E_X2I=%d E2E_INFLIGHT=%d."
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), RUNS, bench.loadavg(), FAN, X2I, INFLIGHT), ""]
    for n, c in cases:
        lines += ["## N = %d users%s" % (n, "" if c == 1 else " over %d channels" % c), ""]
        def runs_of(g):
            rs = results.get("%s/%d/%d" % (g, n, c), [])
            whens = sorted(r.get("when", "?") for r in rs)
            return "%s %d run%s (%s%s; commit %s)" % (
                NAMES.get(g, g), len(rs), "" if len(rs) == 1 else "s", whens[0],
                "" if len(whens) == 1 else " to " + whens[-1][11:],
                ", ".join(sorted({r.get("commit") or "?" for r in rs})))
        lines += ["Runs: " + "; ".join(runs_of(g) for g in GATEWAYS if results.get("%s/%d/%d" % (g, n, c))), ""]
        hdr = "| figure | " + " | ".join(NAMES.get(g, g) for g in GATEWAYS)
        others = [g for g in GATEWAYS if g != "biboumi"] if "biboumi" in GATEWAYS else []
        hdr += "".join(" | %s / biboumi" % NAMES.get(g, g) for g in others) + " |"
        lines += [hdr, "|" + "---|" * (1 + len(GATEWAYS) + len(others))]
        for key, label, f, _low in FIGS:
            scale = 1 / 1024 if key.endswith("_kb") else 1
            key = key.rstrip("_")
            row = "| %s | " % label + " | ".join(
                med_range([r.get(key) for r in results.get("%s/%d/%d" % (g, n, c), [])], f, scale) for g in GATEWAYS)
            for g in others:
                rs = ratios(results.get("%s/%d/%d" % (g, n, c), []), results.get("biboumi/%d/%d" % (n, c), []), key)
                row += " | " + med_range(rs, "%.2f")
            lines.append(row + " |")
        fails = ["%s run %d: %s%s%s" % (NAMES.get(g, g), i, r.get("failed", "rc %s" % r.get("driver_rc")),
                                        " (%s)" % r["join_incomplete"] if r.get("join_incomplete") else "",
                                        ", gateway RSS then %.0f MiB" % (r["rss_at_failure_kb"] / 1024)
                                        if isinstance(r.get("rss_at_failure_kb"), (int, float)) else "")
                 for g in GATEWAYS for i, r in enumerate(results.get("%s/%d/%d" % (g, n, c), []))
                 if not r.get("ok")]
        if fails:
            lines += ["", "Incomplete runs: " + "; ".join(fails)]
        lines.append("")
    return lines


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by ngircd, Prosody, gateways, driver
    for p in [DRIVER] + ([bench.CAUSEWAY_BIN] if "causeway" in GATEWAYS else []) + (
            [BASE_BIN] if "causeway-base" in GATEWAYS else []):
        if not os.access(p, os.X_OK):
            bench.die("missing %s" % p)
    os.makedirs(RUN, exist_ok=True)
    if "biboumi" in GATEWAYS:
        if not shutil.which("biboumi"):
            subprocess.run([os.path.join(HERE, "ensure-biboumi.sh")], check=True)
        make_biboumi_template()
    cases = [(n, 1) for n in USERS] + SPREAD
    results = {}
    if APPEND and os.path.exists(RESULTS):
        with open(RESULTS) as f:
            results = {k: [derive(r) for r in rs] for k, rs in json.load(f).items()}
    t0 = time.monotonic()
    for run in range(RUNS):
        for n, c in cases:
            for gw in GATEWAYS:
                ts = time.monotonic()
                key = "%s/%d/%d" % (gw, n, c)
                r = scenario(gw, n, c, len(results.get(key, [])))
                r["commit"] = COMMIT
                r["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
                r["loadavg"] = bench.loadavg()
                results.setdefault(key, []).append(r)
                with open(RESULTS, "w") as f:   # after every scenario: a cut-off run keeps what it measured
                    json.dump(results, f, indent=1, default=str)
                log("run %d N=%d C=%d %-14s join %ss fan %s/s (prosody %s, gw %s CPU-s/10k) x2i %s/s rss %s MiB"
                    " [%s, %.0f s]" % (
                        run, n, c, gw, r.get("join_storm_s"), r.get("fan_stanzas_per_s"),
                        "%.3f" % r["fan_prosody_cpu_per_10k"] if "fan_prosody_cpu_per_10k" in r else "?",
                        "%.3f" % r["fan_gw_cpu_per_10k"] if "fan_gw_cpu_per_10k" in r else "?",
                        r.get("x2i_msgs_per_s"), "%.1f" % (r["rss_kb"] / 1024) if "rss_kb" in r else "?",
                        "ok" if r.get("ok") else "FAILED " + str(r.get("failed")), time.monotonic() - ts))
                if not r.get("ok"):
                    log(r.get("stderr", "")[-800:])
    if APPEND:
        keys = {tuple(int(x) for x in k.split("/")[1:]) for k in results}
        cases = sorted([k for k in keys if k[1] == 1]) + sorted([k for k in keys if k[1] != 1])
    lines = report(results, cases)
    figs = plots(results, cases)
    if figs:
        lines += ["Plots: " + ", ".join("[%s](%s)" % (p, p) for p in figs), ""]
    lines.append("Total time: %.0f s." % (time.monotonic() - t0))
    text = "\n".join(lines) + "\n"
    with open(OUT, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
