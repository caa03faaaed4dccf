"""Abuse: what users (and IRC users) must not be able to do to Causeway.

Real Prosody 0.12, real ngIRCd, real XMPP clients (slixmpp), raw IRC clients
and the real causeway binary ($CAUSEWAY_BIN) with the IRC transport
(domain irc.localhost, rooms #chan%127.0.0.1@irc.localhost; allowed_domains =
localhost, admins = admin@localhost).

  1 a user of a domain that is not allowed (mallory@other.localhost): every iq
    forbidden, a join gets an error presence, no IRC connection is made
  2 one user acting in another user's ad-hoc session; non-admins running the
    admin commands
  3 hostile legacy ids, nicks and values (SQL and IRC metacharacters, path
    separators, 10 kB, characters XML cannot carry): nothing crashes, the
    gateway answers afterwards, the database keeps its tables
  4 a user floods 10,000 groupchat messages (flood control on): IRC gets them
    at the configured rate, other users are served meanwhile
  5 a group-readable key file: exit status 1 and one line saying what to do

Run: scripts/run-e2e.sh -k test_abuse -s      (about a minute)
"""
import os
import sqlite3
import subprocess
import time

import pytest

import harness
from harness import NS, error_of, record_figure, xml_str
from irc_harness import (IrcClient, IrcGatewayAddr, NgIrcd, irc_causeway_extra, muc_join,
                         muc_send, muc_wait, wait_privmsg)

IRC_DOMAIN = "irc.localhost"
SERVER = "127.0.0.1"
A = IrcGatewayAddr(IRC_DOMAIN, SERVER)
T = 10.0
PING = "<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
CMD_NS = NS["cmd"]
MUC_NS = "http://jabber.org/protocol/muc"


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig):
    """Prosody with the IRC gateway's component domain (overrides conftest's)."""
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


def new_irc_causeway(rig, irc_port, **kw):
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                            extra=irc_causeway_extra(irc_port, **kw))


@pytest.fixture
def causeway(rig, prosody, ngircd):
    return new_irc_causeway(rig, ngircd.port).start()


@pytest.fixture
def raw(rig, ngircd):
    """raw(nick) -> a connected IrcClient on the ngIRCd (stopped at teardown)."""
    def make(nick, **kw):
        c = IrcClient(ngircd.port, nick, label="raw-" + nick)
        rig.add_service(c)
        return c.connect(**kw)
    return make


# ------------------------------------------------------------------ helpers --

def _esc(s):
    return harness._xml_escape(s).replace("'", "&apos;")


def register_form(**fields):
    out = ["<x xmlns='jabber:x:data' type='submit'>"
           "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"]
    for k, v in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (k, _esc(v)))
    out.append("</x>")
    return "".join(out)


def register(client, timeout=T, **fields):
    return client.query(IRC_DOMAIN, NS["reg"], "set", register_form(**fields), timeout=timeout)


def submit(fields):
    return "<x xmlns='jabber:x:data' type='submit'>%s</x>" % "".join(
        "<field var='%s'><value>%s</value></field>" % (k, _esc(v)) for k, v in fields.items())


def command(client, node, to=IRC_DOMAIN, action="execute", sessionid=None, payload=""):
    sid = " sessionid='%s'" % sessionid if sessionid else ""
    return client.iq("<iq type='set' to='%s'><command xmlns='%s' node='%s' action='%s'%s>%s</command></iq>"
                     % (to, CMD_NS, node, action, sid, payload), T)


def assert_error(r, condition, what):
    assert r.get("type") == "error", "%s: expected error %s, got:\n%s" % (what, condition, xml_str(r))
    e = error_of(r)
    assert e is not None and e[1] == condition, "%s: expected %s, got %s:\n%s" % (
        what, condition, e and e[1], xml_str(r))


def assert_alive(cw):
    assert cw.alive(), "causeway died (status %s):\n%s" % (cw.proc.returncode,
                                                           harness.tail(cw.log_path, 30))


