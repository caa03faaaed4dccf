"""End-to-end test rig for Causeway.

Starts real servers from Debian packages on free loopback ports with generated
configs inside a pytest tmp dir, starts the causeway binary against them, and
drives real XMPP clients (slixmpp, /usr/bin/python3).

Everything here is synchronous for the tests: slixmpp runs on one asyncio loop
in a background thread (XmppLoop) and the helpers hand work to it with
asyncio.run_coroutine_threadsafe. Incoming stanzas of every client are copied
into a list guarded by a condition variable, so a test waits for "the next
stanza matching P" with a timeout instead of sleeping.

Every process is started in its own session and stopped by its PID.
"""
import asyncio
import copy
import itertools
import os
import re
import shlex
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")

GW_DOMAIN = "loop.localhost"
GW_SECRET = "s3cret"
CONNECTED_LINE = "component %s connected"

# user -> (host, password); all registered on every Prosody the rig starts
USERS = {
    "alice": ("localhost", "alicepw"),
    "bob": ("localhost", "bobpw"),
    "admin": ("localhost", "adminpw"),
    "mallory": ("other.localhost", "mallorypw"),
}

NS = {
    "c": "jabber:client",
    "stanzas": "urn:ietf:params:xml:ns:xmpp-stanzas",
    "info": "http://jabber.org/protocol/disco#info",
    "items": "http://jabber.org/protocol/disco#items",
    "reg": "jabber:iq:register",
    "gw": "jabber:iq:gateway",
    "ping": "urn:xmpp:ping",
    "ver": "jabber:iq:version",
    "cmd": "http://jabber.org/protocol/commands",
    "x": "jabber:x:data",
    "roster": "jabber:iq:roster",
    "nick": "http://jabber.org/protocol/nick",
}

for _prefix, _uri in (("stream", "http://etherx.jabber.org/streams"), ("disco", NS["info"]),
                     ("items", NS["items"]), ("x", NS["x"]), ("err", NS["stanzas"])):
    ET.register_namespace(_prefix, _uri)

DEFAULT_TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "5"))


# --------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------

# Ports for the servers a test starts come from below the kernel's ephemeral
# range (ip_local_port_range, 32768-60999 by default): a port found free with
# bind(0) is an ephemeral one, and any outgoing connection (Causeway to
# Prosody, Kannel to us) may take it as its source port before our server
# binds it ("Address already in use"). Every port is handed out once per
# test process; the random start keeps parallel test runs apart.
_PORT_LOW, _PORT_HIGH = 12000, 32000
_ports_given = set()
_port_rng = random.Random(os.getpid() ^ int(time.time()))


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1, never handed out before in this
    process, outside the ephemeral range."""
    out = []
    for _ in range(20000):
        if len(out) == n:
            return out
        port = _port_rng.randrange(_PORT_LOW, _PORT_HIGH)
        if port in _ports_given or not _bindable(port):
            continue
        _ports_given.add(port)
        out.append(port)
    raise AssertionError("no free TCP port in %d-%d" % (_PORT_LOW, _PORT_HIGH))


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_until(pred, timeout, what="condition", interval=0.05):
    """Poll pred() until it returns something truthy; return it or raise."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def _clip(line, width=500):
    return line if len(line) <= width else line[:width] + "...[%d chars]" % len(line)


def tail(path, n=60):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(%s: %s)" % (path, e)
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(_clip(ln) for ln in lines[-n:])


def xml_str(el):
    if el is None:
        return "None"
    return ET.tostring(el, encoding="unicode")


def bare(jid):
    return (jid or "").split("/", 1)[0]


def error_of(el):
    """(type, condition, text) of a stanza's <error/>, or None."""
    err = el.find("c:error", NS)
    if err is None:
        err = el.find("{jabber:component:accept}error")
    if err is None:
        return None
    cond, text = None, None
    for ch in err:
        if ch.tag == "{%s}text" % NS["stanzas"]:
            text = ch.text or ""
        elif ch.tag.startswith("{%s}" % NS["stanzas"]):
            cond = ch.tag.split("}", 1)[1]
    return err.get("type"), cond, text


def form_fields(x):
    """{var: element} of a jabber:x:data form."""
    return {f.get("var"): f for f in x.findall("x:field", NS)}


