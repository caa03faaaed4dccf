"""End-to-end test of `make run`'s sandbox (scripts/sandbox.sh) as a newcomer meets it.

The script runs as a black box on free ports (SANDBOX_C2S, SANDBOX_COMPONENT,
SANDBOX_IRC) with its state in the test's tmp dir (SANDBOX_DIR), with
$CAUSEWAY_BIN. Everything the test uses comes from the banner it prints: the
account and password, the two room JIDs (long and short form), the IRC-side
command, the loopback echo contact and the SMS lines (number to claim, phone JID,
the one-line command that texts from the fake phone) and the libpurple block
(gateway, the registration form's labels and values, the buddy's JID). Checked
with slixmpp clients: the
room joins, the demo IRC user is an occupant, greets and answers; the short
form is the same channel; the loopback echo answers after registering; an SMS
from the fake phone arrives after claiming the number and one to it reaches
fakesmsc; registering with the purple gateway (the form's fields found by
the banner's labels) signs on to legacy.localhost, the buddy is in the roster,
available, and answers; SIGTERM
stops every process the sandbox started (by PID, process group and session); a
second start reuses the state (account, gateway registration).

Run: CAUSEWAY_BIN=$PWD/causeway scripts/run-e2e.sh -k sandbox     (about 25 s)
"""
import os
import re
import signal
import subprocess
import time

import pytest

import harness
from harness import NS, xml_str

SCRIPT = os.path.join(harness.REPO_ROOT, "scripts", "sandbox.sh")
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
BANNER_END = "Ctrl-C stops everything."
T = 15.0


KANNEL_OFFSETS = (0, 1, 13, 20, 100)   # sandbox.sh: admin, smsbox, sendsms, fake SMSC, callbacks


def kannel_base():
    """A SANDBOX_KANNEL base whose five ports are all free."""
    import random
    for _ in range(200):
        base = random.randrange(20000, 60000)
        if not any(harness.port_open(base + o) for o in KANNEL_OFFSETS):
            return base
    raise AssertionError("no free SANDBOX_KANNEL range")


class Sandbox:
    """scripts/sandbox.sh in its own session (process group = its PID)."""

    def __init__(self, state_dir, out_path, ports):
        self.kannel = kannel_base()
        self.dir = state_dir
        self.base_out = out_path
        self.out_path = None
        self.c2s, self.comp, self.irc = ports
        self.proc = None
        self.starts = 0
        self.pids = set()     # every descendant seen while it ran

    def start(self, timeout=60):
        env = dict(os.environ, SANDBOX_DIR=self.dir, SANDBOX_C2S=str(self.c2s),
                   SANDBOX_COMPONENT=str(self.comp), SANDBOX_IRC=str(self.irc),
                   SANDBOX_KANNEL=str(self.kannel),
                   CAUSEWAY_BIN=harness.causeway_bin())
        self.starts += 1
        self.out_path = "%s.%d" % (self.base_out, self.starts)
        self.proc = harness.Proc(["/bin/bash", SCRIPT], self.out_path, env=env)

        def up():
            out = self.output()
            if BANNER_END in out:
                return out
            if not self.proc.alive():
                raise AssertionError("sandbox.sh exited with %s before its banner:\n%s"
                                     % (self.proc.returncode, out))
            return None
        self.banner = harness.wait_until(up, timeout, "the sandbox banner")
        self.collect_pids()
        return self

    def output(self):
        if self.out_path is None:
            return ""
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def collect_pids(self):
        todo = [self.proc.pid]
        while todo:
            p = todo.pop()
            for k in harness.children_of(p):
                if k not in self.pids:
                    self.pids.add(k)
                    todo.append(k)
        return self.pids

    def group_pids(self):
        """Live processes in the sandbox's process group or in a session one
        of its processes leads (it starts each server with setsid): this
        also finds grandchildren whose parent is gone."""
        leaders = self.pids | {self.proc.pid}
        out = []
        for p in harness.all_pids():
            if p == self.proc.pid or not harness.pid_alive(p):
                continue
            try:
                if os.getpgid(p) in leaders or os.getsid(p) in leaders:
                    out.append(p)
            except OSError:
                pass
        return out

    def stop(self):
        """SIGTERM to the script only; it must stop the rest. Returns its status."""
        if self.proc is None:
            return None
        self.collect_pids()
        if self.proc.alive():
            self.proc.signal(signal.SIGTERM)
        try:
            st = self.proc.wait(20)
        finally:
            # never leave anything behind, even when the test failed
            for p in self.pids | set(self.group_pids()):
                harness.terminate_pid(p, 2)
            self.proc.kill()
            self.proc.close()
        return st

    def report(self, n=40):
        parts = ["--- sandbox.sh output\n%s" % self.output()]
        for rel in ("causeway.log", "bot.log", "ngircd/ngircd.log", "prosody/prosody.log"):
            parts.append("--- %s (tail)\n%s" % (rel, harness.tail(os.path.join(self.dir, rel), n)))
        return "\n".join(parts)


