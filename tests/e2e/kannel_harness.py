"""Kannel (SMS) side of Causeway's end-to-end rig.

  Kannel            bearerbox + smsbox (Debian package kannel 1.4.5) from
                    fixtures/kannel.conf.in on free loopback ports, and
                    fakesmsc (package kannel-extras) as the fake SMS centre:
                    send_mo() makes it inject a mobile-originated SMS, every
                    mobile-terminated SMS it receives is parsed into a dict and
                    kept in a list guarded by a condition variable (wait_mt).
  CallbackRecorder  a tiny HTTP server (http.server in a thread) that records
                    the MO and DLR requests Kannel makes (wait_mo, wait_dlr);
                    the real tests point Kannel at Causeway's listener instead.

Facts about Kannel 1.4.5 this relies on (checked on Debian bookworm):

  sendsms   GET http://127.0.0.1:PORT/cgi-bin/sendsms?username=U&password=P
            &from=F&to=T&text=X[&coding=2&charset=UTF-8][&dlr-mask=31
            &dlr-url=URL-ENCODED-URL] -> 202 "0: Accepted for delivery" (no
            message id in the answer: put your own id into the dlr-url).
            text is UTF-8 unless charset says otherwise; with coding=0 text
            outside the GSM alphabet becomes "?".
  fakesmsc  reads one MO per line on stdin, "SENDER RECEIVER TYPE REST":
            "text <literal rest of line>" (coding 0; UTF-8 bytes pass as they
            are), "ucs2 <URL-encoded UTF-16BE>" (coding 2), "data <URL-encoded
            bytes>" (coding 1), "udh <URL-encoded UDH> <URL-encoded data>",
            "dlr-mask N <text>", "route BOXID <text>" ("utf8" is NOT known to
            1.4.5: the line is ignored with a warning). Lines longer than 254
            bytes are cut by its fgets(256) buffer. It reads stdin only when
            select() says the fd is readable and then takes ONE line from the
            stdio buffer: lines written together wait until the next write, so
            write one line and wait for its "fakesmsc: sent message N" before
            the next (send_mo does).
            Each MT from bearerbox is logged (stderr, -v 0) as
            "... DEBUG: Got message N: <SENDER RECEIVER TYPE REST>" with TYPE
            "text" (literal UTF-8 text), "data" (URL-encoded bytes, coding 1),
            "ucs-2" (note the dash; URL-encoded UTF-16BE, coding 2) or
            "udh <URL-encoded UDH> data <URL-encoded bytes>" (parts of a
            concatenated MT). A newline in a 7-bit MT splits it into two
            "Got message" lines (joined again here). fakesmsc only looks at
            the bearerbox socket when its 1 s stdin select() times out or a
            line was read, so an MT would show up up to ~1 s late: wait_mt
            "pokes" it with empty lines (ignored by fakesmsc) every 0.1 s.
  DLR       smsc_fake makes the DLRs itself: type 8 (SMSC submit, %A = "ACK/")
            once the MT is written to fakesmsc, then type 1 (delivered, %F = a
            UUID, the MT's internal id; %A empty). In a DLR %p is the MT's receiver and %P
            its sender (swapped); %I is the DLR's own id.
  MO        the sms-service GETs MO_URL?sender=%p&receiver=%P&text=%b
            &coding=%c&charset=%C&id=%I&ts=%T&smsc=%i&udh=%u&dcs=%O; text is the
            exact bytes URL-encoded: UTF-8 with coding=0/charset=UTF-8, UTF-16BE
            with coding=2/charset=UTF-16BE (mo_recode=False, the default here)
            or UTF-8 with coding=0/charset=UTF-8 when mo_recode=True. When
            the URL answers non-2xx or cannot be reached smsbox logs it and
            drops the MO: no retry (http-request-retry is 0) and no SMS back.
  long MT   concatenation = true: parts "udh %05%00%03REF%02%01 data ..." with
            153 7-bit characters (as UTF-8) or 134 bytes of UTF-16BE each.
  boxes     each process can be stopped, killed (-9) and started on its own
            (stop_/kill_/start_ bearerbox, smsbox, fakesmsc;
            restart_after_bearerbox_crash). What the others do meanwhile:
            - bearerbox gone (SIGTERM or -9): fakesmsc exits at once (its
              socket closed); smsbox logs "Bearerbox is gone, restarting",
              "smsbox terminating" and then hangs: still alive, sendsms port
              closed, it never reconnects. So a bearerbox restart means
              killing smsbox too and starting bearerbox, smsbox, fakesmsc
              in this order (restart_after_bearerbox_crash does).
            - smsbox starting: its sendsms port opens before it is
              connected to bearerbox; a sendsms in that window makes it
              PANIC (start_smsbox starts it again).
            - bearerbox kill -9 during a burst of 500 sendsms (8 in
              parallel, each retried until 202; store-type = file): all
              500 reached fakesmsc, none twice (checked by hand): duplicates
              in a Causeway test are Causeway's.
            - smsbox gone: sendsms is refused (connection refused), MTs
              bearerbox has stay queued there; bearerbox keeps running.
            - fakesmsc gone: sendsms still answers 202 "3: Queued for later
              delivery"; bearerbox keeps the MT (and makes no DLR) until a
              fakesmsc is connected again.
            fakesmsc single-client pitfall: bearerbox's fake SMSC serves ONE
            client at a time and a second connection is not refused but
            waits, silently, until the first one closes. So never start a
            second fakesmsc (or probe the port) while one is connected: stop
            or kill the old one first and wait for it to be gone
            (start_fakesmsc asserts that); MTs that would go to the waiting
            client are not lost, they wait in bearerbox.
"""
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import FIXTURES, Proc, free_ports, pids_with_arg, tail, terminate_pid, wait_until

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
FAKESMSC_LINE_MAX = 254          # fgets(buf, 256): the line plus "\n" plus NUL
POKE_INTERVAL = 0.1              # while waiting for fakesmsc, wake it this often
T = 10.0


