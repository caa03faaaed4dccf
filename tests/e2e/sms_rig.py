"""Shared pieces of the SMS transport's end-to-end tests (test_sms.py,
test_sms_faults.py): one Prosody (with mod_offline), one Kannel (bearerbox +
smsbox + fakesmsc, kannel_harness.py) whose sms-service calls Causeway's
callback listener, and the causeway binary with a `type = sms` transport:

    Kannel sms-service get-url  http://127.0.0.1:LISTEN/mo?token=TOKEN&sender=%p...
    [transport:sms]  kannel_url = http://127.0.0.1:SENDSMS/cgi-bin/sendsms
                     callback_listen = 127.0.0.1:LISTEN, callback_token = TOKEN

Short retry settings (retry_min 1s, retry_max 2s, submit_timeout 5s) keep
the tests fast; SmsSetup(options=...) overrides any key.
"""
import os
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import NS, error_of, form_fields, free_ports, port_open, wait_until, xml_str
from kannel_harness import Kannel

SMS_DOMAIN = "sms.localhost"
TOKEN = "e2e-callback-token-0123456789abcdef"
KANNEL_USER, KANNEL_PASSWORD = "causeway", "sendsmspw"
RECEIPTS_NS = "urn:xmpp:receipts"
ADDRESS_NS = "http://jabber.org/protocol/address"
VCARD_NS = "vcard-temp"
CMD_NS = NS["cmd"]
T = 15.0   # per-event timeout; every wait returns as soon as the event is there

STOP_REPLY = "You are unsubscribed. Text START to resubscribe."
START_REPLY = "You are subscribed again. Text STOP to stop."
HELP_REPLY = "Causeway SMS gateway e2e. Text STOP to stop."


def contact(number):
    return "%s@%s" % (number, SMS_DOMAIN)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