def ping_ok(client, timeout=T):
    r = client.iq(PING % IRC_DOMAIN, timeout)
    assert r.get("type") == "result", "gateway ping:\n" + xml_str(r)


def reg_value(client, var):
    r = client.query(IRC_DOMAIN, NS["reg"])
    assert r.get("type") == "result", xml_str(r)
    x = r.find("reg:query/x:x", NS)
    for f in x.findall("x:field", NS):
        if f.get("var") == var:
            return f.findtext("x:value", "", NS)
    return None


def db_tables(cw):
    con = sqlite3.connect(os.path.join(cw.data_dir, "irc.db"), timeout=10)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        users = con.execute("SELECT count(*) FROM users").fetchone()[0]
        return ok, tables, users
    finally:
        con.close()


def room_reply(client, room, since, timeout=T):
    """The first presence from room (any type), e.g. the answer to a join."""
    return client.wait_stanza(lambda el: el.tag == "{jabber:client}presence"
                              and harness.bare(el.get("from")) == room, timeout, since,
                              "a presence from %s" % room)


# -------------------------------------------------------------------- tests --

def test_01_foreign_domain(causeway, ngircd, mallory, alice, raw):
    watcher = raw("watcher")
    watcher.join("#chan")
    accepted0, users0 = ngircd.accepted(), watcher.lusers()
    m = mallory.mark()
    # every iq: forbidden
    for what, xml in (("disco#info", "<iq type='get' to='%s'><query xmlns='%s'/></iq>" % (IRC_DOMAIN, NS["info"])),
                      ("register get", "<iq type='get' to='%s'><query xmlns='%s'/></iq>" % (IRC_DOMAIN, NS["reg"])),
                      ("register set", "<iq type='set' to='%s'><query xmlns='%s'>%s</query></iq>"
                       % (IRC_DOMAIN, NS["reg"], register_form(nick="mallory"))),
                      ("ping", PING % IRC_DOMAIN),
                      ("ad-hoc", "<iq type='set' to='%s'><command xmlns='%s' node='configure' action='execute'/></iq>"
                       % (IRC_DOMAIN, CMD_NS)),
                      ("disco#info on a room", "<iq type='get' to='%s'><query xmlns='%s'/></iq>"
                       % (A.room("#chan"), NS["info"])),
                      ("server configure", "<iq type='set' to='%s'><command xmlns='%s' node='configure' "
                       "action='execute'/></iq>" % (A.server_jid, CMD_NS)),
                      ("room list", "<iq type='get' to='%s'><query xmlns='%s'/></iq>" % (A.server_jid, NS["items"]))):
        assert_error(mallory.iq(xml, T), "forbidden", what + " from other.localhost")
    # a join: an error presence
    mallory.send_presence(to=A.occupant("#chan", "mallory"), extra="<x xmlns='%s'/>" % MUC_NS)
    e = room_reply(mallory, A.room("#chan"), m)
    assert e.get("type") == "error", "join from other.localhost:\n" + xml_str(e)
    assert error_of(e)[1] == "forbidden", xml_str(e)
    # messages: errors, never IRC
    mid = mallory.send_message(A.room("#chan"), "let me in", mtype="groupchat")
    e = mallory.wait_message(pred=lambda el: el.get("id") == mid and el.get("type") == "error", since=m)
    assert error_of(e)[1] == "forbidden", xml_str(e)
    mid = mallory.send_message(A.user("watcher"), "psst", mtype="chat")
    e = mallory.wait_message(pred=lambda el: el.get("id") == mid and el.get("type") == "error", since=m)
    assert error_of(e)[1] == "forbidden", xml_str(e)
    mallory.send_message(A.server_jid, "NICK mallory", mtype="chat")
    # the gateway handles one stream in order: alice's ping comes after all of it;
    # then give a (wrong) asynchronous connect a moment to show up
    ping_ok(alice)
    time.sleep(1.0)
    watcher.sync()
    assert ngircd.accepted() == accepted0, "ngIRCd accepted a connection:\n" + ngircd.report()
    assert watcher.lusers() == users0
    assert not watcher.find(pred=lambda l: l.command in ("JOIN", "PRIVMSG") and l.nick != "watcher")
    assert "mallory@other.localhost is online" not in causeway.log()
    assert_alive(causeway)