# --------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------

def port_listening(port):
    """Is some socket LISTENing on TCP port `port`? Read from /proc/net/tcp*
    instead of connecting: a probe connection would be taken by Kannel as a
    box or (worse, it serves one client at a time) as the fakesmsc client."""
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) > 3 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def url_decode_bytes(s):
    """Kannel's octstr_url_decode: '+' is a space, %XX a byte."""
    if isinstance(s, str):
        s = s.encode("latin-1")
    return urllib.parse.unquote_to_bytes(s.replace(b"+", b" "))


def _file_count(path, needle):
    try:
        with open(path, "rb") as f:
            return f.read().count(needle)
    except OSError:
        return 0


def decode_sms(data, coding=None, charset=None):
    """Text of an SMS body given Kannel's coding (0/1/2) and charset name."""
    cs = (charset or "").strip().upper()
    if str(coding) == "2" or cs in ("UTF-16BE", "UCS-2", "UCS-2BE"):
        return data.decode("utf-16-be", "surrogatepass")
    if cs in ("", "GSM", "UTF-8"):
        return data.decode("utf-8")
    if cs == "BINARY":
        return data.decode("latin-1")
    return data.decode(cs)


# --------------------------------------------------------------------------
# HTTP callbacks Kannel makes (MO, DLR)
# --------------------------------------------------------------------------

class HttpRequest:
    """One request the recorder got: method, path, query (list of (name,
    bytes)), headers, body, t (seconds since the recorder started)."""

    def __init__(self, method, target, headers, body, t):
        self.method, self.target, self.headers, self.body, self.t = method, target, headers, body, t
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        # latin-1 keeps every %XX byte as one character: exact bytes back
        self.query = [(k, v.encode("latin-1")) for k, v in
                      urllib.parse.parse_qsl(parsed.query, keep_blank_values=True, encoding="latin-1")]

    def raw(self, name, default=None):
        """Bytes of the last query parameter `name`."""
        for k, v in reversed(self.query):
            if k == name:
                return v
        return default

    def param(self, name, default=None):
        v = self.raw(name)
        return default if v is None else v.decode("utf-8", "replace")

    @property
    def params(self):
        return {k: v.decode("utf-8", "replace") for k, v in self.query}

    def __repr__(self):
        return "HttpRequest(%s %s)" % (self.method, harness._clip(self.target, 300))


