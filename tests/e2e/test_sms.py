"""End-to-end tests of Causeway's SMS transport (type = sms).

Real Prosody 0.12 (with mod_offline), real XMPP clients (slixmpp), real
Kannel 1.4.5 (bearerbox + smsbox) with fakesmsc as the phone network
(kannel_harness.py), the real causeway binary ($CAUSEWAY_BIN) with

    [transport:sms]
    type = sms
    domain = sms.localhost
    kannel_url = http://127.0.0.1:<smsbox sendsms port>/cgi-bin/sendsms
    callback_listen = 127.0.0.1:<free port>     (Kannel's get-url points here)
    numbers = +4930123450-+4930123459, +15550100
    default_country = DE
    retry_min = 1s, retry_max = 2s, submit_timeout = 5s

(sms_rig.py builds it). Contacts are +E164@sms.localhost; MT = a message
from XMPP to a phone (seen by fakesmsc), MO = a text from a phone (injected
by fakesmsc, or by calling the callback listener by hand).

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_sms.py
"""
import glob
import os
import re
import subprocess
import time
import urllib.parse

import pytest

import harness
from harness import NS, error_of, field_values, form_fields, wait_until, xml_str
from kannel_harness import CallbackRecorder
from sms_rig import (ADDRESS_NS, CMD_NS, HELP_REPLY, RECEIPTS_NS, SMS_DOMAIN, START_REPLY,
                     STOP_REPLY, T, TOKEN, VCARD_NS, SmsSetup, assert_completed, assert_error,
                     assert_result, body_of, contact, mt_to, register, registered, run_command,
                     send_sms, submit_form, wait_long_mt, wait_msg_error, wait_receipt)

ALICE_NUM = "+4930123450"
BOB_NUM = "+4930123451"
PHONE = "+4915112345678"
PHONE2 = "+4915187654321"
PHONE3 = "+447700900123"


@pytest.fixture
def prosody(rig):
    """Prosody with the SMS gateway's domain and mod_offline (overrides conftest's)."""
    return rig.start_prosody(domain=SMS_DOMAIN, offline=True)


@pytest.fixture
def sms(rig, prosody):
    return SmsSetup(rig)


def no_receipt_within(sms, client, since, window=2.0):
    """Watch for `window` seconds that no receipt arrives at client and no
    message gets finished: a receipt is sent from an idle callback after the
    DLR's HTTP answer, so a sentinel would not order it. None if quiet, else
    a description of what happened."""
    def bad():
        r = client.find_stanzas(lambda el: el.find("{%s}received" % RECEIPTS_NS) is not None, since)
        if r:
            return "receipt: " + xml_str(r[0])
        n = sms.unfinished()
        if n is not None and n < expected:
            return "the outbox went from %d to %d unfinished messages" % (expected, n)
        return None
    expected = sms.unfinished()
    try:
        return wait_until(bad, window, "a wrong receipt", interval=0.05)
    except TimeoutError:
        return None


def sentinel_mo(sms, client, receiver, since):
    """An MO to client's number that must arrive: everything the listener
    took before it has been handled when it is there."""
    text = harness.unique("sentinel")
    st, body = sms.mo(PHONE3, receiver, text)
    assert (st, body) == (200, b""), (st, body)
    client.wait_message(frm=contact(PHONE3), body=text, since=since, timeout=T)


# ------------------------------------------------------------------ basics --

def test_01_disco_and_registration_form(sms, alice):
    """The gateway advertises receipts and XEP-0033 addressing; its
    registration form asks for a `number` (legacy element <phone/>)."""
    r = assert_result(alice.query(SMS_DOMAIN, NS["info"]), "disco#info")
    feats = {f.get("var") for f in r.findall("info:query/info:feature", NS)}
    for want in (RECEIPTS_NS, ADDRESS_NS, NS["reg"], NS["gw"]):
        assert want in feats, "disco#info lacks %s: %s" % (want, sorted(feats))
    r = assert_result(alice.query(SMS_DOMAIN, NS["reg"]), "register get")
    q = r.find("reg:query", NS)
    x = q.find("x:x", NS)
    assert x is not None and "number" in form_fields(x), "no field `number`:\n" + xml_str(r)
    assert q.find("reg:phone", NS) is not None, "no legacy <phone/>:\n" + xml_str(r)


def test_02_mt_sender_and_text_exact(sms, alice):
    """A chat message to +E164@DOMAIN reaches the phone with the user's
    gateway number as sender and the text exact; the user registered the
    number in national form ("030 123450" with default_country DE) and
    the correspondent is added to the roster named by the number."""
    registered(alice, "030 123450")
    m, ma = sms.kannel.mark(), alice.mark()
    text = "Hello from XMPP:  two  spaces, 100% & <ok> 'quoted' \"too\""
    send_sms(alice, PHONE, text)
    mt = sms.kannel.wait_mt(mt_to(PHONE), T, m)
    assert (mt["sender"], mt["receiver"], mt["text"]) == (ALICE_NUM, PHONE, text), mt
    item = alice.wait_roster_item(contact(PHONE), timeout=T, since=ma)
    assert item.get("name") == PHONE, xml_str(item)
    # delivered (DLR 1), but no receipt was asked for: none comes
    sms.wait_unfinished(0)
    sentinel_mo(sms, alice, ALICE_NUM, ma)
    rcpt = alice.find_stanzas(lambda el: el.find("{%s}received" % RECEIPTS_NS) is not None, ma)
    assert not rcpt, "a receipt nobody asked for:\n" + xml_str(rcpt[0])


def test_03_mo_to_owner_exact(sms, alice):
    """A text from a phone to the user's number comes from +SENDER@DOMAIN to
    her bare JID, body exact."""
    registered(alice, ALICE_NUM)
    m = alice.mark()
    text = "Reply from the phone:  spaces, 100% & <tags> ok?"
    sms.kannel.send_mo(PHONE, ALICE_NUM, text)
    el = alice.wait_message(frm=contact(PHONE), body=text, since=m, timeout=T)
    assert el.get("type") == "chat", xml_str(el)
    assert harness.bare(el.get("to")) == "alice@localhost", xml_str(el)