def test_02_adhoc_sessions_and_admin_commands(causeway, alice, bob, admin):
    for c, nick in ((alice, "alicenick"), (bob, "bobnick")):
        r = register(c, nick=nick, realname="real " + nick)
        assert r.get("type") == "result", xml_str(r)
    # alice starts Configure
    r = command(alice, "configure")
    assert r.get("type") == "result", xml_str(r)
    sid = r.find("cmd:command", NS).get("sessionid")
    assert sid, xml_str(r)
    # bob (registered too) acts in alice's session: complete, next, cancel, prev
    for action in ("complete", "next", "execute", "prev", "cancel"):
        r = command(bob, "configure", action=action, sessionid=sid,
                    payload=submit({"nick": "pwned", "realname": "pwned by bob"}))
        assert_error(r, "forbidden", "bob: %s in alice's configure session" % action)
    # alice's values are untouched and her session still works
    assert reg_value(alice, "realname") == "real alicenick"
    r = command(alice, "configure", action="complete", sessionid=sid,
                payload=submit({"nick": "alicenick", "realname": "alice again"}))
    assert r.get("type") == "result" and r.find("cmd:command", NS).get("status") == "completed", xml_str(r)
    assert reg_value(alice, "realname") == "alice again"
    assert reg_value(bob, "realname") == "real bobnick"
    # the same on an entity's command (Configure server on 127.0.0.1@irc.localhost)
    r = command(alice, "configure", to=A.server_jid)
    assert r.get("type") == "result", xml_str(r)
    sid2 = r.find("cmd:command", NS).get("sessionid")
    for action in ("complete", "cancel"):
        r = command(bob, "configure", to=A.server_jid, action=action, sessionid=sid2,
                    payload=submit({"port": "1"}))
        assert_error(r, "forbidden", "bob: %s in alice's server configure session" % action)
    # alice completes her own server session
    r = command(alice, "configure", to=A.server_jid, action="complete", sessionid=sid2,
                payload=submit({"port": "6667"}))
    assert r.get("type") == "result", xml_str(r)
    # non-admins: stats and reload forbidden, and not listed
    for c in (alice, bob):
        for node in ("stats", "reload"):
            assert_error(command(c, node), "forbidden", "%s as %s" % (node, c.jid))
    r = alice.query(IRC_DOMAIN, NS["items"], node=CMD_NS)
    nodes = {i.get("node") for i in r.findall("items:query/items:item", NS)}
    assert not {"stats", "reload"} & nodes, nodes
    # while the admin may
    r = command(admin, "stats")
    assert r.get("type") == "result", xml_str(r)
    # sessions left open are bounded: a user's 9th ends the 1st (8 at most)
    sids = []
    for _ in range(9):
        r = command(alice, "configure")
        assert r.get("type") == "result", xml_str(r)
        sids.append(r.find("cmd:command", NS).get("sessionid"))
    assert_error(command(alice, "configure", action="cancel", sessionid=sids[0]), "bad-request",
                 "alice's oldest session beyond the 8 she may keep")
    for sid in sids[1:]:
        r = command(alice, "configure", action="cancel", sessionid=sid)
        assert r.find("cmd:command", NS).get("status") == "canceled", xml_str(r)
    assert_alive(causeway)


HOSTILE = {
    "sql": "'; DROP TABLE users; --",
    "path": "../../etc/passwd",
    "long": "L" * 10240,
}


