#!/usr/bin/python3
"""SMS benchmark: Kannel's own ceiling against Causeway's sms transport on it.

    make bench-sms                  (builds ./causeway, then runs this)
    SMS_BENCH_RUNS=1 SMS_BENCH_MSGS=2000 make bench-sms      (a quick look)

Printed figures, not a timed test (not part of make check). Everything runs
on 127.0.0.1 in tests/bench/.run-sms/: Kannel 1.4.5 (bearerbox + smsbox, its
fake SMSCs served by /usr/lib/kannel/test/fakesmsc: one for MTs, SMS_BENCH_MO_SMSCS for MOs) and, for the Causeway
half, ./causeway with one [transport:sms] whose XMPP server is this script
(a XEP-0114 server playing the XMPP users: no Prosody in the path). Each run
starts a fresh Kannel for the ceiling and another for Causeway; every
process is started here and stopped by its PID; every wait has a deadline.

What is measured (each phase sends SMS_BENCH_MSGS messages):

  Kannel MT ceiling   SMS_BENCH_CONC keep-alive HTTP/1.1 clients GET sendsms
                      straight to Kannel, each with dlr-mask=SMS_BENCH_DLR_MASK and a
                      dlr-url at a trivial sink (httpsink.c; the same Kannel work as a
                      Causeway MT: Causeway asks for the same DLRs). Counted
                      where the MT leaves Kannel: at fakesmsc ("Got message"
                      lines on its stderr). Not the sendsms answers (202 only
                      says "queued in bearerbox"), not the DLR 8s (smsc_fake
                      makes them as it writes to fakesmsc: the same instant,
                      one HTTP hop later). The phase ends when every DLR 1 is in.
  Kannel MO ceiling   MOs written into SMS_BENCH_MO_SMSCS fakesmscs at once,
                      each on its own fake SMSC of bearerbox (interactive
                      mode: fakesmsc takes ONE stdin line per select()
                      wake-up, so each line is written once that fakesmsc
                      said "sent message" for the one before; with one or
                      two, the injection held the rate down) -> bearerbox ->
                      smsbox -> get-url at the sink (httpsink.c: a sink in
                      Python held Kannel's MO rate down); counted there.
  Causeway MT         XMPP <message>s (with a receipt request) from 100
                      registered users into the component stream, at most
                      SMS_BENCH_WINDOW not yet seen at fakesmsc; Causeway
                      stores each in its outbox (SQLite WAL, group commit, the
                      WAL fdatasync'd by a worker thread before the parts
                      are submitted), submits it to the same Kannel with
                      max_in_flight = SMS_BENCH_CONC, takes both DLRs and
                      sends the receipt. Counted at fakesmsc; the phase (and
                      its CPU window) ends when every receipt is in.
  warm-up             before the MT phases, SMS_BENCH_WARM (2 x CONC) messages
                      the same way, not in the rates: Causeway's libsoup opens
                      its keep-alive connections to sendsms in that first
                      burst, and Kannel listens with a backlog of 10 (gwlib
                      make_server_socket), so a SYN may be dropped and that
                      connection waits 1 s for the retransmit; the table shows
                      the longest pause between two MTs of that burst
  Causeway MO         the same MO injection, get-url at Causeway's callback
                      listener; counted as <message>s to the users on the
                      component stream.
  rate                messages / (last arrival - first send), msg/s; "done":
                      messages / (last completion - first send), where an MT
                      is complete with its DLR 1 at the sink (ceiling) or its
                      receipt at the user (Causeway): Kannel delivers DLRs
                      after MTs when loaded, so a short run's MT rate flatters
  latency             p50/p99 of arrival - send, once under the throughput
                      load above ("loaded") and once with one message in flight
                      (SMS_BENCH_LAT_MSGS messages, "unloaded")
  CPU-s / 10k         Causeway's utime+stime (/proc/PID/stat) over the phase,
                      per 10,000 messages; the driver's own CPU (this script)
                      and Kannel's (bearerbox + smsbox + fakesmsc) are printed
                      too, so a saturated driver shows
  RSS                 Causeway's VmRSS once started with SMS_BENCH_REGISTERED
                      users, each with an active number claim (written into
                      its stores before the start), idle after the start-up
                      presences

Settings (environment): SMS_BENCH_RUNS (3), SMS_BENCH_MSGS (10000),
SMS_BENCH_CONC (128: sendsms clients, and Causeway's max_in_flight; Kannel's
rate grows with it, Causeway's peaks near 128), SMS_BENCH_WINDOW (1000:
Causeway MT messages in flight), SMS_BENCH_MO_SMSCS (4), SMS_BENCH_WARM
(2 x SMS_BENCH_CONC), SMS_BENCH_LAT_MSGS
(200), SMS_BENCH_REGISTERED (10000), SMS_BENCH_SENDERS (100: users/phones the
load is spread over), SMS_BENCH_TIMEOUT (120 s per wait), CAUSEWAY_BIN,
SMS_BENCH_SINK (build/bench/httpsink), SMS_BENCH_OUT (tests/bench/RESULTS-sms.md),
SMS_BENCH_DLR_MASK (27: the dlr-mask of every MT, the ceiling's and
Causeway's dlr_mask; 19 also sets resend_unconfirmed_after = 0),
SMS_BENCH_PIN (0; 1: this driver, the sink and Kannel run on CPU 0 and
Causeway on CPU 1, so the gateway does not take Kannel's CPU — as when it has
a core of its own; needs 2 CPUs).
Medians of SMS_BENCH_RUNS runs, with [min-max]; the ratio is the median of
the per-run ratios Causeway/Kannel. The Markdown is printed and written to
tests/bench/RESULTS-sms.md (SMS_BENCH_OUT); raw values to .run-sms/results.json
and every log stays in tests/bench/.run-sms/.
"""
import asyncio
import hashlib
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
import urllib.parse
import xml.parsers.expat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN = os.path.join(HERE, ".run-sms")
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    return int(v) if v else default