def test_04_mo_while_offline_from_offline_storage(rig, sms):
    """An MO for a user who is offline is kept by the server (mod_offline)
    and delivered when she logs in."""
    alice = rig.client("alice")
    registered(alice, ALICE_NUM)
    alice.disconnect()
    text = "You were away: " + harness.unique("mo")
    sms.kannel.send_mo(PHONE, ALICE_NUM, text)
    store = os.path.join(sms.prosody.dir, "data", "localhost", "offline")
    wait_until(lambda: glob.glob(os.path.join(store, "alice.*")), T,
               "an offline message for alice in %s (causeway log:\n%s)" % (
                   store, harness.tail(sms.cw.log_path, 20)))
    alice2 = rig.client("alice")
    el = alice2.wait_message(frm=contact(PHONE), body=text, timeout=T)
    assert el.get("type") == "chat", xml_str(el)


def test_05_receipt_after_dlr_1(sms, alice):
    """With a receipt request, DLR 1 (delivered) for every part gives a
    <received/> with the original id from the contact JID; the message is
    then finished in the outbox."""
    registered(alice, ALICE_NUM)
    m = alice.mark()
    mid = send_sms(alice, PHONE, "please confirm", receipt=True)
    el = wait_receipt(alice, contact(PHONE), mid, m)
    assert el.find("{%s}received" % RECEIPTS_NS).get("id") == mid, xml_str(el)
    sms.wait_unfinished(0)


def test_06_dlr_16_is_recipient_unavailable(sms, alice):
    """A DLR 16 (rejected by the SMSC) turns into an error
    recipient-unavailable for the message (to the sending resource, from
    the contact). fakesmsc only makes DLR 8 and 1: it is stopped so the MT
    stays queued in bearerbox, and the DLR is made by hand."""
    registered(alice, ALICE_NUM)
    sms.kannel.stop_fakesmsc()
    m = alice.mark()
    mid = send_sms(alice, PHONE, "will be rejected")
    message, part = sms.wait_part_state(2)
    st, body = sms.dlr(message, part, 16, smsc_status="NACK/0x0000000b/Invalid Destination Address",
                       to=PHONE)
    assert (st, body) == (200, b""), (st, body)
    el, (etype, cond, text) = wait_msg_error(alice, mid, m, frm=contact(PHONE))
    assert cond == "recipient-unavailable", xml_str(el)
    assert el.get("to") == alice.full_jid, "error not to the sending resource:\n" + xml_str(el)
    # DLR 2 (failed at the phone) is the same error
    m = alice.mark()
    mid = send_sms(alice, PHONE2, "will fail at the phone")
    sms.wait_unfinished(1)     # the first one is finished (failed), this one is not
    message2, part2 = sms.wait_part_state(2)
    assert sms.dlr(message2, part2, 2, to=PHONE2) == (200, b"")
    el, (etype, cond, text) = wait_msg_error(alice, mid, m, frm=contact(PHONE2))
    assert cond == "recipient-unavailable", xml_str(el)
    sms.kannel.start_fakesmsc()


def test_07_chinese_and_emoji_both_ways(sms, alice):
    """Text outside GSM-7 goes out as UCS-2 and comes back exact, from a
    UCS-2 MO and from a UTF-8 one."""
    registered(alice, ALICE_NUM)
    text = "你好，世界 🙂 Grüße 🚀"
    m = sms.kannel.mark()
    send_sms(alice, PHONE, text)
    mt = sms.kannel.wait_mt(mt_to(PHONE), T, m)
    assert (mt["type"], mt["coding"], mt["text"]) == ("ucs-2", 2, text), mt
    assert mt["sender"] == ALICE_NUM, mt
    ma = alice.mark()
    sms.kannel.send_mo(PHONE, ALICE_NUM, "回复 🙂 ucs2", ucs2=True)
    alice.wait_message(frm=contact(PHONE), body="回复 🙂 ucs2", since=ma, timeout=T)
    sms.kannel.send_mo(PHONE, ALICE_NUM, "回复 🚀 utf8")
    alice.wait_message(frm=contact(PHONE), body="回复 🚀 utf8", since=ma, timeout=T)


def test_08_500_characters_whole(sms, alice):
    """A 500-character message reaches the phone whole, as one concatenated
    SMS: GSM-7 (4 parts) and UCS-2 (8 parts)."""
    registered(alice, ALICE_NUM)
    gsm = ("The quick brown fox jumps over the lazy dog 0123456789. " * 10)[:500]
    ucs = ("汉字テスト한국어Ж" * 60)[:500]
    assert len(gsm) == len(ucs) == 500
    m = sms.kannel.mark()
    send_sms(alice, PHONE, gsm)
    got, parts = wait_long_mt(sms.kannel, PHONE, m, "utf-8")
    assert got == gsm, "GSM-7 text differs (%d parts):\n%r" % (len(parts), got)
    assert {p["sender"] for p in parts} == {ALICE_NUM}
    m = sms.kannel.mark()
    send_sms(alice, PHONE2, ucs)
    got, parts = wait_long_mt(sms.kannel, PHONE2, m, "utf-16-be")
    assert got == ucs, "UCS-2 text differs (%d parts):\n%r" % (len(parts), got)


# -------------------------------------------------------- dedicated numbers --

def test_09_dedicated_claims(sms, alice, bob, admin):
    """dedicated: a number belongs to one JID. A second JID claiming it gets
    conflict, a number outside `numbers` not-acceptable; the legacy <phone/>
    element works too, and each user sends from their own number."""
    r = register(alice, None)
    assert r.get("type") == "error", "dedicated: a registration without a number was taken:\n" + xml_str(r)
    registered(alice, ALICE_NUM)
    assert_error(register(bob, ALICE_NUM), "conflict", "bob claims alice's number")
    assert_error(register(bob, "+4930999999"), "not-acceptable", "number outside `numbers`")
    r = bob.query(SMS_DOMAIN, NS["reg"], "set", "<phone>030123451</phone>", timeout=T)
    assert_result(r, "legacy <phone/> registration")
    m = sms.kannel.mark()
    send_sms(bob, PHONE, "from bob")
    mt = sms.kannel.wait_mt(mt_to(PHONE, "from bob"), T, m)
    assert mt["sender"] == BOB_NUM, mt
    # and the MO to bob's number reaches bob, not alice
    ma, mb = alice.mark(), bob.mark()
    sms.kannel.send_mo(PHONE, BOB_NUM, "for bob")
    bob.wait_message(frm=contact(PHONE), body="for bob", since=mb, timeout=T)
    sentinel_mo(sms, alice, ALICE_NUM, ma)
    assert not alice.find_stanzas(lambda el: body_of(el) == "for bob", ma), "alice got bob's text"


