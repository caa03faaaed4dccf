"""IRC transport: occupant presences of a join storm, each exactly once (issue 13, item 3).

N XMPP users (one IRC connection each, through a real Prosody and ngIRCd)
join one IRC channel, first one after the other, then (another channel)
nearly at once. Every client counts the room's available presences it gets
per occupant nick, and each must get

  - exactly one available presence per occupant: the channel's IRC user, every
    bridged user that joined before it and every one that joins after it —
    none twice, none missing;
  - its own self-presence (status 110) exactly once, after the occupants that
    were in before it (XEP-0045 §7.2.3: others first, then self); no other
    occupant's presence carries 110;
  - when joining one after the other: the earlier joiners before its
    self-presence, the later ones after it.

The shared occupant set (gateway/muc.c, one per room) is filled from the
leading connection's lines, while a joiner's own 366 arrives on its own
connection: a joiner whose own nick is not yet in the set when its join
completes must not be shown to itself a second time when the leader's copy
of its JOIN line arrives.

Run: scripts/run-e2e.sh -k test_irc_joinstorm     (about 20 s)
"""
import collections
import time

import pytest

import harness
from harness import xml_str
from irc_harness import IrcClient, NgIrcd

IRC_DOMAIN = "irc.localhost"
SERVER = "127.0.0.1"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
N = 6
T = 15.0
SETTLE = 1.0  # after the last expected stanza: time for a duplicate to show up


def users():
    return ["storm%d" % i for i in range(N)]


def room(chan):
    return "%s%%%s@%s" % (chan, SERVER, IRC_DOMAIN)


@pytest.fixture
def prosody(rig):
    def more_accounts(p):
        for u in users():
            p.register(u, "localhost", u + "pw")
    return rig.start_prosody(domain=IRC_DOMAIN, before_start=more_accounts)


@pytest.fixture
def ngircd(rig):
    import os
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


@pytest.fixture
def causeway(rig, prosody, ngircd):
    cfg = "irc_port = %d\nflood_burst = 0\nhistory = 0\n" % ngircd.port
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg).start()


@pytest.fixture
def clients(rig, prosody, causeway):
    out = []
    for u in users():
        c = harness.Client("%s@localhost" % u, u + "pw", prosody.c2s, label=u)
        rig.clients.append(c)
        out.append(c.connect())
    return out


@pytest.fixture
def op(rig, ngircd):
    c = IrcClient(ngircd.port, "opnick", label="raw-opnick")
    rig.add_service(c)
    return c.connect()


def codes(el):
    return {int(s.get("code")) for s in el.findall("{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))}


def nick_of(c):
    return c.label + "n"


def room_presences(c, chan, since):
    """The available presences from chan's occupants since `since`, in order."""
    return [el for el in c.find_stanzas(lambda el: el.tag == "{jabber:client}presence"
                                        and harness.bare(el.get("from", "")) == room(chan)
                                        and el.get("type", "available") == "available", since)]


def send_join(c, chan):
    m = c.mark()
    c.send_presence(to="%s/%s" % (room(chan), nick_of(c)), extra="<x xmlns='%s'/>" % MUC_NS)
    return m


def wait_self(c, chan, since):
    me = c.wait_stanza(lambda el: el.tag == "{jabber:client}presence"
                       and harness.bare(el.get("from", "")) == room(chan)
                       and (110 in codes(el) or el.get("type") == "error"),
                       T, since, "%s's self-presence in %s" % (c.label, chan))
    assert me.get("type") != "error", xml_str(me)


def check(clients, chan, since, expected_before=None):
    """Every client's presences since since[c]: one per occupant, self once
    with 110, the occupants in expected_before[c] (if given) before self and
    the others after it."""
    everyone = {"opnick"} | {nick_of(c) for c in clients}
    for c in clients:
        got = room_presences(c, chan, since[c])
        dump = "\n".join(xml_str(e) for e in got)
        nicks = [el.get("from").split("/", 1)[1] for el in got]
        counts = collections.Counter(nicks)
        dup = {n: k for n, k in counts.items() if k > 1}
        assert not dup, "%s got occupants more than once %s:\n%s" % (c.label, dup, dump)
        assert set(counts) == everyone, "%s saw %s, expected %s:\n%s" % (
            c.label, sorted(counts), sorted(everyone), dump)
        me = nicks.index(nick_of(c))
        assert 110 in codes(got[me]), "%s: own presence without 110:\n%s" % (c.label, dump)
        other110 = [n for n, el in zip(nicks, got) if 110 in codes(el) and n != nick_of(c)]
        assert not other110, "%s: 110 on %s:\n%s" % (c.label, other110, dump)
        assert "opnick" in nicks[:me], "%s: the IRC user after self:\n%s" % (c.label, dump)
        if expected_before is not None:
            before = set(nicks[:me])
            assert before == expected_before[c], "%s: before self %s, expected %s:\n%s" % (
                c.label, sorted(before), sorted(expected_before[c]), dump)


def settle(clients, chan, since):
    """Wait until every client has all N+1 occupants, then for duplicates."""
    deadline = time.monotonic() + T
    for c in clients:
        while True:
            seen = {el.get("from").split("/", 1)[1] for el in room_presences(c, chan, since[c])}
            if len(seen) >= N + 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    time.sleep(SETTLE)


def test_join_one_after_the_other(clients, op):
    chan = "#seq"
    op.join(chan)
    since, before = {}, {}
    for i, c in enumerate(clients):
        since[c] = send_join(c, chan)
        wait_self(c, chan, since[c])
        op.wait(command="JOIN", pred=lambda l, n=nick_of(c): l.nick == n, timeout=T,
                what="%s's JOIN" % nick_of(c))
        before[c] = {"opnick"} | {nick_of(o) for o in clients[:i]}
    settle(clients, chan, since)
    check(clients, chan, since, before)


def test_join_nearly_at_once(clients, op):
    chan = "#storm"
    op.join(chan)
    since = {c: send_join(c, chan) for c in clients}
    for c in clients:
        wait_self(c, chan, since[c])
    settle(clients, chan, since)
    check(clients, chan, since)