RUNS = env_int("SMS_BENCH_RUNS", 3)
MSGS = env_int("SMS_BENCH_MSGS", 10000)
CONC = env_int("SMS_BENCH_CONC", 128)
WINDOW = env_int("SMS_BENCH_WINDOW", 1000)
MO_SMSCS = env_int("SMS_BENCH_MO_SMSCS", 4)
WARM = env_int("SMS_BENCH_WARM", 2 * CONC)
LAT_MSGS = env_int("SMS_BENCH_LAT_MSGS", 200)
REGISTERED = env_int("SMS_BENCH_REGISTERED", 10000)
SENDERS = env_int("SMS_BENCH_SENDERS", 100)
TIMEOUT = float(env_int("SMS_BENCH_TIMEOUT", 120))
PIN = env_int("SMS_BENCH_PIN", 0) == 1
# The DLRs asked of Kannel, by the ceiling's clients and by Causeway alike:
# 27 (1+2+8+16) is Causeway's dlr_mask = auto with resend_unconfirmed_after
# on; 19 (1+2+16) is auto with resend_unconfirmed_after = 0 (one DLR fewer
# per MT for Kannel to make and Causeway to take).
DLR_MASK = env_int("SMS_BENCH_DLR_MASK", 27)
OUT = os.environ.get("SMS_BENCH_OUT", os.path.join(HERE, "RESULTS-sms.md"))
CAUSEWAY_BIN = os.path.abspath(os.environ.get("CAUSEWAY_BIN", os.path.join(ROOT, "causeway")))

DOMAIN = "sms.bench.local"
SECRET = "benchsecret"
TOKEN = "benchtoken0123456789"
KUSER, KPASS = "causeway", "sendsmspw"
NUM_BASE = 4930110000            # registered numbers +4930110000 .. +4930110000+REGISTERED-1
PHONE_BASE = 15550100000         # the phones users write to: +15550100000 + k
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, flush=True)


def die(msg):
    print("sms-bench: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def number(k):
    return "+%d" % (NUM_BASE + k)


def phone(k):
    return "+%d" % (PHONE_BASE + k)


def user_jid(k):
    return "u%d@bench.local" % k


# --------------------------------------------------------------------------
# /proc accounting
# --------------------------------------------------------------------------

def cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(samples, p):
    if not samples:
        return None
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

async def stop_proc(proc, timeout=10.0):
    if proc is None or proc.returncode is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
    except ProcessLookupError:
        pass


async def wait_for(pred, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout, what))
        await asyncio.sleep(interval)


def file_has(path, needle):
    try:
        with open(path, "rb") as f:
            return needle in f.read()
    except OSError:
        return False