def test_10_approval_by_admin(rig, prosody, alice, bob, admin):
    """approval = admin: the claim is pending (the user is told, every admin
    is told with JID and number), messages are refused with forbidden until
    an admin approves with the sms-approve command; a rejected user is told."""
    sms = SmsSetup(rig, approval="admin", admins="admin@localhost, bob@localhost")
    ma, mad, mb = alice.mark(), admin.mark(), bob.mark()
    assert_result(register(alice, ALICE_NUM), "claim pending approval")
    el = alice.wait_message(frm=SMS_DOMAIN, pred=lambda e: "pending" in (body_of(e) or "").lower(),
                            since=ma, timeout=T)
    for adm, since in ((admin, mad), (bob, mb)):
        adm.wait_message(frm=SMS_DOMAIN, pred=lambda e: "alice@localhost" in (body_of(e) or "")
                         and ALICE_NUM in (body_of(e) or ""), since=since, timeout=T)
    m = alice.mark()
    mid = send_sms(alice, PHONE, "before approval")
    el, err = wait_msg_error(alice, mid, m)
    assert err[1] == "forbidden", xml_str(el)

    # not for users
    first, _ = run_command(alice, "sms-approve")
    assert_error(first, "forbidden", "sms-approve as alice")

    # the admin's form lists the pending claim
    first, _ = run_command(admin, "sms-approve")
    cmd = first.find("{%s}command" % CMD_NS)
    assert first.get("type") == "result" and cmd is not None, xml_str(first)
    f = form_fields(cmd.find("x:x", NS))
    assert f["claim"].get("type") == "list-single", xml_str(f["claim"])
    opts = [o.findtext("x:value", None, NS) for o in f["claim"].findall("x:option", NS)]
    assert ALICE_NUM in opts, "pending claim not offered: %s" % opts
    dec = [o.findtext("x:value", None, NS) for o in f["decision"].findall("x:option", NS)]
    assert {"approve", "reject"} <= set(dec), dec

    ma = alice.mark()
    _, final = run_command(admin, "sms-approve", {"claim": ALICE_NUM, "decision": "approve"})
    assert_completed(final, "sms-approve approve")
    alice.wait_message(frm=SMS_DOMAIN, pred=lambda e: "approved" in (body_of(e) or "").lower(),
                       since=ma, timeout=T)
    mk = sms.kannel.mark()
    send_sms(alice, PHONE, "after approval")
    mt = sms.kannel.wait_mt(mt_to(PHONE, "after approval"), T, mk)
    assert mt["sender"] == ALICE_NUM, mt

    mb = bob.mark()
    assert_result(register(bob, BOB_NUM), "bob's claim")
    _, final = run_command(admin, "sms-approve", {"claim": BOB_NUM, "decision": "reject"})
    assert_completed(final, "sms-approve reject")
    bob.wait_message(frm=SMS_DOMAIN, pred=lambda e: "rejected" in (body_of(e) or "").lower(),
                     since=mb, timeout=T)


def test_11_admin_assign_and_revoke(sms, alice, bob, admin):
    """sms-assign registers a JID with a number (bob then sends from it and
    receives its texts); sms-revoke takes it away and tells the owner: texts
    to the number are then taken (200, empty) but reach nobody."""
    registered(alice, ALICE_NUM)
    num = "+4930123452"
    first, _ = run_command(bob, "sms-assign")
    assert_error(first, "forbidden", "sms-assign as bob")
    _, final = run_command(admin, "sms-assign", {"jid": "bob@localhost", "number": num})
    assert_completed(final, "sms-assign")
    m = sms.kannel.mark()
    send_sms(bob, PHONE, "assigned")
    assert sms.kannel.wait_mt(mt_to(PHONE, "assigned"), T, m)["sender"] == num
    mb = bob.mark()
    sms.kannel.send_mo(PHONE, num, "to the assigned number")
    bob.wait_message(frm=contact(PHONE), body="to the assigned number", since=mb, timeout=T)

    mb = bob.mark()
    _, final = run_command(admin, "sms-revoke", {"number": num})
    assert_completed(final, "sms-revoke")
    bob.wait_message(frm=SMS_DOMAIN, since=mb, timeout=T)
    mb, ma = bob.mark(), alice.mark()
    assert sms.mo(PHONE, num, "after revoke") == (200, b"")
    sentinel_mo(sms, alice, ALICE_NUM, ma)
    assert not bob.find_stanzas(lambda el: body_of(el) == "after revoke", mb), \
        "a text to a revoked number reached its former owner"


# -------------------------------------------------------------- shared mode --

