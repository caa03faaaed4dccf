"""A hostile IRC server for Causeway's end-to-end tests: scripted, bounded, recording.

HostileIrcd listens on a free loopback port. The gateway connects to it like
to any IRC server. Each connection gets a plausible registration (CAP LS /
REQ / ACK / END when `caps` is not None, else none; then 001-005 and a MOTD),
and every JOIN from the gateway is answered with the JOIN echo, 353 and 366.
Right after the first successful JOIN of the first connection (or right after
registration, or at once on connect: see `play_at`), the server plays its
scenario: a list of steps (below). Later connections (the gateway
reconnecting) only get the plausible part, so a test can check that the
gateway comes back.

Steps (tuples):
  ("send", b"...")            bytes as they are (no CRLF added)
  ("line", b"...")            one line, CRLF appended
  ("lines", [b"...", ...])    several lines in one write
  ("stop_reading",)           never read from this socket again
  ("resume_reading",)         read again
  ("slow_reading", size, pause)
                              from now on read at most size bytes, then
                              sleep pause seconds, again and again
  ("flood", b"line", count, seconds)
                              the line (CRLF appended) again and again, until
                              count lines or seconds have passed or the peer
                              closed; writes in batches
  ("flood_gen", fn, count, seconds)
                              like flood, fn(i) -> the line (bytes) number i
  ("gate", "name")            wait until the test calls release("name")
  ("wait_line", regex, seconds)
                              wait for a received line matching (bytes regex)
  ("close",)                  close the socket (FIN)
  ("reset",)                  close with SO_LINGER 0 (RST)
  ("call", fn)                fn(conn): anything else, e.g. sample RSS

Bounds: the whole server stops by itself after `max_seconds`, accepts at most
`max_conns` connections (later ones are closed at once), keeps at most
`keep_lines` received lines per connection (counting the rest), and every
flood has a count and a time limit. stop() closes everything and joins the
threads.

What it received is recorded per connection (Conn.lines, Conn.counts by
command, Conn.bytes_in); steps that ran and their results in Conn.log.
Plain sockets and threads: one thread per connection plays the script, one
reads.
"""
import re
import select
import socket
import struct
import threading
import time

CRLF = b"\r\n"


