"""Limits and the IRC server allowlist (issue 14, findings 5 and 6).

Real Prosody 0.12, real ngIRCd on 127.0.0.1, real XMPP clients (slixmpp), raw
IRC clients and the real causeway binary ($CAUSEWAY_BIN) with the IRC
transport (domain irc.localhost). Each test writes its own irc_servers and
limits, and checks that the user over a limit gets the documented error (the
condition, and a text naming the limit or the allowed servers), that nothing
reaches IRC for a refused request, and that another user is unaffected.

  1 a server not in irc_servers: not-allowed naming the allowed servers, for
    joins, messages, room lists and Configure; no connection reaches ngIRCd
  2 a port pinned in irc_servers: a user's other port is refused, others join
  3 irc_servers = * refuses names and literals that are loopback after DNS
    resolution (no connection), while a listed server stays usable
  4 irc_servers = * with irc_allow_private = true connects to loopback
  5 max_rooms_per_user: the next join (and a flood of 300 joins) is refused
    with policy-violation and never reaches IRC; leaving frees a place
  6 max_servers_per_user: policy-violation, other users unaffected
  7 max_connections_per_server, counted over every user and over aliases
    (trailing dot): resource-constraint; another server is unaffected
  8 max_contacts_per_user, registered and unregistered users
  9 max_settings_scopes_per_user: the next server's settings are refused and
    not stored; unlisted servers offer no Configure at all
 10 no irc_servers and no default_server: the transport refuses to start,
    naming the key

Run: scripts/run-e2e.sh -k test_limits -s      (about a minute)
"""
import os
import sqlite3
import subprocess
import time

import pytest

import harness
from harness import NS, error_of, xml_str
from irc_harness import IrcClient, IrcGatewayAddr, NgIrcd, MUC_NS

IRC_DOMAIN = "irc.localhost"
T = 10.0
CMD_NS = NS["cmd"]
STANZAS = NS["stanzas"]
LO = IrcGatewayAddr(IRC_DOMAIN, "127.0.0.1")


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


@pytest.fixture
def raw(rig, ngircd):
    def make(nick):
        c = IrcClient(ngircd.port, nick, label="raw-" + nick)
        rig.add_service(c)
        return c.connect()
    return make


def start_causeway(rig, irc_port, servers, extra="", gateway_extra=""):
    cfg = "irc_port = %d\nflood_burst = 0\nirc_servers = %s\n%s" % (irc_port, servers, extra)
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg,
                            gateway_extra=gateway_extra).start()


# ------------------------------------------------------------------ helpers --

def error_text(el):
    e = el.find("{jabber:client}error")
    return e.findtext("{%s}text" % STANZAS, "") if e is not None else ""


def assert_error(el, condition, text_has, what):
    assert el.get("type") == "error", "%s: expected error %s, got:\n%s" % (what, condition, xml_str(el))
    e = error_of(el)
    assert e is not None and e[1] == condition, "%s: expected %s, got %s:\n%s" % (
        what, condition, e and e[1], xml_str(el))
    for t in text_has:
        assert t in error_text(el), "%s: the error text lacks %r:\n%s" % (what, t, xml_str(el))


def join(client, addr, chan, nick):
    """Send a MUC join; return the first presence from the room (self or error)."""
    m = client.mark()
    client.send_presence(to=addr.occupant(chan, nick), extra="<x xmlns='%s'/>" % MUC_NS)

    def p(el):  # JIDs compared without case: the server may lower-case them
        frm = el.get("from", "").lower()
        if el.tag != "{jabber:client}presence" or harness.bare(frm) != addr.room(chan).lower():
            return False
        return el.get("type") == "error" or frm == addr.occupant(chan, nick).lower()
    return client.wait_stanza(p, T, m, "an answer to the join of %s" % addr.room(chan))


def join_ok(client, addr, chan, nick):
    r = join(client, addr, chan, nick)
    assert r.get("type") != "error", "join of %s failed:\n%s" % (addr.room(chan), xml_str(r))
    return r


def leave(client, addr, chan, nick):
    m = client.mark()
    client.send_presence(to=addr.occupant(chan, nick), ptype="unavailable")
    client.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("type") == "unavailable"
                       and el.get("from") == addr.occupant(chan, nick), T, m, "left %s" % chan)


def ping_ok(client):
    r = client.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % IRC_DOMAIN, T)
    assert r.get("type") == "result", xml_str(r)