def field_values(f):
    return [v.text or "" for v in f.findall("x:value", NS)]


def form_type(x):
    f = form_fields(x).get("FORM_TYPE")
    return field_values(f)[0] if f is not None and field_values(f) else None


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st.rsplit(")", 1)[1].split()[0] != "Z"


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children_of(pid):
    return [p for p in all_pids() if proc_ppid(p) == pid and pid_alive(p)]


def pids_with_arg(arg):
    """Live processes whose command line has `arg` as one argument (our unique
    per-test config path): the only way to find grandchildren after a parent died."""
    me = os.getpid()
    return [p for p in all_pids() if p != me and pid_alive(p) and arg in proc_cmdline(p)]


def terminate_pid(pid, timeout=5.0):
    """SIGTERM, wait, SIGKILL. Only for PIDs the rig started or found by its own
    unique config path."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end and pid_alive(pid):
        time.sleep(0.02)
    if pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

class Proc:
    """A child process started in its own session with output to a log file."""

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = argv
        self.log_path = log_path
        self._logf = open(log_path, "ab", buffering=0)
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._logf,
                                      stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                      start_new_session=True)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    @property
    def returncode(self):
        return self.popen.poll()

    def wait(self, timeout):
        """Exit status, or raise TimeoutError."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError("%s (pid %d) still running after %.1fs"
                               % (os.path.basename(self.argv[0]), self.pid, timeout))

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout=5.0):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(5)
        self.close()

    def kill(self):
        if self.alive():
            self.signal(signal.SIGKILL)
            self.popen.wait(5)

    def close(self):
        if not self._logf.closed:
            self._logf.close()


