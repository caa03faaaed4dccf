"""End-to-end tests of the purple transport's group chats (libpurple chats as
XEP-0045 rooms) and 1:1 typing, with prpl-jabber against the rig's legacy.test
(purple_rig.py), which here also has a MUC component, conference.legacy.test
(rooms unlocked at creation, subject changes open to participants).

alice (gateway user) logs in as carol@legacy.test and joins the legacy room
room@conference.legacy.test as room%conference.legacy.test@purple.localhost/NICK;
dave (slixmpp on legacy.test) is in the same room directly.

Run: CAUSEWAY_BIN=$PWD/causeway /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_purple_chat.py
"""
import os
import signal
import time

import pytest

import harness
from harness import NS, xml_str
from purple_rig import (LEGACY, LEGACY_HOST_OPTIONS, PURPLE_DOMAIN, T, assert_alive, contact,
                        legacy_client, legacy_jid, register_irc, register_online, reset_socket, setup_legacy,
                        socket_ports, start_purple_causeway, text_of_stanza, wait_legacy_online)

MUC_SERVICE = "conference." + LEGACY
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
CHATSTATES = "http://jabber.org/protocol/chatstates"
DAVE = contact("dave")

# mod_offline on legacy.test (the global config disables it): offline messages
# for carol, which libpurple flags DELAYED
OFFLINE = 'modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "offline"; }\n'
MUC_COMPONENT = ('Component "%s" "muc"\n'
                 "muc_room_locking = false\n"
                 "muc_room_default_change_subject = true\n"
                 "muc_room_default_public = true\n" % MUC_SERVICE)


def legacy_room(name):
    return "%s@%s" % (name, MUC_SERVICE)


def gw_room(name):
    """The gateway JID of legacy room name@conference.legacy.test ('%' is not
    escaped by XEP-0106)."""
    return "%s%%%s@%s" % (name, MUC_SERVICE, PURPLE_DOMAIN)


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig):
    """The purple rig's Prosody, legacy.test with its MUC component."""
    if rig.prosody is None:
        rig.start_prosody(domain=PURPLE_DOMAIN,
                          extra_hosts=((LEGACY, LEGACY_HOST_OPTIONS.replace('"offline"; ', "") + OFFLINE
                          + MUC_COMPONENT),),
                          before_start=setup_legacy)
    return rig.prosody


@pytest.fixture
def causeway(rig, prosody):
    return start_purple_causeway(rig)


@pytest.fixture
def dave(rig, prosody):
    return legacy_client(rig, "dave")


# ------------------------------------------------------------------ helpers --

def status_codes(el):
    return {int(s.get("code")) for s in el.findall("{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))}


def muc_item(el):
    return el.find("{%s}x/{%s}item" % (MUC_USER_NS, MUC_USER_NS))


def is_presence(el, frm, ptype="available", codes=()):
    return (el.tag == "{jabber:client}presence" and el.get("from") == frm
            and el.get("type", "available") == ptype and set(codes) <= status_codes(el))


def join(client, room_jid, nick, timeout=T, expect_error=False):
    """Send a MUC join; return (self-presence or error presence, mark before)."""
    m = client.mark()
    client.send_presence(to="%s/%s" % (room_jid, nick), extra="<x xmlns='%s'/>" % MUC_NS)
    el = client.wait_stanza(
        lambda el: (is_presence(el, "%s/%s" % (room_jid, nick), codes=(110,))
                    or (el.tag == "{jabber:client}presence" and el.get("type") == "error"
                        and harness.bare(el.get("from")) == room_jid)),
        timeout, m, "self-presence in %s as %s" % (room_jid, nick))
    if expect_error:
        assert el.get("type") == "error", "join should fail:\n" + xml_str(el)
    else:
        assert el.get("type") != "error", "join of %s as %s failed:\n%s" % (room_jid, nick, xml_str(el))
    return el, m


def wait_groupchat(client, frm, body=None, since=0, timeout=T, pred=None):
    return client.wait_message(frm=frm, body=body, bare_from=False, since=since, timeout=timeout,
                               pred=lambda el: el.get("type") == "groupchat" and (pred is None or pred(el)))


def wait_subject(client, room_jid, subject, since=0, timeout=T):
    return client.wait_stanza(
        lambda el: (el.tag == "{jabber:client}message" and el.get("type") == "groupchat"
                    and harness.bare(el.get("from")) == room_jid
                    and el.findtext("c:subject", None, NS) == subject),
        timeout, since, "subject %r from %s" % (subject, room_jid))


def online_with_carol(rig, alice, dave, cw):
    md = dave.mark()
    register_online(rig, alice)
    cw.wait_log("alice@localhost is online", timeout=T)
    return wait_legacy_online(dave, "carol", since=md)


def dave_in_room(dave, name="room"):
    me, _m = join(dave, legacy_room(name), "dave")
    return me


# -------------------------------------------------------------------- tests --

def test_room_join_messages_subject_leave(rig, causeway, alice, dave):
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    md = dave.mark()
    me, ma = join(alice, room, "carol")
    assert 110 in status_codes(me), xml_str(me)
    # dave (the room's creator: owner, moderator) is listed before alice's self-presence
    occ = alice.find_stanzas(lambda el: is_presence(el, room + "/dave"), since=ma)
    assert occ, "dave was not listed as an occupant before the self-presence"
    item = muc_item(occ[0])
    assert item is not None and item.get("role") == "moderator", xml_str(occ[0])
    assert item.get("affiliation") == "owner", xml_str(occ[0])
    # dave sees carol come in
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="available", since=md, timeout=T)

    # alice -> room: dave gets it from carol; alice gets one reflection with her id
    md, ma = dave.mark(), alice.mark()
    mid = alice.send_message(room, "hello from alice <&>", mtype="groupchat")
    wait_groupchat(dave, legacy_room("room") + "/carol", "hello from alice <&>", since=md)
    refl = wait_groupchat(alice, room + "/carol", "hello from alice <&>", since=ma)
    assert refl.get("id") == mid, "reflection id %r, sent %r" % (refl.get("id"), mid)
    # dave -> room
    ma = alice.mark()
    dave.send_message(legacy_room("room"), "hi from dave\nline 2", mtype="groupchat")
    wait_groupchat(alice, room + "/dave", "hi from dave\nline 2", since=ma)
    time.sleep(1.0)
    mine = alice.find_stanzas(lambda el: el.tag == "{jabber:client}message"
                              and harness.bare(el.get("from")) == room
                              and el.findtext("c:body", None, NS) == "hello from alice <&>")
    assert len(mine) == 1, "alice's message reflected %d times" % len(mine)

    # subject: dave -> alice, then alice -> dave
    ma = alice.mark()
    dave.send_raw("<message type='groupchat' to='%s'><subject>Topic by dave</subject></message>"
                  % legacy_room("room"))
    wait_subject(alice, room, "Topic by dave", since=ma)
    md = dave.mark()
    alice.send_raw("<message type='groupchat' to='%s'><subject>Topic by alice</subject></message>" % room)
    wait_subject(dave, legacy_room("room"), "Topic by alice", since=md)

    # dave leaves: alice sees him go
    ma = alice.mark()
    dave.send_presence(to=legacy_room("room") + "/dave", ptype="unavailable")
    alice.wait_stanza(lambda el: is_presence(el, room + "/dave", ptype="unavailable"), T, ma,
                      "dave leaving")
    # dave comes back: alice sees him join live
    ma = alice.mark()
    dave_in_room(dave)
    alice.wait_stanza(lambda el: is_presence(el, room + "/dave"), T, ma, "dave joining again")

    # alice leaves: dave sees carol go
    md, ma = dave.mark(), alice.mark()
    alice.send_presence(to=room + "/carol", ptype="unavailable")
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="unavailable", since=md, timeout=T)
    assert_alive(causeway)