def test_12_shared_routing(rig, prosody, alice, bob, admin):
    """shared: the form offers the gateway numbers (default the first); a
    reply goes to the user who last wrote to that phone from that number,
    a text from a phone nobody wrote to goes to `inbox` and the admins."""
    sms = SmsSetup(rig, ownership="shared", numbers="+15550100, +15550101",
                   options={"inbox": "bob@localhost"})
    r = assert_result(alice.query(SMS_DOMAIN, NS["reg"]), "register get")
    f = form_fields(r.find("reg:query/x:x", NS))
    assert f["number"].get("type") == "list-single", xml_str(f["number"])
    opts = [o.findtext("x:value", None, NS) for o in f["number"].findall("x:option", NS)]
    assert opts == ["+15550100", "+15550101"], opts
    assert field_values(f["number"]) == ["+15550100"], xml_str(f["number"])
    registered(alice, "+15550100")

    m = sms.kannel.mark()
    send_sms(alice, PHONE, "shared hello")
    assert sms.kannel.wait_mt(mt_to(PHONE, "shared hello"), T, m)["sender"] == "+15550100"

    ma, mb, mad = alice.mark(), bob.mark(), admin.mark()
    sms.kannel.send_mo(PHONE, "+15550100", "reply to alice")
    alice.wait_message(frm=contact(PHONE), body="reply to alice", since=ma, timeout=T)
    sms.kannel.send_mo(PHONE2, "+15550100", "nobody wrote to me")
    bob.wait_message(frm=contact(PHONE2), body="nobody wrote to me", since=mb, timeout=T)
    admin.wait_message(frm=contact(PHONE2), body="nobody wrote to me", since=mad, timeout=T)
    # alice wrote to PHONE, not PHONE2; bob and the admin are not PHONE's correspondents
    sms.kannel.send_mo(PHONE, "+15550100", "sentinel")
    alice.wait_message(frm=contact(PHONE), body="sentinel", since=ma, timeout=T)
    assert not alice.find_stanzas(lambda el: body_of(el) == "nobody wrote to me", ma)
    assert not bob.find_stanzas(lambda el: body_of(el) == "reply to alice", mb)
    assert not admin.find_stanzas(lambda el: body_of(el) == "reply to alice", mad)

    # two users wrote to PHONE from +15550100: a reply goes to both; bob,
    # who uses +15550101, does not get it
    registered(admin, "+15550100")
    registered(bob, "+15550101")
    m = sms.kannel.mark()
    send_sms(admin, PHONE, "admin too")
    send_sms(bob, PHONE, "bob from the other number")
    sms.kannel.wait_mt(mt_to(PHONE, "admin too", "+15550100"), T, m)
    sms.kannel.wait_mt(mt_to(PHONE, "bob from the other number", "+15550101"), T, m)
    ma, mb, mad = alice.mark(), bob.mark(), admin.mark()
    sms.kannel.send_mo(PHONE, "+15550100", "to both of you")
    alice.wait_message(frm=contact(PHONE), body="to both of you", since=ma, timeout=T)
    admin.wait_message(frm=contact(PHONE), body="to both of you", since=mad, timeout=T)
    sms.kannel.send_mo(PHONE, "+15550101", "to bob only")
    bob.wait_message(frm=contact(PHONE), body="to bob only", since=mb, timeout=T)
    assert not bob.find_stanzas(lambda el: body_of(el) == "to both of you", mb)
    assert not alice.find_stanzas(lambda el: body_of(el) == "to bob only", ma)


# --------------------------------------------------------------- durability --

def test_13_kannel_down_causeway_killed_all_20_arrive_once(sms, alice):
    """Kannel down, 20 messages sent, causeway killed -9 and restarted, Kannel
    started: every message arrives, none twice."""
    registered(alice, ALICE_NUM)
    sms.kannel.stop_all()
    texts = ["durable %02d" % i for i in range(1, 21)]
    for t in texts:
        send_sms(alice, PHONE, t)
    sms.wait_unfinished(20)
    sms.kill_causeway()
    sms.start_causeway(connected_count=2)
    m = sms.kannel.mark()
    sms.kannel.start()
    sms.kannel.wait_mts(20, lambda mt: mt["receiver"] == PHONE and mt["text"] in texts, 60, m)
    sms.wait_unfinished(0, 30)
    got = [mt["text"] for mt in sms.kannel.received_mts(m) if mt["receiver"] == PHONE]
    assert sorted(got) == texts, "missing %s, twice %s" % (
        sorted(set(texts) - set(got)), sorted({t for t in got if got.count(t) > 1}))
    # the claim survived the restart too: texts to alice's number reach her
    ma = alice.mark()
    sms.kannel.send_mo(PHONE, ALICE_NUM, "after the restart")
    alice.wait_message(frm=contact(PHONE), body="after the restart", since=ma, timeout=T)


# ------------------------------------------------------------------- errors --

def test_14_malformed_jid_and_unregistered_sender(sms, alice, bob):
    """A contact JID that is no number -> jid-malformed naming the expected
    form; a sender without registration -> registration-required."""
    registered(alice, ALICE_NUM)
    m = alice.mark()
    mid = alice.send_message("hello@" + SMS_DOMAIN, "to nobody")
    el, (etype, cond, text) = wait_msg_error(alice, mid, m)
    assert cond == "jid-malformed", xml_str(el)
    assert text and "+" in text, "error text does not show the +E164 form:\n" + xml_str(el)
    m = bob.mark()
    mid = send_sms(bob, PHONE, "not registered")
    el, err = wait_msg_error(bob, mid, m)
    assert err[1] == "registration-required", xml_str(el)


def test_15_callback_token_and_unknown_receiver(sms, alice):
    """The listener refuses callbacks without the token or with a wrong one
    (403, nothing delivered); an MO to a number nobody has is answered 200
    with an empty body (smsbox would text a body back) and reaches nobody."""
    registered(alice, ALICE_NUM)
    m = alice.mark()
    st, _ = sms.mo(PHONE, ALICE_NUM, "no token", token=None)
    assert st == 403, st
    st, _ = sms.mo(PHONE, ALICE_NUM, "wrong token", token=TOKEN[:-1] + "X")
    assert st == 403, st
    st, _ = sms.dlr(1, 0, 1, token="wrong-token-wrong-token")
    assert st == 403, st
    st, _ = sms.callback("/dlr", {"m": "1", "p": "0", "type": "1"})
    assert st == 403, st
    assert sms.mo(PHONE, "+4930123459", "to a free number") == (200, b"")
    assert sms.mo(PHONE, "+19995550000", "to a foreign number") == (200, b"")
    sentinel_mo(sms, alice, ALICE_NUM, m)
    bad = alice.find_stanzas(lambda el: body_of(el) in ("no token", "wrong token", "to a free number",
                                                         "to a foreign number"), m)
    assert not bad, "delivered:\n" + "\n".join(xml_str(e) for e in bad)