def port_listening(port):
    """From /proc/net/tcp: a probe connection would be taken by bearerbox as a client."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


# --------------------------------------------------------------------------
# the HTTP sink (Kannel's MO get-url and DLR url in the ceiling phases)
# --------------------------------------------------------------------------

class Sink:
    """tests/bench/httpsink.c on port: a C HTTP/1.1 keep-alive server answering 200 to
    anything; it reports each /mo and /dlr request as a line, read here."""

    def __init__(self, bench, port):
        self.bench, self.port = bench, port

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            HTTPSINK, str(self.port), stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=1 << 20)
        line = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
        if line.strip() != b"READY":
            raise RuntimeError("httpsink did not start: %r" % line)
        self.reader = asyncio.ensure_future(self.read_loop())
        return self

    async def read_loop(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            self.bench.on_sink_line(line.rstrip(b"\n"))

    async def stop(self):
        self.proc.stdin.close()
        await stop_proc(self.proc)
        await self.reader


# --------------------------------------------------------------------------
# the component stream (the XMPP server Causeway connects to)
# --------------------------------------------------------------------------

class Component(asyncio.Protocol):
    bench = None

    def connection_made(self, transport):
        self.t = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream_id = "bench%016x" % int.from_bytes(os.urandom(8), "big")
        p = xml.parsers.expat.ParserCreate()
        p.buffer_text = True
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.text
        self.p = p
        self.depth = 0
        self.cur = None
        self.bench.comp = self

    def data_received(self, data):
        try:
            self.p.Parse(data, False)
        except xml.parsers.expat.ExpatError as e:
            log("component stream: XML error %s" % e)
            self.t.close()

    def connection_lost(self, exc):
        self.bench.comp_lost = True

    def send(self, s):
        self.t.write(s.encode())

    def start(self, name, attrs):
        self.depth += 1
        d = self.depth
        if d == 1:
            self.send("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                      "xmlns='jabber:component:accept' from='%s' id='%s'>" % (DOMAIN, self.stream_id))
        elif d == 2:
            self.cur = [name, attrs, [], []]      # name, attrs, child names, text
        elif d == 3:
            self.cur[2].append((name, attrs))

    def text(self, data):
        if self.depth == 3 and self.cur is not None:
            self.cur[3].append(data)
        elif self.depth == 2 and self.cur is not None and self.cur[0] == "handshake":
            self.cur[3].append(data)

    def end(self, name):
        d = self.depth
        self.depth -= 1
        if d != 2:
            return
        name, attrs, children, text = self.cur
        self.cur = None
        b = self.bench
        if name == "presence":
            b.presences += 1
            b.t_last_presence = time.monotonic()
        elif name == "message":
            b.on_xmpp_message(attrs, children, "".join(text))
        elif name == "iq":
            typ = attrs.get("type")
            if typ in ("get", "set"):
                q = lambda v: (v or "").replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")
                ping = any(c[0] == "ping" for c in children)
                if ping:
                    self.send("<iq type='result' id='%s' from='%s' to='%s'/>" % (
                        q(attrs.get("id")), q(attrs.get("to")), q(attrs.get("from"))))
                else:
                    self.send("<iq type='error' id='%s' from='%s' to='%s'><error type='cancel'>"
                              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                              "</error></iq>" % (q(attrs.get("id")), q(attrs.get("to")), q(attrs.get("from"))))
        elif name == "handshake":
            want = hashlib.sha1((self.stream_id + SECRET).encode()).hexdigest()
            if "".join(text).strip().lower() != want:
                log("component handshake: wrong digest")
                self.t.close()
                return
            self.send("<handshake/>")
            b.handshake = True


# --------------------------------------------------------------------------
# fakesmsc
# --------------------------------------------------------------------------

GOT_RE = re.compile(rb"Got message \d+: <(.*)>$")
SENT_RE = re.compile(rb"fakesmsc: sent message (\d+)$")
BODY_RE = re.compile(r"(MT|MO) (\d+) (\d+)")
SINK_MO_RE = re.compile(rb"MO_(\d+)_(\d+)")
HTTPSINK = os.path.abspath(os.environ.get("SMS_BENCH_SINK", os.path.join(ROOT, "build", "bench", "httpsink")))


class FakeSmsc:
    """fakesmsc on one of bearerbox's fake SMSC ports. mt=True: only
    receives (non-interactive, -m 0: it never sends and blocks on the
    bearerbox socket, printing every MT at once); mt=False: interactive, one
    MO per stdin line."""

    def __init__(self, bench, port, mt, log_path):
        self.bench, self.port, self.mt, self.log_path = bench, port, mt, log_path
        self.proc = None
        self.sent = 0
        self.sent_event = asyncio.Event()

    async def start(self):
        argv = [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.port), "-v", "0"]
        if self.mt:
            argv += ["-m", "0", "1 2 text unused"]
        else:
            argv += ["-i", "0"]
        self.proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            limit=1 << 20)
        self.reader = asyncio.ensure_future(self.read_loop())

    async def read_loop(self):
        logf = open(self.log_path, "ab")
        try:
            while True:
                line = await self.proc.stderr.readline()
                if not line:
                    break
                line = line.rstrip(b"\n")
                if self.mt:
                    m = GOT_RE.search(line)
                    if m:
                        self.bench.on_mt(m.group(1))
                        continue
                else:
                    m = SENT_RE.search(line)
                    if m:
                        self.sent = int(m.group(1))
                        self.sent_event.set()
                        continue
                logf.write(line + b"\n")
        finally:
            logf.close()

    async def send_mo(self, line):
        """One MO line; returns once fakesmsc has written it to bearerbox."""
        want = self.sent + 1
        self.sent_event.clear()
        self.proc.stdin.write(line.encode() + b"\n")
        while self.sent < want:
            await asyncio.wait_for(self.sent_event.wait(), TIMEOUT)
            self.sent_event.clear()

    async def stop(self):
        if self.proc:
            try:
                self.proc.stdin.close()
            except Exception:
                pass
            await stop_proc(self.proc)
            await self.reader


# --------------------------------------------------------------------------
# Kannel
# --------------------------------------------------------------------------

KANNEL_CONF = """# Kannel 1.4.5 for tests/bench/sms-bench.py (generated)
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = benchadmin
admin-allow-ip = "127.0.0.1"
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{dir}/bearerbox.log"
log-level = 1
store-type = file
store-location = "{dir}/bearerbox.store"
dlr-storage = internal
sms-resend-freq = 1

# MTs (no smsc-id) go here only: fakesmsc -m 0 prints each one
group = smsc
smsc = fake
smsc-id = fakemt
port = {mt_port}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

{mo_groups}
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{dir}/smsbox.log"
log-level = 2
mo-recode = false