def settle(client):
    """The gateway handles one stream in order: a ping answered means what was
    sent before it was handled; then give a wrong asynchronous connect a
    moment to show up."""
    ping_ok(client)
    time.sleep(0.8)


def execute_configure(client, jid):
    return client.iq("<iq type='set' to='%s'><command xmlns='%s' node='configure' action='execute'/></iq>"
                     % (jid, CMD_NS), T)


def configure(client, jid, values):
    """Configure on jid: execute, then submit; returns the submit's answer."""
    r = execute_configure(client, jid)
    assert r.get("type") == "result", "configure execute on %s:\n%s" % (jid, xml_str(r))
    sid = r.find("{%s}command" % CMD_NS).get("sessionid")
    fields = "".join("<field var='%s'><value>%s</value></field>" % (k, v) for k, v in values.items())
    return client.iq("<iq type='set' to='%s'><command xmlns='%s' node='configure' sessionid='%s' "
                     "action='complete'><x xmlns='jabber:x:data' type='submit'>%s</x></command></iq>"
                     % (jid, CMD_NS, sid, fields), T)


def register(client, nick):
    form = ("<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"
            "<field var='nick'><value>%s</value></field></x>" % nick)
    r = client.query(IRC_DOMAIN, NS["reg"], "set", form, timeout=T)
    assert r.get("type") == "result", xml_str(r)


def db_rows(cw, sql, *args):
    con = sqlite3.connect(os.path.join(cw.data_dir, "irc.db"), timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def joins_from(irc, nick, since=0):
    return irc.find(pred=lambda l: l.command == "JOIN" and l.nick == nick, since=since)


# -------------------------------------------------------------------- tests --

def test_01_server_not_listed(rig, prosody, ngircd, alice, bob):
    """Only irc_servers can be used: anything else gets not-allowed with the
    list in the text, and no TCP connection is made."""
    cw = start_causeway(rig, ngircd.port, "127.0.0.1")
    other = IrcGatewayAddr(IRC_DOMAIN, "localhost")   # also ngIRCd, but not listed
    accepted0 = ngircd.accepted()
    r = join(alice, other, "#chan", "alice")
    assert_error(r, "not-allowed", ["localhost", "127.0.0.1"], "join on an unlisted server")
    # a 1:1 message and a raw command to the server JID
    for to in (other.user("someone"), other.server_jid):
        m = alice.mark()
        mid = alice.send_message(to, "hello", mtype="chat")
        e = alice.wait_message(pred=lambda el: el.get("id") == mid and el.get("type") == "error", since=m)
        assert_error(e, "not-allowed", ["127.0.0.1"], "message to " + to)
    # disco#items (LIST) on the server
    r = alice.iq("<iq type='get' to='%s'><query xmlns='%s'/></iq>" % (other.server_jid, NS["items"]), T)
    assert_error(r, "not-allowed", ["127.0.0.1"], "room list of an unlisted server")
    # no Configure for it (nothing to store for a server the gateway does not serve)
    r = execute_configure(alice, other.server_jid)
    assert r.get("type") == "error", xml_str(r)
    # aliases of an unlisted name are unlisted too; a listed one works for bob
    for alias in ("LOCALHOST", "localhost.", "127.0.0.2", "10.0.0.1"):
        r = join(alice, IrcGatewayAddr(IRC_DOMAIN, alias), "#chan", "alice")
        assert_error(r, "not-allowed", ["127.0.0.1"], "join on " + alias)
    settle(alice)
    assert ngircd.accepted() == accepted0, "ngIRCd accepted a connection:\n" + ngircd.report()
    join_ok(bob, LO, "#chan", "bob")
    assert ngircd.accepted() == accepted0 + 1
    assert cw.alive()


def test_02_pinned_port(rig, prosody, ngircd, alice, bob):
    """An entry with a port allows only that port: a user's other port is
    refused (naming the allowed one) before any connection."""
    cw = start_causeway(rig, 1, "127.0.0.1:%d" % ngircd.port)   # irc_port 1: the pinned port wins
    register(alice, "alice")
    r = configure(alice, LO.server_jid, {"port": "6999"})
    assert r.get("type") == "result", xml_str(r)
    accepted0 = ngircd.accepted()
    r = join(alice, LO, "#chan", "alice")
    assert_error(r, "not-allowed", ["port %d only" % ngircd.port, "6999"], "join with another port")
    settle(alice)
    assert ngircd.accepted() == accepted0
    # bob has no port setting: the pinned port is used
    join_ok(bob, LO, "#chan", "bob")
    # and alice's own port equal to the pinned one is fine
    r = configure(alice, LO.server_jid, {"port": str(ngircd.port)})
    assert r.get("type") == "result", xml_str(r)
    join_ok(alice, LO, "#chan", "alice")
    assert cw.alive()


def test_03_open_gateway_refuses_loopback(rig, prosody, ngircd, alice, bob, raw):
    """irc_servers = *: a name that resolves to loopback (or a loopback or
    private literal) is refused after resolution with no connection; a
    server the admin lists stays usable (listed servers are trusted)."""
    watcher = raw("watcher")
    watcher.join("#chan")
    cw = start_causeway(rig, ngircd.port, "*, 127.0.0.1")
    accepted0 = ngircd.accepted()
    # (IPv6 literals are not valid in a JID's node: their classes are unit-tested)
    for host, cls in (("localhost", "loopback"), ("127.0.0.2", "loopback"), ("10.1.2.3", "private"),
                      ("169.254.169.254", "link-local"), ("100.64.0.1", "carrier-grade NAT"),
                      ("0.0.0.0", "unspecified")):
        r = join(alice, IrcGatewayAddr(IRC_DOMAIN, host), "#chan", "alice")
        assert_error(r, "not-allowed", ["does not connect to " + host, cls], "join on " + host)
    settle(alice)
    assert ngircd.accepted() == accepted0, "a connection reached ngIRCd:\n" + ngircd.report()
    assert not joins_from(watcher, "alice")
    assert "refused to connect to localhost" in cw.log()
    # the transport did not retry the refused ones
    time.sleep(1.5)
    assert ngircd.accepted() == accepted0
    assert "Reconnecting" not in cw.log()
    # the listed loopback server works, for both users
    join_ok(bob, LO, "#chan", "bob")
    join_ok(alice, LO, "#chan", "alice")
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "alice", timeout=T)
    assert cw.alive()