def test_16_stop_start_help(sms, alice):
    """STOP (any case, spaces around) opts the phone out: stop_reply goes back
    from the gateway number, the MO is forwarded, messages to it are refused
    with forbidden naming STOP; START opts back in (start_reply); HELP gets
    help_reply."""
    registered(alice, ALICE_NUM)
    m, ma = sms.kannel.mark(), alice.mark()
    sms.kannel.send_mo(PHONE, ALICE_NUM, "  Stop ")
    mt = sms.kannel.wait_mt(mt_to(PHONE, STOP_REPLY), T, m)
    assert mt["sender"] == ALICE_NUM, mt
    alice.wait_message(frm=contact(PHONE), pred=lambda el: (body_of(el) or "").strip() == "Stop",
                       since=ma, timeout=T)
    ma = alice.mark()
    mid = send_sms(alice, PHONE, "are you there?")
    el, (etype, cond, text) = wait_msg_error(alice, mid, ma, frm=contact(PHONE))
    assert cond == "forbidden", xml_str(el)
    assert text and "STOP" in text.upper(), "error text does not mention STOP:\n" + xml_str(el)
    # the opt-out is per (gateway number, phone): other phones still get alice's texts
    m = sms.kannel.mark()
    send_sms(alice, PHONE2, "not opted out")
    sms.kannel.wait_mt(mt_to(PHONE2, "not opted out", ALICE_NUM), T, m)
    # and it is kept across a restart
    sms.cw.stop()
    sms.start_causeway(connected_count=2)
    ma = alice.mark()
    mid = send_sms(alice, PHONE, "after a restart")
    el, err = wait_msg_error(alice, mid, ma, frm=contact(PHONE))
    assert err[1] == "forbidden", "opt-out lost in a restart:\n" + xml_str(el)

    m, ma = sms.kannel.mark(), alice.mark()
    sms.kannel.send_mo(PHONE, ALICE_NUM, "start")
    mt = sms.kannel.wait_mt(mt_to(PHONE, START_REPLY), T, m)
    assert mt["sender"] == ALICE_NUM, mt
    alice.wait_message(frm=contact(PHONE), body="start", since=ma, timeout=T)
    m = sms.kannel.mark()
    send_sms(alice, PHONE, "welcome back")
    sms.kannel.wait_mt(mt_to(PHONE, "welcome back", ALICE_NUM), T, m)

    m = sms.kannel.mark()
    sms.kannel.send_mo(PHONE, ALICE_NUM, "HELP")
    mt = sms.kannel.wait_mt(mt_to(PHONE, HELP_REPLY), T, m)
    assert mt["sender"] == ALICE_NUM, mt


def test_17_group_text_xep_0033(sms, alice):
    """A message to the gateway with XEP-0033 addresses is one MT per address
    and one receipt from each contact JID with the message's id."""
    registered(alice, ALICE_NUM)
    phones = [PHONE, PHONE2, PHONE3]
    addrs = "".join("<address type='to' jid='%s'/>" % contact(p) for p in phones)
    m, ma = sms.kannel.mark(), alice.mark()
    mid = alice.send_message(SMS_DOMAIN, "group hello",
                             extra="<addresses xmlns='%s'>%s</addresses><request xmlns='%s'/>"
                             % (ADDRESS_NS, addrs, RECEIPTS_NS))
    for p in phones:
        mt = sms.kannel.wait_mt(mt_to(p), T, m)
        assert (mt["sender"], mt["text"]) == (ALICE_NUM, "group hello"), mt
    for p in phones:
        wait_receipt(alice, contact(p), mid, ma)
    sms.wait_unfinished(0)
    got = [mt["receiver"] for mt in sms.kannel.received_mts(m)]
    assert sorted(got) == sorted(phones), "one MT each expected: %s" % got


def test_18_vcard_gateway_prompt_national_jid(sms, alice):
    """vCard of a contact gives the number (FN, NICKNAME, TEL/NUMBER);
    jabber:iq:gateway turns "030 1234567" into +49301234567@DOMAIN; a
    national number in the JID is read with default_country."""
    registered(alice, ALICE_NUM)
    r = assert_result(alice.iq("<iq type='get' to='%s'><vCard xmlns='%s'/></iq>" % (contact(PHONE), VCARD_NS),
                               T), "vcard get")
    v = r.find("{%s}vCard" % VCARD_NS)
    assert v is not None, xml_str(r)
    assert v.findtext("{%s}FN" % VCARD_NS) == PHONE, xml_str(r)
    assert v.findtext("{%s}NICKNAME" % VCARD_NS) == PHONE, xml_str(r)
    assert v.findtext("{%s}TEL/{%s}NUMBER" % (VCARD_NS, VCARD_NS)) == PHONE, xml_str(r)

    r = assert_result(alice.query(SMS_DOMAIN, NS["gw"], "set", "<prompt>030 1234567</prompt>", timeout=T),
                      "gateway prompt")
    assert r.findtext("gw:query/gw:jid", None, NS) == contact("+49301234567"), xml_str(r)

    m = sms.kannel.mark()
    send_sms(alice, "030123456@" + SMS_DOMAIN, "national")
    mt = sms.kannel.wait_mt(mt_to("+4930123456"), T, m)
    assert mt["text"] == "national", mt


def test_19_kannel_4xx_is_recipient_unavailable(rig, prosody, alice):
    """Kannel refusing a sendsms with 4xx (wrong password: 403 "Authorization
    failed") -> recipient-unavailable with Kannel's text, no retry."""
    sms = SmsSetup(rig, kannel_password="not-the-password")
    registered(alice, ALICE_NUM)
    m = alice.mark()
    mid = send_sms(alice, PHONE, "refused")
    el, (etype, cond, text) = wait_msg_error(alice, mid, m, frm=contact(PHONE))
    assert cond == "recipient-unavailable", xml_str(el)
    assert text and "Authorization failed" in text, "Kannel's text missing:\n" + xml_str(el)
    sms.wait_unfinished(0)