def test_02b_server_settings_need_a_registration(causeway, alice):
    """Issue 14 finding 11: Configure server must not register a user behind
    their back (nor let anyone fill the store without registering)."""
    r = command(alice, "configure", to=A.server_jid)
    assert_error(r, "registration-required", "Configure server, unregistered")
    r = command(alice, "configure", to="localhost@%s" % IRC_DOMAIN)
    assert_error(r, "registration-required", "Configure server localhost, unregistered")
    # servers not in irc_servers offer no Configure at all (finding 5)
    for i in range(5):
        r = command(alice, "configure", to="srv%d.example@%s" % (i, IRC_DOMAIN))
        assert_error(r, "item-not-found", "Configure server %d (not served), unregistered" % i)
    ok, _tables, users = db_tables(causeway)
    assert ok == "ok" and users == 0, "registered behind the user's back: %d user row(s)" % users
    r = alice.query(IRC_DOMAIN, NS["reg"], "get")
    assert r.find("reg:query/reg:registered", NS) is None, "alice shows as registered:\n" + xml_str(r)
    # registered, the same command works
    assert register(alice, nick="alicenick").get("type") == "result"
    r = command(alice, "configure", to=A.server_jid)
    assert r.get("type") == "result", xml_str(r)


def test_03_hostile_ids_nicks_and_values(rig, causeway, alice, bob, raw):
    op = raw("opnick")
    op.join("#chan")
    muc_join(bob, A, "#chan", "bobnick")
    # registration values: stored as they are (or refused), never interpreted
    for name, v in HOSTILE.items():
        r = register(alice, nick="alicenick", username="alice", realname=v)
        if name == "long" and r.get("type") == "error":    # a length limit is fine
            assert error_of(r)[1] == "not-acceptable", xml_str(r)
            continue
        assert r.get("type") == "result", "realname %s:\n%s" % (name, xml_str(r))
        assert reg_value(alice, "realname") == v, "realname %s does not read back" % name
    for name, v in HOSTILE.items():
        for field in ("nick", "username"):
            r = register(alice, **{field: v})
            assert r.get("type") in ("result", "error"), xml_str(r)
    r = register(alice, nick="alicenick", username="alice", realname="Alice")
    assert r.get("type") == "result", xml_str(r)
    ping_ok(alice)

    # room names and nicks through JIDs (Prosody refuses JID parts over 1023 bytes;
    # '/' ends the node, so path separators come XEP-0106-escaped and raw in the resource)
    long_chan = "#" + "c" * 1000
    long_nick = "n" * 1000
    joins = [
        ("#chan", HOSTILE["sql"]), ("#chan", HOSTILE["path"]), ("#chan", long_nick),
        ("#chan", "nick with spaces"), ("#chan", ":colon"),
        ("#..\\2f..\\2fetc\\2fpasswd", "alicenick"), (long_chan, "alicenick"),
        ("#\\27;\\20drop\\20table\\20users;\\20--", "alicenick"), ("#a,#b", "alicenick"),
        ("#chan%..\\2f..\\2fetc\\2fpasswd", "alicenick"),
    ]
    for chan, nick in joins:
        room = "%s%%%s@%s" % (chan, SERVER, IRC_DOMAIN) if "%" not in chan else "%s@%s" % (chan, IRC_DOMAIN)
        alice.send_raw("<presence to='%s'><x xmlns='%s'/></presence>" % (_esc("%s/%s" % (room, nick)), MUC_NS))
        alice.send_raw("<presence to='%s' type='unavailable'/>" % _esc("%s/%s" % (room, nick)))
    ping_ok(alice, timeout=20)
    # messages to hostile legacy ids
    targets = [A.user("\\27;\\20drop\\20table\\20users;\\20--"), A.user("..\\2f..\\2fetc\\2fpasswd"),
               A.user("x" * 1000), "%s@%s" % ("s" * 1000, IRC_DOMAIN), A.room("#" + "m" * 1000),
               A.user("op\\20opnick"), A.user("opnick,opnick")]
    for to in targets:
        alice.send_raw("<message type='chat' to='%s'><body>%s</body></message>" % (_esc(to), _esc(HOSTILE["sql"])))
    ping_ok(alice, timeout=20)
    assert_alive(causeway)

    # 10 kB JID parts: the server refuses them (a throwaway client: slixmpp drops
    # its stream on the bounce's invalid 'from')
    t = rig.client("bob")
    for xml in ("<presence to='%s'><x xmlns='%s'/></presence>" % (A.occupant("#" + "r" * 10240, "x"), MUC_NS),
                "<presence to='%s'><x xmlns='%s'/></presence>" % (A.occupant("#chan", "N" * 10240), MUC_NS),
                "<message to='%s'><body>long</body></message>" % A.user("u" * 10240),
                # bidi override and zero-width space in a nick (slixmpp refuses such a 'from')
                "<presence to='%s'><x xmlns='%s'/></presence>" % (A.occupant("#chan", "a\u202eb\u200bc"), MUC_NS)):
        try:
            t.send_raw(xml)
        except Exception:  # noqa: BLE001  (the bounce already closed this client's stream)
            break
    time.sleep(0.5)
    # characters XML cannot carry: the server closes such a stream, nothing reaches us
    t2 = rig.client("bob")
    t2.send_raw("<message to='%s' type='groupchat'><body>bad &#1; char</body></message>" % A.room("#chan"))
    t2.disconnected.wait(5)
    assert t2.disconnected.is_set(), "the server accepted a character XML cannot carry"

    # from IRC: control characters, noncharacters, invalid UTF-8, in every text field
    m = alice.mark()
    muc_join(alice, A, "#chan", "alicenick")
    bad = (b"ctl \x01\x04\x05\x06\x07\x08\x0b\x0c\x0e\x10\x12\x13\x14\x15\x17\x18\x19\x1a\x1b\x1c "
           b"nonchar \xef\xbf\xbe\xef\xbf\xbf surrogate \xed\xa0\x80 invalid \xff\xfe\xc0\xaf end")
    op.send(b"PRIVMSG #chan :" + bad)
    op.send(b"PRIVMSG alicenick :" + bad)
    op.send(b"PRIVMSG #chan :\x01ACTION " + bad.replace(b"\x01", b"") + b"\x01")   # \x01 ends a CTCP
    op.send(b"NOTICE alicenick :" + bad)
    op.send(b"TOPIC #chan :" + bad)
    op.send(b"PART #chan :" + bad)
    op.send(b"JOIN #chan")
    op.send(b"PRIVMSG #chan :marker after bad bytes")
    muc_wait(alice, A, "#chan", "opnick", "marker after bad bytes", since=m, timeout=T)
    # the text arrived (cleaned), it was not dropped
    for what, p in (("groupchat", lambda el: el.get("type") == "groupchat"
                     and el.findtext("c:body", "", NS).startswith("ctl ")),
                    ("private message", lambda el: el.get("type") == "chat"
                     and el.findtext("c:body", "", NS).startswith("ctl ")),
                    ("/me", lambda el: el.findtext("c:body", "", NS).startswith("/me ctl ")),
                    ("subject", lambda el: (el.findtext("c:subject", "", NS) or "").startswith("ctl "))):
        got = alice.find_stanzas(lambda el, p=p: el.tag == "{jabber:client}message" and p(el), since=m)
        assert got, "the %s with control characters never arrived" % what
        text = got[0].findtext("c:body", None, NS) or got[0].findtext("c:subject", "", NS)
        assert "nonchar" in text and text.endswith("end"), "%s cut: %r" % (what, text)
    # bob's client (same room) still has his stream, and the component did not reconnect
    assert bob.is_connected() and alice.is_connected()
    assert causeway.count(causeway.connected_line) == 1, \
        "the component's stream was reset (invalid XML sent?):\n" + harness.tail(causeway.log_path, 20)
    ping_ok(alice)
    ping_ok(bob)
    assert_alive(causeway)
    ok, tables, users = db_tables(causeway)
    assert ok == "ok" and {"users", "user_values", "contacts", "rooms"} <= tables, (ok, tables)
    assert users >= 1


