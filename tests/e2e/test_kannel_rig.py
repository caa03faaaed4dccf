"""Self-tests of the Kannel side of the rig (kannel_harness.py; no causeway).

Real bearerbox + smsbox (Debian package kannel) with a fake SMSC and
fakesmsc (kannel-extras) as the phone network; a CallbackRecorder stands in
for Causeway's HTTP listener (MO and DLR callbacks).

    MT   sendsms GET -> bearerbox -> fakesmsc prints it -> Kannel.wait_mt
    MO   Kannel.send_mo -> fakesmsc -> bearerbox -> smsbox GET -> recorder
    DLR  sendsms with dlr-mask/dlr-url -> smsc_fake's DLRs -> smsbox GET -> recorder

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_kannel_rig.py
"""
import os
import threading
import urllib.parse
import urllib.request

import pytest

from kannel_harness import CallbackRecorder, Kannel

T = 10.0
PHONE = "+4915112345678"
SHORTCODE = "4711"
NON_GSM = "Привет 🙂 串"


@pytest.fixture
def recorder(rig):
    return rig.add_service(CallbackRecorder()).start()


def _kannel(rig, recorder, **kw):
    # added after the recorder: Rig.stop() stops services in reverse order
    k = rig.add_service(Kannel(os.path.join(rig.dir, "kannel"), recorder.mo_url, **kw))
    return k.start()


@pytest.fixture
def kannel(rig, recorder):
    return _kannel(rig, recorder)


# ----------------------------------------------------------------------- MT --

def test_mt_ascii(kannel):
    m = kannel.mark()
    text = "Hello from Causeway:  two  spaces, ~^{}[]|\\ and 100% done"
    q = urllib.parse.urlencode({"username": kannel.username, "password": kannel.password,
                                "from": SHORTCODE, "to": PHONE, "text": text})
    with urllib.request.urlopen(kannel.sendsms_url + "?" + q, timeout=T) as r:
        assert r.status == 202
        assert r.read() == b"0: Accepted for delivery"
    mt = kannel.wait_mt(lambda x: x["receiver"] == PHONE, T, m)
    assert (mt["sender"], mt["type"], mt["coding"], mt["text"]) == (SHORTCODE, "text", 0, text)


def test_mt_bad_credentials(kannel):
    st, body = kannel.sendsms(PHONE, "x", SHORTCODE, {"password": "wrong"})
    assert st == 403 and "Authorization failed" in body, (st, body)


def test_mt_ucs2(kannel):
    m = kannel.mark()
    st, body = kannel.sendsms(PHONE, NON_GSM, SHORTCODE, {"coding": 2, "charset": "UTF-8"})
    assert st == 202, body
    mt = kannel.wait_mt(lambda x: x["receiver"] == PHONE, T, m)
    assert (mt["type"], mt["coding"]) == ("ucs-2", 2)
    assert mt["data"] == NON_GSM.encode("utf-16-be")
    assert mt["text"] == NON_GSM


def test_mt_7bit_non_gsm_is_lost(kannel):
    """Without coding=2 Kannel squeezes the text into the GSM alphabet: what
    Causeway must avoid by choosing UCS-2 itself. GSM letters survive (as UTF-8)."""
    m = kannel.mark()
    assert kannel.sendsms(PHONE, "é£€@ä " + NON_GSM, SHORTCODE)[0] == 202
    mt = kannel.wait_mt(None, T, m)
    assert mt["coding"] == 0 and mt["text"] == "é£€@ä ?????? ???? ?", mt


def test_mt_newline_joined(kannel):
    m = kannel.mark()
    assert kannel.sendsms(PHONE, "line one\nline two", SHORTCODE)[0] == 202
    # the second line comes as a "Got message" line of its own: wait for a
    # later MT before looking at the first one
    assert kannel.sendsms(PHONE, "marker", "999")[0] == 202
    kannel.wait_mt(lambda x: x["sender"] == "999", T, m)
    mts = kannel.received_mts(m)
    assert [x["text"] for x in mts] == ["line one\nline two", "marker"], mts


# ----------------------------------------------------------------------- MO --

def test_mo_ascii(kannel, recorder):
    m = recorder.mark()
    text = "Hi  there, keyword-less text & 100% = ok?"
    kannel.send_mo(PHONE, SHORTCODE, text)
    mo = recorder.wait_mo(lambda x: x["sender"] == PHONE, T, m)
    assert (mo["receiver"], mo["text"], mo["coding"], mo["charset"]) == (SHORTCODE, text, 0, "UTF-8")
    assert mo["smsc"] == "fake" and mo["dcs"] == "00" and mo["udh"] == b""
    assert len(mo["id"]) == 36 and mo["ts"] > 1600000000


def test_mo_utf8_text_line(kannel, recorder):
    """A "text" line carries UTF-8 bytes unchanged (coding 0, charset UTF-8)."""
    m = recorder.mark()
    kannel.send_mo(PHONE, SHORTCODE, NON_GSM)
    mo = recorder.wait_mo(None, T, m)
    assert (mo["text"], mo["coding"], mo["charset"]) == (NON_GSM, 0, "UTF-8")


def test_mo_ucs2(kannel, recorder):
    m = recorder.mark()
    kannel.send_mo(PHONE, SHORTCODE, NON_GSM + " é", ucs2=True)
    kannel.send_mo(PHONE, SHORTCODE, "plain ascii", ucs2=True)
    first = recorder.wait_mo(None, T, m)
    second = recorder.wait_mo(lambda x: x["id"] != first["id"], T, m)
    by_text = {x["text"]: x for x in (first, second)}
    assert set(by_text) == {NON_GSM + " é", "plain ascii"}
    for t, mo in by_text.items():
        assert (mo["sender"], mo["receiver"]) == (PHONE, SHORTCODE)
        assert (mo["coding"], mo["charset"], mo["dcs"]) == (2, "UTF-16BE", "08")
        assert mo["raw_text"] == t.encode("utf-16-be")


