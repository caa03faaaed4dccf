#!/usr/bin/python3
"""Purple benchmark: Causeway's purple transport (prpl-jabber) side by side with
BitlBee (bitlbee-libpurple, Daemon mode: one process for all users) and
libpurple's own floor (tests/bench/purple-floor.c), on the same legacy Prosody.

    make bench-purple                                  (builds what it needs, runs this)
    PURPLE_BENCH_RUNS=1 PURPLE_BENCH_MSGS=500 make bench-purple     (a quick look)

Printed figures, not a timed test (not part of make check). Everything runs on
127.0.0.1 in tests/bench/.run-purple/:

  legacy network   one Prosody 0.12 (VirtualHost legacy.test, c2s without TLS,
                   internal_plain auth) with accounts l0..l{N-1} and "buddy",
                   written straight into Prosody's internal storage (accounts
                   and rosters: every l_k and buddy are contacts, subscription
                   both), so buddy sees each l_k come online.
  buddy            this script's own XMPP client on legacy.test (raw asyncio,
                   SASL PLAIN): it counts the l_k that are online (the login
                   storm's clock stops when all N are) and sends/receives the
                   legacy side of the messages.
  Causeway         ./causeway -c CONF --transport purple, type = purple,
                   protocol = prpl-jabber; its XMPP server is this script (a
                   XEP-0114 server playing users u0..u{N-1}@bench.local: no
                   Prosody between the driver and the gateway). Each user
                   registers l_k through XEP-0077 (connect_server 127.0.0.1,
                   opportunistic_tls, plaintext auth allowed) and logs in with
                   a directed presence to the gateway.
  BitlBee          bitlbee -F -n (ForkDaemon mode), driven by N IRC clients of
                   this script: each adds "account add jabber l_k@legacy.test PW",
                   sets connect_server/port/connection_security/
                   auth_plain_in_clear, and logs in with "account on".
                   Not Daemon mode (-D, one process for all): BitlBee 3.6's
                   libpurple module refuses it ("Daemon mode detected. Do *not*
                   try to use libpurple in daemon mode! Please use inetd or
                   ForkDaemon mode instead.", and it serves one IRC user per
                   process: purple.c keeps one local_bee). So BitlBee's memory
                   is its master plus N children, summed (RSS and PSS).
  floor            purple-floor: libpurple alone, initialised the same way
                   (GStreamer paths empty), logging in the same accounts.

What is measured, per run and side (a fresh gateway process for each part):

  RSS, PSS         VmRSS and Pss (smaps_rollup) of the gateway (Causeway's
                   purple transport process; BitlBee's master + its children;
                   purple-floor) after init (Causeway: component connected,
                   idle; BitlBee: listening, no client yet), with the users
                   set up (registered / IRC clients connected and accounts
                   added), and once quiet (under 2 % CPU for 2 s) after N
                   accounts are signed on, for N = 1, 50, 200 (cumulative: 49
                   more, then 150 more). Per account: (figure(N) - init) / N,
                   so the set-up (BitlBee's forks) counts.
  login storm      a fresh process; all PURPLE_BENCH_N users' logins at once
                   (Causeway: N directed presences written in one go; BitlBee:
                   N "account on" at once, the IRC clients connected and the
                   accounts added before); the time from the first login to
                   buddy seeing the last of the N available.
  messages/s       on the storm's process with N accounts online:
                   PURPLE_BENCH_MSGS messages each way, spread round-robin
                   over the N accounts, at most PURPLE_BENCH_WINDOW in flight:
                   legacy->gateway (buddy sends to l_k; counted as a
                   <message> to u_k on the component stream / a PRIVMSG on
                   IRC client k) and gateway->legacy (u_k / IRC client k
                   sends to buddy; counted at buddy). Rate: messages / (last
                   arrival - first send); p50/p99 latency of arrival - send
                   under that load.
  CPU              utime+stime of the gateway process over each phase, and of
                   Prosody and of this driver, so a saturated side shows.

Settings (environment): PURPLE_BENCH_RUNS (3), PURPLE_BENCH_N (200),
PURPLE_BENCH_STAGES (1,50,200), PURPLE_BENCH_MSGS (5000), PURPLE_BENCH_WINDOW
(50), PURPLE_BENCH_TIMEOUT (120 s per wait), PURPLE_BENCH_SIDES (cw,bb,fl: any
of them for a quick look; the table needs all three), CAUSEWAY_BIN, PURPLE_FLOOR
(build/bench/purple-floor), PURPLE_BENCH_OUT (tests/bench/RESULTS-purple.md).
Medians of PURPLE_BENCH_RUNS runs with [min-max]. The Markdown is printed and
written to PURPLE_BENCH_OUT; raw values to .run-purple/results.json; every log
stays in tests/bench/.run-purple/.
"""
import asyncio
import base64
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import xml.parsers.expat
from xml.sax.saxutils import escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN = os.path.join(HERE, ".run-purple")


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    return int(v) if v else default