def banner_facts(banner):
    m = re.search(r"XMPP account\s+(\S+@\S+)\s+password: (\S+)", banner)
    assert m, "no account line in the banner:\n" + banner
    rooms = re.findall(r"^\s+(#\S+@\S+)", banner, re.M)
    assert len(rooms) == 2, "expected the long and the short room JID in:\n" + banner
    echo = re.search(r"chat with (echo@\S+?),", banner)
    assert echo, "no echo contact in the banner:\n" + banner
    claim = re.search(r"claiming the number (\+\d+)", banner)
    phone_jid = re.search(r"^\s+(\+\d+@\S+)$", banner, re.M)
    phone_cmd = re.search(r"^\s+(echo '.*' > \S+/kannel/phone)$", banner, re.M)
    phones_log = re.search(r"grep 'Got message' (\S+)$", banner, re.M)
    assert claim and phone_jid and phone_cmd and phones_log, "no SMS lines in the banner:\n" + banner
    irc_cmd = re.search(r"^\s+(.*\| nc 127\.0\.0\.1 (\d+))$", banner, re.M)
    assert irc_cmd, "no nc command for the IRC side in the banner:\n" + banner
    pgw = re.search(r"libpurple\s+gateway (\S+) \(prpl-jabber\)", banner)
    pform = re.search(r"Register with it \(form\):\s+(.*?); come online", banner, re.S)
    buddy = re.search(r"^\s+(\S+\\40\S+@\S+)$", banner, re.M)
    assert pgw and pform and buddy, "no libpurple lines in the banner:\n" + banner
    form = {}   # label -> value, e.g. "Connect port" -> "5222"
    for part in re.split(r",\s+|\s+\(leave the rest\)", " ".join(pform.group(1).split())):
        if part.strip():
            lv = re.match(r"(.*?):? (\S+)$", part.strip())
            assert lv, "unreadable form entry %r in the banner" % part
            form[lv.group(1)] = lv.group(2)
    return {"jid": m.group(1), "password": m.group(2), "long": rooms[0], "short": rooms[1],
            "echo": echo.group(1), "irc_port": int(irc_cmd.group(2)),
            "sms_number": claim.group(1), "phone_jid": phone_jid.group(1),
            "phone_cmd": phone_cmd.group(1), "phones_log": phones_log.group(1),
            "purple_gw": pgw.group(1), "purple_form": form, "buddy": buddy.group(1)}


def purple_submit(client, gw, by_label):
    """The registration form of gw filled from {label: value}; returns the
    data form to submit (booleans given as yes/no)."""
    r = client.query(gw, NS["reg"], "get")
    assert r.get("type") == "result", xml_str(r)
    fields = {fl.get("label"): fl for fl in r.findall("reg:query/x:x/x:field", NS) if fl.get("label")}
    out = ["<x xmlns='jabber:x:data' type='submit'>",
           "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"]
    for label, value in by_label.items():
        fl = fields.get(label)
        assert fl is not None, "the banner's %r is no field of %s's form: %s" % (label, gw, sorted(fields))
        if fl.get("type") == "boolean":
            value = {"yes": "1", "no": "0"}[value]
        elif fl.get("type") == "list-single":
            opts = [o.findtext("x:value", "", NS) for o in fl.findall("x:option", NS)]
            assert value in opts, "%s: %r not among %s" % (label, value, opts)
        out.append("<field var='%s'><value>%s</value></field>" % (fl.get("var"), value))
    out.append("</x>")
    return "".join(out)


