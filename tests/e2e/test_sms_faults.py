"""The SMS transport's long fault test: bearerbox killed -9 in the middle of
a burst of 500 MTs (each text unique, "burst 0001".."burst 0500") and
restarted. Every message must be delivered; duplicates (what bearerbox had
taken or written out again from its store) at most max_in_flight, the
number of sendsms requests in flight at the kill.

The same with causeway killed -9 instead of bearerbox (the burst held back
by a stopped smsbox until all 500 are in the outbox, so the kill lands in it).

Causeway has resend_unconfirmed_after = 10s in the bearerbox test: parts Kannel accepted
(202) but lost with bearerbox before the SMSC took them (no DLR 8) are
submitted again.

Run: /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/e2e/test_sms_faults.py
(-s shows the FIGURE lines with the duplicate counts; about 10 s)
"""
import collections
import re

import pytest

import harness
from harness import wait_until
from sms_rig import SMS_DOMAIN, SmsSetup, registered, send_sms

ALICE_NUM = "+4930123450"
PHONE = "+4915112345678"
N = 500
MAX_IN_FLIGHT = 8
KILL_AFTER = 100       # MTs seen at fakesmsc before bearerbox is killed


@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=SMS_DOMAIN, offline=True)


def burst_delivered(sms, wanted, seen):
    """Wait until every text of the burst reached fakesmsc and the outbox is
    empty; return what arrived, its Counter and the number of duplicates."""
    def all_there():
        sms.kannel._poke()
        return wanted <= set(seen())
    try:
        wait_until(all_there, 180, "all %d burst texts at fakesmsc" % len(wanted), interval=0.2)
    except TimeoutError as e:
        missing = sorted(wanted - set(seen()))
        raise AssertionError("%s: %d missing (first: %s); outbox unfinished: %s" % (
            e, len(missing), missing[:10], sms.unfinished()))
    sms.wait_unfinished(0, 60)
    got = seen()
    counts = collections.Counter(got)
    return got, counts, sum(c - 1 for c in counts.values() if c > 1)


def test_bearerbox_killed_mid_burst(rig, prosody, alice):
    """500 MTs, bearerbox kill -9 after ~100 reached the phone, bearerbox
    (and the smsbox it leaves hanging, and fakesmsc) restarted: all 500
    arrive, duplicates <= max_in_flight."""
    sms = SmsSetup(rig, options={"max_in_flight": str(MAX_IN_FLIGHT),
                                 "resend_unconfirmed_after": "10s"})
    registered(alice, ALICE_NUM)
    texts = ["burst %04d" % i for i in range(1, N + 1)]
    wanted = set(texts)
    m = sms.kannel.mark()
    for t in texts:
        send_sms(alice, PHONE, t)

    def seen():
        return [mt["text"] for mt in sms.kannel.received_mts(m) if mt["receiver"] == PHONE]
    wait_until(lambda: sms.kannel._poke() or len(seen()) >= KILL_AFTER, 60,
               "%d MTs at fakesmsc before the kill" % KILL_AFTER, interval=0.02)
    sms.kannel.kill_bearerbox()
    at_kill = len(seen())
    assert at_kill < N, "the kill came after the burst (%d MTs already there): no fault tested" % at_kill
    unfinished_at_kill = sms.unfinished()
    sms.kannel.restart_after_bearerbox_crash()

    got, counts, dups = burst_delivered(sms, wanted, seen)
    harness.record_figure("sms burst of %d, bearerbox kill -9 after %d MTs (outbox had %s unfinished): "
                          "%d duplicates (max_in_flight %d; smsbox restarts after a startup PANIC: %d)"
                          % (N, at_kill, unfinished_at_kill, dups, MAX_IN_FLIGHT, sms.kannel.smsbox_panics))
    assert set(got) == wanted, "unexpected texts: %s" % sorted(set(got) - wanted)[:10]
    assert dups <= MAX_IN_FLIGHT, "%d duplicates > max_in_flight %d: %s" % (
        dups, MAX_IN_FLIGHT, sorted(t for t, c in counts.items() if c > 1))


def test_causeway_killed_mid_burst(rig, prosody, alice):
    """The same burst with causeway killed -9 instead (after ~100 MTs) and
    restarted: every message is delivered and the outbox drains; duplicates
    at most max_in_flight (parts that were being submitted at the kill) plus
    the parts Causeway resent because Kannel never confirmed them (a DLR
    callback smsbox gave up on while causeway was down: resend_unconfirmed_after)."""
    # The DLRs Kannel makes while causeway is down are lost unless smsbox
    # retries them (as conf/kannel.conf does): 5 tries, 1 s apart; one lost
    # anyway is made good by the resend after 10 s.
    sms = SmsSetup(rig, options={"max_in_flight": str(MAX_IN_FLIGHT),
                                 "resend_unconfirmed_after": "10s"}, http_retry=5)
    registered(alice, ALICE_NUM)
    texts = ["burst %04d" % i for i in range(1, N + 1)]
    wanted = set(texts)
    m = sms.kannel.mark()
    # every message must be in the outbox before the kill (a stanza on its way
    # to a killed component is lost by the XMPP server, not by causeway): the
    # burst waits behind a stopped smsbox until all 500 are stored
    sms.kannel.stop_smsbox()
    for t in texts:
        send_sms(alice, PHONE, t)
    sms.wait_unfinished(N, 60)
    sms.kannel.start_smsbox()

    def seen():
        return [mt["text"] for mt in sms.kannel.received_mts(m) if mt["receiver"] == PHONE]
    wait_until(lambda: sms.kannel._poke() or len(seen()) >= KILL_AFTER, 60,
               "%d MTs at fakesmsc before the kill" % KILL_AFTER, interval=0.02)
    sms.kill_causeway()
    at_kill = len(seen())
    assert at_kill < N, "the kill came after the burst (%d MTs already there): no fault tested" % at_kill
    sms.start_causeway(connected_count=2)

    got, counts, dups = burst_delivered(sms, wanted, seen)
    resent = sum(int(n) for n in re.findall(r"resending (\d+) SMS parts", sms.cw.log()))
    harness.record_figure("sms burst of %d, causeway kill -9 after %d MTs: %d duplicates (max_in_flight %d, "
                          "%d parts resent without a DLR)" % (N, at_kill, dups, MAX_IN_FLIGHT, resent))
    assert set(got) == wanted, "unexpected texts: %s" % sorted(set(got) - wanted)[:10]
    assert dups <= MAX_IN_FLIGHT + resent, "%d duplicates > max_in_flight %d + %d resent: %s" % (
        dups, MAX_IN_FLIGHT, resent, sorted(t for t, c in counts.items() if c > 1))