RUNS = env_int("PURPLE_BENCH_RUNS", 3)
N = env_int("PURPLE_BENCH_N", 200)
STAGES = [int(x) for x in os.environ.get("PURPLE_BENCH_STAGES", "1,50,200").split(",") if x.strip()]
MSGS = env_int("PURPLE_BENCH_MSGS", 5000)
WINDOW = env_int("PURPLE_BENCH_WINDOW", 50)
TIMEOUT = float(env_int("PURPLE_BENCH_TIMEOUT", 120))
OUT = os.environ.get("PURPLE_BENCH_OUT", os.path.join(HERE, "RESULTS-purple.md"))
CAUSEWAY_BIN = os.path.abspath(os.environ.get("CAUSEWAY_BIN", os.path.join(ROOT, "causeway")))
FLOOR_BIN = os.path.abspath(os.environ.get("PURPLE_FLOOR", os.path.join(ROOT, "build", "bench", "purple-floor")))
SIDES = [x.strip() for x in os.environ.get("PURPLE_BENCH_SIDES", "cw,bb,fl").split(",") if x.strip()]
NACC = max([N] + STAGES)

LEGACY = "legacy.test"
LPW = "legacypw"
USERDOM = "bench.local"
GW = "purple.bench.local"
SECRET = "benchsecret"
BUDDY = "buddy@" + LEGACY
BUDDY_ON_GW = "buddy\\40legacy.test@" + GW
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, flush=True)