def parse_mo(req):
    """The MO fields the sms-service of fixtures/kannel.conf.in sends: sender,
    receiver, text (decoded by coding/charset), coding (int), charset, id, ts
    (int), smsc, udh (bytes), dcs, raw_text (the exact bytes)."""
    raw_text = req.raw("text", b"")
    coding = int(req.param("coding") or 0)
    charset = req.param("charset", "")
    try:
        text = decode_sms(raw_text, coding, charset)
    except (UnicodeDecodeError, LookupError):
        text = None
    ts = req.param("ts")
    return {"sender": req.param("sender"), "receiver": req.param("receiver"), "text": text,
            "coding": coding, "charset": charset, "id": req.param("id"),
            "ts": int(ts) if ts and ts.isdigit() else None, "smsc": req.param("smsc"),
            "udh": req.raw("udh", b""), "dcs": req.param("dcs"), "raw_text": raw_text,
            "request": req}


def parse_dlr(req):
    """All query parameters of a DLR request as str, plus type (int or None)."""
    d = dict(req.params)
    t = d.get("type")
    d["type"] = int(t) if t and t.lstrip("-").isdigit() else None
    d["request"] = req
    return d


class CallbackRecorder:
    """HTTP server on 127.0.0.1:free port recording every request.

    MO requests are expected on /mo (mo_url), DLRs on /dlr (dlr_url()).
    status (int, or a function of the HttpRequest) is the answer's status,
    body (bytes, or a function of the HttpRequest) its body (text/plain)."""

    def __init__(self, port=None, host="127.0.0.1", label="kannel-callbacks"):
        self.host = host
        self.port = port or free_ports(1)[0]
        self.label = label
        self.status = 200
        self.body = b""
        self.requests = []
        self.cond = threading.Condition()
        self._server = None
        self._thread = None
        self.t0 = time.monotonic()

    # ---- server --------------------------------------------------------------
    def start(self):
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n > 0 else b""
                req = HttpRequest(self.command, self.path, dict(self.headers.items()), body,
                                  time.monotonic() - rec.t0)
                with rec.cond:
                    rec.requests.append(req)
                    rec.cond.notify_all()
                status = rec.status(req) if callable(rec.status) else rec.status
                answer = rec.body(req) if callable(rec.body) else rec.body
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if answer:
                    self.wfile.write(answer)

            do_GET = do_POST = _handle

            def log_message(self, *_a):
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=self.label, daemon=True)
        self._thread.start()
        return self

    def alive(self):
        return self._thread is not None and self._thread.is_alive()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def report(self, n=20):
        with self.cond:
            got = self.requests[-n:]
        return "--- %s on port %d (last %d requests)\n%s" % (
            self.label, self.port, len(got),
            "\n".join("%8.3f %s %s" % (r.t, r.method, harness._clip(r.target, 400)) for r in got))

    # ---- addresses -----------------------------------------------------------
    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    @property
    def mo_url(self):
        return self.url("/mo")

    def dlr_url(self, **extra):
        return dlr_url(self.url("/dlr"), **extra)

    # ---- waiting -------------------------------------------------------------
    def mark(self):
        with self.cond:
            return len(self.requests)

    def received(self, since=0):
        with self.cond:
            return list(self.requests[since:])

    def wait(self, pred, timeout=T, since=0, what="request"):
        """The first request from index `since` on for which pred(req) holds."""
        end = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.requests):
                    r = self.requests[i]
                    i += 1
                    try:
                        if pred(r):
                            return r
                    except (KeyError, ValueError, TypeError, AttributeError):
                        pass
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("%s: no %s within %.1fs; got:\n%s" % (
                        self.label, what, timeout,
                        "\n".join(harness._clip(repr(r), 300) for r in self.requests[-10:])))
                self.cond.wait(min(left, 0.5))

    def wait_mo(self, pred=None, timeout=T, since=0, what="MO request"):
        """The next MO (parse_mo dict) on /mo matching pred(dict)."""
        r = self.wait(lambda q: q.path == "/mo" and (pred is None or pred(parse_mo(q))),
                      timeout, since, what)
        return parse_mo(r)

    def wait_dlr(self, pred=None, timeout=T, since=0, what="DLR request"):
        """The next DLR (parse_dlr dict) on /dlr matching pred(dict)."""
        r = self.wait(lambda q: q.path == "/dlr" and (pred is None or pred(parse_dlr(q))),
                      timeout, since, what)
        return parse_dlr(r)

    def mos(self, since=0):
        return [parse_mo(r) for r in self.received(since) if r.path == "/mo"]

    def dlrs(self, since=0):
        return [parse_dlr(r) for r in self.received(since) if r.path == "/dlr"]


