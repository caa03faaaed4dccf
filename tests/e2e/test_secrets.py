"""Secrets where they belong (issue 14, findings 4 and 10), against a real
Prosody, ngIRCd, and InspIRCd + atheme:

- a MUC password (IRC channel key) and every password-like form value are
  absent from the --debug log, in both directions, while the stanzas around
  them are logged (and the key does reach the IRC server);
- after_connect commands are stored encrypted (the SQLite file's bytes hold
  none of them) yet are shown back to the user and sent on connect;
- the client certificate field takes PEM text, never a file name; an old
  stored file name is ignored with a notice; a certificate the gateway
  generates logs the user in over SASL EXTERNAL once its fingerprint is
  registered with NickServ (CERT ADD).
"""
import os
import re
import sqlite3
import subprocess

import pytest

import harness
from harness import NS, xml_str, error_of, form_fields, field_values
from irc_harness import IrcClient, IrcV3Server, NgIrcd
from test_irc import (IRC_DOMAIN, SERVER_JID, T, adhoc_configure, assert_alive, irc_causeway,
                      join, room, wait_privmsg, _whois)

CHAN_KEY = "Chan-Key-7f3a9e"
SASL_PW = "Sasl-Pw-41c2e8"
NICKSERV_PW = "Ns-Pw-0b77d1"
AFTER_SECRET = "After-Pw-9d0b3c"
AFTER_CONNECT = "PRIVMSG opnick :IDENTIFY %s" % AFTER_SECRET
SECRETS = (CHAN_KEY, SASL_PW, NICKSERV_PW, AFTER_SECRET)


@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


@pytest.fixture
def ircv3(rig):
    return rig.add_service(IrcV3Server(os.path.join(rig.dir, "ircv3"))).start()


def raw_client(rig, port, nick):
    c = IrcClient(port, nick, label="raw-" + nick)
    rig.add_service(c)
    return c.connect(timeout=T)


def start_debug(rig, irc_port):
    """The IRC gateway with --debug: every stanza in and out is logged."""
    cfg = "irc_port = %d\nflood_burst = 0\nhistory = 20\n" % irc_port
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg)
    cw.proc = harness.Proc(cw.argv() + ["--debug"], cw.log_path)
    cw.wait_connected()
    return cw


def register(client, nick="alicenick"):
    """Register with the IRC gateway (Configure server needs a registration)."""
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
            "<value>jabber:iq:register</value></field><field var='nick'><value>%s</value></field></x>"
            % nick)
    r = client.query(IRC_DOMAIN, NS["reg"], "set", form, timeout=T)
    assert r.get("type") == "result", "registration:\n" + xml_str(r)


def execute_form(client, jid):
    """Execute 'configure' on jid: (sessionid, form element)."""
    r = client.iq("<iq type='set' to='%s'><command xmlns='%s' node='configure' action='execute'/></iq>"
                  % (jid, NS["cmd"]), T)
    assert r.get("type") == "result", "configure execute:\n" + xml_str(r)
    cmd = r.find("{%s}command" % NS["cmd"])
    return cmd.get("sessionid"), cmd.find("x:x", NS)


def submit_form(client, jid, values):
    """Execute then submit values; the IQ reply (result or error)."""
    sid, _x = execute_form(client, jid)
    fields = "".join("<field var='%s'><value>%s</value></field>" % (k, harness._xml_escape(v))
                     for k, v in values.items())
    return client.iq("<iq type='set' to='%s'><command xmlns='%s' node='configure' sessionid='%s' "
                     "action='complete'><x xmlns='jabber:x:data' type='submit'>%s</x></command></iq>"
                     % (jid, NS["cmd"], sid, fields), T)


def store_bytes(cw):
    """Every byte of the transport's SQLite files (database, WAL, shared memory)."""
    out = b""
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(cw.data_dir, "irc.db" + suffix)
        if os.path.exists(path):
            with open(path, "rb") as f:
                out += f.read()
    return out


def test_channel_key_and_form_passwords_not_in_debug_log(rig, prosody, ngircd, alice):
    cw = start_debug(rig, ngircd.port)
    op = raw_client(rig, ngircd.port, "opnick")
    op.join("#locked")
    op.send("MODE #locked +k %s" % CHAN_KEY)
    op.wait(command="MODE", pred=lambda l: l.params[1] == "+k")

    register(alice)
    adhoc_configure(alice, SERVER_JID, {"sasl_password": SASL_PW, "nickserv_password": NICKSERV_PW,
                                        "after_connect": AFTER_CONNECT})
    mi = op.mark()
    join(alice, "#locked", "alicenick", password=CHAN_KEY)
    # the key did its job, and after_connect was decrypted and sent
    wait_privmsg(op, "alicenick", "opnick", "IDENTIFY %s" % AFTER_SECRET, since=mi)
    # the user still sees (and can edit) their commands; passwords are not echoed
    _sid, x = execute_form(alice, SERVER_JID)
    fields = form_fields(x)
    assert field_values(fields["after_connect"]) == [AFTER_CONNECT], xml_str(x)
    assert field_values(fields["sasl_password"]) == [], xml_str(x)
    assert_alive(cw)

    # the stanzas are logged both ways, with the secret parts replaced (libstrophe
    # logs what it sent after the write: the reply may reach us first)
    missing = []
    for what, pattern in (
            ("the join presence", r"RECV: <presence[^\n]*<password>\[redacted\]</password>"),
            ("the submitted form", r"RECV: [^\n]*var='nickserv_password'><value>\[redacted\]"),
            ("the echoed form", r"(SENT|QUEUED): [^\n]*var='after_connect'><value>\[redacted\]")):
        try:
            harness.wait_until(lambda: re.search(pattern, cw.log()), 5.0, what)
        except TimeoutError:
            missing.append(what)
    # ... and no secret anywhere in the log, at any level
    log = cw.log()
    for s in SECRETS:
        assert s not in log, "%r is in the causeway log" % s
    assert not missing, "not in the debug log, redacted: %s\n%s" % (missing, harness.tail(cw.log_path, 40))