def occupant_presence(client, room, nick, since, timeout=T, self_presence=False):
    occ = "%s/%s" % (room, nick)

    def p(el):
        if el.tag != "{jabber:client}presence" or el.get("from") != occ:
            return False
        if el.get("type") == "error":
            raise AssertionError("join of %s failed:\n%s" % (room, xml_str(el)))
        codes = {s.get("code") for s in el.findall("{%s}x/{%s}status" % (MUC_USER_NS, MUC_USER_NS))}
        return el.get("type") is None and (not self_presence or "110" in codes)
    return client.wait_stanza(p, timeout, since, "presence of %s" % occ)


def join(client, room, nick):
    m = client.mark()
    client.send_presence(to="%s/%s" % (room, nick), extra="<x xmlns='%s'/>" % MUC_NS)

    def err(el):
        return (el.tag == "{jabber:client}presence" and el.get("type") == "error"
                and harness.bare(el.get("from")) == room)
    try:
        occupant_presence(client, room, nick, m, self_presence=True)
    except TimeoutError:
        bad = client.find_stanzas(err, m)
        raise AssertionError("no self-presence in %s: %s" % (room, xml_str(bad[0]) if bad else "timeout"))
    return m


def groupchat_from(client, room, nick, since, pred, what):
    occ = "%s/%s" % (room, nick)
    return client.wait_stanza(
        lambda el: (el.tag == "{jabber:client}message" and el.get("type") == "groupchat"
                    and el.get("from") == occ and pred(el.findtext("c:body", "", NS))),
        T, since, what)


@pytest.fixture
def sandbox(rig, tmp_path):
    sb = Sandbox(str(tmp_path / "state"), str(tmp_path / "sandbox.out"), harness.free_ports(3))
    rig.add_service(sb)
    return sb


