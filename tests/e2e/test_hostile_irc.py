"""A hostile IRC server against the gateway (issue 14): one IRC line must never drop everyone.

Real Prosody 0.12, real XMPP clients (slixmpp), the real causeway binary
($CAUSEWAY_BIN) with the IRC transport (domain irc.localhost), and a scripted
IRC server (hostile_ircd.py) on a free loopback port. Alice joins
#chan%127.0.0.1@irc.localhost; the server completes a plausible registration
and join, then plays one scenario:

  fields      non-XML characters and invalid UTF-8 (U+FFFF, U+FFFE, FF FE,
              lone C0 controls, DEL, overlong C0 AF, an encoded surrogate,
              CR inside a parameter) in every field the gateway forwards:
              channel text, /me, private text, notices, topic (332 and
              TOPIC), nicks (JOIN, PRIVMSG, NICK), user and host, channel
              names, PART/QUIT/KICK reasons, NAMES entries, IRCv3 tags
              (msgid, time, account), error numerics, the 001 nick
  names       NAMES entries that name nobody: "!user@host", "@!u@h", "@", "+"
  isupport    malformed and oversized ISUPPORT: PREFIX=(qaohv)~, PREFIX=(ov)@,
              PREFIX=(o)~&@%+, PREFIX=, junk tokens, 512 tokens, a 5 kB token;
              then MODE changes for every prefix mode and a NAMES refresh
  floods      PINGs while never reading our socket (RSS bounded); PINGs from
              a server that reads; endless MOTD; endless NAMES (no 366)
  long lines  10 MB without a newline (then close, or then the line end),
              twenty 1 MB lines
  closes      close / RST right after connect, in the middle of 001, in the
              middle of a line after the join

After each, the invariants (check_invariants): the causeway process is alive
and its log has no sanitizer report; the component stream stayed up (one
"component ... connected" line, no disconnect or stream error in the causeway
log, nothing about it in Prosody's log); a line sent by the IRC server after
the scenario (on the same connection, or on the next one if the gateway closed
it and came back) reaches Alice as a groupchat message; Bob (who never touched
IRC) gets an XMPP ping and disco#info answered by the gateway, and so does
Alice, whose client is still connected; every stanza the clients received
parsed (slixmpp) and every text and attribute holds only XML 1.0 characters.
Floods also bound the growth of the gateway's VmRSS.

A field's lines carry every byte sequence of BAD in turn; when one breaks the
stream, the failure lists which messages never arrived, and HOSTILE_BAD=name,...
narrows BAD while debugging.

Run: CAUSEWAY_BIN=$PWD/causeway scripts/run-e2e.sh -k test_hostile_irc
     (and with causeway-asan; about 1 and 2 minutes on a 2-core machine)
"""
import os
import re
import threading
import time

import pytest

import harness
from harness import NS, proc_rss_kb, record_figure, xml_str
from hostile_ircd import HostileIrcd
from irc_harness import IrcGatewayAddr, irc_causeway_extra, muc_join, muc_wait

IRC_DOMAIN = "irc.localhost"
A = IrcGatewayAddr(IRC_DOMAIN, "127.0.0.1")
CHAN = "#chan"
NICK = "alice"
T = 15.0                  # per-event timeout: every wait returns as soon as the event arrives
RSS_BOUND_MB = 100        # growth allowed during a flood


# ------------------------------------------------------------------ fixtures --

@pytest.fixture(autouse=True)
def small_asan_quarantine(monkeypatch):
    """Under ASan, freed memory waits in a 256 MB quarantine that counts in RSS:
    a flood that churns memory would look like growth. 16 MB still catches
    use-after-free within a few main-loop iterations. (No effect on a normal
    build.)"""
    old = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (old + ":" if old else "") + "quarantine_size_mb=16")


@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=IRC_DOMAIN)


