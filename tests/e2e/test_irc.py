"""End-to-end tests of Causeway's IRC transport.

Real ngIRCd (plain IRC) and InspIRCd 3 + atheme (TLS, SASL), real Prosody 0.12,
real XMPP clients (slixmpp), raw IRC clients on sockets (irc_harness.py) and
the real causeway binary ($CAUSEWAY_BIN, default ./causeway) with

    [transport:irc]
    type = irc
    domain = irc.localhost
    irc_port = <ngircd port>
    flood_burst = 0
    history = 20

Addresses (biboumi's): room #chan%127.0.0.1@irc.localhost, occupant
#chan%127.0.0.1@irc.localhost/nick, IRC user nick%127.0.0.1@irc.localhost,
server 127.0.0.1@irc.localhost. Registration with the gateway is not needed.

Run: scripts/run-e2e.sh -k test_irc      (the script always collects all of tests/e2e;
     -k selects this file; about 30 s)
"""
import os
import random
import re

import pytest

import harness
from harness import NS, xml_str, error_of, form_fields
from irc_harness import IrcClient, IrcV3Server, NgIrcd

IRC_DOMAIN = "irc.localhost"
SERVER = "127.0.0.1"
SERVER_JID = "%s@%s" % (SERVER, IRC_DOMAIN)
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
SID_NS = "urn:xmpp:sid:0"
T = 10.0   # generous per-event timeout: every wait returns as soon as the event arrives


# ---------------------------------------------------------------- addresses --

def room(chan):
    return "%s%%%s@%s" % (chan, SERVER, IRC_DOMAIN)


def occupant(chan, nick):
    return "%s/%s" % (room(chan), nick)


def user_jid(nick):
    return "%s%%%s@%s" % (nick, SERVER, IRC_DOMAIN)


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig):
    """Prosody with the IRC gateway's component domain (overrides conftest's)."""
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


def irc_causeway(rig, irc_port, extra=""):
    cfg = "irc_port = %d\nflood_burst = 0\nhistory = 20\n%s" % (irc_port, extra)
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg).start()


@pytest.fixture
def causeway(rig, prosody, ngircd):
    return irc_causeway(rig, ngircd.port)


@pytest.fixture
def raw(rig, ngircd):
    """raw(nick) -> a connected IrcClient on the ngIRCd (stopped at teardown)."""
    def make(nick, port=None, **kw):
        c = IrcClient(port or ngircd.port, nick, label="raw-" + nick)
        rig.add_service(c)
        return c.connect(**kw)
    return make


# ------------------------------------------------------------------ helpers --