def test_room_join_as_taken_nick_fails(rig, causeway, alice, dave):
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    err, _m = join(alice, gw_room("room"), "dave", expect_error=True)
    _etype, cond, text = harness.error_of(err)
    assert cond == "conflict", xml_str(err)
    assert text and "Conflict" in text, xml_str(err)
    # and then joining with a free nick works
    join(alice, gw_room("room"), "carol")
    assert_alive(causeway)


def test_room_private_messages(rig, causeway, alice, dave):
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    md = dave.mark()
    alice.send_message(room + "/dave", "psst, dave", mtype="chat")
    dave.wait_message(frm=legacy_room("room") + "/carol", body="psst, dave", bare_from=False,
                      since=md, timeout=T)
    ma = alice.mark()
    dave.send_message(legacy_room("room") + "/carol", "psst back", mtype="chat")
    alice.wait_message(frm=room + "/dave", body="psst back", bare_from=False, since=ma, timeout=T)
    assert_alive(causeway)


def test_room_list(rig, causeway, alice, dave):
    dave_in_room(dave, "listed")
    online_with_carol(rig, alice, dave, causeway)
    r = alice.query("%s@%s" % (MUC_SERVICE, PURPLE_DOMAIN), "http://jabber.org/protocol/disco#items",
                    timeout=T + 25)
    assert r.get("type") == "result", xml_str(r)
    jids = [i.get("jid") for i in r.findall("{http://jabber.org/protocol/disco#items}query/"
                                             "{http://jabber.org/protocol/disco#items}item")]
    assert gw_room("listed") in jids, xml_str(r)
    assert_alive(causeway)


def test_typing_both_ways(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    for state in ("composing", "paused"):
        md = dave.mark()
        alice.send_raw("<message type='chat' to='%s'><%s xmlns='%s'/></message>" % (DAVE, state, CHATSTATES))
        dave.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                         and harness.bare(el.get("from")) == legacy_jid("carol")
                         and el.find("{%s}%s" % (CHATSTATES, state)) is not None, T, md,
                         "%s from carol" % state)
    for state in ("composing", "paused"):
        ma = alice.mark()
        dave.send_raw("<message type='chat' to='%s'><%s xmlns='%s'/></message>"
                      % (legacy_jid("carol"), state, CHATSTATES))
        alice.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                          and harness.bare(el.get("from")) == DAVE
                          and el.find("{%s}%s" % (CHATSTATES, state)) is not None, T, ma,
                          "%s from dave" % state)
    assert_alive(causeway)


