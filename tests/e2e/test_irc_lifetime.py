"""IRC transport: lifetimes of sessions and queued lines (issue 14, findings 2, 6, 9).

Real Prosody 0.12 and the real causeway binary ($CAUSEWAY_BIN; run them
under causeway-asan too: a use-after-free is then a crash the test sees).
Where a normal IRC server is needed, the real ngIRCd; where the server must
misbehave, ScriptedIrcd below: a few lines of Python on a loopback port that
registers a client (or refuses to), records what it receives and closes on
command.

  1 a join whose IRC session cannot be set up (a room nick with a space)
    and an unavailable presence in the same batch: no use-after-free, the
    join is answered, the gateway works afterwards (finding 2)
  2 a join that cannot be set up followed, in the same batch, by a good
    join to the same server: each gets its own answer
  3 a message queued before 001 when the connection fails: answered with
    recipient-unavailable and its id (finding 9)
  4 messages in the paced queue when the server closes: each answered
    once with its id (a message of several lines too), the one sent not
    (finding 9)
  5 a server that never answers: the session gives up after 8 attempts,
    tells the user once (notice + join error) and stops (finding 6)
  6 a server sending PREFIX=(qaohv)~, then a MODE using every mode, bare
    730/731/303 numerics and a 3000-line MOTD: no out-of-bounds read, no
    NULL dereference, the PREFIX ignored with a log line, the MOTD sent
    truncated (finding 7)
  7 a CR and an ANSI escape in the nick of 001: escaped in the log (finding 11)
  8 a server that accepts and never sends 001: a registration timeout, the
    held message answered, given up after 8 attempts (finding 6)
  9 a join in the same batch as the leave of the last room (the session is
    quitting): joined, not dropped with the old connection
 10 a NAMES reply that never ends: 20,000 members kept, one log line (finding 7)

Run: scripts/run-e2e.sh -k test_irc_lifetime
"""
import os
import socket
import threading
import time

import pytest

import harness
from harness import error_of, free_ports, xml_str
from irc_harness import IrcClient, NgIrcd

IRC_DOMAIN = "irc.localhost"
SERVER = "127.0.0.1"
SERVER_JID = "%s@%s" % (SERVER, IRC_DOMAIN)
MUC_NS = "http://jabber.org/protocol/muc"
T = 10.0


def room(chan):
    return "%s%%%s@%s" % (chan, SERVER, IRC_DOMAIN)


def occupant(chan, nick):
    return "%s/%s" % (room(chan), nick)


def user_jid(nick):
    return "%s%%%s@%s" % (nick, SERVER, IRC_DOMAIN)


def join_xml(chan, nick):
    return "<presence to='%s'><x xmlns='%s'/></presence>" % (occupant(chan, nick), MUC_NS)


def assert_alive(cw):
    assert cw.alive(), "causeway died (status %s):\n%s" % (cw.proc.returncode,
                                                           harness.tail(cw.log_path, 40))


def is_error_from(el, frm, tag=None):
    return ((tag is None or el.tag == "{jabber:client}%s" % tag)
            and el.get("type") == "error" and harness.bare(el.get("from", "")) == harness.bare(frm))


def irc_causeway(rig, irc_port, extra=""):
    cfg = "irc_port = %d\nhistory = 0\n%s" % (irc_port, extra)
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg).start()


# ------------------------------------------------------- a scripted server --