def test_04_open_gateway_allow_private(rig, prosody, ngircd, alice, raw):
    watcher = raw("watcher")
    watcher.join("#chan")
    cw = start_causeway(rig, ngircd.port, "*", extra="irc_allow_private = true\n")
    join_ok(alice, IrcGatewayAddr(IRC_DOMAIN, "localhost"), "#chan", "alice")
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "alice", timeout=T)
    assert cw.alive()


def test_05_rooms_per_user(rig, prosody, ngircd, alice, bob, raw):
    """max_rooms_per_user: the next join gets policy-violation naming the
    limit and never reaches IRC; a flood of joins likewise; bob is served;
    leaving a room frees a place."""
    watcher = raw("watcher")
    for c in ("#r3", "#f0", "#f150", "#f299"):
        watcher.join(c)
    cw = start_causeway(rig, ngircd.port, "127.0.0.1", gateway_extra="max_rooms_per_user = 3\n")
    for i in range(3):
        join_ok(alice, LO, "#r%d" % i, "alice")
    mi = watcher.mark()
    r = join(alice, LO, "#r3", "alice")
    assert_error(r, "policy-violation", ["max_rooms_per_user = 3", "3 rooms"], "4th join")
    # 300 joins at once: all refused, none on IRC
    m = alice.mark()
    for i in range(300):
        alice.send_presence(to=LO.occupant("#f%d" % i, "alice"), extra="<x xmlns='%s'/>" % MUC_NS)
    def refused():
        return {harness.bare(el.get("from")) for el in alice.find_stanzas(
            lambda el: el.tag == "{jabber:client}presence" and el.get("type") == "error"
            and harness.bare(el.get("from")).startswith("#f") and error_of(el)[1] == "policy-violation",
            since=m)}
    harness.wait_until(lambda: len(refused()) == 300, 30, "300 join errors")
    errors = refused()
    assert len(errors) == 300
    # bob is not limited by alice's rooms
    join_ok(bob, LO, "#r3", "bob")
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "bob", since=mi, timeout=T)
    settle(alice)
    watcher.sync()
    assert not joins_from(watcher, "alice", since=mi), "a refused join reached IRC"
    # leave one: the 4th works now
    leave(alice, LO, "#r0", "alice")
    join_ok(alice, LO, "#r3", "alice")
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "alice", since=mi, timeout=T)
    assert cw.alive()