def test_room_history_is_delayed(rig, causeway, alice, dave):
    """What dave said before carol came in reaches alice as history with a
    XEP-0203 delay."""
    dave_in_room(dave)
    dave.send_message(legacy_room("room"), "said before carol", mtype="groupchat")
    time.sleep(0.5)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    _me, ma = join(alice, room, "carol")
    el = wait_groupchat(alice, room + "/dave", "said before carol", since=ma)
    assert el.find("{urn:xmpp:delay}delay") is not None, xml_str(el)
    assert_alive(causeway)


def test_room_nick_change(rig, causeway, alice, dave):
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    md, ma = dave.mark(), alice.mark()
    alice.send_presence(to=room + "/caroline")
    gone = alice.wait_stanza(lambda el: is_presence(el, room + "/carol", ptype="unavailable"), T, ma,
                             "303 for carol")
    assert 303 in status_codes(gone), xml_str(gone)
    alice.wait_stanza(lambda el: is_presence(el, room + "/caroline", codes=(110,)), T, ma,
                      "self-presence as caroline")
    dave.wait_presence(frm=legacy_room("room") + "/caroline", ptype="available", since=md, timeout=T)
    # messages now come from the new nick, reflection included
    ma, md = alice.mark(), dave.mark()
    alice.send_message(room, "as caroline", mtype="groupchat")
    wait_groupchat(dave, legacy_room("room") + "/caroline", "as caroline", since=md)
    wait_groupchat(alice, room + "/caroline", "as caroline", since=ma)
    assert_alive(causeway)


def test_offline_message_is_delayed(rig, causeway, alice, dave):
    """dave writes to carol while she is offline on legacy.test (mod_offline
    stores it); when alice comes online the message reaches her with a
    XEP-0203 delay."""
    dave.send_message(legacy_jid("carol"), "while you were out", mtype="chat")
    time.sleep(3)   # prpl-jabber: a delayed 1:1 message is one whose stamp is >= 2 s old
    ma = alice.mark()
    online_with_carol(rig, alice, dave, causeway)
    el = alice.wait_message(frm=DAVE, body="while you were out", since=ma, timeout=T)
    d = el.find("{urn:xmpp:delay}delay")
    assert d is not None and d.get("stamp"), xml_str(el)
    assert_alive(causeway)


# ------------------------------------------------------------------ prpl-irc --

def test_irc_channel_via_prpl_irc(rig, prosody, alice):
    """protocol = prpl-irc against ngIRCd: alice joins #chan%127.0.0.1 where
    ircbob (op, the channel's creator) is; messages, topic and parting."""
    ngircd, cw = irc_online(rig, alice)
    bob = irc_user(rig, ngircd, "ircbob")
    bob.join("#chan")
    room = "#chan%%127.0.0.1@%s" % PURPLE_DOMAIN
    mi = bob.mark()
    me, ma = join(alice, room, "alicenick")
    bob.wait(command="JOIN", since=mi, timeout=T, what="alicenick joining",
             pred=lambda l: l.nick == "alicenick")
    occ = alice.find_stanzas(lambda el: is_presence(el, room + "/ircbob"), since=ma)
    assert occ, "ircbob not listed before the self-presence"
    assert muc_item(occ[0]).get("role") == "moderator", xml_str(occ[0])

    # alice -> channel (one reflection, her id), ircbob -> alice
    mi, ma = bob.mark(), alice.mark()
    mid = alice.send_message(room, "hello channel", mtype="groupchat")
    bob.wait(command="PRIVMSG", since=mi, timeout=T, what="PRIVMSG #chan",
             pred=lambda l: l.nick == "alicenick" and l.params[-1] == "hello channel")
    refl = wait_groupchat(alice, room + "/alicenick", "hello channel", since=ma)
    assert refl.get("id") == mid, xml_str(refl)
    ma = alice.mark()
    bob.privmsg("#chan", "hello alice")
    wait_groupchat(alice, room + "/ircbob", "hello alice", since=ma)
    time.sleep(1.0)
    mine = alice.find_stanzas(lambda el: el.tag == "{jabber:client}message"
                              and el.findtext("c:body", None, NS) == "hello channel")
    assert len(mine) == 1, "reflected %d times" % len(mine)

    # topic both ways
    ma = alice.mark()
    bob.send("TOPIC #chan :bob's topic")
    wait_subject(alice, room, "bob's topic", since=ma)
    mi = bob.mark()
    alice.send_raw("<message type='groupchat' to='%s'><subject>alice's topic</subject></message>" % room)
    bob.wait(command="TOPIC", since=mi, timeout=T, what="TOPIC from alicenick",
             pred=lambda l: l.params[-1] == "alice's topic")

    # ircbob parts
    ma = alice.mark()
    bob.send("PART #chan :bye")
    alice.wait_stanza(lambda el: is_presence(el, room + "/ircbob", ptype="unavailable"), T, ma,
                      "ircbob parting")
    assert_alive(cw)


