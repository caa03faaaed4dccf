"""End-to-end tests of Causeway's purple transport (libpurple 2.14) with prpl-jabber.

One Prosody (purple_rig.py) serves the gateway's users (localhost, component
purple.localhost) and a second VirtualHost, legacy.test, that plays the legacy
XMPP network: libpurple logs into carol@legacy.test over c2s on 127.0.0.1 (no
TLS offered; opportunistic_tls goes on in the clear); dave and erin are other
legacy users, dave in carol's legacy roster. Real slixmpp clients on both sides,
the real causeway binary ($CAUSEWAY_BIN) with

    [transport:purple]
    type = purple
    domain = purple.localhost
    secret = s3cret
    protocol = prpl-jabber

Addresses: dave@legacy.test <-> dave\\40legacy.test@purple.localhost (XEP-0106).

Run: CAUSEWAY_BIN=$PWD/causeway /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_purple.py
"""
import base64
import calendar
import os
import re
import signal
import subprocess
import time

import pytest

import harness
from harness import NS, xml_str, error_of, field_values
from irc_harness import IrcClient, NgIrcd
from purple_rig import (LEGACY, LEGACY_USERS, PURPLE_DOMAIN, T, accept_gateway, assert_alive,
                        carol_values, contact, describe_form, read_roster_groups, field_for, get_form,
                        is_registered, legacy_client, legacy_jid, read_roster, register,
                        register_irc, register_online, reset_socket, socket_ports, start_prosody, start_purple_causeway,
                        text_of_stanza,
                        wait_legacy_offline, wait_legacy_online, wait_roster_or_subscribe)

DAVE = contact("dave")
XHTML_IM = "http://jabber.org/protocol/xhtml-im"
XHTML = "http://www.w3.org/1999/xhtml"
ERIN = contact("erin")


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig, request):
    """Prosody with localhost + purple.localhost and legacy.test (overrides conftest's);
    a test marked legacy_offline gets legacy.test with mod_offline."""
    return start_prosody(rig, legacy_offline=request.node.get_closest_marker("legacy_offline") is not None)


@pytest.fixture
def causeway(rig, prosody):
    return start_purple_causeway(rig)


@pytest.fixture
def dave(rig, prosody):
    return legacy_client(rig, "dave")


def online_with_carol(rig, alice, dave, cw):
    """alice registers carol's account and comes online; dave sees carol online."""
    md = dave.mark()
    register_online(rig, alice)
    cw.wait_log("alice@localhost is online", timeout=T)
    return wait_legacy_online(dave, "carol", since=md)


# -------------------------------------------------------------- the legacy rig --

def test_legacy_network_rig(rig, prosody, dave):
    """The rig itself: carol and dave log into legacy.test directly and see each
    other (the rosters written before start hold)."""
    carol = legacy_client(rig, "carol", resource="direct")
    wait_legacy_online(dave, "carol")
    wait_legacy_online(carol, "dave")
    assert read_roster(prosody, LEGACY, "carol") == {legacy_jid("dave"): "both"}
    assert carol.roster()[legacy_jid("dave")].get("subscription") == "both"


# ------------------------------------------------------------- service, form --

def test_disco_gateway_identity(causeway, alice):
    r = alice.query(PURPLE_DOMAIN, NS["info"], timeout=T)
    assert r.get("type") == "result", xml_str(r)
    ids = [(i.get("category"), i.get("type")) for i in r.findall("disco:query/disco:identity",
                                                                 {"disco": NS["info"]})]
    assert any(c == "gateway" for c, _t in ids), "no gateway identity: %s\n%s" % (ids, xml_str(r))
    feats = {f.get("var") for f in r.findall("disco:query/disco:feature", {"disco": NS["info"]})}
    assert NS["reg"] in feats, "jabber:iq:register not advertised: %s" % sorted(feats)
    # XEP-0071 is real both ways; libpurple gives no delivery reports, so no XEP-0184
    assert XHTML_IM in feats, sorted(feats)
    assert "urn:xmpp:receipts" not in feats, sorted(feats)
    r = alice.query(DAVE, NS["info"], timeout=T)
    feats = {f.get("var") for f in r.findall("disco:query/disco:feature", {"disco": NS["info"]})}
    assert XHTML_IM in feats and "urn:xmpp:receipts" not in feats, xml_str(r)


def test_registration_form_from_plugin(causeway, alice):
    r, x = get_form(alice)
    assert x is not None, "no data form:\n" + xml_str(r)
    assert harness.form_type(x) == NS["reg"], describe_form(x)
    assert r.find("reg:query/reg:registered", NS) is None, "alice is not registered yet"
    form = describe_form(x)
    for key in ("username", "domain", "resource", "password", "connection_security", "port",
                "connect_server", "stay_connected"):
        assert field_for(x, key) is not None, "no %s field in the form:\n%s" % (key, form)
    assert field_for(x, "password").get("type") == "text-private", form
    assert field_for(x, "stay_connected").get("type") == "boolean", form
    sec = field_for(x, "connection_security")
    assert sec.get("type") == "list-single", form
    opts = [o.findtext("x:value", "", NS) for o in sec.findall("x:option", NS)]
    assert any("opportunistic" in o for o in opts), "no opportunistic_tls option: %r" % opts
    # prpl-jabber's default port
    port = field_for(x, "port")
    assert field_values(port) in (["5222"], []), form
    # the user name is required; its splits carry the separators' meaning in their labels
    assert field_for(x, "username").find("x:required", NS) is not None, form