class Ctx:
    def __init__(self, rig, srv, cw, alice, bob):
        self.rig, self.srv, self.cw, self.alice, self.bob = rig, srv, cw, alice, bob
        self.join_mark = 0
        self.diagnose = None      # () -> str: more for a failure message
        self.rss_before = None
        self.rss_peak = 0
        self._sampler = None
        self._halt = threading.Event()

    @property
    def pid(self):
        return self.cw.proc.pid

    def start_sampling(self):
        """Record the gateway's VmRSS now and its peak from now on."""
        self.rss_before = proc_rss_kb(self.pid)
        self.rss_peak = self.rss_before or 0

        def run():
            while not self._halt.wait(0.05):
                r = proc_rss_kb(self.pid)
                if r is None:
                    return
                self.rss_peak = max(self.rss_peak, r)
        self._sampler = threading.Thread(target=run, name="rss-sampler", daemon=True)
        self._sampler.start()

    def stop(self):
        self.stop_sampling()

    def report(self):
        return "--- hostile ircd summary\n%s" % self.srv.summary()

    def stop_sampling(self):
        self._halt.set()
        if self._sampler is not None:
            self._sampler.join(2)
        r = proc_rss_kb(self.pid)
        if r:
            self.rss_peak = max(self.rss_peak, r)


def start(rig, prosody, srv, join=True, join_timeout=T):
    """Hostile server, causeway against it, Bob and Alice online, Alice in #chan."""
    rig.add_service(srv.start())
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                          extra=irc_causeway_extra(srv.port)).start()
    bob = rig.client("bob")
    alice = rig.client("alice")
    ctx = Ctx(rig, srv, cw, alice, bob)
    rig.add_service(ctx)        # stops the RSS sampler at teardown
    ctx.join_mark = alice.mark()
    if join:
        try:
            muc_join(alice, A, CHAN, NICK, timeout=join_timeout)
        except TimeoutError:
            assert_alive(ctx, "joining %s" % CHAN)
            raise
    return ctx


def send_join(ctx):
    """Ask to join without waiting (the scenario may hold the join up)."""
    ctx.join_mark = ctx.alice.mark()
    ctx.alice.send_presence(to=A.occupant(CHAN, NICK),
                            extra="<x xmlns='http://jabber.org/protocol/muc'/>")


def wait_joined(ctx, timeout):
    try:
        return _wait_joined(ctx, timeout)
    except TimeoutError:
        assert_alive(ctx, "joining %s" % CHAN)
        raise


def _wait_joined(ctx, timeout):
    def p(el):
        return (el.tag == "{jabber:client}presence" and el.get("from") == A.occupant(CHAN, NICK)
                and el.get("type") is None
                and el.find("{http://jabber.org/protocol/muc#user}x/"
                            "{http://jabber.org/protocol/muc#user}status[@code='110']") is not None)
    return ctx.alice.wait_stanza(p, timeout, ctx.join_mark, "self-presence in %s" % CHAN)


# ---------------------------------------------------------------- invariants --

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def bad_chars(el):
    """Every (where, repr) in el's tree holding a character outside XML 1.0."""
    out = []
    for e in el.iter():
        for where, s in [("tag", e.tag), ("text", e.text), ("tail", e.tail)] + \
                [("@" + k, v) for k, v in e.attrib.items()] + [("@name", k) for k in e.attrib]:
            if s and _NOT_XML.search(s):
                out.append((where, repr(s[:80])))
    return out