def test_room_kick_and_wrong_server(rig, causeway, alice, dave):
    """dave (owner) kicks carol: alice is out of the room (307). A disco#items
    on a contact (not a server) lists nothing."""
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    ma = alice.mark()
    r = dave.iq("<iq type='set' to='%s'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                "<item nick='carol' role='none'><reason>out</reason></item></query></iq>"
                % legacy_room("room"))
    assert r.get("type") == "result", xml_str(r)
    k = alice.wait_stanza(lambda el: is_presence(el, room + "/carol", ptype="unavailable"), T, ma,
                          "carol kicked")
    assert 307 in status_codes(k), xml_str(k)
    r = alice.query(DAVE, "http://jabber.org/protocol/disco#items", timeout=T)
    assert not r.findall("{http://jabber.org/protocol/disco#items}query/"
                         "{http://jabber.org/protocol/disco#items}item"), xml_str(r)
    assert_alive(causeway)


def test_room_back_after_restart(rig, causeway, alice, dave):
    """causeway restarted while alice is in a room: the core puts her resource
    back in (joined before the legacy login completes: the join waits for
    sign-on), and dave's next message reaches her."""
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    md = dave.mark()
    assert causeway.stop() == 0
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="unavailable", since=md, timeout=T)
    md = dave.mark()
    causeway.start(wait_connected=False)
    causeway.wait_connected(1, T)
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="available", since=md, timeout=T)
    ma = alice.mark()
    dave.send_message(legacy_room("room"), "welcome back", mtype="groupchat")
    wait_groupchat(alice, room + "/dave", "welcome back", since=ma)
    assert_alive(causeway)


# ------------------------------------------- rejoin, invitations, moderation --
#
# What the transport does for a room once the user is in it: the legacy
# connection drops (or the transport child dies) and the user is back in the
# room by themselves; invitations both ways; kicks and bans from muc#admin.

MUC_ADMIN_NS = "http://jabber.org/protocol/muc#admin"
MUC_OWNER_NS = "http://jabber.org/protocol/muc#owner"
CONFERENCE_NS = "jabber:x:conference"


def self_presence(room_jid, nick, ptype="available", codes=(110,)):
    return lambda el: is_presence(el, "%s/%s" % (room_jid, nick), ptype=ptype, codes=codes)


def talk_both_ways(alice, dave, name, text):
    """alice's groupchat line reaches dave, dave's reaches alice (as carol in room name)."""
    room = gw_room(name)
    md = dave.mark()
    alice.send_message(room, "alice: " + text, mtype="groupchat")
    wait_groupchat(dave, legacy_room(name) + "/carol", "alice: " + text, since=md)
    ma = alice.mark()
    dave.send_message(legacy_room(name), "dave: " + text, mtype="groupchat")
    wait_groupchat(alice, room + "/dave", "dave: " + text, since=ma)


def muc_admin(client, room_jid, item, typ="set"):
    return client.iq("<iq type='%s' to='%s'><query xmlns='%s'>%s</query></iq>"
                     % (typ, room_jid, MUC_ADMIN_NS, item))


def test_room_rejoined_after_legacy_connection_drop(rig, causeway, alice, dave):
    """carol's legacy TCP connection is reset under the transport: alice gets
    her self-presence unavailable with 110 and 333 (technical removal), the
    transport reconnects and joins the room again, and alice gets the join
    sequence again (dave listed, then her self-presence) with no client
    action; both ways work again."""
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    ports = socket_ports(causeway.proc.pid, rig.prosody.c2s)
    assert len(ports) == 1, "expected one legacy connection, got %s" % ports
    ma, md = alice.mark(), dave.mark()
    reset_socket(ports[0])
    lost = alice.wait_stanza(self_presence(room, "carol", "unavailable", (110, 333)), T, ma,
                             "self-presence unavailable with 333")
    assert "reconnect" in text_of_stanza(lost), xml_str(lost)
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="unavailable", since=md, timeout=T)
    back = alice.wait_stanza(self_presence(room, "carol"), 40, ma, "self-presence after the rejoin")
    assert back.get("type") is None, xml_str(back)
    # the join sequence again: dave before the self-presence
    seq = alice.find_stanzas(lambda el: el.tag == "{jabber:client}presence"
                             and harness.bare(el.get("from")) == room, since=ma)
    froms = [(el.get("from"), el.get("type")) for el in seq]
    assert (room + "/dave", None) in froms[:froms.index((room + "/carol", None))], froms
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="available", since=md, timeout=T)
    talk_both_ways(alice, dave, "room", "after the drop")
    assert_alive(causeway)


def test_room_rejoined_after_transport_child_killed(rig, prosody, alice, dave):
    """The supervisor's purple child is killed -9 while alice is in a room: a
    new child logs carol in and joins the room again; alice gets 333 (her
    occupant list is stale) then the join sequence, and messages flow both
    ways with no client action."""
    cw = start_purple_causeway(rig, supervisor=True)
    sup = cw.proc.pid
    kids = harness.wait_until(lambda: harness.children_of(sup), 5, "the purple child")
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, cw)
    room = gw_room("room")
    join(alice, room, "carol")
    md, ma = dave.mark(), alice.mark()
    t0 = time.monotonic()
    os.kill(kids[0], signal.SIGKILL)
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="unavailable", since=md, timeout=T)
    dave.wait_presence(frm=legacy_room("room") + "/carol", ptype="available", since=md, timeout=40)
    # alice's client is told that what it knew of the room went stale (333),
    # then gets the join sequence again
    lost = alice.wait_stanza(self_presence(room, "carol", "unavailable", (110, 333)), T, ma,
                             "self-presence unavailable with 333 after the restart")
    alice.wait_stanza(lambda el: self_presence(room, "carol")(el) and el.get("type") is None,
                      T, ma, "self-presence after the rejoin")
    assert alice.stanzas.index(lost) < alice.stanzas.index(
        alice.find_stanzas(self_presence(room, "carol"), since=ma)[-1]), "333 after the rejoin"
    harness.record_figure("purple: child kill -9 -> carol back in the legacy room after %.2f s"
                          % (time.monotonic() - t0))
    new = harness.children_of(sup)
    assert len(new) == 1 and new[0] != kids[0], new
    talk_both_ways(alice, dave, "room", "after the restart")
    assert cw.alive()