class Prosody:
    """Prosody 0.12 from a generated config in its own directory."""

    def __init__(self, run_dir, privilege=True, domain=GW_DOMAIN, secret=GW_SECRET, users=USERS,
                 offline=False, extra_hosts=()):
        self.dir = os.path.abspath(run_dir)
        # more VirtualHosts on the same server (e.g. "legacy.test", a legacy XMPP
        # network): each a name, or (name, its option lines as Lua text)
        self.extra_hosts = tuple((h, "") if isinstance(h, str) else tuple(h) for h in extra_hosts)
        self.privilege = privilege
        self.offline = offline     # mod_offline: store messages for offline users
        self.domain = domain
        self.secret = secret
        self.users = dict(users)
        self.c2s, self.comp = free_ports(2)
        self.cfg = os.path.join(self.dir, "prosody.cfg.lua")
        self.log_path = os.path.join(self.dir, "prosody.log")
        self.out_path = os.path.join(self.dir, "prosody.stdout")
        self.proc = None
        self.starts = 0
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certificates"), exist_ok=True)
        self._write_config()

    def _write_config(self):
        with open(os.path.join(FIXTURES, "prosody.cfg.lua.in")) as f:
            t = f.read()
        subst = {
            "@DIR@": self.dir, "@C2S@": str(self.c2s), "@COMP@": str(self.comp),
            "@DOMAIN@": self.domain, "@SECRET@": self.secret,
            "@RUN_AS_ROOT@": "true" if os.geteuid() == 0 else "false",
            "@PRIVILEGE@": '"privilege";' if self.privilege else "",
            "@OFFLINE@": "" if self.offline else '"offline"',
            "@EXTRA_HOSTS@": "".join('VirtualHost "%s"\n%s\n' % (h, "".join(
                "\t%s\n" % ln for ln in opts.splitlines())) for h, opts in self.extra_hosts),
        }
        for k, v in subst.items():
            t = t.replace(k, v)
        with open(self.cfg, "w") as f:
            f.write(t)

    def register(self, user, host, password):
        r = subprocess.run(["prosodyctl", "--config", self.cfg, "register", user, host, password],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("prosodyctl register %s@%s failed (%d): %s%s"
                               % (user, host, r.returncode, r.stdout, r.stderr))

    def register_all(self):
        for user, (host, pw) in self.users.items():
            self.register(user, host, pw)

    def start(self, timeout=10.0):
        assert self.proc is None or not self.proc.alive(), "prosody already running"
        for p in (self.c2s, self.comp):
            if port_open(p):
                raise RuntimeError("port %d already in use" % p)
        self.proc = Proc(["prosody", "--config", self.cfg, "-F"], self.out_path)
        self.starts += 1

        def up():
            if not self.proc.alive():
                raise RuntimeError("prosody exited early with %s:\n%s\n%s" % (
                    self.proc.returncode, tail(self.out_path, 20), tail(self.log_path, 20)))
            return port_open(self.c2s) and port_open(self.comp)
        wait_until(up, timeout, "prosody ports %d/%d" % (self.c2s, self.comp))
        return self

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.close()

    def stop(self):
        if self.proc is not None:
            self.proc.stop()

    def restart(self, kill=True, timeout=10.0):
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start(timeout)

    def report(self, n=60):
        return "--- %s (tail)\n%s\n--- %s (tail)\n%s" % (
            self.out_path, tail(self.out_path, 20), self.log_path, tail(self.log_path, n))


def causeway_bin():
    b = os.environ.get("CAUSEWAY_BIN") or os.path.join(REPO_ROOT, "causeway")
    return os.path.abspath(b)


def causeway_config(path, port, data_dir, *, host="127.0.0.1", domain=GW_DOMAIN,
                    secret=GW_SECRET, allowed_domains="localhost", admins="admin@localhost",
                    name="loop", extra="", ttype="loopback", gateway_extra=""):
    """Write a causeway config with one [transport:NAME] section of type ttype;
    `extra` is appended to that section (more `key = value` lines), and
    `gateway_extra` to [gateway] (e.g. the per-user limits)."""
    if ttype == "irc" and "irc_servers" not in extra:
        # The test IRC servers listen on loopback: allowlist them (any port).
        extra += "irc_servers = 127.0.0.1, localhost\n"
    text = ("[xmpp]\nhost = %s\nport = %d\n\n"
            "[gateway]\ndata_dir = %s\nallowed_domains = %s\nadmins = %s\n%s\n"
            "[transport:%s]\ntype = %s\ndomain = %s\nsecret = %s\n%s"
            % (host, port, data_dir, allowed_domains, admins, gateway_extra, name, ttype, domain,
               secret, extra))
    with open(path, "w") as f:
        f.write(text)
    return path


class Causeway:
    """The causeway binary under test.

    CAUSEWAY_BIN (default ./causeway) and, optionally, CAUSEWAY_WRAPPER
    (e.g. "valgrind --error-exitcode=99 -q") select what runs.
    """

    def __init__(self, run_dir, xmpp_port, *, secret=GW_SECRET, domain=GW_DOMAIN,
                 allowed_domains="localhost", admins="admin@localhost", transport="loop",
                 ttype="loopback", extra="", data_dir=None, gateway_extra=""):
        self.dir = os.path.abspath(run_dir)
        os.makedirs(self.dir, exist_ok=True)
        self.domain = domain
        self.transport = transport
        self.ttype = ttype
        # data_dir: another place for the SQLite files and the key (e.g. a tiny tmpfs)
        self.data_dir = os.path.abspath(data_dir) if data_dir else os.path.join(self.dir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.cfg = os.path.join(self.dir, "causeway.conf")
        self.log_path = os.path.join(self.dir, "causeway.log")
        self.bin = causeway_bin()
        causeway_config(self.cfg, xmpp_port, self.data_dir, domain=domain, secret=secret,
                        allowed_domains=allowed_domains, admins=admins, name=transport,
                        ttype=ttype, extra=extra, gateway_extra=gateway_extra)
        self.proc = None

    def argv(self, supervisor=False, verbose=True):
        wrap = shlex.split(os.environ.get("CAUSEWAY_WRAPPER", ""))
        a = wrap + [self.bin, "-c", self.cfg]
        if not supervisor:
            a += ["--transport", self.transport]
        if verbose:
            a.append("-v")
        return a

    def start(self, supervisor=False, wait_connected=True, timeout=10.0):
        if not (os.path.isfile(self.bin) and os.access(self.bin, os.X_OK)):
            raise AssertionError("CAUSEWAY_BIN %s is not an executable file (build it with `make`)"
                                 % self.bin)
        self.proc = Proc(self.argv(supervisor), self.log_path, env=self.sanitizer_env())
        if wait_connected:
            self.wait_connected(1, timeout)
        return self

    def sanitizer_env(self):
        """libpurple leaks at init by design: under ASan the purple transport
        runs with tests/lsan-purple.supp (which says what is suppressed and
        why) and the slow unwinder its frames need. None: inherit as is."""
        if self.ttype != "purple":
            return None
        env = dict(os.environ)
        supp = os.path.join(REPO_ROOT, "tests", "lsan-purple.supp")
        env["ASAN_OPTIONS"] = ":".join(filter(None, ["fast_unwind_on_malloc=0", env.get("ASAN_OPTIONS")]))
        env["LSAN_OPTIONS"] = ":".join(filter(None, ["suppressions=" + supp, env.get("LSAN_OPTIONS")]))
        return env

    @property
    def connected_line(self):
        return CONNECTED_LINE % self.domain

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def count(self, text):
        return self.log().count(text)

    def wait_log(self, text, count=1, timeout=10.0, must_live=True):
        """Wait until `text` occurs at least `count` times in the log."""
        def check():
            if self.count(text) >= count:
                return True
            if must_live and not self.alive():
                raise AssertionError("causeway exited (status %s) before logging %r x%d:\n%s"
                                     % (self.proc.returncode, text, count, tail(self.log_path, 30)))
            return False
        wait_until(check, timeout, "%r x%d in %s" % (text, count, self.log_path))

    def wait_connected(self, count=1, timeout=10.0):
        self.wait_log(self.connected_line, count, timeout)

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def wait_exit(self, timeout):
        return self.proc.wait(timeout)

    def our_pids(self):
        """Every live process running with our config file (supervisor, children)."""
        return pids_with_arg(self.cfg)

    def stop(self):
        """SIGTERM (SIGKILL after 5 s; 30 s for a purple transport under
        ASan, whose exit-time leak check walks libpurple's heap with the slow
        unwinder) by PID; returns the exit status if it was still running,
        else None."""
        status = None
        if self.proc is not None:
            was_running = self.proc.alive()
            slow_exit = self.ttype == "purple" and "asan" in os.path.basename(self.bin)
            self.proc.stop(timeout=30.0 if slow_exit else 5.0)
            if was_running:
                status = self.proc.returncode
        # children (a supervisor may have died first): by PID, found by our own config path
        for pid in self.our_pids():
            terminate_pid(pid)
        return status

    def report(self, n=80):
        st = "not started" if self.proc is None else (
            "running (pid %d)" % self.proc.pid if self.alive() else "exited with %s" % self.proc.returncode)
        return "--- %s [%s] (tail)\n%s" % (self.log_path, st, tail(self.log_path, n))


# --------------------------------------------------------------------------
# XMPP clients
# --------------------------------------------------------------------------

class XmppLoop:
    """One asyncio loop in a daemon thread; slixmpp objects live there."""
    _instance = None
    _lock = threading.Lock()

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="xmpp-loop", daemon=True)
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = XmppLoop()
            return cls._instance

    @classmethod
    def shutdown(cls):
        """Cancel what is left on the loop and stop its thread (session end)."""
        with cls._lock:
            inst, cls._instance = cls._instance, None
        if inst is None:
            return

        async def _cancel():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            asyncio.run_coroutine_threadsafe(_cancel(), inst.loop).result(5)
        except Exception:  # noqa: BLE001
            pass
        inst.loop.call_soon_threadsafe(inst.loop.stop)
        inst.thread.join(5)

    def run(self, coro, timeout=DEFAULT_TIMEOUT + 5):
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise

    def call(self, fn, *args):
        """Run a plain function on the loop thread and return its result."""
        async def _c():
            return fn(*args)
        return self.run(_c())


def _with_client_ns(xml):
    """Give a raw stanza string the jabber:client namespace if it has none."""
    m = re.match(r"\s*<([A-Za-z]+)([^>]*?)(/?)>", xml)
    if m and "xmlns=" not in m.group(2):
        xml = xml[:m.end(1)] + " xmlns='jabber:client'" + xml[m.end(1):]
    return xml


class Client:
    """A real XMPP client (slixmpp ClientXMPP) with synchronous helpers.

    Every stanza it receives is kept (as an ElementTree element) in
    self.stanzas; wait_* scan it from an index (default: from the start), so a
    stanza that arrived before the wait began is not missed. Use mark() to get
    the index before an action and pass since=mark.
    """
    _ids = itertools.count(1)

    def __init__(self, jid, password, port, host="127.0.0.1", label=None):
        self.jid = jid
        self.password = password
        self.port = port
        self.host = host
        self.label = label or jid.split("@")[0]
        self.loop = XmppLoop.get()
        self.stanzas = []
        self.transcript = []
        self.cond = threading.Condition()
        self.xmpp = None
        self.disconnected = threading.Event()
        self.session_started = threading.Event()

    # ---- connection ----------------------------------------------------------
    def connect(self, timeout=DEFAULT_TIMEOUT + 5):
        self.loop.run(self._connect(timeout), timeout + 2)
        return self

    async def _connect(self, timeout):
        import slixmpp
        x = slixmpp.ClientXMPP(self.jid, self.password)
        self.xmpp = x
        t0 = time.monotonic()
        started = asyncio.get_event_loop().create_future()

        def rec(direction, data):
            self.transcript.append("%8.3f %s %s" % (time.monotonic() - t0, direction, data))

        orig_send_raw = x.send_raw

        def send_raw(data):
            rec("SEND", data if isinstance(data, str) else data.decode("utf-8", "replace"))
            return orig_send_raw(data)
        x.send_raw = send_raw

        def on_in(stanza):
            el = copy.deepcopy(stanza.xml)
            rec("RECV", xml_str(el))
            with self.cond:
                self.stanzas.append(el)
                self.cond.notify_all()
            return stanza
        x.add_filter("in", on_in)

        async def on_start(_e):
            try:
                await x.get_roster(timeout=timeout)
                x.send_presence()
                self.session_started.set()
                if not started.done():
                    started.set_result(True)
            except Exception as e:  # noqa: BLE001
                if not started.done():
                    started.set_exception(e)

        def on_fail(*_a):
            if not started.done():
                started.set_exception(RuntimeError("authentication failed for %s" % self.jid))

        def on_disc(*_a):
            self.disconnected.set()
            with self.cond:
                self.cond.notify_all()
            if not started.done():
                started.set_exception(RuntimeError("%s disconnected during login" % self.jid))

        x.add_event_handler("session_start", on_start)
        x.add_event_handler("failed_auth", on_fail)
        x.add_event_handler("disconnected", on_disc)
        x.connect((self.host, self.port), force_starttls=False, disable_starttls=True)
        try:
            await asyncio.wait_for(started, timeout)
        except asyncio.TimeoutError:
            x.abort()
            raise TimeoutError("%s: no session within %.1fs" % (self.jid, timeout))

    @property
    def full_jid(self):
        return str(self.xmpp.boundjid)

    def is_connected(self):
        return self.xmpp is not None and self.xmpp.transport is not None and not self.disconnected.is_set()

    def disconnect(self, timeout=5.0):
        """Close the stream cleanly (after the send queue drains) and wait."""
        if self.xmpp is None or self.disconnected.is_set():
            return

        async def _d():
            if self.xmpp.transport is None:
                return
            fut = self.xmpp.disconnect(wait=timeout)
            try:
                await asyncio.wait_for(asyncio.shield(fut), timeout)
            except asyncio.TimeoutError:
                self.xmpp.abort()
        try:
            self.loop.run(_d(), timeout + 2)
        except Exception:  # noqa: BLE001
            self.loop.call(self.xmpp.abort)
        self.disconnected.wait(timeout)

    def abort(self):
        if self.xmpp is not None and self.xmpp.transport is not None:
            self.loop.call(self.xmpp.abort)

    # ---- sending -------------------------------------------------------------
    def new_id(self):
        return "e2e-%s-%d" % (self.label, next(self._ids))

    def send_raw(self, xml):
        """Send a raw stanza string as is (stream default namespace applies)."""
        self.loop.call(self.xmpp.send_raw, xml)

    def iq(self, xml, timeout=DEFAULT_TIMEOUT):
        """Send an <iq/> given as raw XML (an id is added if missing) and return
        the reply stanza (result or error) as an element. Raises TimeoutError."""
        el = ET.fromstring(_with_client_ns(xml))
        if not el.get("id"):
            el.set("id", self.new_id())
        return self.loop.run(self._iq(el, timeout), timeout + 3)

    async def _iq(self, el, timeout):
        from slixmpp.exceptions import IqError, IqTimeout
        iq = self.xmpp.Iq(xml=el)
        try:
            reply = await iq.send(timeout=timeout)
        except IqError as e:
            reply = e.iq
        except IqTimeout:
            raise TimeoutError("%s: no reply to iq id=%s within %.1fs: %s"
                               % (self.jid, el.get("id"), timeout, xml_str(el)))
        # the copy kept by the 'in' filter is the raw received element
        rid = reply["id"]
        with self.cond:
            for s in reversed(self.stanzas):
                if s.tag == "{jabber:client}iq" and s.get("id") == rid and s.get("type") in ("result", "error"):
                    return s
        return copy.deepcopy(reply.xml)

    def query(self, to, ns, typ="get", inner="", node=None, timeout=DEFAULT_TIMEOUT):
        """<iq type=typ to=to><query xmlns=ns [node]>inner</query></iq> -> reply."""
        node_attr = " node='%s'" % node if node else ""
        return self.iq("<iq type='%s' to='%s'><query xmlns='%s'%s>%s</query></iq>"
                       % (typ, to, ns, node_attr, inner), timeout)

    def send_message(self, to, body=None, mtype="chat", extra="", mid=None):
        mid = mid or self.new_id()
        b = "" if body is None else "<body>%s</body>" % _xml_escape(body)
        self.send_raw("<message type='%s' to='%s' id='%s'>%s%s</message>" % (mtype, to, mid, b, extra))
        return mid

    def send_presence(self, to=None, ptype=None, extra=""):
        attrs = ""
        if to:
            attrs += " to='%s'" % to
        if ptype:
            attrs += " type='%s'" % ptype
        self.send_raw("<presence%s>%s</presence>" % (attrs, extra))

    # ---- receiving -----------------------------------------------------------
    def mark(self):
        with self.cond:
            return len(self.stanzas)

    def wait_stanza(self, pred, timeout=DEFAULT_TIMEOUT, since=0, what="stanza"):
        end = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.stanzas):
                    el = self.stanzas[i]
                    i += 1
                    try:
                        if pred(el):
                            return el
                    except Exception:  # noqa: BLE001  (a predicate on an odd stanza)
                        pass
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("%s: no %s within %.1fs; last received:\n%s"
                                       % (self.jid, what, timeout,
                                          "\n".join(_clip(t, 300) for t in self.transcript[-12:])))
                self.cond.wait(min(left, 0.5))

    def find_stanzas(self, pred, since=0):
        with self.cond:
            out = []
            for el in self.stanzas[since:]:
                try:
                    if pred(el):
                        out.append(el)
                except Exception:  # noqa: BLE001
                    pass
            return out

    def wait_message(self, frm=None, body=None, pred=None, timeout=DEFAULT_TIMEOUT, since=0,
                     bare_from=True):
        def p(el):
            if el.tag != "{jabber:client}message":
                return False
            if frm is not None:
                f = el.get("from", "")
                if (bare(f) if bare_from else f) != frm:
                    return False
            if body is not None and el.findtext("c:body", None, NS) != body:
                return False
            return pred(el) if pred else True
        return self.wait_stanza(p, timeout, since, "message from=%s body=%r" % (frm, body))

    def wait_presence(self, frm=None, ptype=None, pred=None, timeout=DEFAULT_TIMEOUT, since=0,
                      bare_from=False):
        """ptype None matches any type; use ptype='available' for no type attr."""
        def p(el):
            if el.tag != "{jabber:client}presence":
                return False
            if frm is not None:
                f = el.get("from", "")
                if (bare(f) if bare_from else f) != frm:
                    return False
            if ptype is not None and el.get("type", "available") != ptype:
                return False
            return pred(el) if pred else True
        return self.wait_stanza(p, timeout, since, "presence from=%s type=%s" % (frm, ptype))

    # ---- roster --------------------------------------------------------------
    def roster(self, timeout=DEFAULT_TIMEOUT):
        """Fresh roster from the server: {jid: item element}."""
        r = self.iq("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>", timeout)
        assert r.get("type") == "result", xml_str(r)
        return {i.get("jid"): i for i in r.findall("roster:query/roster:item", NS)}

    def wait_roster_item(self, jid, timeout=DEFAULT_TIMEOUT, since=0):
        """Wait until a roster result or push received by this client lists `jid`
        (not as removed); return the <item/> element."""
        found = []

        def p(el):
            if el.tag != "{jabber:client}iq" or el.get("type") not in ("result", "set"):
                return False
            for it in el.findall("roster:query/roster:item", NS):
                if it.get("jid") == jid and it.get("subscription") != "remove":
                    found.append(it)
                    return True
            return False
        self.wait_stanza(p, timeout, since, "roster item %s" % jid)
        return found[-1]

    def report(self, n=40):
        return "--- client %s transcript (tail)\n%s" % (
            self.jid, "\n".join(_clip(t) for t in self.transcript[-n:]))