def status_codes(el):
    return {int(s.get("code")) for s in el.findall("{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))}


def muc_item(el):
    return el.find("{%s}x/{%s}item" % (MUC_USER_NS, MUC_USER_NS))


def is_presence(el, frm, ptype="available", codes=()):
    return (el.tag == "{jabber:client}presence" and el.get("from") == frm
            and el.get("type", "available") == ptype and set(codes) <= status_codes(el))


def join(client, chan, nick, password=None, timeout=T):
    """Join chan as nick from XMPP; return (self-presence, mark before the join)."""
    m = client.mark()
    pw = "<password>%s</password>" % harness._xml_escape(password) if password is not None else ""
    client.send_presence(to=occupant(chan, nick), extra="<x xmlns='%s'>%s</x>" % (MUC_NS, pw))
    me = client.wait_stanza(
        lambda el: (is_presence(el, occupant(chan, nick), codes=(110,))
                    or (el.tag == "{jabber:client}presence" and el.get("type") == "error"
                        and harness.bare(el.get("from")) == room(chan))),
        timeout, m, "self-presence in %s as %s" % (chan, nick))
    assert me.get("type") != "error", "join of %s as %s failed:\n%s" % (chan, nick, xml_str(me))
    return me, m


def groupchat(client, chan, body, mid=None):
    return client.send_message(room(chan), body, mtype="groupchat", mid=mid)


def wait_groupchat(client, chan, nick, body, since=0, timeout=T):
    return client.wait_message(frm=occupant(chan, nick), body=body, bare_from=False,
                               pred=lambda el: el.get("type") == "groupchat", since=since,
                               timeout=timeout)


def wait_privmsg(irc, frm, target, text=None, since=0, timeout=T, regex=None):
    """The next PRIVMSG from nick `frm` to `target` (with exactly `text`)."""
    def p(l):
        return (l.nick == frm and l.params[0].lower() == target.lower()
                and (text is None or l.params[-1] == text))
    return irc.wait(command="PRIVMSG", pred=p, since=since, timeout=timeout, regex=regex,
                    what="PRIVMSG %s -> %s %r" % (frm, target, text))


def gw_nicks(irc, chan):
    """Nicks in chan (prefixes stripped) as the IRC server sees them."""
    return {n.lstrip("~&@%+") for n in irc.names(chan)}


def adhoc_configure(client, jid, values, timeout=T):
    """Register with the gateway (settings are kept with a registration), then
    run the XEP-0050 'configure' command on jid: execute, then submit values."""
    r = client.query(IRC_DOMAIN, NS["reg"], "set",
                     "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                     "<value>jabber:iq:register</value></field></x>", timeout=timeout)
    assert r.get("type") == "result", "register:\n" + xml_str(r)
    r = client.iq("<iq type='set' to='%s'><command xmlns='%s' node='configure' action='execute'/></iq>"
                  % (jid, NS["cmd"]), timeout)
    assert r.get("type") == "result", "configure execute:\n" + xml_str(r)
    cmd = r.find("{%s}command" % NS["cmd"])
    sid = cmd.get("sessionid")
    x = cmd.find("x:x", NS)
    assert sid and x is not None, "configure: no session or form:\n" + xml_str(r)
    known = set(form_fields(x))
    missing = set(values) - known
    assert not missing, "configure form lacks %s:\n%s" % (sorted(missing), xml_str(x))
    fields = "".join("<field var='%s'><value>%s</value></field>" % (k, harness._xml_escape(str(v)))
                     for k, v in values.items())
    r = client.iq("<iq type='set' to='%s'><command xmlns='%s' node='configure' sessionid='%s' "
                  "action='complete'><x xmlns='jabber:x:data' type='submit'>%s</x></command></iq>"
                  % (jid, NS["cmd"], sid, fields), timeout)
    assert r.get("type") == "result", "configure submit:\n" + xml_str(r)
    assert r.find("{%s}command" % NS["cmd"]).get("status") == "completed", xml_str(r)
    return r


def assert_alive(cw):
    assert cw.alive(), "causeway died (status %s):\n%s" % (cw.proc.returncode, harness.tail(cw.log_path, 30))


# -------------------------------------------------------------------- tests --

def test_01_join_occupants_and_roles(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")                       # first in: channel operator '@'
    plain = raw("plainnick")
    plain.join("#chan")
    m_irc = op.mark()
    me, m = join(alice, "#chan", "alicenick")

    # self-presence: 110 (self) and 100 (non-anonymous), role from our own (no) prefix
    codes = status_codes(me)
    assert {100, 110} <= codes, xml_str(me)
    item = muc_item(me)
    assert item.get("role") == "participant" and item.get("affiliation") == "none", xml_str(me)

    # the occupant list came before the self-presence, with roles from the prefixes
    before = alice.find_stanzas(lambda el: el.tag == "{jabber:client}presence", m)
    before = before[:before.index(me)]
    occ = {el.get("from"): muc_item(el) for el in before}
    assert occupant("#chan", "opnick") in occ, "op not listed before self-presence:\n" + \
        "\n".join(xml_str(e) for e in before)
    o = occ[occupant("#chan", "opnick")]
    assert (o.get("role"), o.get("affiliation")) == ("moderator", "admin"), xml_str(o)
    assert o.get("jid") == user_jid("opnick"), xml_str(o)
    p = occ[occupant("#chan", "plainnick")]
    assert (p.get("role"), p.get("affiliation")) == ("participant", "none"), xml_str(p)
    assert occupant("#chan", "alicenick") not in occ, "self listed twice"

    # then the subject (empty here), and the raw client saw the gateway user join
    subj = alice.wait_message(frm=room("#chan"), bare_from=False,
                              pred=lambda el: el.find("c:subject", NS) is not None, since=m)
    assert alice.stanzas.index(subj) > alice.stanzas.index(me), "subject before the self-presence"
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick" and l.params[0] == "#chan", since=m_irc)
    assert "alicenick" in gw_nicks(op, "#chan")


def test_02_messages_both_ways_utf8_and_me(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")

    # IRC -> XMPP, UTF-8
    m = alice.mark()
    text = "hello 你好，世界 🎉🚀 café"
    op.privmsg("#chan", text)
    wait_groupchat(alice, "#chan", "opnick", text, since=m)

    # XMPP -> IRC, UTF-8
    mi = op.mark()
    text2 = "réponse 中文消息 😀👍 ok"
    groupchat(alice, "#chan", text2)
    line = wait_privmsg(op, "alicenick", "#chan", text2, since=mi)
    assert line.trailing_bytes.decode("utf-8") == text2

    # /me from IRC (CTCP ACTION) -> "/me ..."
    m = alice.mark()
    op.ctcp("#chan", "ACTION", "waves 👋 at 世界")
    wait_groupchat(alice, "#chan", "opnick", "/me waves 👋 at 世界", since=m)

    # /me from XMPP -> CTCP ACTION
    mi = op.mark()
    groupchat(alice, "#chan", "/me dances 💃 in 北京")
    wait_privmsg(op, "alicenick", "#chan", "\x01ACTION dances 💃 in 北京\x01", since=mi)


def test_03_own_message_reflected_with_client_id(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    m, mi = alice.mark(), op.mark()
    mid = "client-chosen-id-" + harness.unique("r")
    groupchat(alice, "#chan", "reflect me ✓", mid=mid)
    refl = wait_groupchat(alice, "#chan", "alicenick", "reflect me ✓", since=m)
    assert refl.get("id") == mid, "reflection has a new id:\n" + xml_str(refl)
    sid = refl.find("{%s}stanza-id" % SID_NS)
    assert sid is not None and sid.get("by") == room("#chan") and sid.get("id"), xml_str(refl)
    wait_privmsg(op, "alicenick", "#chan", "reflect me ✓", since=mi)
    op.sync()
    assert len(op.find(command="PRIVMSG", since=mi)) == 1, "sent more than once"
    # exactly one reflection
    assert len(alice.find_stanzas(lambda el: el.get("id") == mid and el.get("type") == "groupchat", m)) == 1


def test_04_nick_change_from_xmpp(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    m, mi = alice.mark(), op.mark()
    alice.send_presence(to=occupant("#chan", "alicenew"), extra="<x xmlns='%s'/>" % MUC_NS)
    gone = alice.wait_presence(frm=occupant("#chan", "alicenick"), ptype="unavailable", since=m)
    assert {303, 110} <= status_codes(gone), xml_str(gone)
    assert muc_item(gone).get("nick") == "alicenew", xml_str(gone)
    back = alice.wait_presence(frm=occupant("#chan", "alicenew"), ptype="available", since=m)
    assert 110 in status_codes(back), xml_str(back)
    assert alice.find_stanzas(lambda el: el is gone, m) and \
        alice.stanzas.index(gone) < alice.stanzas.index(back), "303 must come before the new presence"
    op.wait(command="NICK", pred=lambda l: l.nick == "alicenick" and l.params[0] == "alicenew", since=mi)
    # and the new nick is the one used for messages
    mi = op.mark()
    groupchat(alice, "#chan", "after rename")
    wait_privmsg(op, "alicenew", "#chan", "after rename", since=mi)


def test_05_nick_change_from_irc(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    m = alice.mark()
    op.send("NICK opnew")
    gone = alice.wait_presence(frm=occupant("#chan", "opnick"), ptype="unavailable", since=m)
    assert 303 in status_codes(gone) and 110 not in status_codes(gone), xml_str(gone)
    assert muc_item(gone).get("nick") == "opnew", xml_str(gone)
    back = alice.wait_presence(frm=occupant("#chan", "opnew"), ptype="available", since=m)
    assert muc_item(back).get("role") == "moderator", "the op kept '@':\n" + xml_str(back)
    m = alice.mark()
    op.privmsg("#chan", "renamed")
    wait_groupchat(alice, "#chan", "opnew", "renamed", since=m)


def test_06_topic_both_ways(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    m = alice.mark()
    op.send("TOPIC #chan :Topic from IRC — 主题 ✨")
    s = alice.wait_message(frm=occupant("#chan", "opnick"), bare_from=False,
                           pred=lambda el: el.findtext("c:subject", None, NS) == "Topic from IRC — 主题 ✨",
                           since=m)
    assert s.get("type") == "groupchat" and s.find("c:body", NS) is None, xml_str(s)

    mi, m = op.mark(), alice.mark()
    alice.send_raw("<message type='groupchat' to='%s'><subject>Topic from XMPP — 话题 🌍</subject></message>"
                   % room("#chan"))
    op.wait(command="TOPIC", pred=lambda l: l.nick == "alicenick" and l.params[-1] == "Topic from XMPP — 话题 🌍",
            since=mi)
    # the new subject also reaches the XMPP side (from the server's echo of TOPIC)
    alice.wait_message(frm=occupant("#chan", "alicenick"), bare_from=False,
                       pred=lambda el: el.findtext("c:subject", None, NS) == "Topic from XMPP — 话题 🌍",
                       since=m)


def test_07_kick_by_op(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    m = alice.mark()
    op.send("KICK #chan alicenick :behave ⚠")
    k = alice.wait_presence(frm=occupant("#chan", "alicenick"), ptype="unavailable", since=m)
    assert {307, 110} <= status_codes(k), xml_str(k)
    item = muc_item(k)
    assert item.get("role") == "none", xml_str(k)
    assert item.findtext("{%s}reason" % MUC_USER_NS) == "behave ⚠", xml_str(k)
    assert "alicenick" not in gw_nicks(op, "#chan")
    # no longer in the room: a groupchat message is refused
    m = alice.mark()
    mid = groupchat(alice, "#chan", "still here?")
    err = alice.wait_message(pred=lambda el: el.get("type") == "error" and el.get("id") == mid, since=m)
    assert error_of(err), xml_str(err)


def test_08_part_and_quit_of_irc_users(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    p1 = raw("leaver")
    p1.join("#chan")
    p2 = raw("quitter")
    p2.join("#chan")
    _me, m0 = join(alice, "#chan", "alicenick")
    alice.wait_presence(frm=occupant("#chan", "quitter"), since=m0)
    m = alice.mark()
    p1.send("PART #chan :see you 👋")
    u = alice.wait_presence(frm=occupant("#chan", "leaver"), ptype="unavailable", since=m)
    assert muc_item(u).get("role") == "none", xml_str(u)
    assert u.findtext("c:status", None, NS) == "see you 👋", xml_str(u)
    p2.quit("gone fishing")
    u = alice.wait_presence(frm=occupant("#chan", "quitter"), ptype="unavailable", since=m)
    assert "gone fishing" in (u.findtext("c:status", None, NS) or ""), xml_str(u)
    # the room itself is unaffected
    mi = op.mark()
    groupchat(alice, "#chan", "still talking")
    wait_privmsg(op, "alicenick", "#chan", "still talking", since=mi)


def test_09_private_message_via_occupant_jid(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    # XMPP -> IRC through the room occupant JID
    mi = op.mark()
    alice.send_message(occupant("#chan", "opnick"), "private hello 你好", mtype="chat")
    wait_privmsg(op, "alicenick", "opnick", "private hello 你好", since=mi)
    # the answer comes back from the same occupant JID (where the client opened
    # the conversation, as biboumi does), marked as a MUC private message
    m = alice.mark()
    op.privmsg("alicenick", "private answer 🙂")
    msg = alice.wait_message(body="private answer 🙂", since=m)
    assert msg.get("type") == "chat", xml_str(msg)
    assert msg.get("from") == occupant("#chan", "opnick"), \
        "a reply to a PM sent via the occupant JID arrived from %s, not %s:\n%s" % (
            msg.get("from"), occupant("#chan", "opnick"), xml_str(msg))
    assert msg.find("{%s}x" % MUC_USER_NS) is not None, xml_str(msg)


def test_10_private_message_via_user_jid(causeway, alice, raw):
    stranger = raw("stranger")
    stranger.join("#elsewhere")
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    # XMPP -> IRC through nick%server
    mi = stranger.mark()
    alice.send_message(user_jid("stranger"), "direct hello 直接 ✉", mtype="chat")
    wait_privmsg(stranger, "alicenick", "stranger", "direct hello 直接 ✉", since=mi)
    # IRC -> XMPP: from nick%server
    m = alice.mark()
    stranger.privmsg("alicenick", "direct answer 回答 📨")
    msg = alice.wait_message(frm=user_jid("stranger"), body="direct answer 回答 📨", since=m)
    assert msg.get("type") == "chat", xml_str(msg)
    # a user we share a channel with but never wrote to: also nick%server
    m = alice.mark()
    op.privmsg("alicenick", "op writes first")
    msg = alice.wait_message(body="op writes first", since=m)
    assert harness.bare(msg.get("from")) == user_jid("opnick"), xml_str(msg)


def test_11_burst_of_50_in_order(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    mi = op.mark()
    texts = ["burst %02d ünïcödé 串" % i for i in range(50)]
    for t in texts:
        groupchat(alice, "#chan", t)
    got = op.wait_all(50, command="PRIVMSG", pred=lambda l: l.nick == "alicenick", since=mi,
                      timeout=20, what="50 PRIVMSGs from alicenick")
    assert [l.params[-1] for l in got] == texts


def test_12_crlf_in_body_is_no_command(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    # her own JOIN may reach op after her self-presence reached her
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", what="alicenick's JOIN")
    mi, m = op.mark(), alice.mark()
    # the CR/LF must survive XML parsing: character references
    alice.send_raw("<message type='groupchat' to='%s' id='inj1'><body>hello&#13;&#10;QUIT :x"
                   "&#13;&#10;JOIN #other</body></message>" % room("#chan"))
    # the text still arrives, as text
    op.wait(command="PRIVMSG", pred=lambda l: l.nick == "alicenick" and "QUIT :x" in l.params[-1],
            since=mi, what="PRIVMSG with the text 'QUIT :x'")
    groupchat(alice, "#chan", "marker after injection")
    wait_privmsg(op, "alicenick", "#chan", "marker after injection", since=mi)
    op.sync()
    bad = op.find(pred=lambda l: l.nick == "alicenick" and l.command in ("QUIT", "JOIN", "PART"), since=mi)
    assert not bad, "CR/LF injection reached IRC as commands: %r" % bad
    for l in op.find(command="PRIVMSG", pred=lambda l: l.nick == "alicenick", since=mi):
        assert l.params[0] == "#chan", "a line went to another target: %r" % l
    assert "alicenick" in gw_nicks(op, "#chan"), "the gateway user left the channel"
    # and nothing told the XMPP user she left
    assert not alice.find_stanzas(lambda el: is_presence(el, occupant("#chan", "alicenick"), "unavailable"), m)


def _check_pieces(lines, text, allow_space_cut):
    pieces = []
    for l in lines:
        assert len(l.raw_bytes) + 2 <= 512, "line over 512 bytes: %d" % (len(l.raw_bytes) + 2)
        try:
            pieces.append(l.trailing_bytes.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise AssertionError("a piece is not valid UTF-8 (character cut): %s: %r" % (e, l.trailing_bytes[-8:]))
    if not allow_space_cut:
        assert "".join(pieces) == text, "pieces do not add up to the text:\n%r" % pieces
        return
    # word wrapping may drop the one space it cut at, nothing else
    pos = 0
    for i, p in enumerate(pieces):
        assert text.startswith(p, pos), "piece %d differs from the text at %d:\n%r\n%r" % (
            i, pos, p[:60], text[pos:pos + 60])
        pos += len(p)
        if i + 1 < len(pieces) and text[pos:pos + 1] == " " and not pieces[i + 1].startswith(" "):
            pos += 1
    assert pos == len(text), "pieces cover %d of %d characters" % (pos, len(text))


def test_13_long_message_arrives_whole(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    unit = "abc你好é🎉xyz中文ü"            # 1-, 2-, 3- and 4-byte characters, no spaces
    dense = (unit * 200)[:2000]
    spaced = ("word 字 ñ 😀 " * 300)[:1999] + "!"   # no trailing space (servers may trim it)
    for text, allow_space_cut in ((dense, False), (spaced, True)):
        mi = op.mark()
        groupchat(alice, "#chan", text)
        groupchat(alice, "#chan", "END-OF-LONG")
        wait_privmsg(op, "alicenick", "#chan", "END-OF-LONG", since=mi)
        lines = op.find(command="PRIVMSG", pred=lambda l: l.nick == "alicenick" and l.params[-1] != "END-OF-LONG",
                        since=mi)
        assert len(lines) >= 2, "a %d-byte text should need several lines" % len(text.encode())
        _check_pieces(lines, text, allow_space_cut)


def test_14_two_xmpp_users_two_irc_connections(causeway, alice, bob, raw):
    op = raw("opnick")
    op.join("#chan")
    mi = op.mark()
    join(alice, "#chan", "alicenick")
    join(bob, "#chan", "bobnick")
    joins = op.wait_all(2, command="JOIN", pred=lambda l: l.nick in ("alicenick", "bobnick"), since=mi)
    assert {l.nick for l in joins} == {"alicenick", "bobnick"}
    assert {"alicenick", "bobnick", "opnick"} <= gw_nicks(op, "#chan")
    # each sees the other as an ordinary IRC occupant, through IRC
    alice.wait_presence(frm=occupant("#chan", "bobnick"))
    mb = bob.mark()
    groupchat(alice, "#chan", "hi bob, from alice")
    wait_groupchat(bob, "#chan", "alicenick", "hi bob, from alice", since=mb)
    ma = alice.mark()
    groupchat(bob, "#chan", "hi alice, from bob")
    wait_groupchat(alice, "#chan", "bobnick", "hi alice, from bob", since=ma)
    # one leaving does not take the other along
    mi = op.mark()
    bob.send_presence(to=occupant("#chan", "bobnick"), ptype="unavailable")
    op.wait(pred=lambda l: l.nick == "bobnick" and l.command in ("PART", "QUIT"), since=mi)
    assert "alicenick" in gw_nicks(op, "#chan")


def test_15_irc_server_restart(causeway, alice, raw, ngircd):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    ngircd.kill()
    op.closed.wait(5)
    # wait until the gateway noticed, then send while the server is down
    causeway.wait_log("Lost the connection to %s" % SERVER, timeout=T)
    m_down = alice.mark()
    mid = groupchat(alice, "#chan", "sent while down")
    causeway.wait_log("Cannot connect to %s" % SERVER, timeout=T)   # a retry failed meanwhile
    ngircd.start()
    op2 = raw("opnick2")
    op2.join("#chan")
    # back within ~15 s (first retries after 1, 2, 4, 8 s)
    op2.wait(command="JOIN", pred=lambda l: l.nick == "alicenick" and l.params[0] == "#chan", timeout=15,
             what="the gateway user's JOIN after the restart")
    mi = op2.mark()
    groupchat(alice, "#chan", "back again")
    wait_privmsg(op2, "alicenick", "#chan", "back again", since=mi)
    m = alice.mark()
    op2.privmsg("#chan", "welcome back")
    wait_groupchat(alice, "#chan", "opnick2", "welcome back", since=m)
    # the message sent while the server was down was bounced with an error
    # (checked last so that a missing error does not hide the reconnect result)
    err = alice.wait_message(pred=lambda el: el.get("type") == "error" and el.get("id") == mid,
                             since=m_down, timeout=1)
    assert error_of(err) is not None, xml_str(err)
    assert harness.bare(err.get("from")) == room("#chan"), xml_str(err)
    op2.sync()
    assert not op2.find(command="PRIVMSG", pred=lambda l: l.params[-1] == "sent while down"), \
        "the bounced message was sent after all"


def test_16_ctcp_version_answered(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    m, mi = alice.mark(), op.mark()
    op.ctcp("alicenick", "VERSION")
    r = op.wait(command="NOTICE", pred=lambda l: l.nick == "alicenick" and l.params[0] == "opnick", since=mi)
    assert re.match(r"^\x01VERSION .+\x01$", r.params[-1]), r.raw
    op.sync()
    assert not alice.find_stanzas(lambda el: el.tag == "{jabber:client}message"
                                  and "VERSION" in (el.findtext("c:body", "", NS)), m), \
        "the CTCP request was shown to the XMPP user"


def test_17_self_ping(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    mi = op.mark()
    r = alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % occupant("#chan", "alicenick"))
    assert r.get("type") == "result", "self-ping:\n" + xml_str(r)
    r = alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % occupant("#chan", "opnick"))
    assert r.get("type") == "error" and error_of(r)[1] == "not-acceptable", "ping to another nick:\n" + xml_str(r)
    op.sync()
    leaked = op.find(pred=lambda l: l.nick == "alicenick" and l.command in ("PRIVMSG", "NOTICE"), since=mi)
    assert not leaked, "a ping reached IRC: %r" % leaked


def test_18_channel_key(causeway, alice, bob, raw):
    op = raw("opnick")
    op.join("#locked")
    op.send("MODE #locked +k sesame")
    op.wait(command="MODE", pred=lambda l: l.params[1] == "+k")
    # wrong key -> not-authorized
    m = bob.mark()
    bob.send_presence(to=occupant("#locked", "bobnick"),
                      extra="<x xmlns='%s'><password>wrong</password></x>" % MUC_NS)
    e = bob.wait_presence(frm=occupant("#locked", "bobnick"), ptype="error", since=m)
    assert error_of(e)[1] == "not-authorized", xml_str(e)
    # no key at all -> not-authorized too
    m = bob.mark()
    bob.send_presence(to=occupant("#locked", "bobnick"), extra="<x xmlns='%s'/>" % MUC_NS)
    e = bob.wait_presence(frm=occupant("#locked", "bobnick"), ptype="error", since=m)
    assert error_of(e)[1] == "not-authorized", xml_str(e)
    # the right key -> in
    me, _m = join(alice, "#locked", "alicenick", password="sesame")
    assert 110 in status_codes(me)
    assert "alicenick" in gw_nicks(op, "#locked")
    assert "bobnick" not in gw_nicks(op, "#locked")


def _whois(irc, nick, timeout=T):
    m = irc.mark()
    irc.send("WHOIS %s" % nick)
    irc.wait(command="318", since=m, timeout=timeout, what="end of WHOIS %s" % nick)
    return irc.received(m)


@pytest.fixture
def ircv3(rig):
    return rig.add_service(IrcV3Server(os.path.join(rig.dir, "ircv3"))).start()


def test_19_inspircd_tls_sasl_plain(rig, prosody, ircv3, alice):
    # the gateway's default port is the plain one; the user switches to TLS + SASL
    cw = irc_causeway(rig, ircv3.port)
    adhoc_configure(alice, SERVER_JID, {"port": ircv3.tls_port, "tls": "1", "tls_verify": "0",
                                         "sasl": "plain", "sasl_account": IrcV3Server.ACCOUNT,
                                         "sasl_password": IrcV3Server.PASSWORD})
    watcher = IrcClient(ircv3.port, "watcher", label="raw-watcher")
    rig.add_service(watcher)
    watcher.connect(timeout=T)
    watcher.join("#chan")
    mi = watcher.mark()
    join(alice, "#chan", "alicenick", timeout=15)
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", since=mi)
    w = _whois(watcher, "alicenick")
    acct = [l for l in w if l.command == "330"]
    assert acct and acct[0].params[2] == IrcV3Server.ACCOUNT, "not logged in:\n%s" % "\n".join(l.raw for l in w)
    assert [l for l in w if l.command == "671"], "not on TLS:\n%s" % "\n".join(l.raw for l in w)
    assert_alive(cw)
    # and the connection works both ways
    m = alice.mark()
    watcher.privmsg("#chan", "over TLS 🔒")
    wait_groupchat(alice, "#chan", "watcher", "over TLS 🔒", since=m)
    # inspircd offers echo-message: the reflection waits for the server's echo
    # of every line, then carries the client's id, once.
    m, mi = alice.mark(), watcher.mark()
    groupchat(alice, "#chan", "line one\nline two", mid="echo-1")
    wait_privmsg(watcher, "alicenick", "#chan", "line two", since=mi)
    r = wait_groupchat(alice, "#chan", "alicenick", "line one\nline two", since=m)
    assert r.get("id") == "echo-1", xml_str(r)
    watcher.sync()
    mine = alice.find_stanzas(lambda el: el.tag == "{jabber:client}message"
                              and el.get("from") == occupant("#chan", "alicenick"), m)
    assert len(mine) == 1, "expected one reflection, got:\n" + "\n".join(xml_str(e) for e in mine)


def test_20_inspircd_sasl_external(rig, prosody, ircv3, alice):
    cw = irc_causeway(rig, ircv3.port)
    # certificate pinned by its SHA-256 (verification stays on), client cert for EXTERNAL
    adhoc_configure(alice, SERVER_JID, {"port": ircv3.tls_port, "tls": "1",
                                         "tls_fingerprint": ircv3.server_cert_sha256(),
                                         "sasl": "external", "client_cert": ircv3.client_pem})
    watcher = IrcClient(ircv3.port, "watcher", label="raw-watcher")
    rig.add_service(watcher)
    watcher.connect(timeout=T)
    watcher.join("#chan")
    mi = watcher.mark()
    join(alice, "#chan", "alicenick", timeout=15)
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", since=mi)
    w = _whois(watcher, "alicenick")
    acct = [l for l in w if l.command == "330"]
    assert acct and acct[0].params[2] == IrcV3Server.ACCOUNT, "not logged in:\n%s" % "\n".join(l.raw for l in w)
    assert [l for l in w if l.command == "671"], "not on TLS:\n%s" % "\n".join(l.raw for l in w)
    assert_alive(cw)


def test_21_10k_junk_message(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    rnd = random.Random(1234)
    # printable ASCII, mIRC control codes XML can carry (none: only \t), latin,
    # CJK, emoji; no CR, LF or NUL
    pools = [(0x20, 0x7e), (0xa0, 0x2ff), (0x4e00, 0x4fff), (0x1f300, 0x1f5ff), (0x09, 0x09)]
    chars = []
    while len("".join(chars).encode("utf-8")) < 10240:
        lo, hi = rnd.choice(pools)
        chars.append(chr(rnd.randint(lo, hi)))
    junk = "".join(chars)
    mi = op.mark()
    groupchat(alice, "#chan", junk)
    alice.send_message(occupant("#chan", "opnick"), junk, mtype="chat")
    alice.send_message(user_jid("opnick"), junk, mtype="chat")
    groupchat(alice, "#chan", "alive after junk")
    wait_privmsg(op, "alicenick", "#chan", "alive after junk", since=mi, timeout=20)
    assert_alive(causeway)
    for l in op.find(command="PRIVMSG", pred=lambda l: l.nick == "alicenick", since=mi):
        l.trailing_bytes.decode("utf-8")   # no cut characters
    m = alice.mark()
    op.privmsg("#chan", "still bridged")
    wait_groupchat(alice, "#chan", "opnick", "still bridged", since=m)


def test_22_message_to_unknown_nick_gets_error(causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    join(alice, "#chan", "alicenick")
    # the server answers 401 ERR_NOSUCHNICK; the XMPP user must learn of it
    m = alice.mark()
    alice.send_message(user_jid("nobodyhere"), "anyone there?", mtype="chat")
    err = alice.wait_message(frm=user_jid("nobodyhere"), pred=lambda el: el.get("type") == "error", since=m)
    assert error_of(err)[1] == "item-not-found", xml_str(err)


def test_23_server_disco_lists_channels_and_room_info(causeway, alice, raw):
    op = raw("opnick")
    op.join("#listed")
    op.send("TOPIC #listed :the listed topic")
    r = alice.iq("<iq type='get' to='%s'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>" % SERVER_JID)
    assert r.get("type") == "result", "disco#items on the server:\n" + xml_str(r)
    items = {i.get("jid"): i.get("name") for i in r.iter("{http://jabber.org/protocol/disco#items}item")}
    assert room("#listed") in items, "channel not listed:\n" + xml_str(r)
    assert "the listed topic" in (items[room("#listed")] or ""), xml_str(r)
    r = alice.iq("<iq type='get' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % room("#listed"))
    assert r.get("type") == "result", xml_str(r)
    ident = r.find("{http://jabber.org/protocol/disco#info}query/{http://jabber.org/protocol/disco#info}identity")
    assert ident is not None and ident.get("category") == "conference" and ident.get("type") == "text", xml_str(r)
    feats = {f.get("var") for f in r.iter("{http://jabber.org/protocol/disco#info}feature")}
    assert {MUC_NS, "muc_nonanonymous"} <= feats, sorted(feats)


def test_24_contact_presence_followed(causeway, alice, raw):
    """A contact nick%server in the roster gets presence (MONITOR, else ISON),
    and goes offline when it quits a channel the user shares."""
    buddy = raw("buddy")
    buddy.join("#shared")
    m = alice.mark()
    alice.send_presence(to=user_jid("buddy"), ptype="subscribe")
    online = alice.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("from") == user_jid("buddy")
                               and el.get("type", "available") == "available", T, m, "buddy online")
    assert online is not None
    # The connection opened for the contact already has a nick (the JID's
    # node): join with it (another nick would come back with status 210).
    join(alice, "#shared", "alice")
    m = alice.mark()
    buddy.send("QUIT :bye")
    alice.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("from") == user_jid("buddy")
                      and el.get("type") == "unavailable", T, m, "buddy offline after QUIT")


def test_25_quiet_connection_stays_up(causeway, alice, raw):
    """Regression: the 30 s connect timeout once stayed on the socket and
    dropped every IRC connection that was quiet for 30 s."""
    import time
    op = raw("opnick")
    op.join("#quiet")
    join(alice, "#quiet", "alicenick")
    mi = op.mark()
    time.sleep(35)
    op.sync()
    quits = op.find(pred=lambda l: l.nick == "alicenick" and l.command in ("QUIT", "PART"), since=mi)
    assert not quits, "the quiet connection dropped: %r" % quits
    assert "Lost the connection" not in causeway.log(), causeway.log()[-2000:]