def test_sandbox_banner_room_bot_echo_and_clean_stop(rig, sandbox):
    sandbox.start()
    f = banner_facts(sandbox.banner)
    assert f["jid"] == "demo@localhost" and f["irc_port"] == sandbox.irc
    assert f["long"] == "#causeway%localhost@irc.localhost", f
    assert f["short"] == "#causeway@irc.localhost", f
    assert str(sandbox.c2s) in sandbox.banner
    assert f["purple_gw"] == "purple.localhost", f
    assert f["buddy"] == "buddy\\40legacy.localhost@purple.localhost", f
    assert f["purple_form"].get("Connect port") == str(sandbox.c2s), f

    # the banner's account and the long-form room: the demo IRC user is there,
    # greets the newcomer and answers what they say
    c = harness.Client(f["jid"], f["password"], sandbox.c2s, label="newcomer")
    rig.clients.append(c)
    c.connect()
    m = join(c, f["long"], "newcomer")
    occupant_presence(c, f["long"], "demobot", m)
    groupchat_from(c, f["long"], "demobot", m, lambda b: "Welcome, newcomer" in b, "the bot's welcome")
    m = c.mark()
    c.send_message(f["long"], "hello from XMPP", mtype="groupchat")
    groupchat_from(c, f["long"], "demobot", m,
                   lambda b: b == "newcomer: you said \u201chello from XMPP\u201d", "the bot's answer")

    # the short form is the same channel: a second account sees both
    prosody_cfg = os.path.join(sandbox.dir, "prosody", "prosody.cfg.lua")
    subprocess.run(["prosodyctl", "--config", prosody_cfg, "register", "second", "localhost", "pw2"],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    c2 = harness.Client("second@localhost", "pw2", sandbox.c2s, label="second")
    rig.clients.append(c2)
    c2.connect()
    m2 = join(c2, f["short"], "second")
    occupant_presence(c2, f["short"], "demobot", m2)
    occupant_presence(c2, f["short"], "newcomer", m2)
    m = c.mark()
    c2.send_message(f["short"], "hi all", mtype="groupchat")
    groupchat_from(c, f["long"], "second", m, lambda b: b == "hi all", "second's line in the long form")
    groupchat_from(c2, f["short"], "demobot", m2,
                   lambda b: b == "second: you said \u201chi all\u201d", "the bot's answer to second")

    # the loopback gateway: register (any username/password), come online, echo
    r = c.query("loop.localhost", NS["reg"], "set",
                "<username>demo</username><password>anything</password>")
    assert r.get("type") == "result", xml_str(r)
    # libpurple: register the banner's legacy account (its labels name the
    # form's fields); it signs on when the user comes online, below
    r = c.query(f["purple_gw"], NS["reg"], "set", purple_submit(c, f["purple_gw"], f["purple_form"]))
    assert r.get("type") == "result", xml_str(r)
    c.disconnect()
    c = harness.Client(f["jid"], f["password"], sandbox.c2s, label="newcomer-again")
    rig.clients.append(c)
    c.connect()
    c.send_message(f["echo"], "ping?")
    c.wait_message(frm=f["echo"], body="echo: ping?", timeout=T)

    # the purple gateway signed on to legacy.localhost: the buddy is in the
    # roster, available, and answers
    c.wait_roster_item(f["buddy"], timeout=T)
    c.wait_presence(frm=f["buddy"], ptype="available", bare_from=True, timeout=T)
    m = c.mark()
    c.send_message(f["buddy"], "hello, buddy")
    c.wait_message(frm=f["buddy"], body='buddy: you said "hello, buddy"', since=m, timeout=T)

    # SMS: claim the banner's number, text yourself with the banner's phone
    # command, answer the phone at the banner's JID, see it at fakesmsc
    r = c.query("sms.localhost", NS["reg"], "set", "<phone>%s</phone>" % f["sms_number"])
    assert r.get("type") == "result", xml_str(r)
    m = c.mark()
    subprocess.run(["/bin/bash", "-c", f["phone_cmd"]], check=True, timeout=10)
    c.wait_message(frm=f["phone_jid"], body="Hello from the phone", since=m, timeout=T)
    c.send_message(f["phone_jid"], "hello, phone")

    def phone_got_it():
        try:
            with open(f["phones_log"], errors="replace") as log:
                return "%s %s text hello, phone" % (f["sms_number"], f["phone_jid"].split("@")[0]) \
                    in log.read()
        except OSError:
            return False
    harness.wait_until(phone_got_it, T, "the SMS at fakesmsc (%s)" % f["phones_log"])
    c.disconnect()
    c2.disconnect()

    # SIGTERM stops everything it started
    pids = sandbox.collect_pids()
    cmds = [" ".join(harness.proc_cmdline(p)) for p in pids]
    for what in ("prosody", "ngircd", "sandbox-bot.lua", "causeway.conf --transport irc",
                 "causeway.conf --transport loop", "causeway.conf --transport sms",
                 "causeway.conf --transport purple", "bearerbox",
                 "smsbox", "fakesmsc"):
        assert any(what in cmd for cmd in cmds), "no %s among %s" % (what, cmds)
    st = sandbox.stop()
    assert st in (143, 0), "sandbox.sh exited with %s on SIGTERM:\n%s" % (st, sandbox.output())
    left = [p for p in pids if harness.pid_alive(p)] + sandbox.group_pids()
    assert not left, "left behind: %s" % [(p, harness.proc_cmdline(p)) for p in left]
    for port in (sandbox.c2s, sandbox.comp, sandbox.irc) + tuple(
            sandbox.kannel + o for o in KANNEL_OFFSETS if o != 20):  # never probe the fake SMSC
        assert not harness.port_open(port), "port %d still open" % port

    # a second start reuses the state: the account, the loopback and purple registrations
    sandbox.start()
    assert "reusing %s" % sandbox.dir in sandbox.output()
    c = harness.Client(f["jid"], f["password"], sandbox.c2s, label="second-run")
    rig.clients.append(c)
    c.connect()
    c.send_message(f["echo"], "still there?")
    c.wait_message(frm=f["echo"], body="echo: still there?", timeout=T)
    c.wait_presence(frm=f["buddy"], ptype="available", bare_from=True, timeout=T)
    m = c.mark()
    c.send_message(f["buddy"], "again")
    c.wait_message(frm=f["buddy"], body='buddy: you said "again"', since=m, timeout=T)
    c.disconnect()
    assert sandbox.stop() in (143, 0)


def test_sandbox_busy_port_names_its_variable(rig, sandbox, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", sandbox.irc))
    s.listen(1)
    try:
        with pytest.raises(AssertionError, match="SANDBOX_IRC=%d" % sandbox.irc):
            sandbox.start(timeout=20)
        assert sandbox.proc.wait(5) == 1
    finally:
        s.close()