def test_06_servers_per_user(rig, prosody, ngircd, alice, bob):
    cw = start_causeway(rig, ngircd.port, "127.0.0.1, localhost, 127.0.0.3",
                        extra="max_servers_per_user = 2\n")
    join_ok(alice, LO, "#a", "alice")
    join_ok(alice, IrcGatewayAddr(IRC_DOMAIN, "localhost"), "#a", "alice")
    accepted0 = ngircd.accepted()
    r = join(alice, IrcGatewayAddr(IRC_DOMAIN, "127.0.0.3"), "#a", "alice")
    assert_error(r, "policy-violation", ["max_servers_per_user = 2"], "3rd server")
    # a message to a user on a third server: the same
    m = alice.mark()
    mid = alice.send_message(IrcGatewayAddr(IRC_DOMAIN, "127.0.0.3").user("x"), "hi", mtype="chat")
    e = alice.wait_message(pred=lambda el: el.get("id") == mid and el.get("type") == "error", since=m)
    assert_error(e, "policy-violation", ["max_servers_per_user = 2"], "message to a 3rd server")
    # more rooms on a server already connected are fine
    join_ok(alice, LO, "#b", "alice")
    join_ok(bob, LO, "#a", "bob")
    settle(alice)
    assert ngircd.accepted() == accepted0 + 1     # bob's
    assert cw.alive()


def test_07_connections_per_server(rig, prosody, ngircd, alice, bob, admin):
    cw = start_causeway(rig, ngircd.port, "127.0.0.1, localhost",
                        extra="max_connections_per_server = 2\n")
    join_ok(alice, LO, "#c", "alice")
    join_ok(bob, LO, "#c", "bob")
    accepted0 = ngircd.accepted()
    for alias in ("127.0.0.1", "127.0.0.1."):
        r = join(admin, IrcGatewayAddr(IRC_DOMAIN, alias), "#c", "admin")
        assert_error(r, "resource-constraint", ["max_connections_per_server = 2", "127.0.0.1"],
                     "3rd connection to " + alias)
    settle(admin)
    assert ngircd.accepted() == accepted0
    # another server is not affected, and a freed connection can be taken
    join_ok(admin, IrcGatewayAddr(IRC_DOMAIN, "localhost"), "#c", "admin")
    leave(alice, LO, "#c", "alice")
    # (another nick: "admin" is taken on the ngIRCd by admin's other connection)
    harness.wait_until(lambda: join(admin, LO, "#d", "admin2").get("type") != "error", T,
                       "admin's connection after alice left")
    assert cw.alive()


def test_08_contacts_per_user(rig, prosody, ngircd, alice, bob, admin):
    cw = start_causeway(rig, ngircd.port, "127.0.0.1",
                        gateway_extra="max_contacts_per_user = 2\n")
    register(alice, "alice")   # stored contacts; bob is not registered (counted in memory)
    for who in (alice, bob):
        for nick in ("c1", "c2"):
            who.send_presence(to=LO.user(nick), ptype="subscribe")
        ping_ok(who)
        m = who.mark()
        who.send_presence(to=LO.user("c3"), ptype="subscribe")
        e = who.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("type") == "error"
                            and harness.bare(el.get("from")) == LO.user("c3"), T, m,
                            "error for the 3rd contact of %s" % who.jid)
        assert_error(e, "policy-violation", ["max_contacts_per_user = 2"], "3rd contact")
    stored = db_rows(cw, "SELECT jid FROM contacts WHERE user = ?", "alice@localhost")
    assert sorted(j for (j,) in stored) == [LO.user("c1"), LO.user("c2")], stored
    # admin is not affected: the contact comes (subscribed, and the gateway's
    # own subscription request or roster push), no error
    m = admin.mark()
    admin.send_presence(to=LO.user("c3"), ptype="subscribe")
    admin.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("type") == "subscribed"
                      and harness.bare(el.get("from")) == LO.user("c3"), T, m, "subscribed from c3")
    ping_ok(admin)
    assert not admin.find_stanzas(lambda el: el.get("type") == "error", since=m)
    assert cw.alive()


