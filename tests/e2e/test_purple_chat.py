"""End-to-end tests of the purple transport's group chats (libpurple chats as
XEP-0045 rooms) and 1:1 typing, with prpl-jabber against the rig's legacy.test
(purple_rig.py), which here also has a MUC component, conference.legacy.test
(rooms unlocked at creation, subject changes open to participants).

alice (gateway user) logs in as carol@legacy.test and joins the legacy room
room@conference.legacy.test as room%conference.legacy.test@purple.localhost/NICK;
dave (slixmpp on legacy.test) is in the same room directly.

Run: CAUSEWAY_BIN=$PWD/causeway /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_purple_chat.py
"""
import time

import pytest

import harness
from harness import NS, xml_str
from purple_rig import (LEGACY, LEGACY_HOST_OPTIONS, PURPLE_DOMAIN, T, assert_alive, contact,
                        legacy_client, legacy_jid, register_online, setup_legacy,
                        start_purple_causeway, wait_legacy_online)

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
    import os
    from irc_harness import IrcClient, NgIrcd
    from purple_rig import accept_gateway, describe_form, register
    from test_purple import irc_wait_nick
    ngircd = rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()
    cw = start_purple_causeway(rig, protocol="prpl-irc")
    bob = rig.add_service(IrcClient(ngircd.port, "ircbob", label="raw-ircbob")).connect()
    bob.join("#chan")
    m = alice.mark()
    x, r = register(alice, {"username": "alicenick", "Server": "127.0.0.1",
                            "port": str(ngircd.port), "ssl": False})
    assert r.get("type") == "result", "registration:\n%s\nform:\n%s" % (xml_str(r), describe_form(x))
    accept_gateway(alice, m)
    irc_wait_nick(bob, "alicenick")
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