class Conn:
    """One accepted connection."""

    def __init__(self, server, sock, index):
        self.server = server
        self.sock = sock
        self.index = index
        self.lines = []          # received lines (bytes, without CR/LF), at most keep_lines
        self.counts = {}         # command (str, upper) -> lines received
        self.bytes_in = 0
        self.bytes_out = 0
        self.nick = None
        self.user = None
        self.joined = []         # channels answered with 366
        self.log = []            # what the script did
        self.cond = threading.Condition()
        self.closed = threading.Event()      # we closed it, or the peer did
        self.peer_closed = threading.Event()
        self.stop_reading = threading.Event()
        self.registered = threading.Event()  # 001 sent
        self.join_done = threading.Event()   # first JOIN answered (366 sent)
        self.played = threading.Event()      # scenario finished on this connection
        self.plays = False
        self.read_size, self.read_pause = 65536, 0.0
        self._wlock = threading.Lock()
        self._buf = b""
        self.reader = threading.Thread(target=self._read_loop, name="hostile-read-%d" % index,
                                       daemon=True)
        self.script = threading.Thread(target=self._script, name="hostile-script-%d" % index,
                                       daemon=True)

    # ---- reading ----------------------------------------------------------
    def _read_loop(self):
        try:
            while not self.closed.is_set() and not self.server.halt.is_set():
                if self.stop_reading.is_set():
                    # not reading (until a resume_reading step, if any)
                    self.closed.wait(0.1)
                    continue
                r, _, _ = select.select([self.sock], [], [], 0.05)
                if not r or self.stop_reading.is_set():
                    continue
                data = self.sock.recv(self.read_size)
                if self.read_pause:
                    time.sleep(self.read_pause)     # a slow reader, on purpose
                if not data:
                    self.peer_closed.set()
                    break
                self.bytes_in += len(data)
                parts = (self._buf + data).split(b"\n")
                self._buf = parts.pop()
                for raw in parts:
                    self._got(raw.rstrip(b"\r"))
                if len(self._buf) > 1 << 20:     # the gateway never sends such lines
                    self._buf = b""
        except (OSError, ValueError):
            self.peer_closed.set()
        finally:
            with self.cond:
                self.cond.notify_all()

    def _got(self, raw):
        cmd = _command(raw)
        with self.cond:
            self.counts[cmd] = self.counts.get(cmd, 0) + 1
            if len(self.lines) < self.server.keep_lines:
                self.lines.append(raw)
            self.cond.notify_all()

    def wait_line(self, regex, timeout, since=0):
        """The first received line (from index since) matching the bytes regex, or None."""
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.lines):
                    ln = self.lines[i]
                    i += 1
                    if rx.search(ln):
                        return ln
                left = min(end, self.server.deadline) - time.monotonic()
                if left <= 0 or self.peer_closed.is_set() or self.server.halt.is_set():
                    return None
                self.cond.wait(min(left, 0.2))

    # ---- writing ----------------------------------------------------------
    def send(self, data):
        """Write bytes (giving up at the server's deadline); False when the
        connection is gone."""
        if self.closed.is_set():
            return False
        return self._send_bounded(data, self.server.deadline)

    def line(self, data):
        return self.send(data + CRLF)

    def close(self, reset=False):
        if self.closed.is_set():
            return
        self.closed.set()
        try:
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def alive(self):
        """Still open both ways (a socket we do not read learns of the peer's
        close from the TCP state: CLOSE_WAIT after its FIN)."""
        if self.closed.is_set() or self.peer_closed.is_set():
            return False
        try:
            info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        except OSError:
            return False
        return info[0] == 1     # TCP_ESTABLISHED

    # ---- the script -------------------------------------------------------
    def _script(self):
        srv = self.server
        try:
            if self.plays and srv.play_at == "connect":
                self._play()
            if not self.closed.is_set():
                self._register()
            if self.plays and srv.play_at == "registered" and not self.closed.is_set():
                self._play()
            self._serve()
        except Exception as e:  # noqa: BLE001  (a test fixture must not die silently)
            self.log.append("script error: %r" % e)
        finally:
            self.played.set()
            if srv.halt.is_set():
                self.close()

    def _next_line(self, since, timeout):
        """(index after, line) of the next received line, or (since, None)."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.lines) <= since:
                left = min(end, self.server.deadline) - time.monotonic()
                if left <= 0 or self.peer_closed.is_set() or self.closed.is_set() \
                        or self.server.halt.is_set():
                    return since, None
                self.cond.wait(min(left, 0.2))
            return since + 1, self.lines[since]

    def _register(self):
        srv = self.server
        i = 0
        got_nick = got_user = False
        cap_open = False
        while not (got_nick and got_user and not cap_open):
            i, ln = self._next_line(i, srv.register_timeout)
            if ln is None:
                self.log.append("no registration")
                return
            cmd = _command(ln)
            args = _params(ln)
            if cmd == "CAP":
                sub = args[0].upper() if args else b""
                if srv.caps is None:
                    self.line(b":%s 421 * CAP :Unknown command" % srv.name)
                elif sub == b"LS":
                    cap_open = True
                    self.line(b":%s CAP * LS :%s" % (srv.name, b" ".join(srv.caps)))
                elif sub == b"REQ":
                    self.line(b":%s CAP * ACK :%s" % (srv.name, args[-1] if len(args) > 1 else b""))
                elif sub == b"END":
                    cap_open = False
            elif cmd == "NICK" and args:
                self.nick = args[0]
                got_nick = True
            elif cmd == "USER" and args:
                self.user = args[0]
                got_user = True
            elif cmd == "PING":
                self.line(b":%s PONG %s :%s" % (srv.name, srv.name, args[-1] if args else b""))
        self._line_index = i
        nick = srv.welcome_nick if (self.plays and srv.welcome_nick) else self.nick
        self.nick = nick
        burst = [b":%s 001 %s :Welcome to the hostile network %s" % (srv.name, nick, nick),
                 b":%s 002 %s :Your host is %s" % (srv.name, nick, srv.name),
                 b":%s 003 %s :This server was created today" % (srv.name, nick),
                 b":%s 004 %s %s hostile-1.0 iow bklmnopstv" % (srv.name, nick, srv.name)]
        for chunk in (srv.isupport if self.plays else _chunks(HostileIrcd.PLAIN_ISUPPORT, 13)):
            burst.append(b":%s 005 %s %s :are supported by this server"
                         % (srv.name, nick, b" ".join(chunk)))
        if not (self.plays and srv.no_motd):
            burst += [b":%s 375 %s :- %s message of the day" % (srv.name, nick, srv.name),
                      b":%s 372 %s :- be nice" % (srv.name, nick),
                      b":%s 376 %s :End of MOTD" % (srv.name, nick)]
        self.send(CRLF.join(burst) + CRLF)
        self.registered.set()

    def _answer_join(self, ln):
        srv = self.server
        chans = _params(ln)[0].split(b",") if _params(ln) else []
        for chan in chans:
            names = srv.names if self.plays else b"@opnick friend"
            out = [b":%s!%s@gateway.example JOIN %s" % (self.nick, self.user or b"u", chan)]
            if srv.topic:
                out.append(b":%s 332 %s %s :%s" % (srv.name, self.nick, chan, srv.topic))
            out.append(b":%s 353 %s = %s :%s %s" % (srv.name, self.nick, chan, self.nick, names))
            out.append(b":%s 366 %s %s :End of /NAMES list." % (srv.name, self.nick, chan))
            self.send(CRLF.join(out) + CRLF)
            self.joined.append(chan)
        if chans:
            self.join_done.set()

    def _serve(self):
        """Answer JOIN/PING/PART until the end; play the scenario after the first JOIN."""
        srv = self.server
        i = getattr(self, "_line_index", 0)
        while not self.closed.is_set() and not srv.halt.is_set():
            i, ln = self._next_line(i, 0.5)
            if ln is None:
                if self.peer_closed.is_set() or time.monotonic() > srv.deadline:
                    break
                continue
            cmd = _command(ln)
            args = _params(ln)
            if cmd == "JOIN":
                self._answer_join(ln)
                if self.plays and srv.play_at == "joined" and not self.played.is_set():
                    self._play()
                    self.played.set()
            elif cmd == "PING":
                self.line(b":%s PONG %s :%s" % (srv.name, srv.name, args[-1] if args else b""))
            elif cmd == "PART" and args:
                self.line(b":%s!%s@gateway.example PART %s" % (self.nick, self.user or b"u", args[0]))
            elif cmd == "QUIT":
                self.line(b"ERROR :Closing link (quit)")
                self.close()
        self.close()

    def _play(self):
        srv = self.server
        for step in srv.scenario:
            if self.closed.is_set() or srv.halt.is_set() or time.monotonic() > srv.deadline:
                self.log.append("scenario cut short before %s" % (step[0],))
                break
            kind = step[0]
            if kind == "send":
                self.send(step[1])
            elif kind == "line":
                self.line(step[1])
            elif kind == "lines":
                self.send(b"".join(ln + CRLF for ln in step[1]))
            elif kind == "stop_reading":
                self.stop_reading.set()
            elif kind == "resume_reading":
                self.stop_reading.clear()
            elif kind == "slow_reading":
                self.read_size, self.read_pause = step[1], step[2]
            elif kind in ("flood", "flood_gen"):
                fn = (lambda _i, b=step[1]: b) if kind == "flood" else step[1]
                n, secs = self._flood(fn, step[2], step[3])
                self.log.append("flood: %d lines in %.2f s%s" % (
                    n, secs, " (peer closed)" if self.peer_closed.is_set() else ""))
                srv.flooded.append((n, secs, self.peer_closed.is_set()))
            elif kind == "gate":
                srv.gate(step[1]).wait(max(0.0, srv.deadline - time.monotonic()))
            elif kind == "wait_line":
                self.log.append("wait_line %r: %r" % (step[1], self.wait_line(step[1], step[2])))
            elif kind == "close":
                self.close()
            elif kind == "reset":
                self.close(reset=True)
            elif kind == "call":
                step[1](self)
            else:
                raise ValueError("unknown step %r" % (kind,))
        self.played.set()
        srv.scenario_done.set()

    def _flood(self, fn, count, seconds):
        t0 = time.monotonic()
        end = min(t0 + seconds, self.server.deadline)
        n = 0
        batch_bytes = 256 * 1024
        while n < count and time.monotonic() < end and not self.server.halt.is_set():
            parts, size = [], 0
            while n < count and size < batch_bytes:
                ln = fn(n) + CRLF
                parts.append(ln)
                size += len(ln)
                n += 1
            if not self._send_bounded(b"".join(parts), end):
                break
        return n, time.monotonic() - t0

    def _send_bounded(self, data, end):
        """sendall with a deadline (a gateway that stops reading must not hang us)."""
        view = memoryview(data)
        try:
            while view:
                left = end - time.monotonic()
                if left <= 0 or self.server.halt.is_set() or self.closed.is_set():
                    return False
                _, w, _ = select.select([], [self.sock], [], min(left, 0.2))
                if not w:
                    continue
                with self._wlock:
                    k = self.sock.send(view)
                self.bytes_out += k
                view = view[k:]
            return True
        except (OSError, ValueError):
            self.peer_closed.set()
            return False


class HostileIrcd:
    """The scripted server. See the module docstring."""

    PLAIN_ISUPPORT = [b"NETWORK=Hostile", b"CHANTYPES=#&", b"PREFIX=(ov)@+", b"CASEMAPPING=rfc1459",
                      b"NICKLEN=30", b"CHANMODES=beI,k,l,imnpst"]

    def __init__(self, scenario=(), *, play_at="joined", name=b"hostile.irc",
                 caps=(b"multi-prefix", b"message-tags", b"server-time", b"account-tag",
                       b"extended-join", b"userhost-in-names"),
                 isupport=None, names=b"@opnick +voiced friend", topic=None, welcome_nick=None,
                 no_motd=False, max_seconds=60.0, max_conns=10, keep_lines=5000,
                 register_timeout=10.0, port=None):
        self.scenario = list(scenario)
        self.play_at = play_at       # "connect", "registered" or "joined"
        self.name = name
        self.caps = None if caps is None else list(caps)
        # a list of 005 lines, each a list of tokens
        self.isupport = ([list(x) for x in isupport] if isupport is not None
                         else list(_chunks(self.PLAIN_ISUPPORT, 13)))
        self.names = names
        self.topic = topic
        self.welcome_nick = welcome_nick
        self.no_motd = no_motd
        self.max_seconds = max_seconds
        self.max_conns = max_conns
        self.keep_lines = keep_lines
        self.register_timeout = register_timeout
        self.conns = []
        self.flooded = []
        self.refused = 0
        self.halt = threading.Event()
        self.scenario_done = threading.Event()
        self.deadline = float("inf")
        self._gates = {}
        self._glock = threading.Lock()
        self._cond = threading.Condition()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port or 0))
        self.port = self.lsock.getsockname()[1]
        self._acceptor = None
        self.t0 = None

    # ---- life -------------------------------------------------------------
    def start(self):
        self.t0 = time.monotonic()
        self.deadline = self.t0 + self.max_seconds
        self.lsock.listen(16)
        self._acceptor = threading.Thread(target=self._accept_loop, name="hostile-accept", daemon=True)
        self._acceptor.start()
        return self

    def _accept_loop(self):
        try:
            while not self.halt.is_set() and time.monotonic() < self.deadline:
                r, _, _ = select.select([self.lsock], [], [], 0.1)
                if not r:
                    continue
                sock, _addr = self.lsock.accept()
                if len(self.conns) >= self.max_conns:
                    self.refused += 1
                    sock.close()
                    continue
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                c = Conn(self, sock, len(self.conns))
                c.plays = not any(x.plays for x in self.conns)
                with self._cond:
                    self.conns.append(c)
                    self._cond.notify_all()
                c.reader.start()
                c.script.start()
        except OSError:
            pass
        finally:
            # past the deadline: stop by ourselves
            self.halt.set()
            for c in list(self.conns):
                c.close()

    def stop(self):
        self.halt.set()
        for g in list(self._gates.values()):
            g.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        if self._acceptor is not None:
            self._acceptor.join(5)
        for c in list(self.conns):
            c.close()
        for c in list(self.conns):
            c.reader.join(5)
            c.script.join(5)

    # ---- for tests --------------------------------------------------------
    def gate(self, name):
        with self._glock:
            return self._gates.setdefault(name, threading.Event())

    def release(self, name):
        self.gate(name).set()

    def wait_conn(self, n=1, timeout=10.0):
        """The n-th connection (1-based), once accepted."""
        end = time.monotonic() + timeout
        with self._cond:
            while len(self.conns) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("hostile ircd: no connection #%d within %.1fs" % (n, timeout))
                self._cond.wait(min(left, 0.2))
            return self.conns[n - 1]

    def wait_played(self, timeout):
        if not self.scenario_done.wait(timeout):
            raise TimeoutError("hostile ircd: scenario not finished within %.1fs; %s"
                               % (timeout, self.summary()))

    def joined_conn(self, chan=b"#chan", timeout=10.0):
        """The newest live connection that has joined chan and finished any
        scenario (waits for the gateway to reconnect and rejoin if needed)."""
        end = time.monotonic() + timeout
        while True:
            for c in reversed(list(self.conns)):
                if c.alive() and chan in c.joined and (not c.plays or c.played.is_set()):
                    return c
            if time.monotonic() >= end:
                raise TimeoutError("hostile ircd: no live connection joined to %r within %.1fs; %s"
                                   % (chan, timeout, self.summary()))
            time.sleep(0.05)

    def inject(self, line, chan=b"#chan", timeout=10.0):
        """Send one line (CRLF added) on the connection joined to chan."""
        c = self.joined_conn(chan, timeout)
        if not c.line(line):
            raise AssertionError("hostile ircd: connection %d closed while injecting" % c.index)
        return c

    def summary(self):
        parts = ["%d connection(s), %d refused" % (len(self.conns), self.refused)]
        for c in self.conns:
            parts.append("#%d%s nick=%r in=%dB out=%dB joined=%r counts=%r log=%r%s%s" % (
                c.index, " (scenario)" if c.plays else "", c.nick, c.bytes_in, c.bytes_out,
                c.joined, c.counts, c.log, " peer-closed" if c.peer_closed.is_set() else "",
                " closed" if c.closed.is_set() else ""))
        return "\n".join(parts)

    def report(self, n=30):
        out = ["--- hostile ircd on port %d\n%s" % (self.port, self.summary())]
        for c in self.conns:
            out.append("  conn #%d first lines received:" % c.index)
            out.extend("    " + repr(ln[:200]) for ln in c.lines[:n])
        return "\n".join(out)


def _command(raw):
    """The command of a line from the gateway (upper-case str), skipping tags and prefix."""
    words = raw.split(b" ")
    i = 0
    while i < len(words) and (not words[i] or words[i][:1] in (b"@", b":")):
        i += 1
    return words[i].decode("ascii", "replace").upper() if i < len(words) else ""


def _params(raw):
    """The parameters of a line (bytes), trailing last without its ':'."""
    words = raw.split(b" ")
    i = 0
    while i < len(words) and (not words[i] or words[i][:1] in (b"@", b":")):
        i += 1
    rest = b" ".join(words[i + 1:])
    out = []
    while rest:
        rest = rest.lstrip(b" ")
        if not rest:
            break
        if rest.startswith(b":"):
            out.append(rest[1:])
            break
        p, _, rest = rest.partition(b" ")
        out.append(p)
    return out


def _chunks(seq, n):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
    if not seq:
        yield []