def test_invitations_from_legacy_side(rig, causeway, alice, dave):
    """dave invites carol to a room, mediated (XEP-0045, through the room)
    and direct (XEP-0249): each reaches alice as a mediated invitation from
    the room's gateway JID with the reason, naming dave as the room names
    him (his occupant JID) or, for the direct one, by his contact JID; alice
    accepts by joining."""
    dave_in_room(dave, "party")
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("party")

    def invitation(el):
        return (el.tag == "{jabber:client}message" and el.get("from") == room
                and el.find("{%s}x/{%s}invite" % (MUC_USER_NS, MUC_USER_NS)) is not None)

    ma = alice.mark()
    dave.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'><reason>mediated, come</reason>"
                  "</invite></x></message>" % (legacy_room("party"), MUC_USER_NS, legacy_jid("carol")))
    inv = alice.wait_stanza(invitation, T, ma, "mediated invitation")
    i = inv.find("{%s}x/{%s}invite" % (MUC_USER_NS, MUC_USER_NS))
    # the semi-anonymous room names dave by his occupant JID: so does the gateway
    assert i.get("from") == room + "/dave", xml_str(inv)
    assert i.findtext("{%s}reason" % MUC_USER_NS) == "mediated, come", xml_str(inv)
    assert "mediated, come" in (inv.findtext("c:body", "", NS)), xml_str(inv)

    ma = alice.mark()
    dave.send_raw("<message to='%s'><x xmlns='%s' jid='%s' reason='direct, come'/></message>"
                  % (legacy_jid("carol"), CONFERENCE_NS, legacy_room("party")))
    inv = alice.wait_stanza(invitation, T, ma, "direct invitation")
    i = inv.find("{%s}x/{%s}invite" % (MUC_USER_NS, MUC_USER_NS))
    assert i.get("from") == DAVE, xml_str(inv)
    assert i.findtext("{%s}reason" % MUC_USER_NS) == "direct, come", xml_str(inv)
    # the prpl did not join by itself: dave does not see carol until alice joins
    time.sleep(1.0)
    assert not dave.find_stanzas(lambda el: el.tag == "{jabber:client}presence"
                                 and el.get("from") == legacy_room("party") + "/carol")
    join(alice, room, "carol")
    talk_both_ways(alice, dave, "party", "accepted")
    assert_alive(causeway)


def test_invitations_from_xmpp_side(rig, causeway, alice, dave):
    """alice (in a room carol created) invites dave's contact JID, mediated
    (<invite to=.../> to the room) and direct (XEP-0249 to the contact): dave
    gets the room's invitation from carol. Inviting a JID that is not a
    contact of the gateway, or from a room alice is not in, is refused."""
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("lounge")
    ma = alice.mark()
    join(alice, room, "carol")
    # carol created the room: prpl-jabber's "Create New Room" question got
    # its default answer (Accept Defaults), and alice is told so, truly
    told = alice.wait_message(frm=PURPLE_DOMAIN, since=ma, timeout=T,
                              pred=lambda el: "Create New Room" in (el.findtext("c:body", "", NS)))
    body = told.findtext("c:body", "", NS)
    assert "Accept Defaults" in body and "Refused" not in body, body
    assert body.count("Create New Room") == 1, body

    def invitation(reason):
        # mediated by the room, which names carol by her occupant JID (a
        # semi-anonymous room) or her own
        def p(el):
            i = el.find("{%s}x/{%s}invite" % (MUC_USER_NS, MUC_USER_NS))
            return (el.tag == "{jabber:client}message" and el.get("from") == legacy_room("lounge")
                    and i is not None
                    and i.get("from") in (legacy_room("lounge") + "/carol", legacy_jid("carol") + "/gw")
                    and i.findtext("{%s}reason" % MUC_USER_NS) == reason)
        return p

    md = dave.mark()
    alice.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'><reason>come in, dave</reason>"
                   "</invite></x></message>" % (room, MUC_USER_NS, DAVE))
    dave.wait_stanza(invitation("come in, dave"), T, md, "mediated invitation at dave")
    md = dave.mark()
    alice.send_raw("<message to='%s'><x xmlns='%s' jid='%s' reason='direct to dave'/></message>"
                   % (DAVE, CONFERENCE_NS, room))
    dave.wait_stanza(invitation("direct to dave"), T, md, "direct invitation at dave")

    # refused: a JID that is no contact of this gateway; a room alice is not in
    ma = alice.mark()
    alice.send_raw("<message to='%s' id='inv-bad'><x xmlns='%s'><invite to='bob@localhost'/></x>"
                   "</message>" % (room, MUC_USER_NS))
    err = alice.wait_stanza(lambda el: el.get("id") == "inv-bad" and el.get("type") == "error", T, ma,
                            "error for inviting a non-contact")
    assert error_condition(err) == "item-not-found", xml_str(err)
    alice.send_raw("<message to='%s' id='inv-out'><x xmlns='%s' jid='%s'/></message>"
                   % (DAVE, CONFERENCE_NS, gw_room("elsewhere")))
    err = alice.wait_stanza(lambda el: el.get("id") == "inv-out" and el.get("type") == "error", T, ma,
                            "error for inviting to a room alice is not in")
    assert error_condition(err) == "not-acceptable", xml_str(err)
    assert_alive(causeway)