DLR_ESCAPES = "type=%d&id=%I&fid=%F&answer=%A&from=%p&to=%P&smsc=%i&ts=%T"
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._~-]*$")


def dlr_url(base, **extra):
    """A dlr-url for sendsms: base?EXTRA&type=%d&id=%I&fid=%F&answer=%A&from=%p
    &to=%P&smsc=%i&ts=%T. Every % in a dlr-url is a Kannel escape code, so
    the extra values (your own message ids) must not need URL-encoding."""
    for k, v in extra.items():
        assert _SAFE_VALUE.match(k) and _SAFE_VALUE.match(str(v)), \
            "dlr-url parameter %r=%r needs URL-encoding: a %% would be a Kannel escape" % (k, v)
    q = "".join("%s=%s&" % (k, v) for k, v in extra.items()) + DLR_ESCAPES
    return base + ("&" if "?" in base else "?") + q


# --------------------------------------------------------------------------
# fakesmsc
# --------------------------------------------------------------------------

_GOT_RE = re.compile(rb"(?:DEBUG|INFO): Got message (\d+): <(.*)>$")
_SENT_RE = re.compile(rb"(?:DEBUG|INFO): fakesmsc: sent message (\d+)$")
_MT_RE = re.compile(rb"^(\S+) (\S+) (text|data|ucs-2|udh) (.*)$", re.S)


def parse_mt(payload, n=None):
    """One MT line as fakesmsc prints it -> dict(n, sender, receiver, type,
    coding, text, data, udh, concat, raw), or None if it is no MT line.
    concat is (ref, total, seq) for a part of a concatenated SMS."""
    m = _MT_RE.match(payload)
    if not m:
        return None
    sender, receiver, typ, rest = m.groups()
    d = {"n": n, "sender": sender.decode("utf-8", "replace"),
         "receiver": receiver.decode("utf-8", "replace"), "type": typ.decode(),
         "coding": None, "text": None, "data": None, "udh": None, "concat": None, "raw": payload}
    if typ == b"text":
        d.update(coding=0, data=rest, text=rest.decode("utf-8", "replace"))
    elif typ == b"data":
        d.update(coding=1, data=url_decode_bytes(rest))
    elif typ == b"ucs-2":
        data = url_decode_bytes(rest)
        d.update(coding=2, data=data, text=data.decode("utf-16-be", "surrogatepass"))
    else:   # udh <udh> data <data>: coding unknown (7-bit parts hold UTF-8, UCS-2 parts UTF-16BE)
        parts = rest.split(b" ")
        if len(parts) == 3 and parts[1] == b"data":
            udh = url_decode_bytes(parts[0])
            d.update(udh=udh, data=url_decode_bytes(parts[2]), concat=_concat_info(udh))
    return d


def _concat_info(udh):
    """(ref, total, seq) from a concatenation UDH (IEI 0x00 or 0x08), else None."""
    if not udh:
        return None
    i, end = 1, min(len(udh), 1 + udh[0])
    while i + 1 < end:
        iei, ln = udh[i], udh[i + 1]
        v = udh[i + 2:i + 2 + ln]
        if iei == 0 and ln == 3:
            return v[0], v[1], v[2]
        if iei == 8 and ln == 4:
            return (v[0] << 8) | v[1], v[2], v[3]
        i += 2 + ln
    return None