def sanitizer_report(cw):
    """A sanitizer report, or a GLib critical (a g_return_if_fail hit: a
    programmer bug reached from network input), from the causeway log."""
    log = cw.log()
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", " CRITICAL ["):
        i = log.find(marker)
        if i >= 0:
            return log[max(0, i - 200):i + 3000]
    return None


def assert_alive(ctx, what):
    cw = ctx.cw
    rep = sanitizer_report(cw)
    assert rep is None, "%s: sanitizer report in the causeway log:\n%s" % (what, rep)
    assert cw.alive(), "%s: causeway died (status %s):\n%s" % (
        what, cw.proc.returncode, harness.tail(cw.log_path, 40))


def component_trouble(ctx):
    """What the logs say about the component stream, or None if it stayed up.
    Causeway logs "component D connected" once per stream and a warning when
    one ends; Prosody logs why it closed one."""
    cw = ctx.cw
    log = cw.log()
    n = log.count(cw.connected_line)
    bad = [ln for ln in log.splitlines()
           if ("component %s" % IRC_DOMAIN) in ln
           and ("disconnected" in ln or "stream error" in ln or "reconnecting" in ln)]
    try:
        with open(ctx.rig.prosody.log_path, "rb") as f:
            plog = f.read().decode("utf-8", "replace")
    except OSError:
        plog = ""
    pbad = [harness._clip(ln, 400) for ln in plog.splitlines()
            if "Disconnecting component" in ln
            or ("component disconnected: %s" % IRC_DOMAIN) in ln      # not "(nil)": port probes
            or ("mod_component" in ln and "invalid XML" in ln)]
    if n != 1 or bad or pbad:
        return "component connected %d time(s);\ncauseway: %s\nprosody: %s%s" % (
            n, "\n".join(bad[:5]) or "(no disconnect line)", "\n".join(pbad[:5]) or "(nothing)",
            ("\n" + ctx.diagnose()) if ctx.diagnose else "")
    return None


def xmpp_answers(client, what, timeout=10.0):
    t0 = time.monotonic()
    r = client.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % IRC_DOMAIN, timeout)
    assert r.get("type") == "result", "%s: gateway ping to %s:\n%s" % (what, client.jid, xml_str(r))
    r = client.query(IRC_DOMAIN, NS["info"], timeout=timeout)
    assert r.get("type") == "result", "%s: disco#info for %s:\n%s" % (what, client.jid, xml_str(r))
    return time.monotonic() - t0


def check_invariants(ctx, what, sentinel=True, rss_bound_mb=None):
    """The gateway survived the scenario and nobody else noticed (module docstring)."""
    srv, alice, bob = ctx.srv, ctx.alice, ctx.bob
    srv.wait_played(srv.max_seconds + 5)
    assert_alive(ctx, what)
    trouble = component_trouble(ctx)
    assert trouble is None, "%s: the component stream went down: %s" % (what, trouble)

    if sentinel:
        token = "sentinel-%s" % harness.unique("s")
        m = alice.mark()
        try:
            srv.inject(b":friend!f@friend.example PRIVMSG #chan :" + token.encode(), timeout=T)
            muc_wait(alice, A, CHAN, "friend", token, since=m, timeout=T)
        except (TimeoutError, AssertionError) as e:
            assert_alive(ctx, what)
            trouble = component_trouble(ctx)
            raise AssertionError("%s: a line from the IRC server after the scenario did not reach "
                                 "Alice (component: %s): %s" % (what, trouble or "up", e))

    assert_alive(ctx, what)
    trouble = component_trouble(ctx)
    assert trouble is None, "%s: the component stream went down: %s" % (what, trouble)
    assert bob.is_connected(), "%s: Bob's client was disconnected" % what
    xmpp_answers(bob, what)
    assert alice.is_connected(), "%s: Alice's client was disconnected" % what
    xmpp_answers(alice, what)

    for c in (alice, bob):
        for el in c.find_stanzas(lambda el: True):
            bad = bad_chars(el)
            assert not bad, "%s: %s received non-XML characters %r in:\n%s" % (
                what, c.jid, bad, xml_str(el)[:2000])

    if rss_bound_mb is not None:
        ctx.stop_sampling()
        grew = (ctx.rss_peak - ctx.rss_before) / 1024.0
        record_figure("hostile IRC %s: causeway VmRSS %.1f MB before, peak %.1f MB (+%.1f MB); %s"
                      % (what, ctx.rss_before / 1024.0, ctx.rss_peak / 1024.0, grew,
                         "; ".join("%d lines in %.1f s%s" % (n, s, " (closed by peer)" if pc else "")
                                   for n, s, pc in srv.flooded)))
        assert grew < rss_bound_mb, "%s: causeway VmRSS grew by %.1f MB (%.1f -> %.1f MB), bound %d MB" % (
            what, grew, ctx.rss_before / 1024.0, ctx.rss_peak / 1024.0, rss_bound_mb)
    assert_alive(ctx, what)