def test_03b_irc_metacharacters_never_reach_irc(causeway, alice, raw):
    """Spaces and commas smuggled into legacy ids (XEP-0106 \\20) must not become
    extra IRC parameters or targets; each such stanza gets an error."""
    op = raw("opnick")
    op.join("#chan")
    other = raw("other")
    other.join("#b")
    muc_join(alice, A, "#chan", "alicenick")
    # her own JOIN may reach op after her self-presence reached her
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", what="alicenick's JOIN")
    mi, mo = op.mark(), other.mark()
    cases = [
        ("message", A.user("opnick\\20injected"), "chat"),
        ("message", A.user("opnick,other"), "chat"),
        ("message", A.room("#chan\\20#b"), "groupchat"),
        ("presence", A.occupant("#b\\20key", "alicenick"), None),
        ("presence", A.occupant("#chan,#b", "alicenick"), None),
        ("presence", A.occupant("#chan\\20#b", "alicenick"), None),
        ("presence", A.occupant("#chan", "alice nick"), None),     # nick changes
        ("presence", A.occupant("#chan", "alice,nick"), None),
    ]
    unanswered = []
    for i, (kind, to, mtype) in enumerate(cases):
        m = alice.mark()
        if kind == "message":
            alice.send_raw("<message type='%s' to='%s' id='meta-%d'><body>smuggled</body></message>"
                           % (mtype, to, i))
        else:
            alice.send_raw("<presence to='%s' id='meta-%d'><x xmlns='%s'/></presence>" % (to, i, MUC_NS))
        try:
            alice.wait_stanza(lambda el: el.get("type") == "error" and (
                el.get("id") == "meta-%d" % i or harness.bare(el.get("from")) == harness.bare(to)), 3, m,
                "an error for %s to %s" % (kind, to))
        except TimeoutError:
            unanswered.append("%s to %s" % (kind, to))
    m = alice.mark()
    muc_send(alice, A, "#chan", "marker")
    wait_privmsg(op, "alicenick", "#chan", "marker", since=mi)
    ping_ok(alice)
    time.sleep(0.5)
    op.sync()
    other.sync()
    leaked = [l.raw for l in op.find(since=mi) + other.find(since=mo)
              if l.nick in ("alicenick", "alice") and not (l.command == "PRIVMSG" and l.params[-1] == "marker")]
    assert not leaked, "hostile ids reached IRC: %r" % leaked
    assert_alive(causeway)
    assert not unanswered, "no error within 3 s (a MUC join left hanging) for:\n  " + "\n  ".join(unanswered)