class FakeSmsc(Proc):
    """/usr/lib/kannel/test/fakesmsc in interactive mode: stdin is a FIFO in
    the run dir (kept open by us, so `echo "1 2 text hi" > DIR/fakesmsc.in`
    works too), stdout+stderr go through a reader thread to the log file and
    the MT parser."""

    def __init__(self, run_dir, port, on_line):
        self.dir = run_dir
        self.fifo = os.path.join(run_dir, "fakesmsc.in")
        if os.path.exists(self.fifo):
            os.unlink(self.fifo)
        os.mkfifo(self.fifo, 0o600)
        # O_RDWR: opening does not wait for a reader, and fakesmsc never sees EOF
        self.fifo_fd = os.open(self.fifo, os.O_RDWR)
        self.argv = [FAKESMSC, "-H", "127.0.0.1", "-r", str(port), "-i", "0", "-v", "0"]
        self.log_path = os.path.join(run_dir, "fakesmsc.log")
        self._logf = open(self.log_path, "ab", buffering=0)
        self._wlock = threading.Lock()
        self.on_line = on_line
        self.popen = subprocess.Popen(self.argv, stdin=self.fifo_fd, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid
        self.eof = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, name="fakesmsc-%d" % self.pid,
                                        daemon=True)
        self._reader.start()

    def _read_loop(self):
        try:
            for line in iter(self.popen.stdout.readline, b""):
                with self._wlock:
                    if not self._logf.closed:
                        self._logf.write(line)
                self.on_line(line.rstrip(b"\n"))
        except (OSError, ValueError):
            pass
        finally:
            self.eof.set()
            self.on_line(None)

    def write_line(self, line):
        os.write(self.fifo_fd, line + b"\n")

    def poke(self):
        """An empty line: fakesmsc ignores it, but its select() on stdin wakes
        up, so it reads what bearerbox sent and the next line in its stdio
        buffer now instead of after its 1 s timeout (or never)."""
        if self.fifo_fd is not None and self.alive():
            try:
                os.write(self.fifo_fd, b"\n")
            except OSError:
                pass

    def close(self):
        self._reader.join(3)
        with self._wlock:
            if not self._logf.closed:
                self._logf.close()
        if self.popen.stdout is not None and not self._reader.is_alive():
            self.popen.stdout.close()
        if self.fifo_fd is not None:
            os.close(self.fifo_fd)
            self.fifo_fd = None


# --------------------------------------------------------------------------
# Kannel
# --------------------------------------------------------------------------