class SmsSetup:
    """Prosody + Kannel + causeway (sms transport) in rig's directory."""

    def __init__(self, rig, ownership="dedicated", approval="auto",
                 numbers="+4930123450-+4930123459, +15550100", options=None,
                 start_kannel=True, start_causeway=True, kannel_password=KANNEL_PASSWORD,
                 http_retry=0, admins="admin@localhost"):
        self.rig = rig
        if rig.prosody is None:
            rig.start_prosody(domain=SMS_DOMAIN, offline=True)
        self.prosody = rig.prosody
        self.listen_port = free_ports(1)[0]
        self.kannel = rig.add_service(Kannel(os.path.join(rig.dir, "kannel"),
                                             "http://127.0.0.1:%d/mo?token=%s" % (self.listen_port, TOKEN),
                                             username=KANNEL_USER, password=KANNEL_PASSWORD,
                                             http_retry=http_retry))
        if start_kannel:
            self.kannel.start()
        opts = {
            "kannel_url": self.kannel.sendsms_url,
            "kannel_username": KANNEL_USER,
            "kannel_password": kannel_password,
            "callback_listen": "127.0.0.1:%d" % self.listen_port,
            "callback_token": TOKEN,
            "ownership": ownership,
            "numbers": numbers,
            "approval": approval,
            "default_country": "DE",
            "submit_timeout": "5s",
            "retry_min": "1s",
            "retry_max": "2s",
            "max_attempts": "30",
            "stop_reply": STOP_REPLY,
            "start_reply": START_REPLY,
            "help_reply": HELP_REPLY,
        }
        opts.update(options or {})
        self.options = opts
        # "@LISTEN@" in a value: the callback listener's port (e.g. callback_url)
        opts = {k: (None if v is None else str(v).replace("@LISTEN@", str(self.listen_port)))
                for k, v in opts.items()}
        self.options = opts
        extra = "".join("%s = %s\n" % (k, v) for k, v in opts.items() if v is not None)
        self.cw = rig.new_causeway(domain=SMS_DOMAIN, ttype="sms", transport="sms", extra=extra,
                                   admins=admins)
        self.db_path = os.path.join(self.cw.data_dir, "sms-sms.db")
        if start_causeway:
            self.start_causeway()

    # ---- causeway -------------------------------------------------------------
    def start_causeway(self, connected_count=1):
        self.cw.start(wait_connected=False)
        self.cw.wait_connected(connected_count, T)
        wait_until(lambda: self._assert_alive() or port_open(self.listen_port), T,
                   "causeway's callback listener on port %d" % self.listen_port)
        return self.cw

    def _assert_alive(self):
        assert self.cw.alive(), "causeway died (status %s):\n%s" % (
            self.cw.proc.returncode, harness.tail(self.cw.log_path, 30))
        return False

    def kill_causeway(self):
        """kill -9, as a crash would."""
        self.cw.proc.kill()
        self.cw.proc.close()

    # ---- the outbox (DATA_DIR/sms-sms.db) -----------------------------------------
    def db(self, sql, args=()):
        """Rows of a read-only query on the transport's SQLite file."""
        if not os.path.exists(self.db_path):
            return None
        con = sqlite3.connect(self.db_path, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def unfinished(self):
        """SELECT count(*) FROM messages: messages not yet finished."""
        r = self.db("SELECT count(*) FROM messages")
        return None if r is None else r[0][0]

    def wait_unfinished(self, n, timeout=T):
        got = []

        def check():
            self._assert_alive()
            got[:] = [self.unfinished()]
            return got[0] == n
        try:
            wait_until(check, timeout, "SELECT count(*) FROM messages = %d" % n, interval=0.1)
        except TimeoutError as e:
            raise AssertionError("%s (last count %s); parts:\n%s" % (e, got, self.db(
                "SELECT message, part, state FROM parts ORDER BY message, part LIMIT 40")))

    def wait_part_state(self, state, timeout=T):
        """(message, part) of the first part in `state`."""
        def check():
            self._assert_alive()
            rows = self.db("SELECT message, part FROM parts WHERE state = ? ORDER BY message, part", (state,))
            return rows[0] if rows else None
        try:
            return wait_until(check, timeout, "a part in state %d" % state, interval=0.1)
        except TimeoutError as e:
            raise AssertionError("%s; parts:\n%s" % (e, self.db("SELECT message, part, state FROM parts")))

    # ---- the callback listener, called by hand ---------------------------------
    def callback(self, path, params, raw_query=None, timeout=T):
        """GET http://127.0.0.1:LISTEN/path?params -> (status, body bytes)."""
        q = raw_query if raw_query is not None else urllib.parse.urlencode(params)
        url = "http://127.0.0.1:%d%s?%s" % (self.listen_port, path, q)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def mo(self, sender, receiver, text, token=TOKEN):
        """An MO the way Kannel's sms-service would call it (UTF-8, coding 0)."""
        p = {"sender": sender, "receiver": receiver, "text": text, "coding": "0",
             "charset": "UTF-8", "id": "e2e-%d" % time.monotonic_ns(), "ts": str(int(time.time())),
             "udh": ""}
        if token is not None:
            p = dict([("token", token)] + list(p.items()))
        return self.callback("/mo", p)

    def dlr(self, message, part, dlr_type, smsc_status="", to="", token=TOKEN):
        p = {"token": token, "m": str(message), "p": str(part), "type": str(dlr_type),
             "smsc_status": smsc_status, "to": to}
        return self.callback("/dlr", p)

    def report(self):
        return self.kannel.report()


# ---------------------------------------------------------------- XMPP helpers --

def submit_form(fields, ftype="jabber:iq:register"):
    out = ["<x xmlns='jabber:x:data' type='submit'>"]
    if ftype:
        out.append("<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % ftype)
    for var, val in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, esc(val)))
    out.append("</x>")
    return "".join(out)


def register(client, number=None, fields=None):
    """XEP-0077 with a data form: field `number`. Returns the reply iq."""
    f = dict(fields or {})
    if number is not None:
        f["number"] = number
    return client.query(SMS_DOMAIN, NS["reg"], "set", submit_form(f), timeout=T)


def assert_result(r, what=""):
    assert r.get("type") == "result", "%s: expected result, got:\n%s" % (what, xml_str(r))
    return r


def assert_error(r, condition, what=""):
    assert r.get("type") == "error", "%s: expected error %s, got:\n%s" % (what, condition, xml_str(r))
    e = error_of(r)
    assert e is not None and e[1] == condition, "%s: expected %s, got %s:\n%s" % (
        what, condition, e and e[1], xml_str(r))
    return e


def registered(client, number):
    assert_result(register(client, number), "registration of %s with %s" % (client.jid, number))


def send_sms(client, number, body, receipt=False, mid=None):
    extra = "<request xmlns='%s'/>" % RECEIPTS_NS if receipt else ""
    return client.send_message(contact(number) if "@" not in number else number, body,
                               extra=extra, mid=mid)