group = sendsms-user
username = {user}
password = {password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
omit-empty = true
get-url = "{mo_url}&sender=%p&receiver=%P&text=%b&coding=%c&charset=%C&id=%I&ts=%T&smsc=%i&udh=%u&dcs=%O"
"""


class Kannel:
    def __init__(self, bench, run_dir, cb_port):
        self.bench, self.dir = bench, run_dir
        os.makedirs(run_dir, exist_ok=True)
        self.admin, self.smsbox_port, self.sendsms, self.mt_port = free_ports(4)
        self.mo_ports = free_ports(MO_SMSCS)
        mo_groups = "".join(
            "# MOs come in here (interactive fakesmsc); it takes no MT without its smsc-id\n"
            "group = smsc\nsmsc = fake\nsmsc-id = fakemo%d\nallowed-smsc-id = fakemo%d\nport = %d\n"
            "our-host = 127.0.0.1\nconnect-allow-ip = \"127.0.0.1\"\n\n" % (i, i, p)
            for i, p in enumerate(self.mo_ports))
        self.cfg = os.path.join(run_dir, "kannel.conf")
        with open(self.cfg, "w") as f:
            f.write(KANNEL_CONF.format(
                dir=run_dir, admin=self.admin, smsbox=self.smsbox_port, sendsms=self.sendsms,
                mt_port=self.mt_port, mo_groups=mo_groups, user=KUSER, password=KPASS,
                mo_url="http://127.0.0.1:%d/mo?token=%s" % (cb_port, TOKEN)))
        open(os.path.join(run_dir, "bearerbox.store"), "wb").close()
        self.bearerbox = self.smsbox_proc = self.fmt = None
        self.fmo = []

    async def start(self):
        bb_log = os.path.join(self.dir, "bearerbox.log")
        self.bearerbox = await asyncio.create_subprocess_exec(
            "bearerbox", "-v", "4", self.cfg, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, "bearerbox.out"), "wb"))
        await wait_for(lambda: all(port_listening(p) for p in [self.smsbox_port, self.mt_port] + self.mo_ports),
                       TIMEOUT, "bearerbox's ports")
        self.smsbox_proc = await asyncio.create_subprocess_exec(
            "smsbox", "-v", "4", self.cfg, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, "smsbox.out"), "wb"))
        await wait_for(lambda: port_listening(self.sendsms), TIMEOUT, "smsbox's sendsms port")
        self.fmt = FakeSmsc(self.bench, self.mt_port, True, os.path.join(self.dir, "fakesmsc-mt.log"))
        await self.fmt.start()
        await wait_for(lambda: open(bb_log, "rb").read().count(b"Fakesmsc client connected") >= 1,
                       TIMEOUT, "the MT fakesmsc to connect")
        for i, port in enumerate(self.mo_ports):
            f = FakeSmsc(self.bench, port, False, os.path.join(self.dir, "fakesmsc-mo%d.log" % i))
            await f.start()
            self.fmo.append(f)
            await wait_for(lambda: open(bb_log, "rb").read().count(b"Fakesmsc client connected") >= 2 + i,
                           TIMEOUT, "MO fakesmsc %d to connect" % i)
        # smsbox connects to bearerbox shortly after it listens on sendsms
        await asyncio.sleep(1.0)

    def pids(self):
        return [p.pid for p in [self.bearerbox, self.smsbox_proc, self.fmt and self.fmt.proc]
                + [f.proc for f in self.fmo] if p is not None]

    def cpu(self):
        return sum(cpu_s(p) for p in self.pids())

    async def stop(self):
        for f in self.fmo + [self.fmt]:
            if f:
                await f.stop()
        await stop_proc(self.smsbox_proc)
        await stop_proc(self.bearerbox)


# --------------------------------------------------------------------------
# Causeway
# --------------------------------------------------------------------------

def causeway_conf(path, xmpp_port, data_dir, kannel, cb_port):
    text = ("[xmpp]\nhost = 127.0.0.1\nport = %d\n\n"
            "[gateway]\ndata_dir = %s\nallowed_domains = bench.local\n\n"
            "[transport:sms]\ntype = sms\ndomain = %s\nsecret = %s\n"
            "kannel_url = http://127.0.0.1:%d/cgi-bin/sendsms\nkannel_username = %s\nkannel_password = %s\n"
            "callback_listen = 127.0.0.1:%d\ncallback_token = %s\n"
            "numbers = %s-%s\ndefault_country = DE\nmax_in_flight = %d\ndlr_mask = %d\n%s"
            % (xmpp_port, data_dir, DOMAIN, SECRET, kannel.sendsms, KUSER, KPASS, cb_port, TOKEN,
               number(0), number(max(REGISTERED, 1) - 1), CONC, DLR_MASK,
               "" if DLR_MASK & 8 else "resend_unconfirmed_after = 0\n"))
    with open(path, "w") as f:
        f.write(text)


def fill_stores(data_dir):
    """REGISTERED users u1..uN, user k with an active claim of number(k-1)."""
    now = int(time.time())
    con = sqlite3.connect(os.path.join(data_dir, "sms.db"))
    with con:
        con.executemany("INSERT OR IGNORE INTO users (jid, registered) VALUES (?, ?)",
                        [(user_jid(k), now) for k in range(1, REGISTERED + 1)])
    con.close()
    con = sqlite3.connect(os.path.join(data_dir, "sms-sms.db"))
    with con:
        con.executemany("INSERT OR IGNORE INTO claims (number, jid, state, since) VALUES (?, ?, 2, ?)",
                        [(number(k - 1), user_jid(k), now * 1000000) for k in range(1, REGISTERED + 1)])
    con.close()


# --------------------------------------------------------------------------
# the bench
# --------------------------------------------------------------------------

class Bench:
    def __init__(self):
        self.reset()
        self.comp = None
        self.comp_lost = False
        self.handshake = False
        self.presences = 0
        self.t_last_presence = 0
        self.tag = -1
        self.sink = None

    def driver_cpu(self):
        """This script's CPU and the sink's."""
        return self_cpu() + (cpu_s(self.sink.proc.pid) if self.sink else 0.0)

    def reset(self):
        self.t_sent = {}          # seq -> monotonic send time
        self.lat = []
        self.arrived = 0
        self.t_first = self.t_last = None
        self.max_gap = 0.0        # the longest pause between two arrivals
        self.dlr = {1: 0, 8: 0}
        self.receipts = 0
        self.other_mo = 0
        self.waiter = None
        self.t_done = None        # the last DLR 1 at the sink / receipt at a user

    # ---- arrivals ----
    def arrival(self, seq, t=None):
        if t is None:
            t = time.monotonic()
        t0 = self.t_sent.pop(seq, None)
        if t0 is None:
            return
        self.lat.append(t - t0)
        self.arrived += 1
        if self.t_last is not None and t - self.t_last > self.max_gap:
            self.max_gap = t - self.t_last
        self.t_last = t
        if self.waiter and self.arrived >= self.waiter[0] and not self.waiter[1].done():
            self.waiter[1].set_result(None)

    async def until_arrived(self, k, what):
        """Until k messages of this phase arrived (no polling: the driver's CPU is measured)."""
        if self.arrived >= k:
            return
        fut = asyncio.get_running_loop().create_future()
        self.waiter = (k, fut)
        try:
            await asyncio.wait_for(fut, TIMEOUT)
        except asyncio.TimeoutError:
            raise TimeoutError("timed out after %.0f s waiting for %s (%d of %d arrived)"
                               % (TIMEOUT, what, self.arrived, k))
        finally:
            self.waiter = None

    def on_mt(self, payload):
        m = BODY_RE.search(payload.decode("utf-8", "replace"))
        if m and m.group(1) == "MT" and int(m.group(3)) == self.tag:
            self.arrival(int(m.group(2)))

    def on_sink_line(self, line):
        """A line of httpsink: 'M <text> <ns>' or 'D <type> <ns>'."""
        kind, _, rest = line.partition(b" ")
        value, _, ns = rest.rpartition(b" ")
        t = int(ns) / 1e9
        if kind == b"D":
            typ = int(value or b"0")
            self.dlr[typ] = self.dlr.get(typ, 0) + 1
            if typ == 1:
                self.t_done = t
        elif kind == b"M":
            m = SINK_MO_RE.fullmatch(value)
            if m and int(m.group(2)) == self.tag:
                self.arrival(int(m.group(1)), t)
            else:
                self.other_mo += 1

    def on_xmpp_message(self, attrs, children, body):
        for name, a in children:
            if name == "received" and a.get("xmlns") == "urn:xmpp:receipts":
                self.receipts += 1
                self.t_done = time.monotonic()
        if body:
            m = BODY_RE.fullmatch(body)
            if m and m.group(1) == "MO" and int(m.group(3)) == self.tag:
                self.arrival(int(m.group(2)))

    # ---- load: straight to Kannel ----
    async def sendsms_client(self, kannel, cb_port, queue, after=None):
        r, w = await asyncio.open_connection("127.0.0.1", kannel.sendsms)
        dlr_url = urllib.parse.quote("http://127.0.0.1:%d/dlr?token=%s&type=%%d" % (cb_port, TOKEN), safe="")
        try:
            while queue:
                seq, k = queue.pop()
                text = "MT %d %d" % (seq, self.tag)
                path = ("/cgi-bin/sendsms?username=%s&password=%s&from=%s&to=%s&text=%s&coding=0"
                        "&dlr-mask=%d&dlr-url=%s" % (KUSER, KPASS, urllib.parse.quote(number(k)),
                                                     urllib.parse.quote(phone(k)), urllib.parse.quote(text),
                                                     DLR_MASK, dlr_url))
                self.t_sent[seq] = time.monotonic()
                if self.t_first is None:
                    self.t_first = self.t_sent[seq]
                w.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
                head = await r.readuntil(b"\r\n\r\n")
                m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if m:
                    await r.readexactly(int(m.group(1)))
                if not head.startswith(b"HTTP/1.1 202") and not head.startswith(b"HTTP/1.0 202"):
                    raise RuntimeError("sendsms answered %r" % head[:100])
                if b"connection: close" in head.lower():
                    raise RuntimeError("sendsms closed the keep-alive connection")
                if after:
                    await after(seq)
        finally:
            w.close()

    async def kannel_mt(self, kannel, cb_port, n, conc):
        queue = [(seq, seq % SENDERS) for seq in range(n - 1, -1, -1)]
        await asyncio.gather(*[self.sendsms_client(kannel, cb_port, queue) for _ in range(conc)])

    # ---- load: MOs through fakesmsc ----
    async def inject_mo(self, kannel, n, one_at_a_time):
        """n MOs; through MO_SMSCS fakesmscs at once (each one line at a time), or one
        message in flight in all."""
        async def feed(f, seqs):
            for seq in seqs:
                k = seq % SENDERS
                self.t_sent[seq] = time.monotonic()
                if self.t_first is None:
                    self.t_first = self.t_sent[seq]
                await f.send_mo("%s %s text MO %d %d" % (phone(k), number(k), seq, self.tag))
                if one_at_a_time:
                    await self.until_arrived(seq + 1, "MO %d" % seq)
        if one_at_a_time:
            await feed(kannel.fmo[0], range(n))
        else:
            m = len(kannel.fmo)
            await asyncio.gather(*[feed(f, range(i, n, m)) for i, f in enumerate(kannel.fmo)])

    # ---- load: XMPP users -> Causeway ----
    async def xmpp_mt(self, n, window):
        comp = self.comp
        for seq in range(n):
            if seq - self.arrived >= window:
                await self.until_arrived(seq - window + 1, "MTs at fakesmsc")
                if self.comp_lost:
                    raise RuntimeError("Causeway dropped the component stream")
            k = seq % SENDERS
            self.t_sent[seq] = time.monotonic()
            if self.t_first is None:
                self.t_first = self.t_sent[seq]
            comp.send("<message from='%s/r' to='%s@%s' type='chat' id='m%d'><body>MT %d %d</body>"
                      "<request xmlns='urn:xmpp:receipts'/></message>"
                      % (user_jid(k + 1), phone(k), DOMAIN, seq, seq, self.tag))

    # ---- a measured phase ----
    async def phase(self, name, load, n, done, pids_cw=(), kannel=None):
        self.reset()
        self.tag = int(time.time() * 1000) % 1000000007
        await asyncio.sleep(0)
        cw0 = sum(cpu_s(p) for p in pids_cw)
        k0 = kannel.cpu() if kannel else 0
        d0 = self.driver_cpu()
        w0 = time.monotonic()
        await load()
        await self.until_arrived(n, "%s: %d messages to arrive" % (name, n))
        await wait_for(done, TIMEOUT, "%s: the phase to drain" % name)
        wall = time.monotonic() - w0
        res = {
            "n": n, "rate": (n - 1) / (self.t_last - self.t_first) if n > 1 else None,
            "done_rate": n / ((self.t_done or self.t_last) - self.t_first),
            "p50_ms": pct(self.lat, 50) * 1e3, "p99_ms": pct(self.lat, 99) * 1e3,
            "wall_s": wall, "driver_cpu_s": self.driver_cpu() - d0, "max_gap_ms": self.max_gap * 1e3,
            "kannel_cpu_s": (kannel.cpu() - k0) if kannel else None,
        }
        if pids_cw:
            res["cw_cpu_s"] = sum(cpu_s(p) for p in pids_cw) - cw0
        log("  %-22s %7.0f msg/s (%5.0f done)  p50 %7.1f ms  p99 %7.1f ms  gap %6.1f ms  wall %5.1f s  driver CPU %.1f s  Kannel CPU %.1f s%s"
            % (name, res["rate"] or 0, res["done_rate"], res["p50_ms"], res["p99_ms"], res["max_gap_ms"], wall,
               res["driver_cpu_s"],
               res["kannel_cpu_s"] or 0,
               ("  Causeway CPU %.2f s" % res["cw_cpu_s"]) if pids_cw else ""))
        return res

    # ---- one run ----
    async def run_kannel(self, run, cb_port):
        d = os.path.join(RUN, "run%d-kannel" % run)
        shutil.rmtree(d, ignore_errors=True)
        sink = self.sink = await Sink(self, cb_port).start()
        kannel = Kannel(self, d, cb_port)
        out = {}
        try:
            await kannel.start()
            out["mt_warm"] = await self.phase(
                "Kannel MT warm-up", lambda: self.kannel_mt(kannel, cb_port, WARM, CONC), WARM,
                lambda: self.dlr[1] >= WARM, kannel=kannel)
            out["mt"] = await self.phase(
                "Kannel MT", lambda: self.kannel_mt(kannel, cb_port, MSGS, CONC), MSGS,
                lambda: self.dlr[1] >= MSGS, kannel=kannel)
            out["mt_lat"] = await self.phase(
                "Kannel MT unloaded", lambda: self.kannel_mt_one(kannel, cb_port, LAT_MSGS), LAT_MSGS,
                lambda: self.dlr[1] >= LAT_MSGS, kannel=kannel)
            out["mo"] = await self.phase(
                "Kannel MO", lambda: self.inject_mo(kannel, MSGS, False), MSGS, lambda: True, kannel=kannel)
            out["mo_lat"] = await self.phase(
                "Kannel MO unloaded", lambda: self.inject_mo(kannel, LAT_MSGS, True), LAT_MSGS,
                lambda: True, kannel=kannel)
        finally:
            await kannel.stop()
            await sink.stop()
            self.sink = None
        return out

    async def kannel_mt_one(self, kannel, cb_port, n):
        async def arrived(seq):
            await self.until_arrived(seq + 1, "MT %d" % seq)
        queue = [(seq, seq % SENDERS) for seq in range(n - 1, -1, -1)]
        await self.sendsms_client(kannel, cb_port, queue, arrived)

    async def run_causeway(self, run, cb_port, template):
        d = os.path.join(RUN, "run%d-causeway" % run)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        data = os.path.join(d, "data")
        shutil.copytree(template, data)
        kannel = Kannel(self, os.path.join(d, "kannel"), cb_port)
        out = {}
        cw = None
        server = None
        try:
            await kannel.start()
            cw, server = await self.start_causeway(d, data, kannel, cb_port)
            out["rss_idle_kb"] = rss_kb(cw.pid)
            out["startup_presences"] = self.presences
            pids = (cw.pid,)
            out["mt_warm"] = await self.phase(
                "Causeway MT warm-up", lambda: self.xmpp_mt(WARM, WINDOW), WARM,
                lambda: self.receipts >= WARM, pids_cw=pids, kannel=kannel)
            out["mt"] = await self.phase(
                "Causeway MT", lambda: self.xmpp_mt(MSGS, WINDOW), MSGS,
                lambda: self.receipts >= MSGS, pids_cw=pids, kannel=kannel)
            out["mt_lat"] = await self.phase(
                "Causeway MT unloaded", lambda: self.xmpp_mt_one(LAT_MSGS), LAT_MSGS,
                lambda: self.receipts >= LAT_MSGS, pids_cw=pids, kannel=kannel)
            out["mo"] = await self.phase(
                "Causeway MO", lambda: self.inject_mo(kannel, MSGS, False), MSGS, lambda: True,
                pids_cw=pids, kannel=kannel)
            out["mo_lat"] = await self.phase(
                "Causeway MO unloaded", lambda: self.inject_mo(kannel, LAT_MSGS, True), LAT_MSGS,
                lambda: True, pids_cw=pids, kannel=kannel)
            out["rss_after_kb"] = rss_kb(cw.pid)
            if cw.returncode is not None:
                raise RuntimeError("Causeway exited with %s" % cw.returncode)
        finally:
            if cw is not None:
                await stop_proc(cw)
            if server is not None:
                server.close()
            await kannel.stop()
        return out

    async def xmpp_mt_one(self, n):
        for seq in range(n):
            await self.xmpp_mt_seq(seq)

    async def xmpp_mt_seq(self, seq):
        base = self.arrived
        k = seq % SENDERS
        self.t_sent[seq] = time.monotonic()
        if self.t_first is None:
            self.t_first = self.t_sent[seq]
        self.comp.send("<message from='%s/r' to='%s@%s' type='chat' id='m%d'><body>MT %d %d</body>"
                       "<request xmlns='urn:xmpp:receipts'/></message>"
                       % (user_jid(k + 1), phone(k), DOMAIN, seq, seq, self.tag))
        await self.until_arrived(base + 1, "MT %d" % seq)

    async def start_causeway(self, d, data, kannel, cb_port):
        self.comp, self.comp_lost, self.handshake, self.presences = None, False, False, 0
        server = await asyncio.get_running_loop().create_server(Component, "127.0.0.1", 0)
        xport = server.sockets[0].getsockname()[1]
        conf = os.path.join(d, "causeway.conf")
        causeway_conf(conf, xport, data, kannel, cb_port)
        logp = os.path.join(d, "causeway.log")
        argv = [CAUSEWAY_BIN, "-c", conf, "--transport", "sms"]
        if PIN:  # every thread of Causeway on CPU 1 (the driver and Kannel are on CPU 0)
            argv = ["taskset", "-c", "1"] + argv
        cw = await asyncio.create_subprocess_exec(*argv, stdout=open(logp, "wb"), stderr=subprocess.STDOUT)
        await wait_for(lambda: self.handshake or cw.returncode is not None, TIMEOUT, "the component handshake")
        await wait_for(lambda: file_has(logp, b"component %s ready" % DOMAIN.encode()) or cw.returncode is not None,
                       TIMEOUT, "Causeway's ready line")
        if cw.returncode is not None:
            raise RuntimeError("Causeway exited with %s:\n%s" % (cw.returncode, open(logp).read()[-3000:]))
        await wait_for(lambda: port_listening(cb_port), TIMEOUT, "Causeway's callback listener")
        # the start-up presences (a probe per registered user), then 2 s of quiet
        await wait_for(lambda: self.presences >= REGISTERED and time.monotonic() - self.t_last_presence > 2,
                       TIMEOUT, "the start-up presences (%d of %d)" % (self.presences, REGISTERED))
        return cw, server


async def prepare_template(bench, cb_port):
    """Causeway started once creates its stores; the users and claims are written into them."""
    d = os.path.join(RUN, "template")
    shutil.rmtree(d, ignore_errors=True)
    data = os.path.join(d, "data")
    os.makedirs(data)
    kannel = Kannel(bench, os.path.join(d, "kannel"), cb_port)   # only its sendsms port is written
    server = await asyncio.get_running_loop().create_server(Component, "127.0.0.1", 0)
    conf = os.path.join(d, "causeway.conf")
    causeway_conf(conf, server.sockets[0].getsockname()[1], data, kannel, cb_port)
    logp = os.path.join(d, "causeway.log")
    bench.handshake = False
    cw = await asyncio.create_subprocess_exec(
        CAUSEWAY_BIN, "-c", conf, "--transport", "sms", stdout=open(logp, "wb"), stderr=subprocess.STDOUT)
    try:
        await wait_for(lambda: file_has(logp, b"component %s ready" % DOMAIN.encode()) or cw.returncode is not None,
                       TIMEOUT, "Causeway's first start")
    finally:
        await stop_proc(cw)
        server.close()
    for db in ("sms.db", "sms-sms.db"):
        if not os.path.exists(os.path.join(data, db)):
            die("Causeway made no %s:\n%s" % (db, open(logp).read()[-3000:]))
    fill_stores(data)
    return data


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fig(vals, f="%.0f"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    m = statistics.median(vals)
    if len(vals) == 1:
        return f % m
    return (f + " [" + f + "-" + f + "]") % (m, min(vals), max(vals))


def render(runs, started, elapsed):
    K = [r["kannel"] for r in runs]
    C = [r["causeway"] for r in runs]

    def g(side, ph, key, scale=1.0):
        return [s[ph][key] * scale if s[ph].get(key) is not None else None for s in side]

    def ratios(ph, key="rate"):
        return [c[ph][key] / k[ph][key] for k, c in zip(K, C)]

    def per10k(side, ph, key):
        return [s[ph][key] / s[ph]["n"] * 10000 for s in side]

    lines = []
    a = lines.append
    a("### SMS: Causeway's sms transport against Kannel's own ceiling")
    a("")
    a("%s, %d cores, %s; Kannel 1.4.5 (bearerbox + smsbox, fakesmsc as the SMSC); %s UTC, %.0f s."
      % (platform.node() or "host", os.cpu_count() or 0, platform.platform(terse=True), started, elapsed))
    a("`make bench-sms` (SMS_BENCH_RUNS=%d SMS_BENCH_MSGS=%d SMS_BENCH_CONC=%d SMS_BENCH_WINDOW=%d "
      "SMS_BENCH_LAT_MSGS=%d SMS_BENCH_REGISTERED=%d SMS_BENCH_SENDERS=%d): median of %d runs "
      "[min-max]." % (RUNS, MSGS, CONC, WINDOW, LAT_MSGS, REGISTERED, SENDERS, len(runs)))
    a("")
    a("| | MT (XMPP → SMS) | MO (SMS → XMPP) |")
    a("|---|---|---|")
    a("| Kannel ceiling, msg/s | %s | %s |" % (fig(g(K, "mt", "rate")), fig(g(K, "mo", "rate"))))
    a("| Causeway, msg/s | %s | %s |" % (fig(g(C, "mt", "rate")), fig(g(C, "mo", "rate"))))
    a("| **Causeway / Kannel** (target ≥ 0.90) | **%s** | **%s** |"
      % (fig(ratios("mt"), "%.2f"), fig(ratios("mo"), "%.2f")))
    a("| Kannel ceiling, completed msg/s (MT: DLR 1 in) | %s | %s |"
      % (fig(g(K, "mt", "done_rate")), fig(g(K, "mo", "done_rate"))))
    a("| Causeway, completed msg/s (MT: receipt in) | %s | %s |"
      % (fig(g(C, "mt", "done_rate")), fig(g(C, "mo", "done_rate"))))
    a("| **Causeway / Kannel, completed** | **%s** | **%s** |"
      % (fig(ratios("mt", "done_rate"), "%.2f"), fig(ratios("mo", "done_rate"), "%.2f")))
    a("| Kannel latency p50 / p99, ms, unloaded | %s / %s | %s / %s |" % (
        fig(g(K, "mt_lat", "p50_ms"), "%.1f"), fig(g(K, "mt_lat", "p99_ms"), "%.1f"),
        fig(g(K, "mo_lat", "p50_ms"), "%.1f"), fig(g(K, "mo_lat", "p99_ms"), "%.1f")))
    a("| Causeway latency p50 / p99, ms, unloaded | %s / %s | %s / %s |" % (
        fig(g(C, "mt_lat", "p50_ms"), "%.1f"), fig(g(C, "mt_lat", "p99_ms"), "%.1f"),
        fig(g(C, "mo_lat", "p50_ms"), "%.1f"), fig(g(C, "mo_lat", "p99_ms"), "%.1f")))
    a("| Kannel latency p50 / p99, ms, at the ceiling | %s / %s | %s / %s |" % (
        fig(g(K, "mt", "p50_ms"), "%.1f"), fig(g(K, "mt", "p99_ms"), "%.1f"),
        fig(g(K, "mo", "p50_ms"), "%.1f"), fig(g(K, "mo", "p99_ms"), "%.1f")))
    a("| Causeway latency p50 / p99, ms, at its rate | %s / %s | %s / %s |" % (
        fig(g(C, "mt", "p50_ms"), "%.1f"), fig(g(C, "mt", "p99_ms"), "%.1f"),
        fig(g(C, "mo", "p50_ms"), "%.1f"), fig(g(C, "mo", "p99_ms"), "%.1f")))
    a("| longest pause between two arrivals, ms: Kannel / Causeway, warm-up burst | %s / %s | |" % (
        fig(g(K, "mt_warm", "max_gap_ms"), "%.0f"), fig(g(C, "mt_warm", "max_gap_ms"), "%.0f")))
    a("| longest pause between two arrivals, ms: Kannel / Causeway, measured phase | %s / %s | %s / %s |" % (
        fig(g(K, "mt", "max_gap_ms"), "%.0f"), fig(g(C, "mt", "max_gap_ms"), "%.0f"),
        fig(g(K, "mo", "max_gap_ms"), "%.0f"), fig(g(C, "mo", "max_gap_ms"), "%.0f")))
    a("| Causeway CPU-s per 10,000 messages | %s | %s |" % (
        fig(per10k(C, "mt", "cw_cpu_s"), "%.2f"), fig(per10k(C, "mo", "cw_cpu_s"), "%.2f")))
    a("| Kannel CPU-s per 10,000 (ceiling / under Causeway) | %s / %s | %s / %s |" % (
        fig(per10k(K, "mt", "kannel_cpu_s"), "%.2f"), fig(per10k(C, "mt", "kannel_cpu_s"), "%.2f"),
        fig(per10k(K, "mo", "kannel_cpu_s"), "%.2f"), fig(per10k(C, "mo", "kannel_cpu_s"), "%.2f")))
    a("| driver CPU-s per 10,000 (ceiling / Causeway) | %s / %s | %s / %s |" % (
        fig(per10k(K, "mt", "driver_cpu_s"), "%.2f"), fig(per10k(C, "mt", "driver_cpu_s"), "%.2f"),
        fig(per10k(K, "mo", "driver_cpu_s"), "%.2f"), fig(per10k(C, "mo", "driver_cpu_s"), "%.2f")))
    a("")
    a("Causeway RSS idle with %d registered numbers: %s KiB (after the load: %s KiB)."
      % (REGISTERED, fig([c["rss_idle_kb"] for c in C]), fig([c["rss_after_kb"] for c in C])))
    a("")
    a("Load averages (1 min) before each run: %s." % ", ".join("%.2f" % r["load"] for r in runs))
    a("")
    a("MT: %d keep-alive sendsms clients (ceiling) or Causeway with max_in_flight = %d, each MT with"
      " dlr-mask=%d (Causeway's dlr_mask) and its DLRs taken by a C sink (ceiling) or by Causeway; msg/s counts"
      " MTs as they leave Kannel (fakesmsc prints them), completed msg/s runs to the last DLR 1 (ceiling)"
      " or receipt at the user (Causeway): Kannel delivers DLRs after the MTs when loaded, so the"
      " completed rate is what it sustains. Causeway's outbox is SQLite in WAL mode with"
      " group commits (one per main-loop turn), the WAL fdatasync'd in a worker thread before a part is"
      " submitted or a report sent. MO: %d fakesmscs, each fed one line"
      " at a time (fakesmsc reads one stdin line per wake-up), into Kannel's get-url at the sink or"
      " Causeway's listener; counted at the sink or as the <message> to the user. Unloaded: one"
      " message in flight. %s"
      % (CONC, CONC, DLR_MASK, MO_SMSCS,
         "Pinned (SMS_BENCH_PIN=1): the driver, the sink and Kannel on CPU 0, Causeway on CPU 1."
         if PIN else "Everything on one %d-core host: Kannel, Causeway and the driver share it."
         % (os.cpu_count() or 0)))
    return "\n".join(lines) + "\n"


async def main():
    for tool in ("bearerbox", "smsbox"):
        if not shutil.which(tool):
            die("%s is not installed (Debian packages kannel, kannel-extras)" % tool)
    if not os.access(FAKESMSC, os.X_OK):
        die("%s is missing (Debian package kannel-extras)" % FAKESMSC)
    if not os.access(CAUSEWAY_BIN, os.X_OK):
        die("%s is missing: run make" % CAUSEWAY_BIN)
    os.makedirs(RUN, exist_ok=True)
    if not os.access(HTTPSINK, os.X_OK):
        die("%s is missing: make bench-sms builds it" % HTTPSINK)
    if PIN:
        if (os.cpu_count() or 0) < 2 or not shutil.which("taskset"):
            die("SMS_BENCH_PIN=1 needs 2 CPUs and taskset (util-linux)")
        os.sched_setaffinity(0, {0})  # inherited by the sink and Kannel's boxes
    Component.bench = bench = Bench()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t0 = time.monotonic()
    (cb_port,) = free_ports(1)
    log("sms-bench: preparing Causeway's stores with %d registered numbers" % REGISTERED)
    template = await prepare_template(bench, cb_port)
    runs = []
    for run in range(1, RUNS + 1):
        load = os.getloadavg()[0]
        log("run %d/%d (load average %.2f)" % (run, RUNS, load))
        k = await bench.run_kannel(run, cb_port)
        c = await bench.run_causeway(run, cb_port, template)
        log("  Causeway RSS idle %d KiB with %d registered numbers" % (c["rss_idle_kb"], REGISTERED))
        runs.append({"kannel": k, "causeway": c, "load": load})
        with open(os.path.join(RUN, "results.json"), "w") as f:
            json.dump(runs, f, indent=1)
    md = render(runs, started, time.monotonic() - t0)
    with open(OUT, "w") as f:
        f.write(md)
    log("")
    log(md)


if __name__ == "__main__":
    asyncio.run(main())
