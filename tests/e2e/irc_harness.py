"""IRC side of Causeway's end-to-end rig.

  NgIrcd        ngIRCd (Debian package) on a free loopback port from a generated
                config (fixtures/ngircd.conf.in); `ngircd -f FILE -n`, stopped by
                PID; can be killed and restarted on the same port.
  IrcV3Server   InspIRCd 3 + atheme (TLS, SASL PLAIN/EXTERNAL, IRCv3) through
                fixtures/irc-ircv3/start.sh and stop.sh, all inside the run dir.
  IrcClient     a raw IRC client on a socket: NICK/USER, wait for 001, JOIN,
                PRIVMSG, every received line kept in a list guarded by a
                condition variable so a test waits for "the next line matching
                R" with a timeout instead of sleeping. PINGs are answered.

Every server object has stop() and report() so harness.Rig.add_service() can
tear it down and show its log when a test fails.
"""
import hashlib
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import harness
from harness import FIXTURES, Proc, free_ports, port_open, tail, wait_until

IRCV3_DIR = os.path.join(FIXTURES, "irc-ircv3")


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------

class NgIrcd:
    """ngIRCd 26 from fixtures/ngircd.conf.in, in its own directory."""

    def __init__(self, run_dir, port=None, name="irc.localhost"):
        self.dir = os.path.abspath(run_dir)
        os.makedirs(os.path.join(self.dir, "conf.d"), exist_ok=True)
        self.port = port or free_ports(1)[0]
        self.name = name
        self.cfg = os.path.join(self.dir, "ngircd.conf")
        self.log_path = os.path.join(self.dir, "ngircd.log")
        self.proc = None
        self.starts = 0
        with open(os.path.join(FIXTURES, "ngircd.conf.in")) as f:
            t = f.read()
        uidgid = "\tServerUID = 0\n\tServerGID = 0" if os.geteuid() == 0 else ""
        for k, v in {"@DIR@": self.dir, "@PORT@": str(self.port), "@NAME@": name,
                     "@UIDGID@": uidgid}.items():
            t = t.replace(k, v)
        with open(self.cfg, "w") as f:
            f.write(t)

    def start(self, timeout=10.0):
        assert self.proc is None or not self.proc.alive(), "ngircd already running"
        # after a kill the port may linger a moment in the kernel
        wait_until(lambda: not port_open(self.port), 5, "port %d to be free" % self.port)
        self.proc = Proc(["ngircd", "-f", self.cfg, "-n"], self.log_path)
        self.starts += 1

        def up():
            if not self.proc.alive():
                raise RuntimeError("ngircd exited early with %s:\n%s"
                                   % (self.proc.returncode, tail(self.log_path, 30)))
            return port_open(self.port)
        wait_until(up, timeout, "ngircd port %d" % self.port)
        return self

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def kill(self):
        """SIGKILL, as a crash would: every connection drops at once."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.close()

    def stop(self):
        if self.proc is not None:
            self.proc.stop()

    def report(self, n=40):
        return "--- %s (tail)\n%s" % (self.log_path, tail(self.log_path, n))

    def accepted(self):
        """How many client connections ngIRCd has accepted so far (all its runs),
        from its log ("Accepted connection N from ...")."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().count(b"Accepted connection ")
        except OSError:
            return 0