def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------
# the rig: one Prosody, one causeway, clients
# --------------------------------------------------------------------------

class Rig:
    """Everything one test starts; stop() tears it down by PID."""

    def __init__(self, tmp_dir, privilege=True):
        self.dir = os.path.abspath(str(tmp_dir))
        self.privilege = privilege
        self.prosody = None
        self.causeways = []
        self.clients = []
        self.services = []   # other servers (IRC...): objects with stop() and report()

    def add_service(self, svc):
        """Track another server the test started: stopped after the causeways,
        its report() shown on failure."""
        self.services.append(svc)
        return svc

    def start_prosody(self, domain=GW_DOMAIN, offline=False, extra_hosts=(), before_start=None):
        """offline=True: with mod_offline (messages to offline users are kept);
        extra_hosts: more VirtualHosts; before_start(prosody): called after the
        users are registered, before Prosody starts (more accounts, data files)."""
        self.prosody = Prosody(os.path.join(self.dir, "prosody"), privilege=self.privilege,
                               domain=domain, offline=offline, extra_hosts=extra_hosts)
        self.prosody.register_all()
        if before_start is not None:
            before_start(self.prosody)
        self.prosody.start()
        return self.prosody

    def new_causeway(self, name="causeway", **kw):
        cw = Causeway(os.path.join(self.dir, name), self.prosody.comp, **kw)
        self.causeways.append(cw)
        return cw

    def start_causeway(self, supervisor=False, wait_connected=True, **kw):
        return self.new_causeway(**kw).start(supervisor=supervisor, wait_connected=wait_connected)

    def client(self, user, connect=True):
        host, pw = USERS[user]
        c = Client("%s@%s" % (user, host), pw, self.prosody.c2s, label=user)
        self.clients.append(c)
        if connect:
            c.connect()
        return c

    def stop(self):
        errors = []
        for c in self.clients:
            try:
                if c.is_connected():
                    c.disconnect(2.0)
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        for cw in self.causeways:
            try:
                st = cw.stop()
                # a clean shutdown on SIGTERM exits 0 (sanitizer/valgrind
                # findings at exit show up here as a non-zero status)
                if st not in (None, 0):
                    errors.append("causeway %s exited with status %s on SIGTERM" % (cw.cfg, st))
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        for svc in reversed(self.services):
            try:
                svc.stop()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        if self.prosody is not None:
            try:
                self.prosody.stop()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        return errors

    def report(self):
        parts = []
        for cw in self.causeways:
            parts.append(cw.report())
        for svc in self.services:
            parts.append(svc.report())
        if self.prosody is not None:
            parts.append(self.prosody.report())
        for c in self.clients:
            parts.append(c.report())
        return "\n".join(parts)


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


# --------------------------------------------------------------------------
# measurements (fault, abuse and soak tests)
# --------------------------------------------------------------------------

def figures_path():
    """Where record_figure() appends: $CAUSEWAY_FIGURES, else tests/e2e/.run/figures.txt."""
    return os.environ.get("CAUSEWAY_FIGURES") or os.path.join(HERE, ".run", "figures.txt")


def record_figure(text):
    """Print one measured figure ("FIGURE: ...", visible with pytest -s) and
    append the same line to figures_path()."""
    line = "FIGURE: %s" % text
    print(line, flush=True)
    path = figures_path()
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "a") as f:
            f.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), line))
    except OSError as e:
        print("(could not append to %s: %s)" % (path, e), flush=True)
    return line


def proc_rss_kb(pid):
    """Resident set size of pid in KiB (VmRSS), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def proc_fd_count(pid):
    """Number of open file descriptors of pid, or None."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None