# ------------------------------------------------------- bytes and fields --

C0 = bytes(range(0x01, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))

BAD = [
    ("U+FFFF", b"\xef\xbf\xbf"),
    ("U+FFFF-in-utf8", b"\xc3\xa9\xef\xbf\xbf\xc3\xa9"),   # valid UTF-8 around it: no charset fallback
    ("U+FFFE", b"\xef\xbf\xbe"),
    ("FF-FE", b"\xff\xfe"),
    ("C0-all", C0),
    ("x01", b"\x01"),
    ("x08", b"\x08"),
    ("x0B", b"\x0b"),
    ("x0C", b"\x0c"),
    ("x1F", b"\x1f"),
    ("DEL", b"\x7f"),
    ("overlong-C0AF", b"\xc0\xaf"),
    ("surrogate-EDA080", b"\xed\xa0\x80"),
    ("CR-inside", b"a\rb"),
]
if os.environ.get("HOSTILE_BAD"):      # while debugging: HOSTILE_BAD=FF-FE,CR-inside
    BAD = [b for b in BAD if b[0] in os.environ["HOSTILE_BAD"].split(",")]

SRV = b":hostile.irc"
FRIEND = b":friend!f@friend.example"
OP = b":opnick!o@op.example"


def _txt(prefix, i, bad):
    return b"%s%d-%s-end" % (prefix, i, bad)


def f_privmsg(i, bad):
    return [FRIEND + b" PRIVMSG #chan :" + _txt(b"p", i, bad),
            FRIEND + b" PRIVMSG #chan :\x01ACTION " + _txt(b"a", i, bad) + b"\x01"]


def f_private(i, bad):
    return [FRIEND + b" PRIVMSG alice :" + _txt(b"q", i, bad)]


def f_notice(i, bad):
    return [FRIEND + b" NOTICE #chan :" + _txt(b"nc", i, bad),
            FRIEND + b" NOTICE alice :" + _txt(b"np", i, bad),
            SRV + b" NOTICE alice :" + _txt(b"ns", i, bad)]


def f_topic(i, bad):
    return [SRV + b" 332 alice #chan :" + _txt(b"t", i, bad),
            OP + b" TOPIC #chan :" + _txt(b"T", i, bad)]


def f_nick(i, bad):
    return [b":j%d%sz!u@h.example JOIN #chan" % (i, bad),
            b":j%d%sz!u@h.example PRIVMSG #chan :from a bad nick %d" % (i, bad, i),
            b":k%d!u@h.example JOIN #chan" % i,
            b":k%d!u@h.example NICK :k%d%sz" % (i, i, bad),
            b":k%d%sz!u@h.example PRIVMSG alice :private from a bad nick %d" % (i, bad, i),
            OP + b" MODE #chan +o j%d%sz" % (i, bad)]


def f_userhost(i, bad):
    return [b":u%d!%s@h.example JOIN #chan" % (i, bad),
            b":u%d!%s@h.example PRIVMSG #chan :bad user %d" % (i, bad, i),
            b":h%d!u@%s JOIN #chan" % (i, bad),
            b":h%d!u@%s PRIVMSG alice :bad host %d" % (i, bad, i)]