def test_09_settings_scopes_per_user(rig, prosody, ngircd, alice, bob):
    cw = start_causeway(rig, ngircd.port, "127.0.0.1, localhost, 127.0.0.3",
                        gateway_extra="max_settings_scopes_per_user = 2\n")
    register(alice, "alice")
    for host in ("127.0.0.1", "localhost"):
        r = configure(alice, IrcGatewayAddr(IRC_DOMAIN, host).server_jid, {"nick": "a"})
        assert r.get("type") == "result", xml_str(r)
    r = configure(alice, IrcGatewayAddr(IRC_DOMAIN, "127.0.0.3").server_jid, {"nick": "a"})
    assert_error(r, "policy-violation", ["max_settings_scopes_per_user = 2"], "3rd settings scope")
    # changing one that exists still works
    r = configure(alice, LO.server_jid, {"nick": "b"})
    assert r.get("type") == "result", xml_str(r)
    scopes = {s for (s,) in db_rows(cw, "SELECT DISTINCT scope FROM user_values WHERE user = ?",
                                    "alice@localhost")}
    assert scopes == {"", "server:127.0.0.1", "server:localhost"}, scopes
    # unlisted servers offer nothing to store, for anyone
    for i in range(20):
        r = execute_configure(bob, IrcGatewayAddr(IRC_DOMAIN, "s%d.example" % i).server_jid)
        assert r.get("type") == "error", xml_str(r)
    assert not db_rows(cw, "SELECT * FROM user_values WHERE user = ?", "bob@localhost")
    # bob's own limit is untouched by alice's (registered: Configure server
    # needs a registration, issue 14 finding 11)
    register(bob, "bob")
    r = configure(bob, IrcGatewayAddr(IRC_DOMAIN, "127.0.0.3").server_jid, {"nick": "b"})
    assert r.get("type") == "result", xml_str(r)
    assert cw.alive()


def test_10_no_server_list_refused(rig, prosody):
    """Without irc_servers and default_server the transport does not start:
    exit status 1 and one line naming the key and what to write."""
    d = os.path.join(rig.dir, "noservers")
    os.makedirs(os.path.join(d, "data"))
    cfg = os.path.join(d, "causeway.conf")
    with open(cfg, "w") as f:
        f.write("[xmpp]\nport = %d\n[gateway]\ndata_dir = %s\n"
                "[transport:irc]\ntype = irc\ndomain = %s\nsecret = %s\n"
                % (prosody.comp, os.path.join(d, "data"), IRC_DOMAIN, harness.GW_SECRET))
    # the transport itself, --check, and the supervisor (before any child starts)
    for args in (["--transport", "irc"], ["--check"], []):
        p = subprocess.run([harness.causeway_bin(), "-c", cfg] + args,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert any("[transport:irc] irc_servers: missing" in l and "irc_servers = *" in l
                   and cfg in l for l in lines), (args, p.stderr)


def test_11_queued_bytes_per_user(rig, prosody, ngircd, alice, bob, raw):
    """max_queued_bytes: a user whose lines wait behind flood control past the
    limit gets resource-constraint naming it, once per message refused; the
    messages before it are sent; bob's connection is not slowed."""
    watcher = raw("watcher")
    watcher.join("#q")
    cfg = ("irc_port = %d\nirc_servers = 127.0.0.1\nflood_burst = 1\nflood_interval = 30\n"
           "max_queued_bytes = 4096\n" % ngircd.port)
    rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg).start()
    join_ok(alice, LO, "#q", "alice")
    join_ok(bob, LO, "#q", "bob")
    m = alice.mark()
    ids = [alice.send_message(LO.room("#q"), "%02d " % i + "x" * 400, mtype="groupchat") for i in range(20)]
    refused = lambda: [el for el in alice.find_stanzas(
        lambda el: el.get("type") == "error" and el.get("id") in ids, since=m)]
    harness.wait_until(lambda: len(refused()) >= 5, T, "errors for the messages past max_queued_bytes")
    ping_ok(alice)
    errs = refused()
    for e in errs:
        assert_error(e, "resource-constraint", ["max_queued_bytes = 4096"], "message past the limit")
    assert len({e.get("id") for e in errs}) == len(errs), "a message answered twice"
    assert 5 <= len(errs) <= 15, "%d of 20 refused with 4096 bytes allowed" % len(errs)
    assert errs[0].get("id") != ids[0], "the first message was refused"
    watcher.wait(command="PRIVMSG", pred=lambda l: l.nick == "alice" and l.params[-1].startswith("00 "),
                 timeout=T, what="alice's first message")
    # bob is not held up by alice's queue
    mi = watcher.mark()
    bob.send_message(LO.room("#q"), "bob unhindered", mtype="groupchat")
    watcher.wait(command="PRIVMSG", pred=lambda l: l.nick == "bob" and l.params[-1] == "bob unhindered",
                 since=mi, timeout=T, what="bob's message")