class ScriptedIrcd:
    """A loopback IRC server that does only what a test tells it: with
    welcome=True it answers USER with 001 (no CAP: the client registers
    without caps), else it never registers anyone. Every line received is
    kept; close_all() drops every connection."""

    def __init__(self, welcome=True, welcome_nick=None, after_welcome=(), on_join=None):
        self.welcome = welcome
        self.welcome_nick = welcome_nick      # 001 names the client so (a hostile server)
        self.after_welcome = after_welcome    # lines sent right after 001 ({nick} replaced)
        self.on_join = on_join                # JOIN #chan -> lines ({nick}, {chan} replaced)
        self.port = free_ports(1)[0]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((SERVER, self.port))
        self.sock.listen(16)
        self.lines = []
        self.conns = []
        self.accepted = 0
        self.cond = threading.Condition()
        self.stopping = False
        threading.Thread(target=self._accept_loop, name="scripted-ircd", daemon=True).start()

    def _accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.cond:
                self.conns.append(c)
                self.accepted += 1
                self.cond.notify_all()
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        nick = "nobody"
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    line = raw.rstrip(b"\r").decode("utf-8", "replace")
                    with self.cond:
                        self.lines.append(line)
                        self.cond.notify_all()
                    word = line.split(" ", 1)
                    if word[0] == "NICK" and len(word) > 1:
                        nick = word[1].lstrip(":")
                    elif word[0] == "USER" and self.welcome:
                        out = [":scripted 001 %s :Welcome to the scripted net"
                               % (self.welcome_nick or nick)]
                        out += [l.replace("{nick}", nick) for l in self.after_welcome]
                        if not self.after_welcome:
                            out.append(":scripted 376 %s :End of MOTD" % nick)
                        c.sendall(("\r\n".join(out) + "\r\n").encode("utf-8", "surrogateescape"))
                    elif word[0] == "JOIN" and self.on_join and len(word) > 1:
                        chan = word[1].split(" ")[0]
                        out = [l.replace("{nick}", nick).replace("{chan}", chan)
                               for l in self.on_join]
                        c.sendall(("\r\n".join(out) + "\r\n").encode())
                    elif word[0] == "PING":
                        c.sendall(("PONG %s\r\n" % word[1]).encode())
        except OSError:
            return

    def wait_line(self, pred, timeout=T, what="line"):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for l in self.lines:
                    if pred(l):
                        return l
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("scripted ircd: no %s in %.1fs; got %r"
                                       % (what, timeout, self.lines[-10:]))
                self.cond.wait(min(left, 0.5))

    def wait_accepted(self, n=1, timeout=T):
        end = time.monotonic() + timeout
        with self.cond:
            while self.accepted < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("scripted ircd: %d connection(s) of %d" % (self.accepted, n))
                self.cond.wait(min(left, 0.5))

    def close_all(self):
        with self.cond:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.close_all()

    def report(self, n=30):
        with self.cond:
            return "--- scripted ircd on %d (last %d lines)\n%s" % (
                self.port, n, "\n".join(self.lines[-n:]))


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


# -------------------------------------------------------------------- tests --

def test_01_setup_failure_then_unavailable_in_one_batch(rig, prosody, ngircd, alice):
    cw = irc_causeway(rig, ngircd.port)
    for i in range(3):
        m = alice.mark()
        # One write: Prosody hands both stanzas to the gateway in one read.
        alice.send_raw(join_xml("#life%d" % i, "bad nick")
                       + "<presence type='unavailable' to='%s'/>" % occupant("#life%d" % i, "bad nick"))
        alice.wait_message(frm=SERVER_JID, pred=lambda el: "must be one word" in
                           (el.findtext("{jabber:client}body") or ""), since=m, timeout=T)
        # the deferred forget has had its turn once the gateway answers a ping
        r = alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % IRC_DOMAIN)
        assert r.get("type") == "result", xml_str(r)
        assert_alive(cw)
    # and the gateway still works: a good join reaches ngIRCd
    op = IrcClient(ngircd.port, "opnick", label="raw-op")
    rig.add_service(op)
    op.connect()
    op.join("#life")
    m = alice.mark()
    alice.send_raw(join_xml("#life", "alicenick"))
    alice.wait_stanza(lambda el: el.get("from") == occupant("#life", "alicenick")
                      and el.get("type") is None, since=m, timeout=T, what="self-presence")
    assert_alive(cw)


def test_02_failed_setup_and_good_join_in_one_batch(rig, prosody, ngircd, alice):
    cw = irc_causeway(rig, ngircd.port)
    m = alice.mark()
    alice.send_raw(join_xml("#bad", "bad nick") + join_xml("#good", "goodnick"))
    err = alice.wait_stanza(lambda el: is_error_from(el, room("#bad"), "presence"),
                            since=m, timeout=T, what="join error for #bad")
    assert error_of(err)[1] == "not-acceptable", xml_str(err)
    # the good join was not dropped with the failed session
    alice.wait_stanza(lambda el: el.get("from") == occupant("#good", "goodnick")
                      and el.get("type") is None, since=m, timeout=T, what="#good joined")
    assert_alive(cw)


def test_03_message_before_001_answered_when_connection_fails(rig, prosody, alice):
    ircd = rig.add_service(ScriptedIrcd(welcome=False))
    cw = irc_causeway(rig, ircd.port)
    m = alice.mark()
    mid = alice.send_message(user_jid("bob"), "waits for 001", mtype="chat")
    ircd.wait_line(lambda l: l.startswith("USER "), what="USER")
    time.sleep(0.3)   # the message is queued behind registration
    ircd.close_all()
    err = alice.wait_stanza(lambda el: is_error_from(el, user_jid("bob"), "message")
                            and el.get("id") == mid, since=m, timeout=T,
                            what="error for the message queued before 001")
    assert error_of(err)[1] == "recipient-unavailable", xml_str(err)
    # once: not again when the session reconnects or gives up
    time.sleep(1.5)
    errs = alice.find_stanzas(lambda el: el.get("type") == "error" and el.get("id") == mid, since=m)
    assert len(errs) == 1, [xml_str(e) for e in errs]
    assert not [l for l in ircd.lines if "waits for 001" in l]
    assert_alive(cw)