def test_mo_ucs2_recoded(rig, recorder):
    """mo-recode = true: smsbox hands UCS-2 MOs on as UTF-8 (coding 0)."""
    kannel = _kannel(rig, recorder, mo_recode=True)
    m = recorder.mark()
    kannel.send_mo(PHONE, SHORTCODE, NON_GSM, ucs2=True)
    mo = recorder.wait_mo(None, T, m)
    assert (mo["text"], mo["coding"], mo["charset"]) == (NON_GSM, 0, "UTF-8")
    assert mo["raw_text"] == NON_GSM.encode("utf-8")


def test_mo_series_none_stuck(kannel, recorder):
    """send_mo waits for each line to be taken: no MO is stuck in fakesmsc."""
    m = recorder.mark()
    texts = ["msg %d" % i for i in range(5)]
    for t in texts:
        kannel.send_mo(PHONE, SHORTCODE, t)
    for t in texts:
        recorder.wait_mo(lambda x, t=t: x["text"] == t, T, m)
    assert sorted(x["text"] for x in recorder.mos(m)) == texts


def test_mo_line_too_long(kannel):
    with pytest.raises(ValueError):
        kannel.send_mo(PHONE, SHORTCODE, "Ж" * 60, ucs2=True)


# ---------------------------------------------------------------------- DLR --

def test_dlr(kannel, recorder):
    m, mm = recorder.mark(), kannel.mark()
    st, body = kannel.sendsms(PHONE, "with receipt", SHORTCODE,
                              {"dlr-mask": 31, "dlr-url": recorder.dlr_url(msg="cw-42")})
    assert st == 202, body
    mt = kannel.wait_mt(None, T, mm)
    assert mt["text"] == "with receipt"
    d8 = recorder.wait_dlr(lambda d: d["type"] == 8, T, m)
    d1 = recorder.wait_dlr(lambda d: d["type"] == 1, T, m)
    for d in (d8, d1):
        assert d["msg"] == "cw-42" and d["smsc"] == "fake"
        # in a DLR %p is the MT's receiver and %P its sender
        assert (d["from"], d["to"]) == (PHONE, SHORTCODE)
    assert d8["answer"] == "ACK/" and d8["fid"] == ""
    assert d1["answer"] == "" and len(d1["fid"]) == 36
    assert sorted(d["type"] for d in recorder.dlrs(m)) == [1, 8]


def test_dlr_mask_success_only(kannel, recorder):
    m = recorder.mark()
    assert kannel.sendsms(PHONE, "only final", SHORTCODE,
                          {"dlr-mask": 1, "dlr-url": recorder.dlr_url(msg="cw-43")})[0] == 202
    d = recorder.wait_dlr(None, T, m)
    assert (d["type"], d["msg"]) == (1, "cw-43")
    # a later MT with its own DLR is the sync point: no type 8 for cw-43 came before it
    assert kannel.sendsms(PHONE, "sync", SHORTCODE,
                          {"dlr-mask": 1, "dlr-url": recorder.dlr_url(msg="sync")})[0] == 202
    recorder.wait_dlr(lambda x: x["msg"] == "sync", T, m)
    assert [x["type"] for x in recorder.dlrs(m) if x["msg"] == "cw-43"] == [1]


# -------------------------------------------------------------------- more --

def test_mt_concatenated(kannel):
    """Long MTs come as parts with a concatenation UDH ("udh ... data ...")."""
    m = kannel.mark()
    assert kannel.sendsms(PHONE, "A" * 200, SHORTCODE)[0] == 202
    parts = kannel.wait_mts(2, None, T, m)
    assert [p["concat"][1:] for p in parts] == [(2, 1), (2, 2)]
    assert b"".join(p["data"] for p in parts) == b"A" * 200
    m = kannel.mark()
    assert kannel.sendsms(PHONE, "Ж" * 100, SHORTCODE, {"coding": 2, "charset": "UTF-8"})[0] == 202
    parts = kannel.wait_mts(2, None, T, m)
    assert b"".join(p["data"] for p in parts).decode("utf-16-be") == "Ж" * 100


def test_mo_while_waiting_for_mt(kannel, recorder):
    """wait_mt's pokes and send_mo's lines share fakesmsc's stdin."""
    m, r = kannel.mark(), recorder.mark()
    got = {}
    th = threading.Thread(target=lambda: got.update(mt=kannel.wait_mt(None, T, m)))
    th.start()
    for i in range(5):
        kannel.send_mo(PHONE, SHORTCODE, "mo %d" % i)
    assert kannel.sendsms(PHONE, "mt while busy", SHORTCODE)[0] == 202
    th.join(T + 2)
    assert got["mt"]["text"] == "mt while busy"
    for i in range(5):
        recorder.wait_mo(lambda x, i=i: x["text"] == "mo %d" % i, T, r)


def test_fakesmsc_reconnect(kannel, recorder):
    """An MT sent while no fakesmsc is connected waits in bearerbox and is
    delivered once it is back (sms-resend-freq = 1)."""
    kannel.fakesmsc.stop()
    st, body = kannel.sendsms(PHONE, "while away", SHORTCODE)
    assert (st, body) == (202, "3: Queued for later delivery"), (st, body)
    m = kannel.mark()
    kannel.start_fakesmsc()
    assert kannel.wait_mt(None, T, m)["text"] == "while away"
    r = recorder.mark()
    kannel.send_mo(PHONE, SHORTCODE, "back again")
    assert recorder.wait_mo(None, T, r)["text"] == "back again"