def die(msg):
    print("purple-bench: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


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


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid):
    """pid and its children (BitlBee's ForkDaemon: one child per IRC client)."""
    out = [pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def mem(pid, children=False):
    """(RSS, PSS, processes) of pid (and its children), KiB. For Causeway the
    process alone: its children are libpurple's short-lived resolver forks
    (prpl-jabber's _stun._udp SRV lookup at each login, one fork each),
    counted in the third figure (processes in the tree) but not summed."""
    ps = tree(pid)
    if not children:
        return rss_kb(pid), pss_kb(pid), len(ps)
    return sum(rss_kb(p) for p in ps), sum(pss_kb(p) for p in ps), len(ps)


def tree_cpu(pid):
    return sum(cpu_s(p) for p in tree(pid))


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(samples, p):
    if not samples:
        return None
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


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


async def wait_for(pred, timeout, what, interval=0.01):
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


def lid(k):
    return "l%d" % k


def user(k):
    return "u%d@%s" % (k, USERDOM)


# --------------------------------------------------------------------------
# the legacy network: Prosody
# --------------------------------------------------------------------------

def prosody_enc(s):
    return "".join(c if c.isalnum() else "%%%02x" % ord(c) for c in s)


def lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class Prosody:
    def __init__(self, d):
        self.dir = d
        self.c2s = free_port()
        self.proc = None

    def write(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        host = os.path.join(self.dir, "data", prosody_enc(LEGACY))
        os.makedirs(os.path.join(host, "accounts"))
        os.makedirs(os.path.join(host, "roster"))
        os.makedirs(os.path.join(self.dir, "certificates"))
        names = [lid(k) for k in range(NACC)] + ["buddy"]
        for n in names:
            with open(os.path.join(host, "accounts", prosody_enc(n) + ".dat"), "w") as f:
                f.write("return {\n\t[\"password\"] = %s;\n};\n" % lua_str(LPW))
        both = lambda jid: "\t[%s] = { [\"subscription\"] = \"both\"; [\"groups\"] = {}; };\n" % lua_str(jid)
        with open(os.path.join(host, "roster", "buddy.dat"), "w") as f:
            f.write("return {\n\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n")
            for k in range(NACC):
                f.write(both("%s@%s" % (lid(k), LEGACY)))
            f.write("};\n")
        for k in range(NACC):
            with open(os.path.join(host, "roster", prosody_enc(lid(k)) + ".dat"), "w") as f:
                f.write("return {\n\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n")
                f.write(both(BUDDY))
                f.write("};\n")
        cfg = """
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}/certificates"
run_as_root = true
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ }}
component_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
allow_registration = false
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "posix"; }}
modules_disabled = {{ "s2s"; "offline"; "carbons"; "pep"; "vcard"; "vcard_legacy"; "private"; "blocklist"; "smacks"; "csi_simple"; "mam"; "bookmarks" }}
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{d}/prosody.log" }}; }}
VirtualHost "{host}"
""".format(d=self.dir, c2s=self.c2s, host=LEGACY)
        self.cfg = os.path.join(self.dir, "prosody.cfg.lua")
        with open(self.cfg, "w") as f:
            f.write(cfg)

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            "prosody", "--config", self.cfg, "-F", stdout=open(os.path.join(self.dir, "prosody.out"), "wb"),
            stderr=subprocess.STDOUT, start_new_session=True)

        async def up():
            try:
                r, w = await asyncio.open_connection("127.0.0.1", self.c2s)
                w.close()
                return True
            except OSError:
                return False
        deadline = time.monotonic() + TIMEOUT
        while not await up():
            if self.proc.returncode is not None or time.monotonic() > deadline:
                die("prosody did not start:\n" + open(os.path.join(self.dir, "prosody.out")).read()[-2000:])
            await asyncio.sleep(0.05)

    async def stop(self):
        await stop_proc(self.proc)


# --------------------------------------------------------------------------
# XML stream parsing (for the buddy client and the component server)
# --------------------------------------------------------------------------

class Stanzas:
    """Expat-fed: calls on_stanza(name, attrs, children, text) for each depth-2
    element; children are (name, attrs, text) of depth 3; on_open(attrs) for the
    stream header."""

    def __init__(self, on_open, on_stanza):
        self.on_open, self.on_stanza = on_open, on_stanza
        self.reset()

    def reset(self):
        p = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        p.buffer_text = True
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._text
        self.p, self.depth, self.cur = p, 0, None

    def feed(self, data):
        self.p.Parse(data, False)

    def _start(self, name, attrs):
        name = name.rsplit(" ", 1)[-1]
        self.depth += 1
        if self.depth == 1:
            self.on_open(attrs)
        elif self.depth == 2:
            self.cur = [name, attrs, [], []]
        elif self.depth == 3:
            self.cur[2].append([name, attrs, []])

    def _text(self, data):
        if self.depth == 3:
            self.cur[2][-1][2].append(data)
        elif self.depth == 2:
            self.cur[3].append(data)

    def _end(self, name):
        self.depth -= 1
        if self.depth == 1:
            name, attrs, children, text = self.cur
            self.cur = None
            self.on_stanza(name, attrs, [(c[0], c[1], "".join(c[2])) for c in children], "".join(text))


# --------------------------------------------------------------------------
# the buddy: one XMPP client on the legacy network
# --------------------------------------------------------------------------

class Buddy:
    def __init__(self, bench, port):
        self.bench, self.port = bench, port
        self.online = set()
        self.t_all_online = None
        self.state = "open"
        self.ready = asyncio.get_event_loop().create_future()

    def send(self, s):
        self.w.write(s.encode())

    def open_stream(self):
        self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>" % LEGACY)

    async def start(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        self.w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.x = Stanzas(lambda a: None, self.on_stanza)
        self.open_stream()
        self.reader = asyncio.ensure_future(self.read_loop())
        await asyncio.wait_for(self.ready, TIMEOUT)
        return self

    async def read_loop(self):
        while True:
            data = await self.r.read(65536)
            if not data:
                break
            self.x.feed(data)
        if not self.ready.done():
            self.ready.set_exception(RuntimeError("buddy: connection closed"))

    def on_stanza(self, name, attrs, children, text):
        if self.state == "open" and name == "features":
            cred = base64.b64encode(b"\0buddy\0" + LPW.encode()).decode()
            self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % cred)
            self.state = "auth"
        elif self.state == "auth":
            if name != "success":
                self.ready.set_exception(RuntimeError("buddy: auth failed: %s" % name))
                return
            self.state = "bind"
            self.x.reset()
            self.open_stream()
        elif self.state == "bind" and name == "features":
            self.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                      "<resource>bench</resource></bind></iq>")
        elif self.state == "bind" and name == "iq" and attrs.get("id") == "b1":
            self.state = "up"
            self.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq><presence/>")
            self.ready.set_result(True)
        elif name == "presence":
            frm = attrs.get("from", "")
            bare = frm.split("/")[0]
            if bare == BUDDY or not bare.endswith("@" + LEGACY):
                return
            typ = attrs.get("type", "")
            if typ == "unavailable":
                self.online.discard(bare)
            elif typ == "":
                if bare not in self.online:
                    self.online.add(bare)
                    self.bench.t_last_online = time.monotonic()
        elif name == "message":
            for c in children:
                if c[0] == "body":
                    self.bench.arrived("l2b", c[2], attrs.get("from", ""))

    def message(self, to, body):
        self.send("<message type='chat' to='%s'><body>%s</body></message>" % (to, escape(body)))

    async def stop(self):
        try:
            self.send("</stream:stream>")
            self.w.close()
        except Exception:
            pass
        self.reader.cancel()


# --------------------------------------------------------------------------
# Causeway: the component server (this script is its XMPP server)
# --------------------------------------------------------------------------