def wait_msg_error(client, mid, since=0, timeout=T, frm=None):
    """The <message type='error' id=mid/> for one of our messages: (element, (type, cond, text))."""
    el = client.wait_stanza(lambda el: (el.tag == "{jabber:client}message" and el.get("type") == "error"
                                        and el.get("id") == mid), timeout, since,
                            "message error for id=%s" % mid)
    if frm is not None:
        assert harness.bare(el.get("from")) == frm, "error from %s, expected %s:\n%s" % (
            el.get("from"), frm, xml_str(el))
    return el, error_of(el)


def wait_receipt(client, frm, mid, since=0, timeout=T):
    def p(el):
        r = el.find("{%s}received" % RECEIPTS_NS)
        return (el.tag == "{jabber:client}message" and harness.bare(el.get("from")) == frm
                and r is not None and r.get("id") == mid)
    return client.wait_stanza(p, timeout, since, "receipt for %s from %s" % (mid, frm))


def body_of(el):
    return el.findtext("c:body", None, NS)


def run_command(client, node, values=None, to=SMS_DOMAIN, timeout=T):
    """XEP-0050: execute node, then (if it answers with a form) submit values
    with action complete. Returns (first reply, final reply)."""
    r = client.iq("<iq type='set' to='%s'><command xmlns='%s' node='%s' action='execute'/></iq>"
                  % (to, CMD_NS, node), timeout)
    if r.get("type") != "result":
        return r, r
    cmd = r.find("{%s}command" % CMD_NS)
    if cmd is None or cmd.get("status") == "completed" or values is None:
        return r, r
    x = cmd.find("x:x", NS)
    assert x is not None, "%s: no form:\n%s" % (node, xml_str(r))
    missing = set(values) - set(form_fields(x))
    assert not missing, "%s form lacks %s:\n%s" % (node, sorted(missing), xml_str(x))
    fields = "".join("<field var='%s'><value>%s</value></field>" % (k, esc(str(v))) for k, v in values.items())
    r2 = client.iq("<iq type='set' to='%s'><command xmlns='%s' node='%s' sessionid='%s' action='complete'>"
                   "<x xmlns='jabber:x:data' type='submit'>%s</x></command></iq>"
                   % (to, CMD_NS, node, cmd.get("sessionid"), fields), timeout)
    return r, r2


def assert_completed(r, what):
    assert r.get("type") == "result", "%s: expected result, got:\n%s" % (what, xml_str(r))
    cmd = r.find("{%s}command" % CMD_NS)
    assert cmd is not None and cmd.get("status") == "completed", "%s: not completed:\n%s" % (what, xml_str(r))
    return cmd


# ------------------------------------------------------------ Kannel helpers --

def mt_to(receiver, text=None, sender=None):
    """Predicate for Kannel.wait_mt: an MT to receiver (with exactly text/sender)."""
    def p(mt):
        return (mt["receiver"] == receiver and (text is None or mt["text"] == text)
                and (sender is None or mt["sender"] == sender))
    return p


def wait_long_mt(kannel, receiver, since, encoding, timeout=T):
    """Wait for a complete concatenated MT to receiver (parts with a
    concatenation UDH, all of one reference); return (text, parts). A long
    text that comes as separate SMS without a UDH fails at once: the phone
    would show it as several messages."""
    found = {}

    def check():
        kannel._poke()
        mts = [m for m in kannel.received_mts(since) if m["receiver"] == receiver]
        plain = [m for m in mts if m["concat"] is None]
        assert not plain, "parts of a long MT without a concatenation UDH (shown as separate SMS):\n%s" % (
            "\n".join(harness._clip(repr(m["raw"]), 200) for m in mts))
        groups = {}
        for m in mts:
            groups.setdefault((m["concat"][0], m["concat"][1]), []).append(m)
        for (ref, total), parts in groups.items():
            seqs = sorted(p["concat"][2] for p in parts)
            if seqs == list(range(1, total + 1)):
                parts.sort(key=lambda p: p["concat"][2])
                found["v"] = (b"".join(p["data"] for p in parts).decode(encoding, "surrogatepass"), parts)
                return True
        return False
    try:
        wait_until(check, timeout, "a complete concatenated MT to %s" % receiver, interval=0.1)
    except TimeoutError as e:
        raise AssertionError("%s; MTs seen:\n%s" % (e, "\n".join(
            harness._clip(repr(m["raw"]), 200) for m in kannel.received_mts(since))))
    return found["v"]