def test_after_connect_encrypted_at_rest(rig, prosody, ngircd, alice):
    cw = irc_causeway(rig, ngircd.port)
    op = raw_client(rig, ngircd.port, "opnick")
    op.join("#c")
    register(alice)
    adhoc_configure(alice, SERVER_JID, {"after_connect": AFTER_CONNECT, "nickserv_password": NICKSERV_PW})
    mi = op.mark()
    join(alice, "#c", "alicenick")
    wait_privmsg(op, "alicenick", "opnick", "IDENTIFY %s" % AFTER_SECRET, since=mi)
    # while running (WAL) and after a clean stop (checkpointed into the file)
    for when in ("running", "stopped"):
        data = store_bytes(cw)
        assert b"after_connect" in data, "no after_connect row at all (%s)" % when
        for s in (AFTER_SECRET, NICKSERV_PW, "PRIVMSG opnick"):
            assert s.encode() not in data, "%r in the SQLite files in clear (%s)" % (s, when)
        if when == "running":
            cw.stop()
    con = sqlite3.connect(os.path.join(cw.data_dir, "irc.db"))
    try:
        secret, = con.execute("SELECT secret FROM user_values WHERE key = 'after_connect'").fetchone()
    finally:
        con.close()
    assert secret == 1


def test_client_cert_field_takes_pem_never_a_path(rig, prosody, ngircd, alice):
    irc_causeway(rig, ngircd.port)
    register(alice)
    _sid, x = execute_form(alice, SERVER_JID)
    fields = form_fields(x)
    assert "client_cert" not in fields and "client_cert_pem" in fields, xml_str(x)
    assert fields["client_cert_pem"].get("type") == "text-multi", xml_str(x)

    for value, text in (("/var/lib/causeway/certs/bob.pem", "file names are not accepted"),
                        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                         "cannot be read")):
        r = submit_form(alice, SERVER_JID, {"client_cert_pem": value})
        assert r.get("type") == "error", xml_str(r)
        _t, cond, etext = error_of(r)
        assert cond == "not-acceptable" and text in (etext or ""), xml_str(r)


def test_old_client_cert_path_ignored_with_notice(rig, prosody, ngircd, alice):
    cw = irc_causeway(rig, ngircd.port)
    register(alice)
    adhoc_configure(alice, SERVER_JID, {"nick": "alicenick"})
    cw.stop()
    # what an older Causeway stored: a file name on the gateway host
    scope = "server:%s" % SERVER_JID.split("@")[0]
    con = sqlite3.connect(os.path.join(cw.data_dir, "irc.db"))
    with con:
        con.execute("INSERT INTO user_values (user, scope, key, value, secret) VALUES (?, ?, ?, ?, 0)",
                    ("alice@localhost", scope, "client_cert", "/home/bob/bob.pem"))
    con.close()
    cw.start(wait_connected=False)
    cw.wait_connected(2)  # the log holds the first run's line too
    m = alice.mark()
    join(alice, "#c", "alicenick")
    note = alice.wait_message(pred=lambda el: "files are no longer used" in
                              (el.findtext("{jabber:client}body") or ""), since=m)
    assert harness.bare(note.get("from")) == SERVER_JID, xml_str(note)
    cw.stop()
    con = sqlite3.connect(os.path.join(cw.data_dir, "irc.db"))
    try:
        left = con.execute("SELECT count(*) FROM user_values WHERE key = 'client_cert'").fetchone()[0]
    finally:
        con.close()
    assert left == 0


