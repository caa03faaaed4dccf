"""IRC transport: one shared member table per channel (issue 13, item 1).

Several XMPP users (alice, bob, admin: one IRC connection each) in one IRC
channel on a real ngIRCd, with raw IRC clients doing the joins, parts, nick
changes, modes and kicks. The gateway keeps the channel's members once and
applies each of those lines once (the lines arrive on every connection):
every user must still see each change exactly once, and all of them the same
room, also

  - when the connection that applied the lines (the first in) is killed by an
    IRC operator and reconnects while things happen in the channel (the lead
    moves to another connection, which resyncs with NAMES);
  - when a user leaves the room and joins it again (a late joiner gets the
    whole occupant list from the shared set);

and the view each user builds from its presences equals the server's NAMES.

Run: scripts/run-e2e.sh -k test_irc_shared     (about 20 s)
"""
import os
import time

import pytest

import harness
from harness import xml_str
from irc_harness import IrcClient, NgIrcd

IRC_DOMAIN = "irc.localhost"
SERVER = "127.0.0.1"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
T = 10.0
CHAN = "#shared"
SETTLE = 0.5  # after the last expected stanza: time for a duplicate to show up


def room():
    return "%s%%%s@%s" % (CHAN, SERVER, IRC_DOMAIN)


def occupant(nick):
    return "%s/%s" % (room(), nick)


@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    """ngIRCd with an IRC operator (for KILL)."""
    ircd = NgIrcd(os.path.join(rig.dir, "ngircd"))
    with open(os.path.join(ircd.dir, "conf.d", "oper.conf"), "w") as f:
        f.write("[Operator]\n\tName = oper\n\tPassword = operpw\n")
    return rig.add_service(ircd).start()


@pytest.fixture
def causeway(rig, prosody, ngircd):
    cfg = "irc_port = %d\nflood_burst = 0\nhistory = 0\nreconnect_max = 1\n" % ngircd.port
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg).start()


@pytest.fixture
def raw(rig, ngircd):
    def make(nick):
        c = IrcClient(ngircd.port, nick, label="raw-" + nick)
        rig.add_service(c)
        return c.connect()
    return make