def f_channel(i, bad):
    c = b"#c%d%s" % (i, bad)
    return [FRIEND + b" PRIVMSG " + c + b" :to a bad channel",
            b":alice!u@gateway.example JOIN " + c,
            SRV + b" 332 alice " + c + b" :topic of a bad channel",
            SRV + b" 353 alice = " + c + b" :alice friend",
            SRV + b" 366 alice " + c + b" :End of /NAMES list.",
            SRV + b" 403 alice " + c + b" :No such channel",
            SRV + b" 404 alice " + c + b" :Cannot send to channel",
            SRV + b" 401 alice n%d%s :No such nick" % (i, bad),
            SRV + b" 322 alice " + c + b" 3 :listed",
            FRIEND + b" INVITE alice " + c]


def f_reasons(i, bad):
    return [b":x%d!u@h.example JOIN #chan" % i,
            b":x%d!u@h.example PART #chan :" % i + _txt(b"r", i, bad),
            b":y%d!u@h.example JOIN #chan" % i,
            b":y%d!u@h.example QUIT :" % i + _txt(b"r", i, bad),
            b":z%d!u@h.example JOIN #chan" % i,
            OP + b" KICK #chan z%d :" % i + _txt(b"r", i, bad)]


def f_names(i, bad):
    return [SRV + b" 353 alice = #chan :alice @opnick friend @a%d%s +b%d%s!u@%s c%d%s!%s@h"
            % (i, bad, i, bad, bad, i, bad, bad),
            SRV + b" 366 alice #chan :End of /NAMES list."]


def f_tags(i, bad):
    return [b"@msgid=m%d%s;time=2026-01-01T00:00:00%sZ;account=acc%d%s " % (i, bad, bad, i, bad)
            + FRIEND + b" PRIVMSG #chan :g%d-tags" % i,
            b"@msgid=e%d\\r\\n%s\\s\\:\\\\;account=\\r%s " % (i, bad, bad) + FRIEND
            + b" PRIVMSG alice :g%d-escaped" % i,
            b"@account=%s :w%d!u@h.example JOIN #chan acc%d%s :real %s" % (bad, i, i, bad, bad)]


def f_errors(i, bad):
    return [SRV + b" 404 alice #chan :" + _txt(b"e", i, bad),
            SRV + b" 477 alice #chan :" + _txt(b"e", i, bad),
            SRV + b" 432 alice n%d :" % i + _txt(b"e", i, bad),
            SRV + b" 433 alice n%d%s :in use" % (i, bad),
            SRV + b" 499 alice %s :" % bad + _txt(b"e", i, bad),
            SRV + b" 401 alice friend :" + _txt(b"e", i, bad)]


def groupchat_from(nick, start):
    return lambda el: (el.tag == "{jabber:client}message" and el.get("type") == "groupchat"
                       and el.get("from") == A.occupant(CHAN, nick)
                       and (el.findtext("c:body", "", NS) or "").startswith(start)
                       and "-end" in el.findtext("c:body", "", NS))


def message_from(jid, start):
    return lambda el: (el.tag == "{jabber:client}message" and el.get("type") != "groupchat"
                       and harness.bare(el.get("from")) == jid
                       and (el.findtext("c:body", "", NS) or "").startswith(start))


def subject_from(start):
    return lambda el: (el.tag == "{jabber:client}message" and harness.bare(el.get("from")) == A.room(CHAN)
                       and (el.findtext("c:subject", "", NS) or "").startswith(start))


# what must arrive (text fields: the message itself, with U+FFFD or the bad
# characters dropped, never the message lost): field -> fn(i) -> [(what, pred)]
EXPECT = {
    "privmsg": lambda i: [("PRIVMSG p%d" % i, groupchat_from("friend", "p%d-" % i)),
                          ("ACTION a%d" % i, groupchat_from("friend", "/me a%d-" % i))],
    "private": lambda i: [("private q%d" % i, message_from(A.user("friend"), "q%d-" % i))],
    "notice": lambda i: [("channel NOTICE nc%d" % i, groupchat_from("friend", "nc%d-" % i)),
                         ("private NOTICE np%d" % i, message_from(A.user("friend"), "np%d-" % i)),
                         ("server NOTICE ns%d" % i, message_from(A.server_jid, "ns%d-" % i))],
    "topic": lambda i: [("332 t%d" % i, subject_from("t%d-" % i)),
                        ("TOPIC T%d" % i, subject_from("T%d-" % i))],
    "tags": lambda i: [("tagged PRIVMSG g%d" % i,
                        lambda el: (el.get("type") == "groupchat"
                                    and el.findtext("c:body", "", NS) == "g%d-tags" % i)),
                       ("tagged private g%d" % i,
                        lambda el: el.findtext("c:body", "", NS) == "g%d-escaped" % i)],
}
# the ACTION of a C0 sequence holding \x01 is not an ACTION any more
NO_ACTION = {i for i, (_n, b) in enumerate(BAD) if b"\x01" in b}