def test_04_paced_lines_answered_when_server_closes(rig, prosody, alice):
    ircd = rig.add_service(ScriptedIrcd(welcome=True))
    # one line at once, then one every 30 s: the others wait in the queue
    cw = irc_causeway(rig, ircd.port, "flood_burst = 1\nflood_interval = 30\n")
    m = alice.mark()
    first = alice.send_message(user_jid("bob"), "first goes out", mtype="chat")
    ircd.wait_line(lambda l: "first goes out" in l, what="the first PRIVMSG")
    multi = alice.send_message(user_jid("bob"), "line one\nline two\nline three", mtype="chat")
    third = alice.send_message(user_jid("carol"), "third waits", mtype="chat")
    time.sleep(0.5)
    ircd.close_all()
    for mid, to in ((multi, "bob"), (third, "carol")):
        err = alice.wait_stanza(lambda el, mid=mid, to=to: is_error_from(el, user_jid(to), "message")
                                and el.get("id") == mid, since=m, timeout=T,
                                what="error for queued message %s" % mid)
        assert error_of(err)[1] == "recipient-unavailable", xml_str(err)
    time.sleep(1.0)
    errs = alice.find_stanzas(lambda el: el.get("type") == "error", since=m)
    ids = sorted(e.get("id") for e in errs if e.get("id"))
    assert ids == sorted([multi, third]), [xml_str(e) for e in errs]   # once each; not `first`
    assert_alive(cw)


def test_05_dead_host_gives_up(rig, prosody, alice):
    dead_port = free_ports(1)[0]   # nobody listens there
    cw = irc_causeway(rig, dead_port, "reconnect_max = 0.05\n")
    m = alice.mark()
    alice.send_raw(join_xml("#nowhere", "alicenick"))
    err = alice.wait_stanza(lambda el: is_error_from(el, room("#nowhere"), "presence"),
                            since=m, timeout=20, what="join error after giving up")
    assert error_of(err)[1] == "remote-server-not-found", xml_str(err)
    assert "Gave up after 8 attempts" in (error_of(err)[2] or ""), xml_str(err)
    cw.wait_log("Gave up after 8 attempts", timeout=T)
    tries = cw.count("Cannot connect to %s" % SERVER)
    time.sleep(1.0)   # 20 backoff periods: no further attempt
    assert cw.count("Cannot connect to %s" % SERVER) == tries
    assert cw.count("Gave up after") == 1
    notices = alice.find_stanzas(lambda el: el.get("from") == SERVER_JID
                                 and "Gave up" in (el.findtext("{jabber:client}body") or ""), since=m)
    assert len(notices) == 1, [xml_str(n) for n in notices]
    assert_alive(cw)


def test_06_hostile_prefix_and_endless_motd(rig, prosody, alice):
    """Finding 7: PREFIX=(qaohv)~ read past the prefix table on the next
    MODE (ASan: heap-buffer-overflow); an endless MOTD was collected whole."""
    motd = [":scripted 375 {nick} :- scripted Message of the day -"]
    motd += [":scripted 372 {nick} :- motd line %05d %s" % (i, "x" * 60) for i in range(3000)]
    motd += [":scripted 376 {nick} :End of MOTD"]
    ircd = rig.add_service(ScriptedIrcd(
        # numerics without their parameters: a bare 730/731/303 split NULL
        after_welcome=[":scripted 005 {nick} PREFIX=(qaohv)~ CHANTYPES=# :are supported",
                       ":scripted 730", ":scripted 731", ":scripted 303"] + motd,
        on_join=[":{nick}!u@h JOIN {chan}", ":scripted 353 {nick} = {chan} :{nick} ~boss other",
                 ":scripted 366 {nick} {chan} :End of NAMES",
                 ":boss!u@h MODE {chan} +vhoaq other other other other other"]))
    cw = irc_causeway(rig, ircd.port)
    m = alice.mark()
    alice.send_raw(join_xml("#hostile", "alicenick"))
    alice.wait_stanza(lambda el: el.get("from") == occupant("#hostile", "alicenick")
                      and el.get("type") is None, since=m, timeout=T, what="self-presence")
    motd_msg = alice.wait_message(frm=SERVER_JID, pred=lambda el: "motd line 00000" in
                                  (el.findtext("{jabber:client}body") or ""), since=m, timeout=T)
    body = motd_msg.findtext("{jabber:client}body")
    assert body.endswith("(truncated)"), body[-200:]
    assert len(body.encode()) <= 64 * 1024 + 64
    assert "motd line 02999" not in body
    cw.wait_log("ignoring a malformed ISUPPORT PREFIX=(qaohv)~", timeout=T)
    # the MODE went through the default table (ov/@+): 'other' got voice
    r = alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % IRC_DOMAIN)
    assert r.get("type") == "result", xml_str(r)
    assert_alive(cw)