class Component(asyncio.Protocol):
    bench = None

    def connection_made(self, transport):
        self.t = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream_id = "bench%016x" % int.from_bytes(os.urandom(8), "big")
        self.x = Stanzas(self.on_open, self.on_stanza)
        self.bench.comp = self

    def on_open(self, attrs):
        self.send("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                  "xmlns='jabber:component:accept' from='%s' id='%s'>" % (GW, self.stream_id))

    def data_received(self, data):
        try:
            self.x.feed(data)
        except xml.parsers.expat.ExpatError as e:
            log("component stream: XML error %s" % e)
            self.t.close()

    def connection_lost(self, exc):
        self.bench.comp_lost = True

    def send(self, s):
        self.t.write(s.encode())

    def on_stanza(self, name, attrs, children, text):
        b = self.bench
        q = lambda v: quoteattr(v or "")
        if name == "handshake":
            want = hashlib.sha1((self.stream_id + SECRET).encode()).hexdigest()
            if text.strip().lower() != want:
                log("component handshake: wrong digest")
                self.t.close()
                return
            self.send("<handshake/>")
            b.handshake = True
        elif name == "message":
            for c in children:
                if c[0] == "body":
                    b.arrived("l2x", c[2], attrs.get("to", ""))
        elif name == "iq":
            typ = attrs.get("type")
            if typ in ("result", "error"):
                fut = b.iq_wait.pop(attrs.get("id"), None)
                if fut and not fut.done():
                    fut.set_result((typ, attrs, children))
            elif typ in ("get", "set"):
                if any(c[0] == "ping" for c in children):
                    self.send("<iq type='result' id=%s from=%s to=%s/>" % (
                        q(attrs.get("id")), q(attrs.get("to")), q(attrs.get("from"))))
                else:
                    self.send("<iq type='error' id=%s from=%s to=%s><error type='cancel'>"
                              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                              "</error></iq>" % (q(attrs.get("id")), q(attrs.get("to")), q(attrs.get("from"))))


def causeway_conf(path, xmpp_port, data_dir):
    with open(path, "w") as f:
        f.write("[xmpp]\nhost = 127.0.0.1\nport = %d\n\n"
                "[gateway]\ndata_dir = %s\nallowed_domains = %s\n\n"
                "[transport:purple]\ntype = purple\ndomain = %s\nsecret = %s\nprotocol = prpl-jabber\n"
                % (xmpp_port, data_dir, USERDOM, GW, SECRET))


def reg_form(k, port):
    fields = {"username": lid(k), "split1": LEGACY, "split2": "gw", "password": LPW,
              "connect_server": "127.0.0.1", "port": str(port),
              "connection_security": "opportunistic_tls", "auth_plain_in_clear": "1"}
    out = ["<x xmlns='jabber:x:data' type='submit'>",
           "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"]
    for var, val in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, escape(val)))
    out.append("</x>")
    return "".join(out)


# --------------------------------------------------------------------------
# BitlBee: N IRC clients
# --------------------------------------------------------------------------

class IrcClient:
    def __init__(self, bench, k, port):
        self.bench, self.k, self.port = bench, k, port
        self.welcome = asyncio.get_event_loop().create_future()
        self.root_lines = []
        self.nick = "u%d" % k

    async def start(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        self.w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send("NICK %s\r\nUSER %s 0 * :bench %d\r\n" % (self.nick, self.nick, self.k))
        self.reader = asyncio.ensure_future(self.read_loop())
        await asyncio.wait_for(self.welcome, TIMEOUT)

    def send(self, s):
        self.w.write(s.encode())

    def root(self, cmd):
        self.send("PRIVMSG &bitlbee :%s\r\n" % cmd)

    async def read_loop(self):
        while True:
            line = await self.r.readline()
            if not line:
                break
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] == "001" and not self.welcome.done():
                self.welcome.set_result(True)
            elif line.startswith("PING"):
                self.send("PONG" + line[4:] + "\r\n")
            elif len(parts) == 4 and parts[1] == "PRIVMSG":
                src = parts[0][1:].split("!")[0]
                text = parts[3][1:] if parts[3].startswith(":") else parts[3]
                if src == "root":
                    self.root_lines.append(text)
                elif parts[2] == self.nick:
                    self.bench.arrived("l2x", text, user(self.k))

    async def stop(self):
        try:
            self.w.close()
        except Exception:
            pass
        self.reader.cancel()


def bitlbee_conf(d, port):
    os.makedirs(os.path.join(d, "users"), exist_ok=True)
    p = os.path.join(d, "bitlbee.conf")
    with open(p, "w") as f:
        f.write("[settings]\nRunMode = ForkDaemon\nDaemonInterface = 127.0.0.1\nDaemonPort = %d\n"
                "AuthMode = Open\nConfigDir = %s\nPidFile = %s\n[defaults]\n"
                % (port, os.path.join(d, "users"), os.path.join(d, "bitlbee.pid")))
    return p