FIELDS = {"privmsg": f_privmsg, "private": f_private, "notice": f_notice, "topic": f_topic,
          "nick": f_nick, "userhost": f_userhost, "channel": f_channel, "reasons": f_reasons,
          "names": f_names, "tags": f_tags, "errors": f_errors}


@pytest.mark.parametrize("field", list(FIELDS))
def test_bad_bytes_in_field(rig, prosody, field):
    lines = []
    for i, (_name, bad) in enumerate(BAD):
        lines += FIELDS[field](i, bad)
    srv = HostileIrcd([("lines", lines)])
    ctx = start(rig, prosody, srv)
    what = "bad bytes in %s" % field

    def missing():
        out = []
        for i, (name, _bad) in enumerate(BAD):
            for label, pred in EXPECT.get(field, lambda _i: [])(i):
                if field == "privmsg" and label.startswith("ACTION") and i in NO_ACTION:
                    continue
                if not ctx.alice.find_stanzas(pred, ctx.join_mark):
                    out.append("%s (%s)" % (label, name))
        return out

    def diagnose():
        m = missing()
        return "never reached Alice: %s" % (", ".join(m) if m else "(nothing missing)")
    ctx.diagnose = diagnose
    # the sentinel comes after every hostile line on the same connection and
    # stream: once it is there, everything before it has been delivered
    check_invariants(ctx, what)
    m = missing()
    assert not m, "%s: these never reached Alice: %s" % (what, ", ".join(m))


def test_bad_bytes_in_welcome_nick(rig, prosody):
    """The 001 nick (our own nick as the server sees it) with bad bytes; the
    JOIN echo and the NAMES use it."""
    srv = HostileIrcd([("lines", [FRIEND + b" PRIVMSG #chan :after a bad welcome"])],
                      welcome_nick=b"al\xef\xbf\xbfi\xff\xfece\r\x01")
    ctx = start(rig, prosody, srv, join=False)
    send_join(ctx)
    # the join may succeed (under whatever nick) or fail cleanly; either way:
    ctx.alice.wait_stanza(lambda el: (el.tag == "{jabber:client}presence"
                                      and harness.bare(el.get("from")) == A.room(CHAN)),
                          T, ctx.join_mark, "a presence from %s" % A.room(CHAN))
    check_invariants(ctx, "bad bytes in the 001 nick", sentinel=False)


@pytest.mark.parametrize("entry", [b"!user@host", b"@!u@h", b"@", b"+", b"~&@%+"])
def test_names_entry_without_nick(rig, prosody, entry):
    """A NAMES entry that is only prefixes, or has an empty nick before '!'
    (userhost-in-names), names nobody."""
    srv = HostileIrcd([("lines", [SRV + b" 353 alice = #chan :alice @opnick friend " + entry,
                                  SRV + b" 366 alice #chan :End of /NAMES list."])])
    ctx = start(rig, prosody, srv)
    check_invariants(ctx, "NAMES entry %r" % entry)


# ----------------------------------------------------------------- ISUPPORT --

