"""Hostile callers of the SMS transport's HTTP listener, end to end.

Kannel's callbacks are the SMS network's way in: whoever can reach the
listener can send anything. These tests throw random and malformed requests
at a running Causeway (with a real Prosody and a registered user, and no
Kannel: kannel_url points at a closed port) and check that it stays up, that
nothing without the token has any effect, that random MO texts in every
charset reach the user as valid XMPP (the client's stream survives), and that
a good MO still arrives afterwards.

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_sms_hostile.py
"""
import http.client
import random
import urllib.parse

import harness
from harness import free_ports

TOKEN = "hostile0123456789abcdef"
DOMAIN = "sms.localhost"
OWN = "+4930123451"
PHONE = "+15551234567"
CHARSETS = ["UTF-8", "UTF-16BE", "ISO-8859-1", "WINDOWS-1252", "binary", "", "EBCDIC", "utf-16be",
            "UTF-8\x00", "%s" * 20]


def start(rig):
    rig.start_prosody(domain=DOMAIN)
    cb_port, dead_port = free_ports(2)
    extra = ("kannel_url = http://127.0.0.1:%d/cgi-bin/sendsms\nkannel_username = u\n"
             "kannel_password = p\ncallback_listen = 127.0.0.1:%d\ncallback_token = %s\n"
             "numbers = +4930123450-+4930123459\n" % (dead_port, cb_port, TOKEN))
    cw = rig.start_causeway(transport="sms", ttype="sms", domain=DOMAIN, extra=extra)
    alice = rig.client("alice")
    r = alice.iq("<iq type='set' to='%s'><query xmlns='jabber:iq:register'><phone>%s</phone>"
                 "</query></iq>" % (DOMAIN, OWN))
    assert r.get("type") == "result", harness.xml_str(r)
    return cw, alice, cb_port


def request(port, method, target, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def random_bytes(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


def mo_query(rng, token=TOKEN):
    text = random_bytes(rng, rng.randrange(0, 300))
    charset = rng.choice(CHARSETS)
    params = [("token", token), ("sender", rng.choice([PHONE, "0049151", "MyBank", "", "+" * 40,
                                                          random_bytes(rng, 12)])),
              ("receiver", rng.choice([OWN, "+4930123459", "+1", random_bytes(rng, 8)])),
              ("text", text), ("charset", charset),
              ("coding", rng.choice(["0", "1", "2", "9", "-1", ""])),
              ("ts", rng.choice(["0", "1700000000", "-5", "99999999999999999999", "x"]))]
    rng.shuffle(params)
    if rng.random() < 0.1:
        params.append(("text", b"dup"))
    return urllib.parse.urlencode([(k, v) for k, v in params])


def dlr_query(rng, token=TOKEN):
    params = [("token", token),
              ("m", rng.choice(["1", "0", "-1", "9" * 30, "abc", str(rng.randrange(1 << 62))])),
              ("p", rng.choice(["0", "1", "255", "256", "-1", ""])),
              ("type", rng.choice(["1", "2", "4", "8", "16", "3", "32", ""])),
              ("smsc_status", random_bytes(rng, rng.randrange(0, 50)))]
    return urllib.parse.urlencode(params)


def raw_garbage(rng):
    alphabet = "%&=+;?#\x00\x01\r\n /\\\"'<>" + "abcz019"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))


def test_random_callbacks_keep_it_up_and_deliver_valid_xml(rig):
    """2,000 random MO, DLR and garbage requests: every answer is an HTTP
    status, never a crash; the client's XML stream survives whatever texts
    reach it; a good MO afterwards arrives exactly."""
    cw, alice, port = start(rig)
    rng = random.Random(20261204)
    statuses = {}
    for i in range(2000):
        kind = rng.random()
        if kind < 0.45:
            target = "/mo?" + mo_query(rng)
        elif kind < 0.75:
            target = "/dlr?" + dlr_query(rng)
        else:
            target = rng.choice(["/mo?", "/dlr?", "/", "/mo/x?", "//mo?"]) + \
                urllib.parse.quote(raw_garbage(rng), safe="%&=+;?")
        method = rng.choice(["GET"] * 8 + ["POST", "PUT", "HEAD"])
        status, _ = request(port, method, target)
        statuses[status] = statuses.get(status, 0) + 1
        if i % 500 == 0:
            assert cw.alive(), harness.tail(cw.log_path, 30)
    print("statuses:", sorted(statuses.items()))
    assert set(statuses) <= {200, 400, 403, 404, 405, 413, 415}, statuses
    assert statuses.get(200, 0) > 20, statuses   # some random MOs did get through
    assert cw.alive(), harness.tail(cw.log_path, 30)
    # Random bytes that do convert (Latin-1 always does): every one is taken
    # and reaches the user, control characters and all made XML-safe.
    mark = alice.mark()
    for i in range(300):
        q = urllib.parse.urlencode({"token": TOKEN, "sender": PHONE, "receiver": OWN,
                                    "text": random_bytes(rng, rng.randrange(1, 200)),
                                    "charset": "ISO-8859-1", "coding": "0"})
        assert request(port, "GET", "/mo?" + q) == (200, b"")
    frm = PHONE + "@" + DOMAIN
    harness.wait_until(lambda: len(alice.find_stanzas(
        lambda el: el.get("from") == frm and el.find("{jabber:client}body") is not None,
        since=mark)) >= 300, 20, "300 random-text MOs at the client")
    assert alice.is_connected(), "the client's stream broke on what the gateway sent"
    mark = alice.mark()
    q = urllib.parse.urlencode({"token": TOKEN, "sender": PHONE, "receiver": OWN,
                                "text": "still here <&> \U0001F600", "charset": "UTF-8",
                                "coding": "0"})
    assert request(port, "GET", "/mo?" + q) == (200, b"")
    alice.wait_message(frm=PHONE + "@" + DOMAIN, body="still here <&> \U0001F600", since=mark,
                       timeout=10)


def test_without_token_nothing_happens(rig):
    """Requests without the token, with a wrong one or with it twice are
    refused with 403 (or 400 for a query that cannot be read) and deliver
    nothing."""
    cw, alice, port = start(rig)
    mark = alice.mark()
    good = {"sender": PHONE, "receiver": OWN, "text": "must not arrive", "charset": "UTF-8"}
    for token in (None, "", "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        q = dict(good)
        if token is not None:
            q["token"] = token
        status, body = request(port, "GET", "/mo?" + urllib.parse.urlencode(q))
        assert status == 403, (token, status, body)
        status, _ = request(port, "GET", "/dlr?" + urllib.parse.urlencode(
            {"token": token or "", "m": "1", "p": "0", "type": "1"}))
        assert status == 403
    status, _ = request(port, "GET", "/mo?token=%s&token=%s&" % (TOKEN, TOKEN) +
                        urllib.parse.urlencode(good))
    assert status == 400
    assert alice.find_stanzas(lambda el: el.findtext("{jabber:client}body") == "must not arrive",
                              since=mark) == []
    assert cw.alive()