def test_07_control_characters_from_the_server_are_escaped_in_the_log(rig, prosody, alice):
    """Finding 11: the nick from 001 was logged raw (a CR rewrites the log line)."""
    ircd = rig.add_service(ScriptedIrcd(welcome_nick="cw\rFAKE\x1b[2Jnick"))
    cw = irc_causeway(rig, ircd.port)
    alice.send_message(user_jid("bob"), "hello", mtype="chat")
    cw.wait_log("logged in to %s as " % SERVER, timeout=T)
    log = cw.log()
    assert "cw\\x0dFAKE\\x1b[2Jnick" in log, harness.tail(cw.log_path, 10)
    assert "\r" not in log and "\x1b" not in log
    assert_alive(cw)


def test_08_server_that_never_registers_us_is_given_up(rig, prosody, alice):
    """Finding 6: a server that accepts and never sends 001 held the session
    (and every message queued for it) forever."""
    ircd = rig.add_service(ScriptedIrcd(welcome=False))
    cw = irc_causeway(rig, ircd.port, "register_timeout = 0.4\nreconnect_max = 0.05\n")
    m = alice.mark()
    mid = alice.send_message(user_jid("bob"), "never goes out", mtype="chat")
    alice.send_raw(join_xml("#stuck", "alicenick"))
    err = alice.wait_stanza(lambda el: is_error_from(el, user_jid("bob"), "message")
                            and el.get("id") == mid, since=m, timeout=T,
                            what="error for the message held before 001")
    assert error_of(err)[1] == "recipient-unavailable", xml_str(err)
    assert "no welcome (001)" in (error_of(err)[2] or ""), xml_str(err)
    err = alice.wait_stanza(lambda el: is_error_from(el, room("#stuck"), "presence"),
                            since=m, timeout=20, what="join error after giving up")
    assert error_of(err)[1] == "remote-server-not-found", xml_str(err)
    assert "no welcome (001)" in (error_of(err)[2] or ""), xml_str(err)
    assert ircd.accepted == 8, ircd.accepted
    time.sleep(1.0)
    assert ircd.accepted == 8, ircd.accepted   # and no more
    assert_alive(cw)


def test_09_join_right_after_the_last_leave(rig, prosody, ngircd, alice):
    """Leaving the last room quits the session (QUIT, then the close); a join
    in the same batch went to the quitting session and was dropped with it."""
    cw = irc_causeway(rig, ngircd.port)
    op = IrcClient(ngircd.port, "opnick", label="raw-op")
    rig.add_service(op)
    op.connect()
    op.join("#again")
    m = alice.mark()
    alice.send_raw(join_xml("#first", "alicenick"))
    alice.wait_stanza(lambda el: el.get("from") == occupant("#first", "alicenick")
                      and el.get("type") is None, since=m, timeout=T, what="#first joined")
    for i in range(3):
        m = alice.mark()
        chan_from, chan_to = ("#first", "#again") if i % 2 == 0 else ("#again", "#first")
        alice.send_raw("<presence type='unavailable' to='%s'/>" % occupant(chan_from, "alicenick")
                       + join_xml(chan_to, "alicenick"))
        alice.wait_stanza(lambda el, c=chan_to: el.get("from") == occupant(c, "alicenick")
                          and el.get("type") is None, since=m, timeout=T,
                          what="%s joined right after leaving %s" % (chan_to, chan_from))
    # and it is really in: a line from IRC arrives
    m = alice.mark()
    op.privmsg("#again", "you are back")
    alice.wait_message(frm=occupant("#again", "opnick"), body="you are back", bare_from=False,
                       since=m, timeout=T)
    assert_alive(cw)


def test_10_endless_names_bounded(rig, prosody, alice):
    """Finding 7: a NAMES reply that never ends (353 after 353, no 366) was
    collected without limit; now at most CW_IRC_CHANNEL_MAX_MEMBERS (20,000)
    members are kept, with one log line."""
    names = [":scripted 353 {nick} = {chan} :%s"
             % " ".join("n%06d" % (i * 40 + k) for k in range(40)) for i in range(700)]
    ircd = rig.add_service(ScriptedIrcd(on_join=[":{nick}!u@h JOIN {chan}"] + names))
    cw = irc_causeway(rig, ircd.port)
    alice.send_raw(join_xml("#big", "alicenick"))
    cw.wait_log("has more than 20000 members: ignoring the others", timeout=T)
    ircd.wait_line(lambda l: l.startswith("JOIN #big"), what="JOIN")
    r = alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % IRC_DOMAIN)
    assert r.get("type") == "result", xml_str(r)
    assert cw.count("has more than 20000 members") == 1
    assert_alive(cw)