MODE_LINES = [OP + b" MODE #chan +qaohv friend friend friend friend friend",
              OP + b" MODE #chan -qaohv friend friend friend friend friend",
              OP + b" MODE #chan +vvvvvvvvvvvvvvv opnick friend opnick friend",
              OP + b" MODE #chan +yzYZ friend friend friend",
              OP + b" MODE #chan +o",
              OP + b" MODE #chan +q-q+~ alice alice alice",
              SRV + b" 353 alice = #chan :alice ~@opnick &%+friend + ~&@%+",
              SRV + b" 366 alice #chan :End of /NAMES list.",
              FRIEND + b" PRIVMSG #chan :after the modes"]

ISUPPORT = {
    "prefix-more-modes": [[b"PREFIX=(qaohv)~", b"CHANTYPES=#"]],
    "prefix-ov-at": [[b"PREFIX=(ov)@"]],
    "prefix-more-chars": [[b"PREFIX=(o)~&@%+"]],
    "prefix-empty": [[b"PREFIX="], [b"PREFIX=()"]],
    "junk": [[b"=", b"==", b"PREFIX", b"-PREFIX", b"PREFIX=(", b"PREFIX=(ov@+", b"PREFIX=)(",
              b"CHANTYPES=", b"NICKLEN=99999999999999999999", b"MONITOR=-1", b"TARGMAX=PRIVMSG:,:",
              b"\xff\xfe=\xef\xbf\xbf", b"CASEMAPPING=\xef\xbf\xbf", b"NETWORK=\x01\x02"]],
    "512-tokens": [[b"T%03d=%d" % (k, k) for k in range(511)] + [b"PREFIX=(qaohv)~&@%+"]],
    "5kB-token": [[b"NETWORK=" + b"x" * 5000, b"PREFIX=(ov)@+"]],
}


@pytest.mark.parametrize("variant", list(ISUPPORT))
def test_hostile_isupport(rig, prosody, variant):
    srv = HostileIrcd([("lines", MODE_LINES)], isupport=ISUPPORT[variant],
                      names=b"~@opnick &%+friend")
    ctx = start(rig, prosody, srv)
    check_invariants(ctx, "ISUPPORT %s" % variant)


# ------------------------------------------------------------------- floods --

def ping_token(i):
    return b"PING :flood%09d-" % i + b"x" * 384


def test_ping_flood_never_reading(rig, prosody):
    """The server sends PINGs as fast as it can and never reads our PONGs
    (200 MB or 20 s). Then it reads again: a gateway that closed the
    connection comes back, one that stopped reading meanwhile goes on."""
    srv = HostileIrcd([("gate", "go"), ("stop_reading",),
                       ("flood_gen", ping_token, 500000, 20.0), ("resume_reading",)],
                      max_seconds=90, keep_lines=100)
    ctx = start(rig, prosody, srv)
    ctx.start_sampling()
    srv.release("go")
    srv.wait_played(srv.max_seconds)
    # the gateway stays responsive meanwhile (main loop not blocked on the socket)
    check_invariants(ctx, "PING flood, never reading", rss_bound_mb=RSS_BOUND_MB)


def test_ping_flood_reading(rig, prosody):
    """PINGs as fast as possible from a server that reads every PONG, a bit
    slower than the gateway writes them, so writes are pending while more
    PONGs are queued (issue 14: heap-use-after-free in the write path under
    ASan)."""
    srv = HostileIrcd([("gate", "go"), ("slow_reading", 4096, 0.001),
                       ("flood_gen", ping_token, 100000, 15.0), ("slow_reading", 65536, 0.0)],
                      max_seconds=60, keep_lines=100)
    ctx = start(rig, prosody, srv)
    ctx.start_sampling()
    srv.release("go")
    srv.wait_played(srv.max_seconds)
    check_invariants(ctx, "PING flood, reading", rss_bound_mb=RSS_BOUND_MB)
    c = srv.conns[0]
    assert c.counts.get("PONG", 0) > 0, "no PONG at all: %s" % srv.summary()