def error_condition(el):
    err = harness.error_of(el)
    assert err is not None, "not an error:\n" + xml_str(el)
    return err[1]


def test_kick_and_ban_from_muc_admin(rig, causeway, alice, dave):
    """carol creates the room (owner); alice kicks dave with a muc#admin set
    (role none): dave is out with 307 and the reason, alice sees the 307.
    Then a ban (affiliation outcast) of dave's contact JID: dave is out with
    301 and cannot come back."""
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("mod")
    me, _ = join(alice, room, "carol")
    assert muc_item(me).get("affiliation") == "owner", xml_str(me)
    ma = alice.mark()
    dave_in_room(dave, "mod")
    alice.wait_stanza(lambda el: is_presence(el, room + "/dave"), T, ma, "dave joining")

    def remove_dave(item, code, reason):
        """alice's muc#admin item removes dave: he gets his unavailable with
        code and reason, alice sees him go. -> what alice saw"""
        md, ma = dave.mark(), alice.mark()
        r = muc_admin(alice, room, item)
        assert r.get("type") == "result", xml_str(r)
        gone = dave.wait_stanza(lambda el: is_presence(el, legacy_room("mod") + "/dave", "unavailable",
                                                       (code,)), T, md, "dave removed with %d" % code)
        assert muc_item(gone).findtext("{%s}reason" % MUC_USER_NS) == reason, xml_str(gone)
        return alice.wait_stanza(lambda el: is_presence(el, room + "/dave", "unavailable"), T, ma,
                                 "alice seeing dave removed")

    seen = remove_dave("<item nick='dave' role='none'><reason>be nice</reason></item>", 307, "be nice")
    assert 307 in status_codes(seen), xml_str(seen)
    ma = alice.mark()
    dave_in_room(dave, "mod")
    alice.wait_stanza(lambda el: is_presence(el, room + "/dave"), T, ma, "dave back")
    # alice sees dave leave (prpl-jabber tells a UI nothing of why: no 301)
    remove_dave("<item jid='%s' affiliation='outcast'><reason>bye</reason></item>" % DAVE, 301, "bye")
    err, _ = join(dave, legacy_room("mod"), "dave", expect_error=True)
    assert error_condition(err) == "forbidden", xml_str(err)

    # no such occupant; an item neither a kick nor a ban; list retrieval
    r = muc_admin(alice, room, "<item nick='nobody' role='none'/>")
    assert error_condition(r) == "item-not-found", xml_str(r)
    r = muc_admin(alice, room, "<item nick='dave' role='moderator'/>")
    assert error_condition(r) == "feature-not-implemented", xml_str(r)
    r = muc_admin(alice, room, "<item affiliation='outcast'/>", typ="get")
    assert error_condition(r) == "feature-not-implemented", xml_str(r)
    assert_alive(causeway)


def test_muc_admin_refused_without_privileges(rig, causeway, alice, dave):
    """carol is a plain participant in dave's room: her kick and ban are
    refused (not-allowed) before they reach the legacy network; a kick
    outside any room is not-acceptable."""
    dave_in_room(dave)
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    r = muc_admin(alice, room, "<item nick='dave' role='none'/>")
    assert error_condition(r) == "not-allowed", xml_str(r)
    assert "moderator" in harness.error_of(r)[2], xml_str(r)
    r = muc_admin(alice, room, "<item jid='%s' affiliation='outcast'/>" % DAVE)
    assert error_condition(r) == "not-allowed", xml_str(r)
    r = muc_admin(alice, gw_room("nowhere"), "<item nick='dave' role='none'/>")
    assert error_condition(r) == "not-acceptable", xml_str(r)
    # dave is still there
    talk_both_ways(alice, dave, "room", "still here")
    assert_alive(causeway)


def test_muc_owner_is_feature_not_implemented(rig, causeway, alice, dave):
    """muc#owner (room configuration, destruction) gets feature-not-implemented
    with a text that says to configure the room on the legacy network."""
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("own")
    join(alice, room, "carol")
    for typ, inner in (("get", ""), ("set", "<x xmlns='jabber:x:data' type='submit'/>"),
                       ("set", "<destroy/>")):
        r = alice.iq("<iq type='%s' to='%s'><query xmlns='%s'>%s</query></iq>"
                     % (typ, room, MUC_OWNER_NS, inner))
        etype, cond, text = harness.error_of(r)
        assert cond == "feature-not-implemented", xml_str(r)
        assert etype == "cancel" and text and "legacy network" in text, xml_str(r)
    assert_alive(causeway)