def test_04_flood_10000_messages(rig, prosody, ngircd, alice, bob, raw):
    burst, interval = 5, 0.2
    cw = new_irc_causeway(rig, ngircd.port, flood_burst=burst, flood_interval=interval).start()
    op = raw("opnick")
    op.join("#flood")
    op2 = raw("opother")
    op2.join("#other")
    muc_join(alice, A, "#flood", "alicenick")
    muc_join(bob, A, "#other", "bobnick")
    rss0 = harness.proc_rss_kb(cw.proc.pid)
    mi = op.mark()
    n, chunk = 10000, 250
    t0 = time.monotonic()
    for start in range(0, n, chunk):
        alice.send_raw("".join(
            "<message type='groupchat' to='%s' id='flood-%d'><body>flood line %05d</body></message>"
            % (A.room("#flood"), i, i) for i in range(start, min(n, start + chunk))))
    t_sent = time.monotonic() - t0
    # meanwhile: bob is served (ping, and a message through his own channel)
    pings, trips = [], []
    window = 15.0
    while time.monotonic() - t0 < window - 2:
        time.sleep(1.5)
        s = time.monotonic()
        ping_ok(bob, timeout=5)
        pings.append(time.monotonic() - s)
        m2 = op2.mark()
        s = time.monotonic()
        text = "bob during the flood %d" % len(trips)
        muc_send(bob, A, "#other", text)
        wait_privmsg(op2, "bobnick", "#other", text, since=m2, timeout=5)
        trips.append(time.monotonic() - s)
        assert_alive(cw)
    while time.monotonic() - t0 < window:
        time.sleep(0.1)
    t_end = time.monotonic() - op.t0
    rss1 = harness.proc_rss_kb(cw.proc.pid)
    got = [(t, l) for t, l in op.lines[mi:] if l.command == "PRIVMSG" and l.nick == "alicenick"]
    assert got, "no flood line reached IRC"
    t_first = got[0][0]
    steady = [t for t, _l in got if t >= t_first + 2.0]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    first_sec = sum(1 for t, _l in got if t < t_first + 1.0)
    record_figure("abuse 4: 10,000 groupchat messages sent in %.2f s; IRC got %d lines in %.1f s: %d in the "
                  "first second, then %.2f lines/s (flood_burst=%d, flood_interval=%.1f s => %.1f lines/s)"
                  % (t_sent, len(got), t_end - t_first, first_sec, rate, burst, interval, 1 / interval))
    record_figure("abuse 4: during the flood, bob's ping answered in max %.3f s (of %d), his groupchat "
                  "reached IRC in max %.3f s (of %d); causeway RSS %d -> %d KiB"
                  % (max(pings), len(pings), max(trips), len(trips), rss0, rss1))
    assert max(pings) <= 2.0 and max(trips) <= 2.0, (pings, trips)
    assert [l.params[-1] for _t, l in got] == ["flood line %05d" % i for i in range(len(got))], \
        "flood lines out of order or lost"
    assert first_sec <= burst + 1 / interval + 2, "%d lines in the first second: no flood control" % first_sec
    assert 0.6 / interval <= rate <= 1.5 / interval, "steady rate %.2f lines/s, configured %.1f" % (rate, 1 / interval)
    assert len(got) < 1000, "%d lines in %.0f s: not flood-controlled" % (len(got), window)
    assert_alive(cw)