def codes(el):
    return {int(s.get("code")) for s in el.findall("{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))}


def item(el):
    return el.find("{%s}x/{%s}item" % (MUC_USER_NS, MUC_USER_NS))


def presence_from(nick, ptype="available", code=None, role=None):
    def p(el):
        return (el.tag == "{jabber:client}presence" and el.get("from") == occupant(nick)
                and el.get("type", "available") == ptype
                and (code is None or code in codes(el))
                and (role is None or (item(el) is not None and item(el).get("role") == role)))
    return p


def join(client, nick):
    m = client.mark()
    client.send_presence(to=occupant(nick), extra="<x xmlns='%s'/>" % MUC_NS)
    me = client.wait_stanza(lambda el: presence_from(nick, code=110)(el)
                            or (el.tag == "{jabber:client}presence" and el.get("type") == "error"),
                            T, m, "self-presence as %s" % nick)
    assert me.get("type") != "error", xml_str(me)
    return m


def view(client, since):
    """nick -> role, as the presences received since `since` say."""
    out = {}
    for el in client.find_stanzas(lambda el: el.tag == "{jabber:client}presence"
                                  and harness.bare(el.get("from", "")) == room(), since):
        nick = el.get("from").split("/", 1)[1]
        if el.get("type") == "unavailable":
            out.pop(nick, None)
        elif el.get("type") in (None, "available"):
            it = item(el)
            out[nick] = it.get("role") if it is not None else None
    return out


def once(clients, pred, what, since):
    """Every client gets one stanza matching pred after since[client], and no second one."""
    for c in clients:
        c.wait_stanza(pred, T, since[c], "%s: %s" % (c.label, what))
    time.sleep(SETTLE)
    for c in clients:
        got = c.find_stanzas(pred, since[c])
        assert len(got) == 1, "%s saw %s %d times:\n%s" % (c.label, what, len(got),
                                                          "\n".join(xml_str(e) for e in got))


def marks(clients):
    return {c: c.mark() for c in clients}


def test_shared_channel_seen_alike_by_all(rig, causeway, ngircd, raw):
    op = raw("opnick")
    op.join(CHAN)                                    # first in: '@'
    alice, bob, admin = rig.client("alice"), rig.client("bob"), rig.client("admin")
    nicks = {alice: "alicenick", bob: "bobnick", admin: "adminnick"}
    users = [alice, bob, admin]
    start = {}

    # joins one after the other: each newcomer is seen once by those already in,
    # and gets every member (the shared set) before its self-presence
    for i, c in enumerate(users):
        m = marks(users[:i])
        start[c] = join(c, nicks[c])
        op.wait(command="JOIN", pred=lambda l, n=nicks[c]: l.nick == n, timeout=T,
                what="%s's JOIN" % nicks[c])
        once(users[:i], presence_from(nicks[c]), "%s joining" % nicks[c], m)
        v = view(c, start[c])
        expect = {"opnick"} | {nicks[o] for o in users[:i + 1]}
        assert set(v) == expect, "%s's first view %s, expected %s" % (c.label, v, expect)
        assert v["opnick"] == "moderator", v

    every = users

    # an IRC user joins; is voiced; changes nick; is kicked
    m = marks(users)
    plain = raw("plain")
    plain.join(CHAN)
    once(every, presence_from("plain"), "plain joining", m)
    m = marks(users)
    op.send("MODE %s +v plain" % CHAN)
    once(every, lambda el: presence_from("plain")(el) and item(el).get("affiliation") == "member",
         "plain voiced", m)
    m = marks(users)
    plain.send("NICK plain2")
    once(every, presence_from("plain", "unavailable", code=303), "plain's nick change", m)
    once(every, presence_from("plain2"), "plain2 after the nick change", m)
    m = marks(users)
    op.send("KICK %s plain2 :out" % CHAN)
    once(every, presence_from("plain2", "unavailable", code=307), "plain2 kicked", m)

    # a mode on a bridged user: the others see it, the user its own self-presence (110)
    m = marks(users)
    op.send("MODE %s +o bobnick" % CHAN)
    once([alice, admin], presence_from("bobnick", role="moderator"), "bobnick op'd", m)
    once([bob], presence_from("bobnick", code=110, role="moderator"), "bob's own op", m)

    # the first connection in (alice's) is killed and comes back; meanwhile
    # someone joins. The others see alicenick leave and come back once; alice
    # sees the newcomer.
    m = marks(users)
    op.send("OPER oper operpw")
    op.wait(command="381", timeout=T, what="381 (IRC operator)")
    mi = op.mark()
    op.send("KILL alicenick :test kill")
    op.wait(command="QUIT", pred=lambda l: l.nick == "alicenick", since=mi, timeout=T,
            what="alicenick's QUIT")
    late = raw("late")
    late.join(CHAN)
    once([bob, admin], presence_from("alicenick", "unavailable"), "alicenick gone", m)
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", since=mi, timeout=T + 5,
            what="alicenick back after the reconnect")
    once([bob, admin], presence_from("alicenick"), "alicenick back", m)
    once(every, presence_from("late"), "late joining", m)

    # a user leaves the room and joins again: a late joiner's list is complete
    m = marks([alice, bob])
    admin.send_presence(to=occupant("adminnick"), ptype="unavailable")
    once([alice, bob], presence_from("adminnick", "unavailable"), "adminnick leaving", m)
    m = marks([alice, bob])
    start[admin] = join(admin, "adminnick")
    once([alice, bob], presence_from("adminnick"), "adminnick back", m)

    # the last changes after all that, then everybody's view is the server's
    m = marks(users)
    late.send("PART %s :bye" % CHAN)
    once(every, presence_from("late", "unavailable"), "late leaving", m)
    time.sleep(SETTLE)
    names = {n.lstrip("~&@%+"): n for n in op.names(CHAN)}
    roles = {n: ("moderator" if full[0] in "~&@%" else "participant") for n, full in names.items()}
    for c in users:
        v = view(c, start[c])
        assert v == roles, "%s sees %s, the server says %s" % (c.label, v, roles)
    assert causeway.alive(), harness.tail(causeway.log_path, 40)