def test_legacy_kick_of_another_occupant_is_307(rig, causeway, alice, dave):
    """dave (owner) kicks erin in the legacy room: alice sees erin leave with
    status 307 and the reason, not as her own removal."""
    dave_in_room(dave)
    erin = legacy_client(rig, "erin")
    join(erin, legacy_room("room"), "erin")
    online_with_carol(rig, alice, dave, causeway)
    room = gw_room("room")
    join(alice, room, "carol")
    ma = alice.mark()
    r = dave.iq("<iq type='set' to='%s'><query xmlns='%s'><item nick='erin' role='none'>"
                "<reason>spam</reason></item></query></iq>" % (legacy_room("room"), MUC_ADMIN_NS))
    assert r.get("type") == "result", xml_str(r)
    k = alice.wait_stanza(lambda el: is_presence(el, room + "/erin", "unavailable"), T, ma, "erin kicked")
    assert 307 in status_codes(k) and 110 not in status_codes(k), xml_str(k)
    item = muc_item(k)
    assert item.get("role") == "none", xml_str(k)
    assert item.findtext("{%s}reason" % MUC_USER_NS) == "spam", xml_str(k)
    # prpl-jabber names the actor only when the room gives its real JID
    # (this semi-anonymous one gives its nick, which the prpl drops); the
    # prpl-irc test checks the actor
    actor = item.find("{%s}actor" % MUC_USER_NS)
    assert actor is None or actor.get("nick") == legacy_jid("dave"), xml_str(k)
    # alice is still in
    talk_both_ways(alice, dave, "room", "after erin")
    assert_alive(causeway)


# ------------------------------------- prpl-irc: moderation, invites, rejoin --

def irc_online(rig, alice):
    """ngIRCd, the purple transport on prpl-irc, and alice logged in as
    alicenick. -> (ngircd, causeway)"""
    from irc_harness import IrcClient, NgIrcd
    from test_purple import irc_wait_nick
    ngircd = rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()
    cw = start_purple_causeway(rig, protocol="prpl-irc")
    watcher = rig.add_service(IrcClient(ngircd.port, "ircwatch", label="raw-ircwatch")).connect()
    register_irc(alice, ngircd.port)
    irc_wait_nick(watcher, "alicenick")
    return ngircd, cw


def irc_user(rig, ngircd, nick):
    from irc_harness import IrcClient
    return rig.add_service(IrcClient(ngircd.port, nick, label="raw-" + nick)).connect()


def irc_room(chan):
    return "%s%%127.0.0.1@%s" % (chan, PURPLE_DOMAIN)


def test_irc_kick_and_ban_from_muc_admin(rig, prosody, alice):
    """alice opens #mod (op there); ircbob joins; a muc#admin kick of ircbob
    is a KICK on IRC with the reason, and alice sees ircbob leave with 307
    and herself as the actor. A ban (prpl-irc has no /ban) is a ban mask
    and a kick."""
    ngircd, cw = irc_online(rig, alice)
    room = irc_room("#mod")
    me, _ = join(alice, room, "alicenick")
    assert muc_item(me).get("role") == "moderator", xml_str(me)
    bob = irc_user(rig, ngircd, "ircbob")
    ma = alice.mark()
    bob.join("#mod")
    alice.wait_stanza(lambda el: is_presence(el, room + "/ircbob"), T, ma, "ircbob joining")
    mb, ma = bob.mark(), alice.mark()
    r = muc_admin(alice, room, "<item nick='ircbob' role='none'><reason>calm down</reason></item>")
    assert r.get("type") == "result", xml_str(r)
    bob.wait(command="KICK", since=mb, timeout=T, what="KICK of ircbob",
             pred=lambda l: l.nick == "alicenick" and l.params[:2] == ["#mod", "ircbob"]
             and l.params[-1] == "calm down")
    k = alice.wait_stanza(lambda el: is_presence(el, room + "/ircbob", "unavailable"), T, ma, "ircbob kicked")
    assert 307 in status_codes(k), xml_str(k)
    assert muc_item(k).find("{%s}actor" % MUC_USER_NS).get("nick") == "alicenick", xml_str(k)
    assert muc_item(k).findtext("{%s}reason" % MUC_USER_NS) == "calm down", xml_str(k)

    r = muc_admin(alice, room, "<item nick='ircbob' role='none'/>")
    assert error_condition(r) == "item-not-found", xml_str(r)   # gone already

    # a ban: prpl-irc has no /ban, so the transport sets the ban mask
    # (MODE +b ircbob!*@*) and kicks; ircbob cannot come back (474)
    ma = alice.mark()
    bob.join("#mod")
    alice.wait_stanza(lambda el: is_presence(el, room + "/ircbob"), T, ma, "ircbob back")
    mb, ma = bob.mark(), alice.mark()
    r = muc_admin(alice, room, "<item jid='ircbob@%s' affiliation='outcast'><reason>out</reason></item>"
                  % PURPLE_DOMAIN)
    assert r.get("type") == "result", xml_str(r)
    bob.wait(command="MODE", since=mb, timeout=T, what="MODE +b",
             pred=lambda l: l.params[:3] == ["#mod", "+b", "ircbob!*@*"])
    bob.wait(command="KICK", since=mb, timeout=T, what="KICK after the ban",
             pred=lambda l: l.params[:2] == ["#mod", "ircbob"] and l.params[-1] == "out")
    alice.wait_stanza(lambda el: is_presence(el, room + "/ircbob", "unavailable"), T, ma, "ircbob banned")
    mb = bob.mark()
    bob.send("JOIN #mod")
    bob.wait(command="474", since=mb, timeout=T, what="474 banned from #mod")
    # a mask or an address is not a nick
    r = muc_admin(alice, room, "<item nick='*!*@host' affiliation='outcast'/>")
    assert error_condition(r) == "not-acceptable", xml_str(r)
    assert_alive(cw)