def test_20_expiry_online_error_and_late_notice(rig, prosody):
    """Past expire_after a message fails with remote-server-timeout: to the
    sending resource if it is still online, else as a chat message from the
    contact to the bare JID starting with "⚠ Not delivered"."""
    sms = SmsSetup(rig, options={"expire_after": "10s"})
    a1 = rig.client("alice")
    a2 = rig.client("alice")
    registered(a1, ALICE_NUM)
    sms.kannel.stop_all()
    m1 = a1.mark()
    mid1 = send_sms(a1, PHONE, "expires, sender online")
    mid2 = send_sms(a2, PHONE2, "expires, sender gone")
    sms.wait_unfinished(2)
    a2.disconnect()
    el, (etype, cond, text) = wait_msg_error(a1, mid1, m1, timeout=30, frm=contact(PHONE))
    assert cond == "remote-server-timeout", xml_str(el)
    el = a1.wait_message(frm=contact(PHONE2), since=m1, timeout=30,
                         pred=lambda e: (body_of(e) or "").startswith("⚠ Not delivered"))
    assert el.get("type") == "chat", xml_str(el)
    sms.wait_unfinished(0)


def test_21_listener_503_while_xmpp_is_down(rig, sms, alice):
    """An MO while the component is disconnected from the server is answered
    503 (so Kannel may retry), not taken and lost; once it is back, MOs are
    taken and delivered again."""
    registered(alice, ALICE_NUM)
    sms.prosody.kill()
    last = []

    def answered_503():
        last[:] = [sms.mo(PHONE, ALICE_NUM, "while down")]
        return last[0][0] == 503
    try:
        wait_until(answered_503, T, "503 from the listener", interval=0.2)
    except TimeoutError as e:
        raise AssertionError("%s; last answer %s" % (e, last))
    sms.prosody.start()
    sms.cw.wait_connected(2, 30)
    alice2 = rig.client("alice")
    assert sms.mo(PHONE, ALICE_NUM, "back again") == (200, b"")
    alice2.wait_message(frm=contact(PHONE), body="back again", timeout=T)


def _check_config(tmp_path, name, lines):
    cfg = tmp_path / ("%s.conf" % name)
    base = {"kannel_url": "http://127.0.0.1:13013/cgi-bin/sendsms", "kannel_username": "u",
            "kannel_password": "p", "callback_token": TOKEN, "numbers": "+4930123450-+4930123459"}
    base.update(lines)
    harness.causeway_config(str(cfg), 5347, str(tmp_path), domain=SMS_DOMAIN, name="sms", ttype="sms",
                            extra="".join("%s = %s\n" % (k, v) for k, v in base.items() if v is not None))
    b = harness.causeway_bin()
    assert os.path.isfile(b), "CAUSEWAY_BIN %s missing (make)" % b
    return subprocess.run([b, "--check", "-c", str(cfg)], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=10)


@pytest.mark.parametrize("case,lines,key", [
    ("good", {}, None),
    ("good-durations-https", {"kannel_url": "https://sms.example.org/cgi-bin/sendsms", "retry_min": "1s", "retry_max": "5m", "expire_after": "2h", "reply_window": "30d",
                              "ownership": "shared", "inbox": "admin@localhost", "approval": "admin"}, None),
    ("bad-duration", {"retry_min": "soon"}, "retry_min"),
    ("bad-ownership", {"ownership": "everybody"}, "ownership"),
    ("bad-approval", {"approval": "maybe"}, "approval"),
    ("bad-number", {"numbers": "+4930123450, 0301234"}, "numbers"),
    ("kannel-url-ftp", {"kannel_url": "ftp://127.0.0.1/sendsms"}, "kannel_url"),
    ("no-token", {"callback_token": None}, "callback_token"),
    ("short-token", {"callback_token": "short-token"}, "callback_token"),
])
def test_22_check_names_the_key(tmp_path, case, lines, key):
    """causeway --check -c FILE accepts a good sms section and names the key
    of a bad one."""
    r = _check_config(tmp_path, case, lines)
    if key is None:
        assert r.returncode == 0, "good config refused (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr)
    else:
        assert r.returncode != 0, "bad config (%s) accepted:\n%s%s" % (case, r.stdout, r.stderr)
        assert key in r.stderr, "stderr does not name %r:\n%s" % (key, r.stderr)


@pytest.mark.parametrize("explicit_callback_url", [False, True], ids=["default-callback-url", "callback-url"])
def test_23_sendsms_request_dlr_url_and_5xx_retry(rig, prosody, alice, explicit_callback_url):
    """What Causeway asks of Kannel (a recorder stands in for smsbox): the
    sendsms-user, from = the user's number, to, text, smsc = kannel_smsc, a
    dlr-mask with 1, 2, 8, 16 and the dlr-url CALLBACK_URL/dlr?token=TOKEN
    &m=ID&p=PART&type=%d&smsc_status=%A&to=%p. 503 answers are retried
    with backoff; a DLR 1 made from that dlr-url gives the receipt."""
    fake = rig.add_service(CallbackRecorder(label="fake-smsbox"))
    answers = iter([503, 503])
    fake.status = lambda req: next(answers, 202)
    fake.start()
    opts = {"kannel_url": fake.url("/cgi-bin/sendsms"), "kannel_smsc": "fake"}
    if explicit_callback_url:
        # how Kannel reaches the listener, when that is not callback_listen's address
        opts["callback_url"] = "http://localhost:@LISTEN@"
    sms = SmsSetup(rig, start_kannel=False, options=opts)
    base = "http://%s:%d" % ("localhost" if explicit_callback_url else "127.0.0.1", sms.listen_port)
    registered(alice, ALICE_NUM)
    m = alice.mark()
    mid = send_sms(alice, PHONE, "via the recorder", receipt=True)
    fake.wait(lambda r: r.path == "/cgi-bin/sendsms", T, 2, "the third sendsms (after two 503)")
    reqs = [r for r in fake.received() if r.path == "/cgi-bin/sendsms"]
    gaps = [b.t - a.t for a, b in zip(reqs, reqs[1:])]
    assert all(g >= 0.5 for g in gaps[:2]), "retries without backoff (retry_min 1s): %s" % gaps
    p = reqs[-1].params
    for k, v in (("username", "causeway"), ("password", "sendsmspw"), ("from", ALICE_NUM), ("to", PHONE),
                 ("text", "via the recorder"), ("smsc", "fake")):
        assert p.get(k) == v, "sendsms %s=%r, expected %r: %s" % (k, p.get(k), v, reqs[-1].target)
    mask = int(p.get("dlr-mask", "0"))
    assert mask & 27 == 27, "dlr-mask %d lacks one of 1, 2, 8, 16" % mask
    dlr_url = p.get("dlr-url", "")
    mm = re.fullmatch(r"%s/dlr\?token=%s&m=(\d+)&p=(\d+)&type=%%d"
                      r"&smsc_status=%%A&to=%%p" % (re.escape(base), re.escape(TOKEN)), dlr_url)
    assert mm, "dlr-url not CALLBACK_URL/dlr?token=TOKEN&m=ID&p=PART&type=%%d&smsc_status=%%A&to=%%p: %r" % dlr_url
    # Kannel would fill in the escapes; do it by hand
    q = dlr_url.split("?", 1)[1].replace("%d", "1").replace("%A", "").replace("%p", urllib.parse.quote(PHONE))
    st, body = sms.callback("/dlr", None, raw_query=q)
    assert (st, body) == (200, b""), (st, body)
    wait_receipt(alice, contact(PHONE), mid, m)