def test_generated_cert_logs_in_with_sasl_external(rig, prosody, ircv3, alice):
    cw = irc_causeway(rig, ircv3.port)
    register(alice)
    adhoc_configure(alice, SERVER_JID, {"port": ircv3.tls_port, "tls": "1",
                                        "tls_fingerprint": ircv3.server_cert_sha256(),
                                        "sasl": "external", "client_cert_pem": "generate"})
    _sid, x = execute_form(alice, SERVER_JID)
    fields = form_fields(x)
    fp = (field_values(fields["client_cert_pem_fingerprint"]) or [""])[0]
    assert re.fullmatch(r"[0-9a-f]{64}", fp), xml_str(x)
    assert field_values(fields["client_cert_pem"]) == [] and "PRIVATE KEY" not in xml_str(x), xml_str(x)
    assert b"PRIVATE KEY" not in store_bytes(cw)

    # the user registers the fingerprint with NickServ, as the form says
    reg = raw_client(rig, ircv3.port, "certowner")
    m = reg.mark()
    reg.privmsg("NickServ", "IDENTIFY %s %s" % (IrcV3Server.ACCOUNT, IrcV3Server.PASSWORD))
    reg.wait(command="NOTICE", pred=lambda l: l.nick == "NickServ" and "identified" in l.params[-1],
             since=m, timeout=T)
    m = reg.mark()
    reg.privmsg("NickServ", "CERT ADD %s" % fp)
    reg.wait(command="NOTICE", pred=lambda l: l.nick == "NickServ" and fp in l.params[-1],
             since=m, timeout=T)

    watcher = raw_client(rig, ircv3.port, "watcher")
    watcher.join("#chan")
    mi = watcher.mark()
    join(alice, "#chan", "alicenick", timeout=15)
    watcher.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", since=mi)
    w = _whois(watcher, "alicenick")
    lines = "\n".join(l.raw for l in w)
    acct = [l for l in w if l.command == "330"]
    assert acct and acct[0].params[2] == IrcV3Server.ACCOUNT, "not logged in by certificate:\n" + lines
    assert fp in lines, "WHOIS does not show the generated certificate's fingerprint:\n" + lines
    assert_alive(cw)


def test_key_file_outside_data_dir(rig, prosody, ngircd, alice):
    keydir = os.path.join(rig.dir, "keys")
    os.makedirs(keydir)
    key = os.path.join(keydir, "causeway.key")
    cfg = "irc_port = %d\nflood_burst = 0\n" % ngircd.port
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg)
    with open(cw.cfg) as f:
        text = f.read()
    with open(cw.cfg, "w") as f:
        f.write(text.replace("[gateway]\n", "[gateway]\nkey_file = %s\n" % key, 1))
    cw.start()
    register(alice)
    adhoc_configure(alice, SERVER_JID, {"after_connect": AFTER_CONNECT})
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert not os.path.exists(os.path.join(cw.data_dir, "causeway.key"))
    cw.stop()
    # the same checks as in data_dir: a key others can read is refused, by name
    os.chmod(key, 0o640)
    r = subprocess.run([cw.bin, "-c", cw.cfg, "--transport", "irc"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1 and key in r.stderr and "chmod 600" in r.stderr, r.stderr
    os.chmod(key, 0o600)
    cw.start(wait_connected=False)
    cw.wait_connected(2)
    # the commands stored under that key are decrypted and sent
    op = raw_client(rig, ngircd.port, "opnick")
    op.join("#c")
    mi = op.mark()
    join(alice, "#c", "alicenick")
    wait_privmsg(op, "alicenick", "opnick", "IDENTIFY %s" % AFTER_SECRET, since=mi)


def test_lost_or_wrong_key_refused_by_name(rig, prosody, ngircd, alice):
    """A key file that is gone while secrets are stored is not silently made
    anew (every password would stop decrypting), and a key that does not
    decrypt them is refused too: one line naming [gateway] key_file, exit 1,
    and the stored secrets untouched. The right key brings everything back."""
    cfg = "irc_port = %d\nflood_burst = 0\n" % ngircd.port
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc", extra=cfg)
    cw.start()
    register(alice)
    adhoc_configure(alice, SERVER_JID, {"after_connect": AFTER_CONNECT})
    cw.stop()
    key = os.path.join(cw.data_dir, "causeway.key")
    db = os.path.join(cw.data_dir, "irc.db")
    saved = key + ".backup"
    os.rename(key, saved)
    with open(db, "rb") as f:
        db_before = f.read()

    def run_gateway():
        return subprocess.run([cw.bin, "-c", cw.cfg, "--transport", "irc"], capture_output=True,
                              text=True, timeout=10)

    r = run_gateway()
    assert r.returncode == 1, r.stderr
    assert "[gateway] key_file" in r.stderr and key in r.stderr and "restore" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not os.path.exists(key), "a new key was made while secrets were stored"

    # another key (e.g. a wrong backup): refused before any secret is used
    subprocess.run(["dd", "if=/dev/urandom", "of=" + key, "bs=32", "count=1", "status=none"],
                   check=True)
    os.chmod(key, 0o600)
    r = run_gateway()
    assert r.returncode == 1, r.stderr
    assert "[gateway] key_file" in r.stderr and "does not match" in r.stderr, r.stderr
    assert "another key file" in r.stderr, r.stderr
    with open(db, "rb") as f:
        assert f.read() == db_before

    # the right key back: the stored command is decrypted and sent
    os.replace(saved, key)
    cw.start(wait_connected=False)
    cw.wait_connected(2)
    op = raw_client(rig, ngircd.port, "opnick")
    op.join("#c")
    mi = op.mark()
    join(alice, "#c", "alicenick")
    wait_privmsg(op, "alicenick", "opnick", "IDENTIFY %s" % AFTER_SECRET, since=mi)