class IrcV3Server:
    """InspIRCd 3 + atheme from fixtures/irc-ircv3 (start.sh / stop.sh)."""

    ACCOUNT, PASSWORD = "saslbot", "saslpass"

    def __init__(self, run_dir, accounts=None):
        self.dir = os.path.abspath(run_dir)
        self.port, self.tls_port, self.link_port = free_ports(3)
        self.accounts = accounts or "%s:%s" % (self.ACCOUNT, self.PASSWORD)
        self.started = False
        self.out = ""

    def start(self, timeout=40):
        env = dict(os.environ, ACCOUNTS=self.accounts, START_TIMEOUT="30")
        r = subprocess.run([os.path.join(IRCV3_DIR, "start.sh"), self.dir, str(self.port),
                            str(self.tls_port), str(self.link_port)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, env=env)
        self.out = r.stdout + r.stderr
        self.started = True   # stop.sh cleans up whatever did start
        if r.returncode != 0 or "READY" not in r.stdout:
            raise RuntimeError("irc-ircv3 start.sh failed (%d):\n%s" % (r.returncode, self.out))
        return self

    @property
    def client_pem(self):
        return os.path.join(self.dir, "client.pem")

    def server_cert_sha256(self):
        """SHA-256 of the server certificate (DER), lowercase hex, no colons."""
        with open(os.path.join(self.dir, "server.crt")) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        return hashlib.sha256(der).hexdigest()

    def stop(self):
        if not self.started:
            return
        self.started = False
        r = subprocess.run([os.path.join(IRCV3_DIR, "stop.sh"), self.dir],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("irc-ircv3 stop.sh failed (%d): %s%s"
                               % (r.returncode, r.stdout, r.stderr))

    def report(self, n=30):
        parts = ["--- irc-ircv3 start.sh output\n%s" % self.out]
        for f in ("logs/inspircd.out", "logs/ircd.log", "logs/atheme.log"):
            parts.append("--- %s (tail)\n%s" % (f, tail(os.path.join(self.dir, f), n)))
        return "\n".join(parts)


# --------------------------------------------------------------------------
# raw IRC client
# --------------------------------------------------------------------------

_LINE_RE = re.compile(r"^(?:@(?P<tags>\S+) )?(?::(?P<prefix>\S+) )?(?P<command>\S+)(?P<rest>.*)$")


class IrcLine:
    """One received line, parsed (tags, prefix, nick, command, params)."""

    def __init__(self, raw_bytes):
        self.raw_bytes = raw_bytes
        self.raw = raw_bytes.decode("utf-8", "replace")
        self.tags, self.prefix, self.command, self.params = {}, None, "", []
        m = _LINE_RE.match(self.raw)
        if not m:
            return
        if m.group("tags"):
            for t in m.group("tags").split(";"):
                k, _, v = t.partition("=")
                self.tags[k] = v
        self.prefix = m.group("prefix")
        self.command = m.group("command").upper()
        rest = m.group("rest")
        while rest:
            rest = rest.lstrip(" ")
            if not rest:
                break
            if rest.startswith(":"):
                self.params.append(rest[1:])
                break
            p, _, rest = rest.partition(" ")
            self.params.append(p)
        # the last parameter as raw bytes (to check UTF-8 cuts)
        self.trailing_bytes = raw_bytes.split(b" :", 1)[1] if b" :" in raw_bytes else b""

    @property
    def nick(self):
        return self.prefix.split("!", 1)[0] if self.prefix else None

    def __repr__(self):
        return "IrcLine(%r)" % harness._clip(self.raw, 300)


class IrcClient:
    """A raw IRC client for tests (plain TCP, optionally TLS)."""

    def __init__(self, port, nick, host="127.0.0.1", tls=False, label=None):
        self.port, self.host, self.tls = port, host, tls
        self.nick = nick
        self.label = label or nick
        self.sock = None
        self.lines = []
        self.sent = []
        self.cond = threading.Condition()
        self.closed = threading.Event()
        self._wlock = threading.Lock()
        self._reader = None
        self.t0 = time.monotonic()

    # ---- connection ----------------------------------------------------------
    def connect(self, timeout=10.0, user=None, realname="raw test client", caps=None):
        """Connect, register as self.nick and wait for 001."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname=self.host)
        s.settimeout(None)
        self.sock = s
        self._reader = threading.Thread(target=self._read_loop, name="irc-%s" % self.label,
                                        daemon=True)
        self._reader.start()
        if caps:
            self.send("CAP REQ :%s" % " ".join(caps))
        self.send("NICK %s" % self.nick)
        self.send("USER %s 0 * :%s" % (user or self.nick[:10], realname))
        if caps:
            self.wait(command="CAP", pred=lambda l: len(l.params) > 1 and l.params[1] in ("ACK", "NAK"),
                      timeout=timeout, what="CAP ACK")
            self.send("CAP END")
        welcome = self.wait(command="001", timeout=timeout, what="001 welcome",
                            fail=lambda l: l.command in ("433", "432", "ERROR"))
        self.nick = welcome.params[0]
        return self

    def _read_loop(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    raw = raw.rstrip(b"\r")
                    if not raw:
                        continue
                    line = IrcLine(raw)
                    if line.command == "PING":
                        self.send("PONG :%s" % (line.params[0] if line.params else ""))
                    with self.cond:
                        self.lines.append((time.monotonic() - self.t0, line))
                        self.cond.notify_all()
        except OSError:
            pass
        finally:
            self.closed.set()
            with self.cond:
                self.cond.notify_all()

    def send(self, line):
        """Send one raw line (CRLF appended; the line itself may not hold CR/LF)."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        assert b"\r" not in line and b"\n" not in line, "raw line with CR/LF: %r" % line
        with self._wlock:
            self.sent.append(line)
            self.sock.sendall(line + b"\r\n")

    def close(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.closed.wait(2)

    def stop(self):
        """Quit politely (if still connected) and close; for Rig.add_service."""
        if self.sock is not None and not self.closed.is_set():
            try:
                self.send("QUIT :bye")
                self.closed.wait(1.0)
            except OSError:
                pass
        self.close()

    def report(self, n=40):
        with self.cond:
            got = self.lines[-n:]
        return "--- raw IRC client %s (last %d lines received)\n%s" % (
            self.label, len(got), "\n".join("%8.3f %s" % (t, harness._clip(l.raw, 300)) for t, l in got))

    # ---- commands ------------------------------------------------------------
    def join(self, chan, key=None, timeout=10.0):
        m = self.mark()
        self.send("JOIN %s%s" % (chan, " " + key if key else ""))
        self.wait(command="366", pred=lambda l: l.params[1].lower() == chan.lower(), since=m,
                  timeout=timeout, what="end of NAMES for %s" % chan,
                  fail=lambda l: l.command in ("403", "405", "471", "473", "474", "475"))
        return m

    def privmsg(self, target, text):
        self.send("PRIVMSG %s :%s" % (target, text))

    def notice(self, target, text):
        self.send("NOTICE %s :%s" % (target, text))

    def ctcp(self, target, command, args=None):
        self.privmsg(target, "\x01%s%s\x01" % (command, " " + args if args else ""))

    def names(self, chan, timeout=5.0):
        """Nicks (with their prefixes) in chan, from a fresh NAMES."""
        m = self.mark()
        self.send("NAMES %s" % chan)
        self.wait(command="366", since=m, timeout=timeout, what="366 for NAMES %s" % chan)
        out = []
        for l in self.received(since=m):
            if l.command == "353":
                out.extend(l.params[-1].split())
        return out

    def lusers(self, timeout=5.0):
        """Number of users on the server (visible + invisible) from a fresh LUSERS."""
        m = self.mark()
        self.send("LUSERS")
        l = self.wait(command="251", since=m, timeout=timeout, what="251 for LUSERS")
        nums = [int(w) for w in re.findall(r"\d+", l.params[-1])]
        # "There are V users and I services on S servers" (ngIRCd) or
        # "There are V users and I invisible on S servers"
        return nums[0] + (nums[1] if "invisible" in l.params[-1] else 0)

    def quit(self, msg="bye"):
        self.send("QUIT :%s" % msg)
        self.closed.wait(3)
        self.close()

    # ---- receiving -----------------------------------------------------------
    def mark(self):
        with self.cond:
            return len(self.lines)

    def received(self, since=0):
        with self.cond:
            return [l for _t, l in self.lines[since:]]

    def _match(self, line, regex, command, pred):
        if command is not None and line.command != command.upper():
            return False
        if regex is not None and not re.search(regex, line.raw):
            return False
        if pred is not None:
            try:
                return bool(pred(line))
            except (IndexError, AttributeError, KeyError):
                return False
        return True

    def wait(self, regex=None, command=None, pred=None, timeout=harness.DEFAULT_TIMEOUT, since=0,
             what=None, fail=None):
        """The first line from index `since` on matching regex (on the raw line),
        command and pred; raise TimeoutError (or AssertionError when a line
        matching `fail` comes first)."""
        what = what or "line %s%s" % (command or "", " ~ %r" % regex if regex else "")
        end = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i][1]
                    i += 1
                    if self._match(line, regex, command, pred):
                        return line
                    if fail is not None and fail(line):
                        raise AssertionError("%s: got %r while waiting for %s" % (self.label, line.raw, what))
                left = end - time.monotonic()
                if left <= 0 or (self.closed.is_set() and i >= len(self.lines)):
                    raise TimeoutError("%s: no %s within %.1fs%s; last received:\n%s"
                                       % (self.label, what, timeout,
                                          " (connection closed)" if self.closed.is_set() else "",
                                          "\n".join(harness._clip(l.raw, 300) for _t, l in self.lines[-12:])))
                self.cond.wait(min(left, 0.5))

    def wait_all(self, n, regex=None, command=None, pred=None, timeout=harness.DEFAULT_TIMEOUT,
                 since=0, what=None):
        """Wait until n lines match; return them (in arrival order)."""
        what = what or "%d lines %s%s" % (n, command or "", " ~ %r" % regex if regex else "")

        def got():
            hits = [l for l in self.received(since) if self._match(l, regex, command, pred)]
            return hits if len(hits) >= n else None
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = got()
                if hits:
                    return hits
                left = end - time.monotonic()
                if left <= 0:
                    have = [l for l in self.received(since) if self._match(l, regex, command, pred)]
                    raise TimeoutError("%s: only %d of %s within %.1fs; last received:\n%s"
                                       % (self.label, len(have), what, timeout,
                                          "\n".join(harness._clip(l.raw, 200) for _t, l in self.lines[-8:])))
                self.cond.wait(min(left, 0.5))

    def find(self, regex=None, command=None, pred=None, since=0):
        return [l for l in self.received(since) if self._match(l, regex, command, pred)]

    def sync(self, timeout=5.0):
        """Round trip through the server: every line the server sent before our
        PING has been received when this returns."""
        token = "sync%d" % int(time.monotonic() * 1000000)
        m = self.mark()
        self.send("PING :%s" % token)
        self.wait(command="PONG", pred=lambda l: l.params[-1] == token, since=m, timeout=timeout,
                  what="PONG %s" % token)


# --------------------------------------------------------------------------
# the XMPP side of the IRC gateway (biboumi addresses), for the fault, abuse
# and soak tests
# --------------------------------------------------------------------------

MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"


class IrcGatewayAddr:
    """Addresses on an IRC gateway domain for one IRC server."""

    def __init__(self, domain="irc.localhost", server="127.0.0.1"):
        self.domain, self.server = domain, server

    def room(self, chan):
        return "%s%%%s@%s" % (chan, self.server, self.domain)

    def occupant(self, chan, nick):
        return "%s/%s" % (self.room(chan), nick)

    def user(self, nick):
        return "%s%%%s@%s" % (nick, self.server, self.domain)

    @property
    def server_jid(self):
        return "%s@%s" % (self.server, self.domain)


def muc_status_codes(el):
    return {int(s.get("code")) for s in el.findall("{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))}


def muc_join(client, addr, chan, nick, timeout=10.0, must_succeed=True):
    """Join chan as nick from XMPP: (self-presence or error presence, mark before)."""
    m = client.mark()
    client.send_presence(to=addr.occupant(chan, nick), extra="<x xmlns='%s'/>" % MUC_NS)

    def p(el):
        if el.tag != "{jabber:client}presence" or harness.bare(el.get("from")) != addr.room(chan):
            return False
        if el.get("type") == "error":
            return True
        return (el.get("from") == addr.occupant(chan, nick) and el.get("type") is None
                and 110 in muc_status_codes(el))
    me = client.wait_stanza(p, timeout, m, "self-presence in %s as %s" % (chan, nick))
    if must_succeed:
        assert me.get("type") != "error", "join of %s as %s failed:\n%s" % (chan, nick, harness.xml_str(me))
    return me, m


def muc_send(client, addr, chan, body, mid=None):
    return client.send_message(addr.room(chan), body, mtype="groupchat", mid=mid)


def muc_wait(client, addr, chan, nick, body, since=0, timeout=10.0):
    """The groupchat message from chan/nick with exactly body."""
    return client.wait_message(frm=addr.occupant(chan, nick), body=body, bare_from=False,
                               pred=lambda el: el.get("type") == "groupchat", since=since,
                               timeout=timeout)


def wait_privmsg(irc, frm, target, text=None, since=0, timeout=10.0):
    """The next PRIVMSG from nick frm to target (with exactly text)."""
    def p(l):
        return (l.nick == frm and l.params[0].lower() == target.lower()
                and (text is None or l.params[-1] == text))
    return irc.wait(command="PRIVMSG", pred=p, since=since, timeout=timeout,
                    what="PRIVMSG %s -> %s %r" % (frm, target, text))


def irc_causeway_extra(irc_port, flood_burst=0, flood_interval=None, history=20, extra=""):
    """The `type = irc` section keys the IRC tests use (appended to the
    [transport:irc] section by harness.causeway_config)."""
    cfg = "irc_port = %d\nflood_burst = %d\nhistory = %d\n" % (irc_port, flood_burst, history)
    if flood_interval is not None:
        cfg += "flood_interval = %s\n" % flood_interval
    return cfg + extra