def test_24_receipt_only_when_every_part_is_delivered(sms, alice):
    """A two-part message gets its receipt after the DLR 1 of its last part,
    not of the first (DLRs made by hand; fakesmsc stopped)."""
    registered(alice, ALICE_NUM)
    sms.kannel.stop_fakesmsc()
    m = alice.mark()
    mid = send_sms(alice, PHONE, ("two parts " * 20)[:200], receipt=True)

    def submitted():
        rows = sms.db("SELECT message, part, state FROM parts ORDER BY part")
        return rows if rows and all(r[2] == 2 for r in rows) else None
    rows = wait_until(submitted, T, "every part submitted (state 2)")
    assert len(rows) == 2 and len({r[0] for r in rows}) == 1, "expected one message of 2 parts: %s" % rows
    (msg, p0, _), (_, p1, _) = rows
    assert sms.dlr(msg, p0, 1, to=PHONE) == (200, b"")
    early = no_receipt_within(sms, alice, m)
    assert early is None, "after the DLR 1 of the first of two parts: " + early
    assert sms.dlr(msg, p1, 1, to=PHONE) == (200, b"")
    wait_receipt(alice, contact(PHONE), mid, m)
    sms.wait_unfinished(0)
    sms.kannel.start_fakesmsc()


def _sendsms_count(kannel, text):
    path = os.path.join(kannel.dir, "smsbox-access.log")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().count("request: '%s'" % text)
    except OSError:
        return 0


def test_25_resend_unconfirmed(rig, prosody, alice):
    """resend_unconfirmed_after: a part Kannel took (202) but never confirmed
    with DLR 8 is submitted again; a confirmed one is not."""
    sms = SmsSetup(rig, options={"resend_unconfirmed_after": "3s"})
    registered(alice, ALICE_NUM)
    m = sms.kannel.mark()
    send_sms(alice, PHONE, "confirmed")
    sms.kannel.wait_mt(mt_to(PHONE, "confirmed"), T, m)
    sms.wait_unfinished(0)
    sms.kannel.stop_fakesmsc()
    t0 = time.monotonic()
    send_sms(alice, PHONE, "unconfirmed")
    sms.wait_part_state(2)
    wait_until(lambda: _sendsms_count(sms.kannel, "unconfirmed") >= 2, T,
               "a second sendsms of the unconfirmed part")
    assert time.monotonic() - t0 >= 2.5, "resent before resend_unconfirmed_after (3s)"
    assert _sendsms_count(sms.kannel, "confirmed") == 1, "a confirmed part was submitted again"
    m = sms.kannel.mark()
    sms.kannel.start_fakesmsc()
    sms.kannel.wait_mt(mt_to(PHONE, "unconfirmed"), T, m)
    sms.wait_unfinished(0)


def test_26_max_attempts_exhausted(rig, prosody, alice):
    """Kannel unreachable: after max_attempts submissions the message fails
    with recipient-unavailable."""
    sms = SmsSetup(rig, start_kannel=False, options={"max_attempts": "3"})
    registered(alice, ALICE_NUM)
    m = alice.mark()
    mid = send_sms(alice, PHONE, "nobody listens")
    el, (etype, cond, text) = wait_msg_error(alice, mid, m, frm=contact(PHONE))
    assert cond == "recipient-unavailable", xml_str(el)
    sms.wait_unfinished(0)


@pytest.mark.parametrize("stop,start,help_", [("STOPALL", "UNSTOP", "INFO"), ("unsubscribe", "Yes", "info"),
                                              ("CANCEL", "start", "help"), ("End", "START", "HELP"),
                                              (" quit ", "yes", "Info")])
def test_27_opt_out_keywords(sms, alice, stop, start, help_):
    """Every opt-out keyword (STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT), opt-in
    keyword (UNSTOP, YES) and HELP's INFO, in any case, gets its reply."""
    registered(alice, ALICE_NUM)
    for kw, reply in ((stop, STOP_REPLY), (start, START_REPLY), (help_, HELP_REPLY)):
        m = sms.kannel.mark()
        assert sms.mo(PHONE, ALICE_NUM, kw) == (200, b"")
        mt = sms.kannel.wait_mt(mt_to(PHONE), T, m, "reply to %r" % kw)
        assert (mt["sender"], mt["text"]) == (ALICE_NUM, reply), "reply to %r: %s" % (kw, mt)
        if kw == stop:
            ma = alice.mark()
            mid = send_sms(alice, PHONE, "after %s" % kw)
            el, err = wait_msg_error(alice, mid, ma)
            assert err[1] == "forbidden", xml_str(el)


def test_28_mo_from_national_sender(sms, alice):
    """An MO whose sender Kannel gives in national form (015112345678) comes
    from the E.164 contact (+4915112345678@DOMAIN, default_country DE), so a
    reply reaches the same phone."""
    registered(alice, ALICE_NUM)
    m = alice.mark()
    sms.kannel.send_mo("015112345678", ALICE_NUM, "national sender")
    alice.wait_message(frm=contact(PHONE), body="national sender", since=m, timeout=T)