def test_form_list_options_carry_libpurple_labels(causeway, alice):
    """A list option shows libpurple's text for each choice, as Pidgin does."""
    _r, x = get_form(alice)
    sec = field_for(x, "connection_security")
    labels = {o.findtext("x:value", "", NS): o.get("label") for o in sec.findall("x:option", NS)}
    assert labels == {"require_tls": "Require encryption",
                      "opportunistic_tls": "Use encryption if available",
                      "old_ssl": "Use old-style SSL"}, labels


@pytest.mark.parametrize("protocol", ["prpl-jabber", "prpl-nosuch"])
def test_check_knows_the_installed_protocols(tmp_path, protocol):
    """causeway --check asks the real libpurple: an unknown `protocol =` is one
    error line naming the key and listing the installed plugins; nothing is
    written in the data directory, and the temporary directory libpurple used
    is gone."""
    data = tmp_path / "data"
    cfg = harness.causeway_config(str(tmp_path / "c.conf"), 5347, str(data), domain=PURPLE_DOMAIN,
                                  name="purple", ttype="purple", extra="protocol = %s\n" % protocol)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # under ASan with libpurple's suppressions, as the transport itself runs
    env = harness.Causeway(str(tmp_path / "cw"), 5347, ttype="purple").sanitizer_env() or dict(os.environ)
    env["TMPDIR"] = str(tmp)
    r = subprocess.run([harness.causeway_bin(), "--check", "-c", cfg], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20, env=env)
    assert not data.exists(), "--check wrote into the data dir: %r" % list(data.rglob("*"))
    assert list(tmp.iterdir()) == [], "--check left files behind: %r" % list(tmp.rglob("*"))
    if protocol == "prpl-jabber":
        assert r.returncode == 0, r.stdout + r.stderr
        return
    assert r.returncode == 1, r.stdout + r.stderr
    # (LeakSanitizer's summary of the suppressions used may follow, under ASan)
    lines = [l for l in r.stderr.splitlines() if l.startswith("causeway:")]
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert "[transport:purple] protocol" in line and "'prpl-nosuch'" in line, line
    for installed in ("prpl-jabber", "prpl-irc"):
        assert installed in line, line


# ---------------------------------------------------------------- the session --

UTF8_TEXT = "emoji \U0001F600\U0001F44D and 中文消息 ünïcödé"


def test_login_and_roster(rig, causeway, alice, dave):
    """alice online -> carol logs in on legacy.test; dave (in carol's legacy
    roster) comes into alice's roster as dave\\40legacy.test@purple.localhost,
    with his presence."""
    t0 = time.monotonic()
    m_alice = alice.mark()
    carol_pres = online_with_carol(rig, alice, dave, causeway)
    harness.record_figure("purple: registration -> carol online on legacy.test after %.2f s"
                          % (time.monotonic() - t0))
    assert harness.bare(carol_pres.get("from")) == legacy_jid("carol")
    how = wait_roster_or_subscribe(alice, DAVE, since=m_alice)
    roster = harness.wait_until(lambda: (lambda r: r if DAVE in r else None)(alice.roster()), T,
                                "%s in alice's roster" % DAVE)
    assert DAVE in roster, "%s (%s) not in alice's roster: %s" % (DAVE, how, sorted(roster))
    alice.wait_presence(frm=DAVE, ptype="available", since=m_alice, bare_from=True, timeout=T)
    assert_alive(causeway)