def test_endless_motd(rig, prosody):
    """372 lines without end (bounded by the script: 175 MB or 20 s), then the
    server closes; the gateway must not hold the MOTD in memory."""
    motd = lambda i: b":hostile.irc 372 alice :- %09d " % i + b"m" * 380  # noqa: E731
    srv = HostileIrcd([("gate", "go"), ("flood_gen", motd, 450000, 20.0), ("close",)],
                      play_at="registered", no_motd=True, max_seconds=90)
    ctx = start(rig, prosody, srv, join=False)
    ctx.start_sampling()
    send_join(ctx)
    srv.wait_conn(1, T)
    srv.release("go")
    srv.wait_played(srv.max_seconds)
    wait_joined(ctx, 2 * T)     # after the gateway reconnected
    check_invariants(ctx, "endless MOTD", rss_bound_mb=RSS_BOUND_MB)


def test_endless_names(rig, prosody):
    """353 lines with new nicks and never a 366 (2.4 M nicks), then close."""
    names = lambda i: (b":hostile.irc 353 alice = #chan :"  # noqa: E731
                       + b" ".join(b"n%d_%d" % (i, k) for k in range(40)))
    srv = HostileIrcd([("gate", "go"), ("flood_gen", names, 60000, 20.0), ("close",)],
                      max_seconds=90)
    ctx = start(rig, prosody, srv)
    ctx.start_sampling()
    srv.release("go")
    srv.wait_played(srv.max_seconds)
    check_invariants(ctx, "endless NAMES", rss_bound_mb=RSS_BOUND_MB)


# --------------------------------------------------------------- long lines --

TEN_MB = 10 * 1024 * 1024
ONE_MB = 1024 * 1024

LONG = {
    "10MB-no-newline-then-close": [("gate", "go"), ("send", FRIEND + b" PRIVMSG #chan :" + b"y" * TEN_MB),
                                   ("close",)],
    "10MB-then-newline": [("gate", "go"), ("send", FRIEND + b" PRIVMSG #chan :" + b"y" * TEN_MB),
                          ("send", b"\r\n"), ("line", FRIEND + b" PRIVMSG #chan :after the long line")],
    "1MB-lines": [("gate", "go")] + [("line", FRIEND + b" PRIVMSG #chan :" + bytes([0x61 + k]) * ONE_MB)
                                     for k in range(20)]
                 + [("line", FRIEND + b" PRIVMSG #chan :after the long lines")],
}


@pytest.mark.parametrize("variant", list(LONG))
def test_long_lines(rig, prosody, variant):
    srv = HostileIrcd(LONG[variant])
    ctx = start(rig, prosody, srv)
    ctx.start_sampling()
    srv.release("go")
    check_invariants(ctx, "long lines %s" % variant, rss_bound_mb=RSS_BOUND_MB)


# ------------------------------------------------------------------- closes --

CLOSES = {
    "close-on-connect": ("connect", [("close",)]),
    "reset-on-connect": ("connect", [("reset",)]),
    "close-mid-welcome": ("connect", [("wait_line", rb"^USER ", T),
                                      ("send", b":hostile.irc 001 alice :Welc"), ("close",)]),
    "close-mid-line": ("joined", [("send", FRIEND + b" PRIVMSG #chan :half a li"), ("close",)]),
    "reset-mid-line": ("joined", [("send", FRIEND + b" PRIVMSG #chan :half a li\xef\xbf"), ("reset",)]),
}


@pytest.mark.parametrize("variant", list(CLOSES))
def test_abrupt_close(rig, prosody, variant):
    play_at, steps = CLOSES[variant]
    srv = HostileIrcd(steps, play_at=play_at)
    ctx = start(rig, prosody, srv, join=False)
    send_join(ctx)
    wait_joined(ctx, 2 * T)     # the gateway reconnects by itself (1 s backoff)
    check_invariants(ctx, "abrupt close %s" % variant)
    assert len(srv.conns) >= 2 or play_at == "joined", srv.summary()