def test_29_late_dlr_of_a_finished_message_touches_no_other(sms, alice):
    """A DLR that comes after its message is finished (here: DLR 1 for a
    message that already failed with DLR 16, as Kannel sends it when the MT
    it still held reaches the phone after all) must not count for a later
    message: no receipt for a message that was never delivered."""
    registered(alice, ALICE_NUM)
    sms.kannel.stop_fakesmsc()
    m = alice.mark()
    mid_a = send_sms(alice, PHONE, "first, rejected")
    a_msg, a_part = sms.wait_part_state(2)
    assert sms.dlr(a_msg, a_part, 16, to=PHONE) == (200, b"")
    wait_msg_error(alice, mid_a, m)
    sms.wait_unfinished(0)
    mid_b = send_sms(alice, PHONE, "second, never delivered", receipt=True)
    b_msg, b_part = sms.wait_part_state(2)
    # the first message's late DLR 1
    assert sms.dlr(a_msg, a_part, 1, to=PHONE) == (200, b"")
    wrong = no_receipt_within(sms, alice, m)
    assert wrong is None, ("a late DLR 1 for message %s (m=%s p=%s, failed and finished) counted for "
                           "message %s (m=%s p=%s, never delivered): %s"
                           % (mid_a, a_msg, a_part, mid_b, b_msg, b_part, wrong))
    sms.kannel.start_fakesmsc()


def _mo_raw(sms, sender, receiver, data, coding, charset):
    """An MO as smsbox sends it after reassembling a concatenated SMS: the
    whole text's bytes URL-encoded, udh empty."""
    q = "&".join(["token=" + TOKEN, "sender=" + urllib.parse.quote(sender, safe=""),
                  "receiver=" + urllib.parse.quote(receiver, safe=""),
                  "text=" + urllib.parse.quote_from_bytes(data, safe=""), "coding=%d" % coding,
                  "charset=" + charset, "id=e2e-long-%d" % coding, "ts=%d" % int(time.time()), "udh="])
    return sms.callback("/mo", None, raw_query=q)


def test_30_500_character_mo_whole(sms, alice):
    """A 500-character MO (what smsbox hands on after bearerbox reassembled
    the parts) reaches the user whole: 7-bit as UTF-8, and UCS-2 as
    UTF-16BE with characters outside the BMP."""
    registered(alice, ALICE_NUM)
    gsm = ("Reply from a phone, quite long indeed: 0123456789. " * 10)[:500]
    ucs = ("长回复🙂Ж" * 100)[:500]
    m = alice.mark()
    assert _mo_raw(sms, PHONE, ALICE_NUM, gsm.encode("utf-8"), 0, "UTF-8") == (200, b"")
    alice.wait_message(frm=contact(PHONE), body=gsm, since=m, timeout=T)
    assert _mo_raw(sms, PHONE, ALICE_NUM, ucs.encode("utf-16-be"), 2, "UTF-16BE") == (200, b"")
    alice.wait_message(frm=contact(PHONE), body=ucs, since=m, timeout=T)


def test_31_failure_while_offline_waits_in_offline_storage(rig, sms):
    """A message that fails while its sender is offline altogether comes as a
    chat message from the contact starting with "⚠ Not delivered", kept by
    the server until she logs in."""
    alice = rig.client("alice")
    registered(alice, ALICE_NUM)
    sms.kannel.stop_fakesmsc()
    send_sms(alice, PHONE, "fails while I am away")
    message, part = sms.wait_part_state(2)
    alice.disconnect()
    assert sms.dlr(message, part, 16, to=PHONE) == (200, b"")
    store = os.path.join(sms.prosody.dir, "data", "localhost", "offline")
    wait_until(lambda: glob.glob(os.path.join(store, "alice.*")), T,
               "the failure notice in alice's offline storage (%s)" % store)
    alice2 = rig.client("alice")
    el = alice2.wait_message(frm=contact(PHONE), timeout=T,
                             pred=lambda e: (body_of(e) or "").startswith("⚠ Not delivered"))
    assert el.get("type") == "chat", xml_str(el)
    sms.kannel.start_fakesmsc()


def test_32_max_attempts_with_kannels_text(rig, prosody, alice):
    """Kannel answering 5xx every time: after max_attempts the message fails
    with recipient-unavailable carrying Kannel's answer."""
    fake = rig.add_service(CallbackRecorder(label="fake-smsbox"))
    fake.status = 503
    fake.body = b"Temporal failure, try again later."
    fake.start()
    sms = SmsSetup(rig, start_kannel=False, options={"kannel_url": fake.url("/cgi-bin/sendsms"),
                                                     "max_attempts": "2"})
    registered(alice, ALICE_NUM)
    m = alice.mark()
    mid = send_sms(alice, PHONE, "busy Kannel")
    el, (etype, cond, text) = wait_msg_error(alice, mid, m, frm=contact(PHONE))
    assert cond == "recipient-unavailable", xml_str(el)
    assert text and "Temporal failure" in text, "Kannel's text missing:\n" + xml_str(el)
    n = len([r for r in fake.received() if r.path == "/cgi-bin/sendsms"])
    assert n == 2, "max_attempts = 2, but %d sendsms requests" % n


def test_33_receipt_after_a_restart(sms, alice):
    """A message submitted before causeway is killed -9 still gets its receipt
    (original id, from the contact) when its DLR 1 comes after the restart:
    the receipt request is kept in the outbox."""
    registered(alice, ALICE_NUM)
    sms.kannel.stop_fakesmsc()
    m = alice.mark()
    mid = send_sms(alice, PHONE, "confirm me after a crash", receipt=True)
    sms.wait_part_state(2)
    sms.kill_causeway()
    sms.start_causeway(connected_count=2)
    mk = sms.kannel.mark()
    sms.kannel.start_fakesmsc()
    sms.kannel.wait_mt(mt_to(PHONE, "confirm me after a crash", ALICE_NUM), T, mk)
    wait_receipt(alice, contact(PHONE), mid, m)
    sms.wait_unfinished(0)