def test_message_to_legacy_contact(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    for text in ("hello dave", UTF8_TEXT):
        md = dave.mark()
        alice.send_message(DAVE, text)
        got = dave.wait_message(frm=legacy_jid("carol"), body=text, since=md, timeout=T)
        assert got.get("type") in ("chat", "normal", None), xml_str(got)
    assert_alive(causeway)


def test_message_from_legacy_contact(rig, causeway, alice, dave):
    """dave (full JID dave@legacy.test/RANDOM) writes to carol: alice gets it
    from dave's contact address (bare dave\\40legacy.test@purple.localhost)."""
    online_with_carol(rig, alice, dave, causeway)
    for text in ("hi carol", UTF8_TEXT):
        ma = alice.mark()
        dave.send_message(legacy_jid("carol"), text)
        try:
            alice.wait_message(frm=DAVE, body=text, since=ma, timeout=T)
        except TimeoutError:
            other = alice.find_stanzas(lambda el: el.tag == "{jabber:client}message"
                                       and el.findtext("c:body", None, NS) == text, since=ma)
            if other:
                raise AssertionError("dave's message came from %r, not from %s (or %s/resource):\n%s"
                                     % (other[0].get("from"), DAVE, DAVE, xml_str(other[0])))
            raise
    assert_alive(causeway)


def _xhtml_body(el):
    return el.find("{%s}html/{%s}body" % (XHTML_IM, XHTML))


def _inner(el):
    """The XHTML body's content as (tag, text) pairs of its descendants."""
    return [(c.tag.split("}")[-1], (c.text or "")) for c in el.iter() if c is not el]


def test_xhtml_im_from_legacy_contact(rig, causeway, alice, dave):
    """dave sends XHTML-IM to carol (prpl-jabber turns it into libpurple HTML):
    alice gets the plain body plus a whitelisted XHTML-IM body -- bold,
    italic, a link, a colour; the script and the onclick and the
    javascript: link are gone. A plain message gets no <html/>."""
    online_with_carol(rig, alice, dave, causeway)
    ma = alice.mark()
    html = ("<html xmlns='%s'><body xmlns='%s'><p><strong>bold</strong> <em>it</em> "
            "<a href='https://example.org/x?a=1&amp;b=2' onclick='evil()'>site</a> "
            "<span style='color: #ff0000; background-image: url(http://t/)'>red</span> "
            "<a href='javascript:alert(1)'>bad</a><script>alert(2)</script></p></body></html>"
            % (XHTML_IM, XHTML))
    dave.send_message(legacy_jid("carol"), "bold it site red bad", extra=html)
    m = alice.wait_message(frm=DAVE, since=ma, timeout=T, pred=lambda el: _xhtml_body(el) is not None)
    body = _xhtml_body(m)
    text = xml_str(m)
    assert m.findtext("c:body", None, NS), text
    tags = _inner(body)
    assert ("strong", "bold") in tags and ("em", "it") in tags, text
    links = [a.get("href") for a in body.iter("{%s}a" % XHTML)]
    assert links == ["https://example.org/x?a=1&b=2"], text
    spans = [sp.get("style") for sp in body.iter("{%s}span" % XHTML)]
    assert spans == ["color: #ff0000"], text
    assert "script" not in text and "onclick" not in text and "javascript" not in text, text
    # plain: no html element
    ma = alice.mark()
    dave.send_message(legacy_jid("carol"), "just text & <stuff>")
    m = alice.wait_message(frm=DAVE, body="just text & <stuff>", since=ma, timeout=T)
    assert _xhtml_body(m) is None and m.find("{%s}html" % XHTML_IM) is None, xml_str(m)
    assert_alive(causeway)


def test_xhtml_im_to_legacy_contact(rig, causeway, alice, dave):
    """alice sends XHTML-IM: libpurple gets the whitelisted formatting as HTML,
    and prpl-jabber sends dave XHTML-IM of it (bold, link) with the plain body."""
    online_with_carol(rig, alice, dave, causeway)
    md = dave.mark()
    html = ("<html xmlns='%s'><body xmlns='%s'><p>say <strong>loud</strong> "
            "<a href='http://example.org/'>here</a><script>x()</script></p></body></html>"
            % (XHTML_IM, XHTML))
    alice.send_message(DAVE, "say loud here", extra=html)
    m = dave.wait_message(frm=legacy_jid("carol"), since=md, timeout=T)
    text = xml_str(m)
    assert "loud" in (m.findtext("c:body", "", NS)), text
    body = _xhtml_body(m)
    assert body is not None, "prpl-jabber sent no XHTML-IM: %s" % text
    assert "loud" in "".join(body.itertext()), text
    assert any(el.tag.split("}")[-1] in ("strong", "b", "span") for el in body.iter()), text
    assert [a.get("href") for a in body.iter("{%s}a" % XHTML)] == ["http://example.org/"], text
    assert "script" not in text, text
    assert_alive(causeway)


@pytest.mark.legacy_offline
def test_offline_message_from_legacy_has_delay(rig, causeway, alice, dave):
    """dave writes to carol while carol is offline on legacy.test (alice is not
    online yet); legacy.test stores it (mod_offline) with its own <delay/>.
    alice comes online, carol logs in, prpl-jabber gets the stored message:
    alice receives it from dave's contact address with a XEP-0203 delay whose
    stamp is the time dave sent it (not the time of delivery). A live message
    afterwards has no delay."""
    sent_at = time.time()
    dave.send_message(legacy_jid("carol"), "while you were away")
    time.sleep(3)  # older than CW_PURPLE_DELAYED_AFTER_S when it is delivered
    ma = alice.mark()
    online_with_carol(rig, alice, dave, causeway)
    m = alice.wait_message(frm=DAVE, body="while you were away", since=ma, timeout=T)
    delay = m.find("{urn:xmpp:delay}delay")
    assert delay is not None, "no XEP-0203 delay: %s" % xml_str(m)
    stamp = calendar.timegm(time.strptime(delay.get("stamp"), "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(stamp - sent_at) < 2.5, "stamp %s, sent at %s: %s" % (delay.get("stamp"), sent_at, xml_str(m))
    ma = alice.mark()
    dave.send_message(legacy_jid("carol"), "and now live")
    m = alice.wait_message(frm=DAVE, body="and now live", since=ma, timeout=T)
    assert m.find("{urn:xmpp:delay}delay") is None, xml_str(m)
    assert_alive(causeway)


def test_legacy_presence_away_with_status(rig, causeway, alice, dave):
    m_alice = alice.mark()
    online_with_carol(rig, alice, dave, causeway)
    alice.wait_presence(frm=DAVE, ptype="available", since=m_alice, bare_from=True, timeout=T)
    ma = alice.mark()
    status = "lunch \U0001F35C 午饭"
    dave.send_presence(extra="<show>away</show><status>%s</status>" % status)
    p = alice.wait_presence(frm=DAVE, since=ma, bare_from=True, timeout=T,
                            pred=lambda el: el.findtext("c:show", None, NS) == "away")
    assert p.findtext("c:status", None, NS) == status, xml_str(p)
    # and back
    ma = alice.mark()
    dave.send_presence()
    alice.wait_presence(frm=DAVE, ptype="available", since=ma, bare_from=True, timeout=T,
                        pred=lambda el: el.findtext("c:show", None, NS) is None)
    assert_alive(causeway)


SPECIAL = "a < b && c > d, <b>not bold</b> &amp; 'quotes' \"double\"  two  spaces"


def test_special_characters_kept_both_ways(rig, causeway, alice, dave):
    """libpurple speaks HTML: text with markup characters arrives as written."""
    online_with_carol(rig, alice, dave, causeway)
    md = dave.mark()
    alice.send_message(DAVE, SPECIAL)
    dave.wait_message(frm=legacy_jid("carol"), body=SPECIAL, since=md, timeout=T)
    ma = alice.mark()
    dave.send_message(legacy_jid("carol"), "re " + SPECIAL)
    # matched by text only (the sender address is test_message_from_legacy_contact's)
    el = alice.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                           and (el.findtext("c:body", "", NS) or "").startswith("re "), T, ma,
                           "dave's reply")
    assert el.findtext("c:body", None, NS) == "re " + SPECIAL, xml_str(el)


def test_multiline_messages_both_ways(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    text = "first line\nsecond line\n\n  indented fourth"
    md = dave.mark()
    alice.send_message(DAVE, text)
    dave.wait_message(frm=legacy_jid("carol"), body=text, since=md, timeout=T)
    ma = alice.mark()
    dave.send_message(legacy_jid("carol"), "re\n" + text)
    el = alice.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                           and (el.findtext("c:body", "", NS) or "").startswith("re"), T, ma, "dave's reply")
    assert el.findtext("c:body", None, NS) == "re\n" + text, xml_str(el)


def test_gateway_prompt_translates_legacy_address(causeway, alice):
    """XEP-0100: jabber:iq:gateway turns dave@legacy.test into its JID here."""
    r = alice.query(PURPLE_DOMAIN, NS["gw"], timeout=T)
    assert r.get("type") == "result", xml_str(r)
    r = alice.query(PURPLE_DOMAIN, NS["gw"], "set", "<prompt>%s</prompt>" % legacy_jid("dave"), timeout=T)
    assert r.get("type") == "result", xml_str(r)
    jid = r.findtext("gw:query/gw:jid", None, NS) or r.findtext("gw:query/gw:prompt", None, NS)
    assert jid == DAVE, xml_str(r)


def test_restart_restores_session(rig, causeway, alice, dave):
    """causeway stopped (SIGTERM) and started again: alice's legacy session comes
    back without her client doing anything (the new process probes her)."""
    online_with_carol(rig, alice, dave, causeway)
    md = dave.mark()
    assert causeway.stop() == 0
    wait_legacy_offline(dave, "carol", since=md)
    causeway.start(wait_connected=False)
    causeway.wait_connected(1, T)
    wait_legacy_online(dave, "carol", since=md)
    md = dave.mark()
    alice.send_message(DAVE, "after the restart")
    dave.wait_message(frm=legacy_jid("carol"), body="after the restart", since=md, timeout=T)
    assert_alive(causeway)


def _groups(item):
    return sorted(g.text or "" for g in item.findall("roster:group", NS))


def test_roster_groups_from_legacy(rig, causeway, alice, dave):
    """dave is in carol's legacy group Friends: his roster item for alice is in
    Friends (XEP-0356 push). carol moves him to Work from another legacy
    client: alice's item follows, and he stays in her roster."""
    m_alice = alice.mark()
    online_with_carol(rig, alice, dave, causeway)
    how = wait_roster_or_subscribe(alice, DAVE, since=m_alice)
    assert how == "push", "this rig grants XEP-0356 roster access: %s" % how
    item = harness.wait_until(lambda: (lambda r: r.get(DAVE) if r.get(DAVE) is not None
                                       and _groups(r[DAVE]) == ["Friends"] else None)(alice.roster()),
                              T, "dave in Friends in alice's roster")
    assert item.get("name") == "Dave", xml_str(item)
    carol = legacy_client(rig, "carol", resource="other")
    r = carol.iq("<iq type='set'><query xmlns='jabber:iq:roster'><item jid='%s' name='Dave'>"
                 "<group>Work</group></item></query></iq>" % legacy_jid("dave"))
    assert r.get("type") == "result", xml_str(r)
    harness.wait_until(lambda: (lambda r: r.get(DAVE) is not None
                                and _groups(r[DAVE]) == ["Work"])(alice.roster()),
                       T, "dave moved to Work in alice's roster")
    time.sleep(1)  # the old buddy's removal comes after the new one: dave must stay
    assert DAVE in alice.roster()
    assert_alive(causeway)


def test_contact_added_in_group_goes_to_legacy_group(rig, causeway, alice, dave):
    """alice adds erin in her group Colleagues (roster set, then subscribe): the
    buddy is added to carol's legacy roster in Colleagues; alice's item keeps
    the group. Added without a group, a contact lands in libpurple's default."""
    online_with_carol(rig, alice, dave, causeway)
    prosody = rig.prosody
    alice.iq("<iq type='set'><query xmlns='jabber:iq:roster'><item jid='%s' name='Erin'>"
             "<group>Colleagues</group></item></query></iq>" % ERIN)
    alice.send_presence(to=ERIN, ptype="subscribe")
    harness.wait_until(lambda: read_roster_groups(prosody, LEGACY, "carol").get(legacy_jid("erin"))
                       == ["Colleagues"], T, "erin in carol's legacy group Colleagues")
    time.sleep(0.5)
    assert _groups(alice.roster()[ERIN]) == ["Colleagues"], xml_str(alice.roster()[ERIN])
    frank = contact("frank")
    alice.iq("<iq type='set'><query xmlns='jabber:iq:roster'><item jid='%s'/></query></iq>" % frank)
    alice.send_presence(to=frank, ptype="subscribe")
    harness.wait_until(lambda: read_roster_groups(prosody, LEGACY, "carol").get(legacy_jid("frank"))
                       == ["Buddies"], T, "frank in carol's legacy group Buddies")
    assert_alive(causeway)


def test_add_and_remove_contact(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    prosody = rig.prosody
    assert legacy_jid("erin") not in read_roster(prosody, LEGACY, "carol")
    # alice adds erin the way a client does: roster set, then subscribe
    alice.iq("<iq type='set'><query xmlns='jabber:iq:roster'><item jid='%s' name='Erin'/></query></iq>"
             % ERIN)
    alice.send_presence(to=ERIN, ptype="subscribe")
    harness.wait_until(lambda: legacy_jid("erin") in read_roster(prosody, LEGACY, "carol"), T,
                       "erin@legacy.test in carol's legacy roster")
    # erin, logging in, gets carol's subscription request
    erin = legacy_client(rig, "erin")
    erin.wait_presence(frm=legacy_jid("carol"), ptype="subscribe", bare_from=True, timeout=T)
    # erin's client (slixmpp) accepts and asks back, which the gateway grants:
    # let that settle first, or a grant arriving after the removal makes the
    # server create erin's item again (subscription "from")
    harness.wait_until(lambda: read_roster(prosody, LEGACY, "carol").get(legacy_jid("erin")) == "both",
                       T, "carol <-> erin subscribed both ways")

    # alice removes erin from her roster (her server sends unsubscribe + unsubscribed,
    # and an unavailable presence to the contact)
    md, offline_before = dave.mark(), causeway.count("alice@localhost is offline")
    r = alice.iq("<iq type='set'><query xmlns='jabber:iq:roster'><item jid='%s' subscription='remove'/>"
                 "</query></iq>" % ERIN)
    assert r.get("type") == "result", xml_str(r)
    try:
        harness.wait_until(lambda: legacy_jid("erin") not in read_roster(prosody, LEGACY, "carol"), T,
                           "erin@legacy.test gone from carol's legacy roster")
    except TimeoutError as e:
        carol_off = dave.find_stanzas(lambda s: s.tag == "{jabber:client}presence" and s.get("type") == "unavailable"
                                      and harness.bare(s.get("from")) == legacy_jid("carol"), since=md)
        raise AssertionError("%s (now %s); meanwhile carol went offline on legacy.test: %s; causeway logged "
                             "'alice@localhost is offline' %d more time(s)"
                             % (e, read_roster(prosody, LEGACY, "carol"), bool(carol_off),
                                causeway.count("alice@localhost is offline") - offline_before))
    # alice's session is untouched by the removal
    assert causeway.count("alice@localhost is offline") == offline_before, \
        "removing a contact took alice offline:\n" + harness.tail(causeway.log_path, 20)
    # dave is untouched
    assert read_roster(prosody, LEGACY, "carol").get(legacy_jid("dave")) == "both"
    assert_alive(causeway)


# "password" or "not authorized", not just any "authentication" (libpurple's
# "plaintext authentication over an unencrypted stream" is another failure)
def test_offline_user_logs_legacy_account_out(rig, causeway, alice, dave):
    """stay_connected off (the default): alice going offline ends carol's legacy session."""
    online_with_carol(rig, alice, dave, causeway)
    md = dave.mark()
    alice.disconnect()
    wait_legacy_offline(dave, "carol", since=md)
    assert_alive(causeway)


def test_user_presence_reaches_legacy_network(rig, causeway, alice, dave):
    """alice's show and status become carol's on legacy.test."""
    online_with_carol(rig, alice, dave, causeway)
    md = dave.mark()
    status = "in a meeting \U0001F4C5 开会"
    alice.send_presence(extra="<show>dnd</show><status>%s</status>" % status)
    p = dave.wait_presence(frm=legacy_jid("carol"), since=md, bare_from=True, timeout=T,
                           pred=lambda el: el.findtext("c:show", None, NS) == "dnd")
    assert p.findtext("c:status", None, NS) == status, xml_str(p)
    md = dave.mark()
    alice.send_presence()
    dave.wait_presence(frm=legacy_jid("carol"), ptype="available", since=md, bare_from=True, timeout=T,
                       pred=lambda el: el.findtext("c:show", None, NS) is None)
    assert_alive(causeway)


def test_second_resource_keeps_session(rig, causeway, alice, dave):
    """alice online twice: one resource leaving keeps carol online; the last one ends it."""
    online_with_carol(rig, alice, dave, causeway)
    alice2 = harness.Client("alice@localhost/second", harness.USERS["alice"][1], rig.prosody.c2s,
                            label="alice2")
    rig.clients.append(alice2)
    alice2.connect()
    time.sleep(0.5)
    md = dave.mark()
    alice.disconnect()
    time.sleep(2)
    assert not dave.find_stanzas(lambda s: s.tag == "{jabber:client}presence" and s.get("type") == "unavailable"
                                 and harness.bare(s.get("from")) == legacy_jid("carol"), since=md), \
        "carol went offline although alice/second is still online"
    assert causeway.count("alice@localhost is offline") == 0
    alice2.disconnect()
    wait_legacy_offline(dave, "carol", since=md)
    assert_alive(causeway)


def test_stay_connected_keeps_legacy_session(rig, causeway, alice, dave):
    """stay_connected on: carol stays online on legacy.test while alice is offline."""
    md = dave.mark()
    register_online(rig, alice, carol_values(rig, stay_connected=True))
    wait_legacy_online(dave, "carol", since=md)
    md = dave.mark()
    alice.disconnect()
    causeway.wait_log("alice@localhost is offline", timeout=T)
    time.sleep(3)   # what a logout would take (it comes at once in the test above)
    gone = dave.find_stanzas(lambda s: s.tag == "{jabber:client}presence" and s.get("type") == "unavailable"
                             and harness.bare(s.get("from")) == legacy_jid("carol"), since=md)
    assert not gone, "carol went offline with alice although stay_connected is on:\n%s" % xml_str(gone[0])
    assert_alive(causeway)


PW_ERROR = re.compile(r"password|not.authori[sz]ed|credential", re.I)


def test_wrong_password(rig, causeway, alice, dave):
    """A wrong legacy password: alice gets a clear message, the registration stays,
    carol never comes online."""
    m = alice.mark()
    _x, r = register(alice, carol_values(rig, password="not-carols-password"))
    if r.get("type") == "error":
        # checked at registration: the error itself must say what is wrong
        e = error_of(r)
        assert e[2] and PW_ERROR.search(e[2]), "unclear registration error: %s\n%s" % (e, xml_str(r))
        return
    accept_gateway(alice, m)
    # the failed login is reported to alice: a message or a presence from the gateway
    el = alice.wait_stanza(
        lambda el: (harness.bare(el.get("from")) == PURPLE_DOMAIN
                    and el.tag in ("{jabber:client}message", "{jabber:client}presence")
                    and PW_ERROR.search(text_of_stanza(el))),
        T, m, "a message from %s about the wrong password" % PURPLE_DOMAIN)
    print("failure report:", xml_str(el))
    assert LEGACY_USERS["carol"] not in xml_str(el)
    assert is_registered(alice), "the registration was dropped after a failed login"
    assert not dave.find_stanzas(lambda s: s.tag == "{jabber:client}presence"
                                 and harness.bare(s.get("from")) == legacy_jid("carol")
                                 and s.get("type") is None), "carol came online with a wrong password"
    assert_alive(causeway)


def test_wrong_password_corrected_by_registering_again(rig, causeway, alice, dave):
    """After a failed login, registering again with the right password logs in."""
    m = alice.mark()
    _x, r = register(alice, carol_values(rig, password="not-carols-password"))
    assert r.get("type") == "result", xml_str(r)
    accept_gateway(alice, m)
    alice.wait_stanza(lambda el: (harness.bare(el.get("from")) == PURPLE_DOMAIN
                                  and PW_ERROR.search(text_of_stanza(el))),
                      T, m, "the wrong-password message")
    md = dave.mark()
    _x, r = register(alice, carol_values(rig))
    assert r.get("type") == "result", "second registration:\n" + xml_str(r)
    wait_legacy_online(dave, "carol", since=md)
    assert_alive(causeway)


def test_registration_without_username_is_refused(causeway, alice):
    _r, x = get_form(alice)
    vals = {"password": "x"}
    m = alice.mark()
    _x, r = register(alice, vals, x=x)
    assert r.get("type") == "error", "registration without a user name accepted:\n" + xml_str(r)
    e = error_of(r)
    assert e[1] in ("bad-request", "not-acceptable"), e
    assert not is_registered(alice)
    assert not alice.find_stanzas(lambda el: el.get("type") == "subscribe"
                                  and el.get("from") == PURPLE_DOMAIN, since=m)


def test_unregister_logs_out_and_removes_contacts(rig, causeway, alice, dave):
    m_alice = alice.mark()
    online_with_carol(rig, alice, dave, causeway)
    alice.wait_roster_item(DAVE, since=m_alice, timeout=T)
    md, ma = dave.mark(), alice.mark()
    r = alice.query(PURPLE_DOMAIN, NS["reg"], "set", "<remove/>", timeout=T)
    assert r.get("type") == "result", xml_str(r)
    wait_legacy_offline(dave, "carol", since=md)
    assert not is_registered(alice)
    # dave leaves alice's roster (roster push with subscription='remove', or unsubscribed)
    alice.wait_stanza(lambda el: any(it.get("jid") == DAVE and it.get("subscription") == "remove"
                                     for it in el.findall("roster:query/roster:item", NS))
                      or (el.tag == "{jabber:client}presence" and el.get("type") == "unsubscribed"
                          and harness.bare(el.get("from")) == DAVE),
                      T, ma, "dave taken out of alice's roster")
    harness.wait_until(lambda: DAVE not in alice.roster(), T, "dave gone from alice's roster")
    # coming online again does not log carol in
    md = dave.mark()
    alice.send_presence()
    time.sleep(2)
    assert not dave.find_stanzas(lambda s: s.tag == "{jabber:client}presence" and s.get("type") is None
                                 and harness.bare(s.get("from")) == legacy_jid("carol"), since=md)
    assert_alive(causeway)


CHATSTATES = "http://jabber.org/protocol/chatstates"


def test_typing_notifications_both_ways(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    # alice types -> dave sees composing from carol
    md = dave.mark()
    alice.send_raw("<message type='chat' to='%s'><composing xmlns='%s'/></message>" % (DAVE, CHATSTATES))
    dave.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                     and harness.bare(el.get("from")) == legacy_jid("carol")
                     and el.find("{%s}composing" % CHATSTATES) is not None, T, md, "composing from carol")
    # dave types -> alice sees composing from dave's contact address
    ma = alice.mark()
    dave.send_raw("<message type='chat' to='%s'><composing xmlns='%s'/></message>"
                  % (legacy_jid("carol"), CHATSTATES))
    el = alice.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                           and el.find("{%s}composing" % CHATSTATES) is not None
                           and "dave" in (el.get("from") or ""), T, ma, "composing from dave")
    assert harness.bare(el.get("from")) == DAVE, "composing came from %r, not %s" % (el.get("from"), DAVE)
    assert_alive(causeway)


def test_message_from_stranger(rig, causeway, alice, dave):
    """erin, not in carol's legacy roster, writes to carol: alice gets it from
    erin\\40legacy.test@purple.localhost."""
    online_with_carol(rig, alice, dave, causeway)
    erin = legacy_client(rig, "erin")
    ma = alice.mark()
    erin.send_message(legacy_jid("carol"), "hello from a stranger")
    el = alice.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                           and el.findtext("c:body", None, NS) == "hello from a stranger",
                           T, ma, "erin's message")
    assert harness.bare(el.get("from")) == ERIN, "erin's message came from %r:\n%s" % (el.get("from"), xml_str(el))


def test_legacy_subscription_request_granted_and_told(rig, causeway, alice, dave):
    """erin asks to see carol's presence on legacy.test: the transport grants it
    (its design: libpurple's authorize request is answered at once) and tells
    alice in a message naming erin; erin comes into alice's roster; erin's own
    presence request to carol is answered 'subscribed'."""
    online_with_carol(rig, alice, dave, causeway)
    erin = legacy_client(rig, "erin")
    ma, me = alice.mark(), erin.mark()
    erin.send_presence(to=legacy_jid("carol"), ptype="subscribe")
    erin.wait_presence(frm=legacy_jid("carol"), ptype="subscribed", since=me, bare_from=True, timeout=T)
    alice.wait_message(frm=PURPLE_DOMAIN, since=ma, timeout=T,
                       pred=lambda el: legacy_jid("erin") in (el.findtext("c:body", "", NS)))
    alice.wait_roster_item(ERIN, since=ma, timeout=T)
    harness.wait_until(lambda: read_roster(rig.prosody, LEGACY, "carol").get(legacy_jid("erin")) in ("from", "both"),
                       T, "erin with subscription from/both in carol's roster")
    assert_alive(causeway)


def test_legacy_connection_reset_reconnects(rig, causeway, alice, dave):
    """carol's legacy TCP connection is reset under the transport (ss -K): it logs
    in again by itself."""
    online_with_carol(rig, alice, dave, causeway)
    ports = socket_ports(causeway.proc.pid, rig.prosody.c2s)
    assert len(ports) == 1, "expected one legacy connection of pid %d, got %s" % (causeway.proc.pid, ports)
    md = dave.mark()
    t0 = time.monotonic()
    reset_socket(ports[0])
    wait_legacy_offline(dave, "carol", since=md)
    wait_legacy_online(dave, "carol", since=md, timeout=40)
    harness.record_figure("purple: legacy connection reset -> carol online again after %.2f s"
                          % (time.monotonic() - t0))
    md = dave.mark()
    alice.send_message(DAVE, "after the reconnect")
    dave.wait_message(frm=legacy_jid("carol"), body="after the reconnect", since=md, timeout=T)
    assert_alive(causeway)


@pytest.mark.parametrize("protocol,option", [("prpl-eionrobb-discord", "token"),
                                             ("prpl-eionrobb-rocketchat", "personal_access_token")])
def test_form_of_other_plugins(rig, prosody, alice, protocol, option):
    """The form comes from whatever plugin is configured (purple-discord, purple-rocketchat)."""
    start_purple_causeway(rig, protocol=protocol)
    r = alice.query(PURPLE_DOMAIN, NS["info"], timeout=T)
    assert r.get("type") == "result", xml_str(r)
    _r, x = get_form(alice)
    form = describe_form(x)
    for key in ("username", "stay_connected", option):
        assert field_for(x, key) is not None, "%s: no %s field:\n%s" % (protocol, key, form)


CAROL = contact("carol")


def test_two_users_two_legacy_accounts(rig, causeway, alice, bob):
    """alice uses carol@legacy.test, bob uses dave@legacy.test through the same
    transport: each sees the other as a contact, online, and a message crosses
    both sessions (alice -> dave\\40... -> libpurple as carol -> dave's libpurple
    session -> bob, from carol\\40legacy.test@purple.localhost)."""
    ma, mb = alice.mark(), bob.mark()
    register_online(rig, alice)
    register_online(rig, bob, dict(carol_values(rig), username="dave",
                                   password=LEGACY_USERS["dave"]))
    alice.wait_presence(frm=DAVE, ptype="available", since=ma, bare_from=True, timeout=T)
    bob.wait_presence(frm=CAROL, ptype="available", since=mb, bare_from=True, timeout=T)
    assert CAROL not in alice.roster() and DAVE not in bob.roster(), "a user got their own account as a contact"
    mb = bob.mark()
    alice.send_message(DAVE, "across two sessions \u2713")
    el = bob.wait_stanza(lambda el: el.tag == "{jabber:client}message"
                         and el.findtext("c:body", None, NS) == "across two sessions \u2713",
                         T, mb, "alice's message at bob")
    assert not alice.find_stanzas(lambda el: el.tag == "{jabber:client}message"
                                  and el.findtext("c:body", None, NS) == "across two sessions \u2713")
    assert harness.bare(el.get("from")) == CAROL, "came from %r, not %s" % (el.get("from"), CAROL)
    assert_alive(causeway)


def test_same_legacy_account_for_two_users_refused(rig, causeway, alice, bob, dave):
    """bob registers carol's account too while alice uses it: bob is told, and
    alice's session stays."""
    online_with_carol(rig, alice, dave, causeway)
    mb, md = bob.mark(), dave.mark()
    register_online(rig, bob)
    bob.wait_message(frm=PURPLE_DOMAIN, since=mb, timeout=T,
                     pred=lambda el: "another user" in (el.findtext("c:body", "", NS)))
    time.sleep(1)
    assert not dave.find_stanzas(lambda s: s.tag == "{jabber:client}presence" and s.get("type") == "unavailable"
                                 and harness.bare(s.get("from")) == legacy_jid("carol"), since=md), \
        "carol went offline when bob registered her account"
    md = dave.mark()
    alice.send_message(DAVE, "still mine")
    dave.wait_message(frm=legacy_jid("carol"), body="still mine", since=md, timeout=T)
    assert_alive(causeway)


def test_prosody_killed_and_restarted(rig, prosody, causeway, alice, dave):
    """Prosody (both networks) killed -9 and restarted: the component reconnects;
    once alice's client is back, carol is back on legacy.test."""
    online_with_carol(rig, alice, dave, causeway)
    t0 = time.monotonic()
    prosody.restart(kill=True)
    causeway.wait_connected(2, 30)
    alice = rig.client("alice")
    dave = legacy_client(rig, "dave")
    wait_legacy_online(dave, "carol", timeout=40)
    harness.record_figure("purple: Prosody kill -9 + restart -> carol online again after %.2f s"
                          % (time.monotonic() - t0))
    md = dave.mark()
    alice.send_message(DAVE, "after the Prosody restart")
    dave.wait_message(frm=legacy_jid("carol"), body="after the Prosody restart", since=md, timeout=T)
    assert_alive(causeway)


def test_long_message_to_legacy(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    text = ("0123456789abcdef\u00e9\u4e2d" * 400)[:6000]
    md = dave.mark()
    alice.send_message(DAVE, text)
    got = dave.wait_message(frm=legacy_jid("carol"), since=md, timeout=T)
    assert got.findtext("c:body", None, NS) == text, "got %d chars" % len(got.findtext("c:body", "", NS))


def test_supervisor_restarts_killed_purple_child(rig, prosody, alice, dave):
    cw = start_purple_causeway(rig, supervisor=True)
    sup = cw.proc.pid
    kids = harness.wait_until(lambda: harness.children_of(sup), 5, "the purple child of the supervisor")
    assert len(kids) == 1, kids
    child = kids[0]
    online_with_carol(rig, alice, dave, cw)
    online_before = cw.count("alice@localhost is online")

    md = dave.mark()
    t_kill = time.monotonic()
    os.kill(child, signal.SIGKILL)
    # the legacy connection dies with the child ...
    wait_legacy_offline(dave, "carol", since=md, timeout=T)
    # ... and a new child logs carol in again without alice doing anything
    wait_legacy_online(dave, "carol", since=md, timeout=30)
    t_back = time.monotonic()
    assert cw.alive(), "the supervisor died with its child"
    new = harness.children_of(sup)
    assert len(new) == 1 and new[0] != child, "expected one new child, got %s" % new
    assert cw.count("alice@localhost is online") > online_before, harness.tail(cw.log_path, 30)
    harness.record_figure("purple: supervisor, child kill -9 -> carol online on legacy.test again "
                          "after %.2f s" % (t_back - t_kill))
    # and the session works
    md = dave.mark()
    alice.send_message(DAVE, "after the restart")
    dave.wait_message(frm=legacy_jid("carol"), body="after the restart", since=md, timeout=T)


def test_no_password_in_data_dir(rig, causeway, alice, dave):
    online_with_carol(rig, alice, dave, causeway)
    # a clean stop: libpurple writes its files (accounts.xml, blist.xml, saved on
    # a timer while running) when it shuts down
    assert causeway.stop() == 0, harness.tail(causeway.log_path, 20)
    pw = LEGACY_USERS["carol"].encode()
    needles = {"plain": pw, "base64": base64.b64encode(pw), "hex": pw.hex().encode(),
               "utf-16": LEGACY_USERS["carol"].encode("utf-16-le")}
    checked, leaks = [], []
    for root, _dirs, files in os.walk(causeway.data_dir):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            checked.append(os.path.relpath(path, causeway.data_dir))
            leaks += ["%s (%s)" % (os.path.relpath(path, causeway.data_dir), k)
                      for k, n in needles.items() if n in data]
    assert any(c.endswith("accounts.xml") for c in checked), \
        "libpurple's accounts.xml not under the data directory: %s" % checked
    print("checked:", checked)
    assert not leaks, "carol's password in the data directory: %s" % leaks
    assert pw not in causeway.log().encode(), "carol's password in causeway.log"


# ------------------------------------------------------------------ prpl-irc --

def irc_wait_nick(irc, nick, timeout=T):
    """Poll ISON until nick is on the IRC server."""
    end = time.monotonic() + timeout
    while True:
        m = irc.mark()
        irc.send("ISON %s" % nick)
        line = irc.wait(command="303", since=m, timeout=5, what="ISON reply")
        if nick.lower() in [n.lower() for n in line.params[-1].split()]:
            return
        if time.monotonic() > end:
            raise TimeoutError("%s not on the IRC server within %.1fs" % (nick, timeout))
        time.sleep(0.3)


def test_irc_via_prpl_irc(rig, prosody, alice):
    """The same transport with protocol = prpl-irc against ngIRCd: register
    (account name = nick, split Server = 127.0.0.1, option port), log in, one
    message each way with an IRC user (ircbob <-> ircbob@purple.localhost)."""
    ngircd = rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()
    cw = start_purple_causeway(rig, protocol="prpl-irc")
    bob = rig.add_service(IrcClient(ngircd.port, "ircbob", label="raw-ircbob")).connect()
    register_irc(alice, ngircd.port)
    irc_wait_nick(bob, "alicenick")
    ircbob = "ircbob@%s" % PURPLE_DOMAIN
    for text in ("hello irc", "utf-8 \u00e9\u00e8 \u4e2d\u6587 \u2713"):
        mi = bob.mark()
        alice.send_message(ircbob, text)
        bob.wait(command="PRIVMSG", since=mi, timeout=T, what="PRIVMSG alicenick -> ircbob %r" % text,
                 pred=lambda l: l.nick == "alicenick" and l.params[0].lower() == "ircbob"
                 and l.params[-1] == text)
        ma = alice.mark()
        bob.privmsg("alicenick", "re: " + text)
        alice.wait_message(frm=ircbob, body="re: " + text, since=ma, timeout=T)
    assert_alive(cw)