# --------------------------------------------------------------------------
# the bench
# --------------------------------------------------------------------------

class Bench:
    def __init__(self):
        self.comp = None
        self.comp_lost = False
        self.handshake = False
        self.iq_wait = {}
        self.iq_n = 0
        self.t_last_online = None
        self.reset_msgs()

    def reset_msgs(self):
        self.sent = {}
        self.lat = []
        self.t_last_arrival = None
        self.got = 0

    def arrived(self, direction, body, where):
        if not body.startswith("bm "):
            return
        try:
            seq = int(body.split()[1])
        except (IndexError, ValueError):
            return
        t0 = self.sent.pop(seq, None)
        if t0 is None:
            return
        now = time.monotonic()
        self.lat.append(now - t0)
        self.t_last_arrival = now
        self.got += 1

    async def iq(self, frm, to, payload, typ="set"):
        self.iq_n += 1
        i = "q%d" % self.iq_n
        fut = asyncio.get_running_loop().create_future()
        self.iq_wait[i] = fut
        self.comp.send("<iq type='%s' id='%s' from=%s to=%s>%s</iq>" % (typ, i, quoteattr(frm), quoteattr(to), payload))
        return await asyncio.wait_for(fut, TIMEOUT)

    async def settle(self, pid, quiet=2.0):
        """Until the process used under 2 % CPU for `quiet` s (at most TIMEOUT)."""
        deadline = time.monotonic() + TIMEOUT
        c0, t0 = tree_cpu(pid), time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(quiet)
            c1, t1 = tree_cpu(pid), time.monotonic()
            if (c1 - c0) / (t1 - t0) < 0.02:
                return
            c0, t0 = c1, t1

    async def wait_online(self, buddy, n, what):
        await wait_for(lambda: len(buddy.online) >= n, TIMEOUT, "%s: %d of %d online" % (what, len(buddy.online), n))

    async def traffic(self, name, send_one, n_users, pids):
        """MSGS messages, round-robin over the users, at most WINDOW in flight."""
        self.reset_msgs()
        cpu0 = {p: tree_cpu(p) for p in pids}
        d0 = self_cpu()
        t_first = time.monotonic()
        for seq in range(MSGS):
            while len(self.sent) >= WINDOW:
                await asyncio.sleep(0.0005)
                if time.monotonic() - t_first > TIMEOUT:
                    raise TimeoutError("%s: %d of %d arrived" % (name, self.got, MSGS))
            self.sent[seq] = time.monotonic()
            send_one(seq % n_users, "bm %d" % seq)
        await wait_for(lambda: self.got >= MSGS, TIMEOUT, "%s: %d of %d arrived" % (name, self.got, MSGS),
                       interval=0.002)
        el = self.t_last_arrival - t_first
        return {"rate": MSGS / el, "p50_ms": pct(self.lat, 50) * 1000, "p99_ms": pct(self.lat, 99) * 1000,
                "cpu": {str(p): tree_cpu(p) - c for p, c in cpu0.items()}, "driver_cpu": self_cpu() - d0,
                "seconds": el}

    # ---------------- Causeway ----------------

    async def cw_start(self, d):
        shutil.rmtree(d, ignore_errors=True)
        data = os.path.join(d, "data")
        os.makedirs(data)
        self.comp, self.comp_lost, self.handshake = None, False, False
        server = await asyncio.get_running_loop().create_server(Component, "127.0.0.1", 0)
        conf = os.path.join(d, "causeway.conf")
        causeway_conf(conf, server.sockets[0].getsockname()[1], data)
        logp = os.path.join(d, "causeway.log")
        cw = await asyncio.create_subprocess_exec(CAUSEWAY_BIN, "-c", conf, "--transport", "purple",
                                                  stdout=open(logp, "wb"), stderr=subprocess.STDOUT)
        await wait_for(lambda: (self.handshake and file_has(logp, b"component %s ready" % GW.encode()))
                       or cw.returncode is not None, TIMEOUT, "Causeway's ready line")
        if cw.returncode is not None:
            raise RuntimeError("Causeway exited with %s:\n%s" % (cw.returncode, open(logp).read()[-3000:]))
        return cw, server, logp

    async def cw_register(self, ks, port):
        async def one(k):
            typ, attrs, ch = await self.iq(user(k) + "/r", GW,
                                           "<query xmlns='jabber:iq:register'>%s</query>" % reg_form(k, port))
            if typ != "result":
                raise RuntimeError("registration of %s: %s %s" % (user(k), typ, ch))
        await asyncio.gather(*(one(k) for k in ks))

    def cw_login(self, ks):
        self.comp.send("".join("<presence from='%s/r' to='%s'/>" % (user(k), GW) for k in ks))

    async def run_causeway(self, run, prosody, buddy):
        res = {}
        d = os.path.join(RUN, "run%d" % run, "causeway-rss")
        cw, server, logp = await self.cw_start(d)
        try:
            await self.settle(cw.pid)
            res["rss_init"] = mem(cw.pid)
            await self.cw_register(range(max(STAGES)), prosody.c2s)
            await self.settle(cw.pid)
            res["rss_registered"] = mem(cw.pid)
            have = 0
            for st in STAGES:
                self.cw_login(range(have, st))
                await self.wait_online(buddy, st, "Causeway stage %d" % st)
                have = st
                await self.settle(cw.pid)
                res["rss_%d" % st] = mem(cw.pid)
        finally:
            await stop_proc(cw)
            server.close()
        await wait_for(lambda: not buddy.online, TIMEOUT, "Causeway's accounts offline")

        d = os.path.join(RUN, "run%d" % run, "causeway-storm")
        cw, server, logp = await self.cw_start(d)
        try:
            await self.cw_register(range(N), prosody.c2s)
            await self.settle(cw.pid)
            c0, p0 = tree_cpu(cw.pid), cpu_s(prosody.proc.pid)
            t0 = time.monotonic()
            self.cw_login(range(N))
            await self.wait_online(buddy, N, "Causeway storm")
            res["storm_s"] = self.t_last_online - t0
            res["storm_cpu"] = tree_cpu(cw.pid) - c0
            res["storm_prosody_cpu"] = cpu_s(prosody.proc.pid) - p0
            await self.settle(cw.pid)
            res["rss_storm"] = mem(cw.pid)
            pids = [cw.pid, prosody.proc.pid]
            res["l2x"] = await self.traffic("Causeway legacy->XMPP",
                                            lambda k, body: buddy.message("%s@%s" % (lid(k), LEGACY), body), N, pids)
            res["x2l"] = await self.traffic(
                "Causeway XMPP->legacy",
                lambda k, body: self.comp.send("<message type='chat' from='%s/r' to='%s'><body>%s</body></message>"
                                               % (user(k), BUDDY_ON_GW, body)), N, pids)
        finally:
            await stop_proc(cw)
            server.close()
        await wait_for(lambda: not buddy.online, TIMEOUT, "Causeway's accounts offline")
        return res

    # ---------------- BitlBee ----------------

    async def bb_start(self, d):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        port = free_port()
        conf = bitlbee_conf(d, port)
        logp = os.path.join(d, "bitlbee.log")
        bb = await asyncio.create_subprocess_exec("bitlbee", "-F", "-n", "-c", conf, "-d", os.path.join(d, "users"),
                                                  "-i", "127.0.0.1", "-p", str(port),
                                                  stdout=open(logp, "wb"), stderr=subprocess.STDOUT)

        async def up():
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                return True
            except OSError:
                return False
        deadline = time.monotonic() + TIMEOUT
        while not await up():
            if bb.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("bitlbee did not start:\n" + open(logp).read()[-2000:])
            await asyncio.sleep(0.05)
        return bb, port

    async def bb_clients(self, ks, port, prosody_port):
        # BitlBee listens with a backlog of 10: more connects at once lose SYNs
        # and wait for the retransmits (1, 2, 4... s). Not part of any figure.
        gate = asyncio.Semaphore(8)

        async def one(k):
            c = IrcClient(self, k, port)
            async with gate:
                await c.start()
            for cmd in ("account add jabber %s@%s %s" % (lid(k), LEGACY, LPW),
                        "account jabber set connect_server 127.0.0.1",
                        "account jabber set port %d" % prosody_port,
                        "account jabber set connection_security opportunistic_tls",
                        "account jabber set auth_plain_in_clear true"):
                c.root(cmd)
            c.send("PING :added\r\n")
            return c
        return await asyncio.gather(*(one(k) for k in ks))

    async def run_bitlbee(self, run, prosody, buddy):
        res = {}
        d = os.path.join(RUN, "run%d" % run, "bitlbee-rss")
        bb, port = await self.bb_start(d)
        clients = []
        try:
            await self.settle(bb.pid)
            res["rss_init"] = mem(bb.pid, True)
            clients = await self.bb_clients(range(max(STAGES)), port, prosody.c2s)
            await self.settle(bb.pid)
            res["rss_registered"] = mem(bb.pid, True)
            have = 0
            for st in STAGES:
                for c in clients[have:st]:
                    c.root("account on")
                await self.wait_online(buddy, st, "BitlBee stage %d" % st)
                have = st
                await self.settle(bb.pid)
                res["rss_%d" % st] = mem(bb.pid, True)
        finally:
            for c in clients:
                await c.stop()
            await stop_proc(bb)
        await wait_for(lambda: not buddy.online, TIMEOUT, "BitlBee's accounts offline")

        d = os.path.join(RUN, "run%d" % run, "bitlbee-storm")
        bb, port = await self.bb_start(d)
        clients = []
        try:
            clients = await self.bb_clients(range(N), port, prosody.c2s)
            await self.settle(bb.pid)
            c0, p0 = tree_cpu(bb.pid), cpu_s(prosody.proc.pid)
            t0 = time.monotonic()
            for c in clients:
                c.root("account on")
            await self.wait_online(buddy, N, "BitlBee storm")
            res["storm_s"] = self.t_last_online - t0
            res["storm_cpu"] = tree_cpu(bb.pid) - c0
            res["storm_prosody_cpu"] = cpu_s(prosody.proc.pid) - p0
            await self.settle(bb.pid)
            res["rss_storm"] = mem(bb.pid, True)
            pids = [bb.pid, prosody.proc.pid]
            res["l2x"] = await self.traffic("BitlBee legacy->IRC",
                                            lambda k, body: buddy.message("%s@%s" % (lid(k), LEGACY), body), N, pids)
            res["x2l"] = await self.traffic("BitlBee IRC->legacy",
                                            lambda k, body: clients[k].send("PRIVMSG buddy :%s\r\n" % body), N, pids)
        finally:
            for c in clients:
                await c.stop()
            await stop_proc(bb)
        await wait_for(lambda: not buddy.online, TIMEOUT, "BitlBee's accounts offline")
        return res

    # ---------------- libpurple's floor ----------------

    async def run_floor(self, run, prosody, buddy):
        d = os.path.join(RUN, "run%d" % run, "floor")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        p = await asyncio.create_subprocess_exec(
            FLOOR_BIN, os.path.join(d, "purple"), "127.0.0.1", str(prosody.c2s), LEGACY, LPW,
            *[str(s) for s in STAGES], stdout=subprocess.PIPE, stderr=open(os.path.join(d, "floor.log"), "wb"))
        res = {}
        try:
            while True:
                line = await asyncio.wait_for(p.stdout.readline(), TIMEOUT)
                if not line:
                    raise RuntimeError("purple-floor exited: %s" % open(os.path.join(d, "floor.log")).read()[-2000:])
                f = line.decode().split()
                if f[0] == "init":
                    res["rss_init"] = [int(f[1]), int(f[2]), 1]
                elif f[0] == "stage":
                    res["rss_%s" % f[1]] = [int(f[2]), int(f[3]), 1]
                    res["stage_s_%s" % f[1]] = float(f[4])
                elif f[0] == "done":
                    break
        finally:
            await stop_proc(p)
        await wait_for(lambda: not buddy.online, TIMEOUT, "the floor's accounts offline")
        return res


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def fig(vals, f="%.0f"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    m = statistics.median(vals)
    if len(vals) == 1:
        return f % m
    return (f + " [" + f + "-" + f + "]") % (m, min(vals), max(vals))


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def render(runs, started, elapsed):
    sides = [("Causeway purple", "cw"), ("BitlBee 3.6 (libpurple, ForkDaemon)", "bb"), ("libpurple floor", "fl")]
    g = lambda side, key: [r[side].get(key) for r in runs]
    m = lambda side, key, i: [r[side][key][i] for r in runs]

    def per_acc(side, st, i):
        return [(r[side]["rss_%d" % st][i] - r[side]["rss_init"][i]) / st for r in runs]

    lines = []
    a = lines.append
    a("# Purple benchmark: Causeway's purple transport vs BitlBee (libpurple) vs libpurple's floor")
    a("")
    a("Run %s, %.0f s; %s, %d CPUs, Python %s; libpurple %s; Prosody 0.12 (legacy network, one VirtualHost)."
      % (started, elapsed, platform.platform(), os.cpu_count(), platform.python_version(),
         subprocess.run(["pkg-config", "--modversion", "purple"], capture_output=True, text=True).stdout.strip()))
    a("Command: `make bench-purple` (PURPLE_BENCH_RUNS=%d PURPLE_BENCH_N=%d PURPLE_BENCH_STAGES=%s "
      "PURPLE_BENCH_MSGS=%d PURPLE_BENCH_WINDOW=%d). Medians of %d runs, [min-max]. "
      "tests/bench/purple-bench.py documents what is measured."
      % (RUNS, N, ",".join(map(str, STAGES)), MSGS, WINDOW, len(runs)))
    for what, i in (("RSS (VmRSS", 0), ("PSS (Pss from smaps_rollup: shared pages split between the processes sharing them", 1)):
        a("")
        a("## %s, KiB; BitlBee: its master plus one process per IRC client, summed)" % what)
        a("")
        head = "| | after init | users set up, none logged in |" + "".join(" %d logged in |" % s for s in STAGES)
        head += "".join(" per account, N=%d |" % s for s in STAGES)
        a(head)
        a("|" + "---|" * (3 + 2 * len(STAGES)))
        for label, k in sides:
            row = "| %s | %s | %s |" % (label, fig(m(k, "rss_init", i)),
                                        fig(m(k, "rss_registered", i)) if k != "fl" else "-")
            row += "".join(" %s |" % fig(m(k, "rss_%d" % s, i)) for s in STAGES)
            row += "".join(" %s |" % fig(per_acc(k, s, i), "%.1f") for s in STAGES)
            a(row)
    a("")
    a("\"after init\": Causeway's purple transport process idle with its component connected; BitlBee's "
      "ForkDaemon master listening, no client yet; the floor after purple_core_init. \"users set up\": "
      "Causeway with the N users registered through XEP-0077 (no libpurple account exists before the "
      "login); BitlBee with the N IRC clients connected (one forked process each) and their jabber "
      "accounts added. Per account: (figure at N - figure after init) / N.")
    a("")
    a("## Login storm (%d accounts at once) and messages (%d each way, at most %d in flight, over %d accounts)"
      % (N, MSGS, WINDOW, N))
    a("")
    a("| | storm: all online (s) | gateway CPU-s | Prosody CPU-s | RSS after (KiB) | legacy->user msg/s | p50 / p99 ms "
      "| user->legacy msg/s | p50 / p99 ms | gateway CPU-s (l->u / u->l) | Prosody CPU-s (l->u / u->l) |")
    a("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, k in sides[:2]:
        def t(dirn, key):
            return [r[k][dirn][key] for r in runs]

        def c(dirn, which):
            return [list(r[k][dirn]["cpu"].values())[which] for r in runs]
        a("| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s / %s | %s / %s |" % (
            label, fig(g(k, "storm_s"), "%.2f"), fig(g(k, "storm_cpu"), "%.2f"), fig(g(k, "storm_prosody_cpu"), "%.2f"),
            fig(m(k, "rss_storm", 0)),
            fig(t("l2x", "rate")), fig(t("l2x", "p50_ms"), "%.1f"), fig(t("l2x", "p99_ms"), "%.1f"),
            fig(t("x2l", "rate")), fig(t("x2l", "p50_ms"), "%.1f"), fig(t("x2l", "p99_ms"), "%.1f"),
            fig(c("l2x", 0), "%.2f"), fig(c("x2l", 0), "%.2f"), fig(c("l2x", 1), "%.2f"), fig(c("x2l", 1), "%.2f")))
    fl = [r["fl"].get("stage_s_%d" % STAGES[-1]) for r in runs]
    a("")
    a("libpurple floor, its last stage (%d more accounts at once, from connect to the last signed-on): %s s."
      % (STAGES[-1] - (STAGES[-2] if len(STAGES) > 1 else 0), fig(fl, "%.2f")))
    return "\n".join(lines) + "\n"


async def main():
    for b, what in ((CAUSEWAY_BIN, "causeway"), (FLOOR_BIN, "purple-floor")):
        if not os.access(b, os.X_OK):
            die("%s not found at %s (make bench-purple builds it)" % (what, b))
    if not shutil.which("bitlbee"):
        die("bitlbee not installed (apt-get install bitlbee-libpurple)")
    os.makedirs(RUN, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t_start = time.monotonic()
    bench = Bench()
    Component.bench = bench
    prosody = Prosody(os.path.join(RUN, "prosody"))
    prosody.write()
    await prosody.start()
    runs = []
    try:
        buddy = await Buddy(bench, prosody.c2s).start()
        for run in range(RUNS):
            r = {}
            for key, label, fn in (("cw", "Causeway", bench.run_causeway), ("bb", "BitlBee", bench.run_bitlbee),
                                   ("fl", "floor", bench.run_floor)):
                if key not in SIDES:
                    continue
                log("run %d/%d: %s" % (run + 1, RUNS, label))
                r[key] = await fn(run, prosody, buddy)
                log("  " + json.dumps(r[key]))
            runs.append(r)
            with open(os.path.join(RUN, "results.json"), "w") as f:
                json.dump(runs, f, indent=1)
        await buddy.stop()
    finally:
        await prosody.stop()
    if SIDES != ["cw", "bb", "fl"]:
        return   # a partial look: the raw values are in .run-purple/results.json
    md = render(runs, started, time.monotonic() - t_start)
    print(md)
    with open(OUT, "w") as f:
        f.write(md)


if __name__ == "__main__":
    asyncio.run(main())