def test_irc_kick_of_another_is_307_with_actor(rig, prosody, alice):
    """ircbob (op of #chan) kicks irccarl: alice sees irccarl leave with 307,
    ircbob as the actor and the reason; she stays in."""
    ngircd, cw = irc_online(rig, alice)
    bob = irc_user(rig, ngircd, "ircbob")
    bob.join("#chan")
    carl = irc_user(rig, ngircd, "irccarl")
    carl.join("#chan")
    room = irc_room("#chan")
    join(alice, room, "alicenick")
    ma = alice.mark()
    bob.send("KICK #chan irccarl :off topic")
    k = alice.wait_stanza(lambda el: is_presence(el, room + "/irccarl", "unavailable"), T, ma,
                          "irccarl kicked")
    assert 307 in status_codes(k) and 110 not in status_codes(k), xml_str(k)
    item = muc_item(k)
    assert item.find("{%s}actor" % MUC_USER_NS).get("nick") == "ircbob", xml_str(k)
    assert item.findtext("{%s}reason" % MUC_USER_NS) == "off topic", xml_str(k)
    ma = alice.mark()
    bob.privmsg("#chan", "still with us?")
    wait_groupchat(alice, room + "/ircbob", "still with us?", since=ma)
    assert_alive(cw)


def test_irc_invitations_both_ways(rig, prosody, alice):
    """ircbob INVITEs alicenick to #secret: alice gets a mediated invitation
    from the channel's room JID naming ircbob's contact JID, and joins. From
    #secret alice invites ircdan: ircdan gets an INVITE from alicenick."""
    ngircd, cw = irc_online(rig, alice)
    bob = irc_user(rig, ngircd, "ircbob")
    bob.join("#secret")
    room = irc_room("#secret")
    ma = alice.mark()
    bob.send("INVITE alicenick #secret")
    inv = alice.wait_stanza(lambda el: el.tag == "{jabber:client}message" and el.get("from") == room
                            and el.find("{%s}x/{%s}invite" % (MUC_USER_NS, MUC_USER_NS)) is not None,
                            T, ma, "invitation to #secret")
    i = inv.find("{%s}x/{%s}invite" % (MUC_USER_NS, MUC_USER_NS))
    assert i.get("from") == "ircbob@%s" % PURPLE_DOMAIN, xml_str(inv)
    join(alice, room, "alicenick")
    dan = irc_user(rig, ngircd, "ircdan")
    md = dan.mark()
    alice.send_raw("<message to='%s'><x xmlns='%s'><invite to='ircdan@%s'/></x></message>"
                   % (room, MUC_USER_NS, PURPLE_DOMAIN))
    dan.wait(command="INVITE", since=md, timeout=T, what="INVITE from alicenick",
             pred=lambda l: l.nick == "alicenick" and l.params[-1].lower() == "#secret")
    assert_alive(cw)


def test_irc_channel_rejoined_after_connection_drop(rig, prosody, alice):
    """alicenick's IRC connection is reset under the transport: alice gets 333,
    then the transport reconnects, joins #chan again and alice gets her
    self-presence again; ircbob sees alicenick back and lines flow."""
    ngircd, cw = irc_online(rig, alice)
    bob = irc_user(rig, ngircd, "ircbob")
    bob.join("#chan")
    room = irc_room("#chan")
    join(alice, room, "alicenick")
    ports = socket_ports(cw.proc.pid, ngircd.port)
    assert len(ports) == 1, "expected one IRC connection, got %s" % ports
    ma, mb = alice.mark(), bob.mark()
    reset_socket(ports[0])
    alice.wait_stanza(self_presence(room, "alicenick", "unavailable", (110, 333)), T, ma,
                      "self-presence unavailable with 333")
    back = alice.wait_stanza(self_presence(room, "alicenick"), 40, ma, "self-presence after the rejoin")
    assert back.get("type") is None, xml_str(back)
    bob.wait(command="JOIN", since=mb, timeout=T, what="alicenick joining again",
             pred=lambda l: l.nick == "alicenick")
    mb, ma = bob.mark(), alice.mark()
    alice.send_message(room, "back again", mtype="groupchat")
    bob.wait(command="PRIVMSG", since=mb, timeout=T, what="PRIVMSG after the rejoin",
             pred=lambda l: l.nick == "alicenick" and l.params[-1] == "back again")
    bob.privmsg("#chan", "welcome back")
    wait_groupchat(alice, room + "/ircbob", "welcome back", since=ma)
    assert_alive(cw)