class Kannel:
    """bearerbox + smsbox + fakesmsc in run_dir, MO SMS forwarded to mo_url."""

    ADMIN_PASSWORD = "kanneladmin"

    def __init__(self, run_dir, mo_url, username="causeway", password="sendsmspw", mo_recode=False,
                 http_retry=0, http_queue_delay=1):
        self.dir = os.path.abspath(str(run_dir))
        os.makedirs(self.dir, exist_ok=True)
        self.mo_url = mo_url
        self.username, self.password = username, password
        self.mo_recode = mo_recode
        # smsbox's http-request-retry / http-queue-delay for the MO and DLR URLs
        self.http_retry, self.http_queue_delay = http_retry, http_queue_delay
        self.admin_port, self.smsbox_port, self.sendsms_port, self.fakesmsc_port = free_ports(4)
        self.cfg = os.path.join(self.dir, "kannel.conf")
        self.bearerbox_log = os.path.join(self.dir, "bearerbox.log")
        self.smsbox_log = os.path.join(self.dir, "smsbox.log")
        self.bearerbox = self.smsbox = self.fakesmsc = None
        self.smsbox_panics = 0          # smsbox starts that panicked (start_smsbox)
        self.mts = []                   # parsed MT dicts, in arrival order
        self.cond = threading.Condition()
        self._sent = 0                  # MOs fakesmsc reports as sent (this fakesmsc)
        self._mo_lock = threading.Lock()
        self._write_config()

    def _write_config(self):
        with open(os.path.join(FIXTURES, "kannel.conf.in")) as f:
            t = f.read()
        for ch in ('"', "\n", " "):
            assert ch not in self.mo_url, "mo_url %r has a %r" % (self.mo_url, ch)
        if "?" in self.mo_url:
            t = t.replace("@MO_URL@?", "@MO_URL@&")
        subst = {
            "@DIR@": self.dir, "@ADMIN_PORT@": str(self.admin_port),
            "@ADMIN_PASSWORD@": self.ADMIN_PASSWORD, "@SMSBOX_PORT@": str(self.smsbox_port),
            "@SENDSMS_PORT@": str(self.sendsms_port), "@FAKESMSC_PORT@": str(self.fakesmsc_port),
            "@SENDSMS_USER@": self.username, "@SENDSMS_PASSWORD@": self.password,
            "@MO_URL@": self.mo_url, "@MO_RECODE@": "true" if self.mo_recode else "false",
            "@HTTP_RETRY@": str(self.http_retry), "@HTTP_QUEUE_DELAY@": str(self.http_queue_delay),
        }
        for k, v in subst.items():
            t = t.replace(k, v)
        assert "@" not in re.sub(r"(?m)^#.*$", "", t), "unsubstituted placeholder in kannel.conf"
        with open(self.cfg, "w") as f:
            f.write(t)
        store = os.path.join(self.dir, "bearerbox.store")
        if not os.path.exists(store):
            open(store, "wb").close()

    # ---- addresses -----------------------------------------------------------
    @property
    def sendsms_url(self):
        return "http://127.0.0.1:%d/cgi-bin/sendsms" % self.sendsms_port

    @property
    def admin_url(self):
        return "http://127.0.0.1:%d" % self.admin_port

    # ---- processes -----------------------------------------------------------
    def _check_alive(self, proc, name, log):
        if not proc.alive():
            raise RuntimeError("%s exited early with %s:\n%s\n--- %s\n%s" % (
                name, proc.returncode, tail(proc.log_path, 20), log, tail(log, 30)))

    def start_bearerbox(self, timeout=T):
        assert self.bearerbox is None or not self.bearerbox.alive(), "bearerbox already running"
        ports = (self.admin_port, self.smsbox_port, self.fakesmsc_port)
        wait_until(lambda: not any(port_listening(p) for p in ports), 5, "Kannel ports to be free")
        # -v: what goes to stdout (bearerbox.out: startup errors); the log file has everything
        self.bearerbox = Proc(["bearerbox", "-v", "2", self.cfg], os.path.join(self.dir, "bearerbox.out"))

        def up():
            self._check_alive(self.bearerbox, "bearerbox", self.bearerbox_log)
            return all(port_listening(p) for p in ports)
        wait_until(up, timeout, "bearerbox ports %s" % (ports,))
        return self

    def start_smsbox(self, timeout=T, attempts=5):
        """Start smsbox and wait until it is connected to bearerbox. smsbox
        opens its sendsms port before it has connected to bearerbox, and a
        sendsms in that window makes it PANIC ("gwlib/conn.c:199: lock_out:
        Assertion `conn != NULL' failed"): with a client retrying all the
        time (Causeway while Kannel was down) that happens, so a smsbox that
        panics at startup is started again, up to `attempts` times."""
        assert self.smsbox is None or not self.smsbox.alive(), "smsbox already running"
        for attempt in range(1, attempts + 1):
            needle = b"INFO: Connected to bearerbox at"
            before = _file_count(self.smsbox_log, needle)
            panics = _file_count(self.smsbox_log, b"PANIC:")
            self.smsbox = Proc(["smsbox", "-v", "2", self.cfg], os.path.join(self.dir, "smsbox.out"))

            def up():
                self._check_alive(self.smsbox, "smsbox", self.smsbox_log)
                return port_listening(self.sendsms_port) and _file_count(self.smsbox_log, needle) > before
            try:
                wait_until(up, timeout, "smsbox on port %d connected to bearerbox" % self.sendsms_port)
                return self
            except RuntimeError:
                self.smsbox.close()
                if attempt == attempts or _file_count(self.smsbox_log, b"PANIC:") == panics:
                    raise
                self.smsbox_panics += 1
        return self

    def start_fakesmsc(self, timeout=T):
        assert self.fakesmsc is None or not self.fakesmsc.alive(), "fakesmsc already running"
        needle = b"Fakesmsc client connected from"
        before = _file_count(self.bearerbox_log, needle)
        with self.cond:
            self._sent = 0
        self.fakesmsc = FakeSmsc(self.dir, self.fakesmsc_port, self._on_fakesmsc_line)

        def up():
            self._check_alive(self.fakesmsc, "fakesmsc", self.bearerbox_log)
            return _file_count(self.bearerbox_log, needle) > before
        wait_until(up, timeout, "fakesmsc connected to bearerbox port %d" % self.fakesmsc_port)
        return self

    def start(self, timeout=T):
        self.start_bearerbox(timeout)
        self.start_smsbox(timeout)
        self.start_fakesmsc(timeout)
        return self

    def alive(self):
        return all(p is not None and p.alive() for p in (self.bearerbox, self.smsbox, self.fakesmsc))

    # ---- one box at a time ----------------------------------------------------
    def stop_fakesmsc(self):
        """SIGTERM (SIGKILL after 5 s); MTs wait in bearerbox meanwhile."""
        if self.fakesmsc is not None:
            self.fakesmsc.stop()

    def kill_fakesmsc(self):
        if self.fakesmsc is not None:
            self.fakesmsc.kill()
            self.fakesmsc.close()

    def stop_smsbox(self):
        if self.smsbox is not None:
            self.smsbox.stop()

    def kill_smsbox(self):
        if self.smsbox is not None:
            self.smsbox.kill()
            self.smsbox.close()

    def stop_bearerbox(self):
        """SIGTERM bearerbox (fakesmsc exits with it; smsbox hangs: see the
        module docstring); the MTs it holds are in bearerbox.store."""
        if self.bearerbox is not None:
            self.bearerbox.stop()
        self._reap_fakesmsc()

    def kill_bearerbox(self):
        """kill -9 bearerbox, as a crash would."""
        if self.bearerbox is not None:
            self.bearerbox.kill()
            self.bearerbox.close()
        self._reap_fakesmsc()

    def _reap_fakesmsc(self):
        if self.fakesmsc is not None:
            try:
                self.fakesmsc.wait(5)     # it exits when bearerbox closes its socket
            except TimeoutError:
                self.fakesmsc.kill()
            self.fakesmsc.close()

    def stop_all(self):
        """Every box down (SIGTERM), in the order fakesmsc, smsbox, bearerbox."""
        self.stop_fakesmsc()
        self.stop_smsbox()
        self.stop_bearerbox()

    def restart_after_bearerbox_crash(self, timeout=T):
        """After bearerbox died: the hung smsbox goes (SIGKILL), then
        bearerbox, smsbox and fakesmsc are started again."""
        self.kill_smsbox()
        if self.fakesmsc is not None and self.fakesmsc.alive():
            self.kill_fakesmsc()
        return self.start(timeout)

    def stop(self):
        """fakesmsc, smsbox, bearerbox: SIGTERM (SIGKILL after 5 s) by PID."""
        for p in (self.fakesmsc, self.smsbox, self.bearerbox):
            if p is not None:
                p.stop()
        for pid in pids_with_arg(self.cfg):    # nothing should be left; by our own config path
            terminate_pid(pid)

    def report(self, n=40):
        parts = []
        for name, p, log in (("bearerbox", self.bearerbox, self.bearerbox_log),
                             ("smsbox", self.smsbox, self.smsbox_log),
                             ("fakesmsc", self.fakesmsc, None)):
            if p is None:
                parts.append("--- %s: not started" % name)
                continue
            st = "running (pid %d)" % p.pid if p.alive() else "exited with %s" % p.returncode
            parts.append("--- %s [%s] %s (tail)\n%s" % (name, st, p.log_path, tail(p.log_path, 15 if log else n)))
            if log:
                parts.append("--- %s (tail)\n%s" % (log, tail(log, n)))
        acc = os.path.join(self.dir, "smsbox-access.log")
        parts.append("--- %s (tail: sendsms requests, MO/DLR URLs and their answers)\n%s"
                     % (acc, tail(acc, 12)))
        with self.cond:
            mts = self.mts[-10:]
        parts.append("--- MTs seen by fakesmsc (last %d)\n%s" % (
            len(mts), "\n".join(harness._clip(repr(m["raw"]), 300) for m in mts)))
        return "\n".join(parts)

    # ---- fakesmsc output -----------------------------------------------------
    def _on_fakesmsc_line(self, line):
        with self.cond:
            if line is None:
                self.cond.notify_all()
                return
            m = _SENT_RE.search(line)
            if m:
                self._sent = max(self._sent, int(m.group(1)))
                self.cond.notify_all()
                return
            m = _GOT_RE.search(line)
            if not m:
                return
            n, payload = int(m.group(1)), m.group(2)
            mt = parse_mt(payload, n)
            if mt is None and self.mts and self.mts[-1]["type"] == "text":
                # a newline in a 7-bit MT: fakesmsc logged the rest as a new "message"
                prev = self.mts[-1]
                prev["data"] += b"\n" + payload
                prev["text"] = prev["data"].decode("utf-8", "replace")
                prev["raw"] += b"\n" + payload
            elif mt is not None:
                self.mts.append(mt)
            self.cond.notify_all()

    # ---- MO: the phone sends --------------------------------------------------
    def send_line(self, line, timeout=T):
        """Hand fakesmsc one raw input line (str or bytes, no newline) and wait
        until it has sent it to bearerbox."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        assert b"\n" not in line and b"\r" not in line, "fakesmsc input line with CR/LF: %r" % line
        if len(line) > FAKESMSC_LINE_MAX:
            raise ValueError("fakesmsc line of %d bytes (max %d: fgets(256)): %r"
                             % (len(line), FAKESMSC_LINE_MAX, line[:80]))
        assert self.fakesmsc is not None and self.fakesmsc.alive(), "fakesmsc is not running"
        with self._mo_lock:
            with self.cond:
                want = self._sent + 1
            self.fakesmsc.write_line(line)
            end = time.monotonic() + timeout
            with self.cond:
                while self._sent < want:
                    left = end - time.monotonic()
                    if left <= 0 or self.fakesmsc.eof.is_set():
                        raise TimeoutError("fakesmsc did not send %r within %.1fs (eof: %s):\n%s"
                                           % (line, timeout, self.fakesmsc.eof.is_set(),
                                              tail(self.fakesmsc.log_path, 10)))
                    self.cond.wait(min(left, POKE_INTERVAL))
                    if self._sent < want:
                        # our line may sit in fakesmsc's stdio buffer behind
                        # a poke of wait_mt's: another poke gets it out
                        self.fakesmsc.poke()

    def send_mo(self, sender, receiver, text, ucs2=False, timeout=T):
        """Make fakesmsc inject an MO SMS: "sender receiver text TEXT" (coding 0;
        the UTF-8 bytes of text as they are) or, with ucs2, "sender receiver
        ucs2 URL-ENCODED-UTF-16BE" (coding 2)."""
        for v in (sender, receiver):
            assert v and not re.search(r"\s", v), "bad number %r" % v
        if ucs2:
            body = "ucs2 " + urllib.parse.quote_from_bytes(text.encode("utf-16-be", "surrogatepass"), safe="")
        else:
            body = "text " + text
        self.send_line("%s %s %s" % (sender, receiver, body), timeout)

    # ---- MT: the phone receives -----------------------------------------------
    def mark(self):
        with self.cond:
            return len(self.mts)

    def received_mts(self, since=0):
        with self.cond:
            return list(self.mts[since:])

    def wait_mt(self, pred=None, timeout=T, since=0, what=None):
        """The first MT (parse_mt dict) from index `since` on for which pred
        holds (any MT without pred); raise TimeoutError."""
        what = what or "MT"
        end = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.mts):
                    mt = self.mts[i]
                    i += 1
                    try:
                        if pred is None or pred(mt):
                            return mt
                    except (KeyError, TypeError, AttributeError, ValueError):
                        pass
                left = end - time.monotonic()
                dead = self.fakesmsc is None or self.fakesmsc.eof.is_set()
                if left <= 0 or dead:
                    raise TimeoutError("no %s at fakesmsc within %.1fs%s; MTs seen:\n%s" % (
                        what, timeout, " (fakesmsc gone)" if dead else "",
                        "\n".join(harness._clip(repr(m["raw"]), 300) for m in self.mts[-10:])))
                self._poke()
                self.cond.wait(min(left, POKE_INTERVAL))

    def wait_mts(self, n, pred=None, timeout=T, since=0, what=None):
        """Wait until n MTs match; return them in arrival order."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [m for m in self.mts[since:] if pred is None or pred(m)]
                if len(hits) >= n:
                    return hits[:n]
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("only %d of %d %s within %.1fs" % (len(hits), n, what or "MTs", timeout))
                self._poke()
                self.cond.wait(min(left, POKE_INTERVAL))

    def _poke(self):
        if self.fakesmsc is not None:
            self.fakesmsc.poke()

    # ---- sendsms (what Causeway will do) ----------------------------------------
    def sendsms(self, to, text, frm=None, params=None, timeout=T):
        """GET sendsms as our sendsms-user; (HTTP status, body). params: more
        CGI variables, e.g. {"coding": 2, "charset": "UTF-8", "dlr-mask": 31,
        "dlr-url": url} (urlencode takes care of the URL-encoding)."""
        q = {"username": self.username, "password": self.password, "to": to, "text": text}
        if frm is not None:
            q["from"] = frm
        q.update(params or {})
        url = self.sendsms_url + "?" + urllib.parse.urlencode(q)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