@pytest.mark.parametrize("mode", ["transport", "supervisor"])
def test_05_key_file_readable_by_group(rig, prosody, ngircd, mode):
    cw = new_irc_causeway(rig, ngircd.port).start()
    assert cw.stop() == 0
    key = os.path.join(cw.data_dir, "causeway.key")
    assert os.path.isfile(key)
    assert os.stat(key).st_mode & 0o777 == 0o600, oct(os.stat(key).st_mode)
    argv = [cw.bin, "-c", cw.cfg] + (["--transport", cw.transport] if mode == "transport" else [])
    for perm in (0o640, 0o604):
        os.chmod(key, perm)
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=20, start_new_session=True)
        except subprocess.TimeoutExpired:
            for pid in cw.our_pids():
                harness.terminate_pid(pid)
            pytest.fail("%s mode with key mode %o: still running after 20 s" % (mode, perm))
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        record_figure("abuse 5 (%s mode, key %o): exit %s, stderr: %s" % (mode, perm, r.returncode, " | ".join(lines)))
        assert r.returncode == 1, "exit %s, expected 1; stderr:\n%s" % (r.returncode, r.stderr)
        assert len(lines) == 1, "expected one line on stderr, got:\n%s" % r.stderr
        assert key in lines[0] and "chmod 600" in lines[0], lines[0]
        assert os.stat(key).st_mode & 0o777 == perm, "the key file's mode was changed behind our back"
    # fixed: it starts again
    os.chmod(key, 0o600)
    cw.start(supervisor=(mode == "supervisor"), wait_connected=False)
    cw.wait_connected(2)
