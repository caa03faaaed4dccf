"""End-to-end tests of administration: the shell commands
(causeway -c FILE --list-users / --show-user / --delete-user / --stats) on the
live stores of a running Causeway, and the admin ad-hoc commands (List users,
Show user, Delete user, Disconnect a user, Announce to all online users,
Statistics, Reload), each leaving an audit record.

Real Prosody 0.12, real XMPP clients (slixmpp), the real causeway binary
($CAUSEWAY_BIN), the loopback transport (and ngIRCd for the IRC disconnect).

Run: scripts/run-e2e.sh -k test_admin
"""
import os
import re
import socket
import subprocess
import time

import pytest

import harness
from harness import NS, xml_str, form_fields, field_values, unique
from test_core import (GW, ECHO, CMD_NS, assert_result, assert_error, register_and_wait_subscribe,
                       command_nodes, execute)
from test_metrics import parse_journal

ADMIN_NODES = ("admin-list-users", "admin-show-user", "admin-delete-user", "admin-disconnect-user",
               "admin-announce")
ADHOC_ADMIN = "admin@localhost/"   # the fixture's admin, a full JID in the audit records


def cli(cw, *args, env=None, timeout=20):
    """Run `causeway -c CFG ARGS...` against cw's config (its data dir, its
    stores); the service may be running."""
    try:
        return subprocess.run([cw.bin, "-c", cw.cfg] + list(args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout,
                              start_new_session=True, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("causeway %s did not exit within %ss" % (" ".join(args), timeout))


def kv(text):
    """'key: value' lines -> [(key, value)] (blocks joined)."""
    out = []
    for line in text.splitlines():
        if line:
            k, _, v = line.partition(": ")
            out.append((k, v))
    return out


def one(pairs, key):
    vals = [v for k, v in pairs if k == key]
    assert len(vals) == 1, "expected one %r line in %r" % (key, pairs)
    return vals[0]


def submit(fields):
    out = ["<x xmlns='jabber:x:data' type='submit'>"]
    for var, val in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, harness._xml_escape(val)))
    out.append("</x>")
    return "".join(out)


def run_command(client, node, fields, to=GW):
    """execute + complete with fields; returns the completing reply."""
    r = assert_result(execute(client, node), "execute %s" % node)
    cmd = r.find("cmd:command", NS)
    assert cmd.get("status") == "executing" and cmd.get("sessionid"), xml_str(r)
    return execute(client, node, "complete", cmd.get("sessionid"), submit(fields))


def completed(r, what):
    assert_result(r, what)
    cmd = r.find("cmd:command", NS)
    assert cmd is not None and cmd.get("status") == "completed", "%s:\n%s" % (what, xml_str(r))
    return cmd


def note(cmd):
    n = cmd.find("cmd:note", NS)
    return n.text if n is not None else ""


def is_from_gw(ptype):
    return lambda el: (el.tag == "{jabber:client}presence" and el.get("from") == GW
                       and el.get("type", "available") == ptype)


def online_user(rig, name, legacy, pw):
    """A registered user with a session: registered, then logged in afresh
    (its first available presence to the gateway starts the session)."""
    c = rig.client(name)
    register_and_wait_subscribe(c, legacy, pw)
    c.disconnect()
    c = rig.client(name)
    c.wait_presence(frm=ECHO, timeout=10)   # the echo contact is online: the session runs
    return c


# ------------------------------------------------------------------ shell ----

def test_01_shell_reads_a_live_store(rig, causeway, prosody):
    pw_a, pw_b = unique("pwa"), unique("pwb")
    alice = online_user(rig, "alice", "alice-legacy", pw_a)
    bob = rig.client("bob")
    register_and_wait_subscribe(bob, "bob-legacy", pw_b)
    bob.wait_presence(frm=ECHO, timeout=10)   # his session is up, the echo contact stored

    r = cli(causeway, "--list-users")
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert [row[:2] for row in rows] == [["loop", "alice@localhost"], ["loop", "bob@localhost"]], r.stdout
    for row in rows:
        assert len(row) == 5 and row[2].endswith("Z") and row[3].isdigit() and row[4].isdigit(), row
    assert int(rows[0][3]) >= 1, "alice's echo contact not counted: %s" % rows[0]
    assert "admin " in r.stderr and "(shell, uid %d): listed the users of all transports" % os.getuid() \
        in r.stderr, r.stderr
    # one transport by name, as the argument or with --transport
    assert cli(causeway, "--list-users", "loop").stdout == r.stdout
    assert cli(causeway, "--list-users", "--transport", "loop").stdout == r.stdout
    bad = cli(causeway, "--list-users", "nope")
    assert bad.returncode == 1 and "[transport:nope]" in bad.stderr, bad.stderr

    # show: the registration, counts, the password never (not even encrypted)
    r = cli(causeway, "--show-user", "Alice@LocalHost")
    assert r.returncode == 0, r.stderr
    p = kv(r.stdout)
    assert one(p, "transport") == "loop" and one(p, "jid") == "alice@localhost", r.stdout
    fields = [v for k, v in p if k == "field"]
    assert "username=alice-legacy" in fields and "password=(secret)" in fields, r.stdout
    assert int(one(p, "secrets")) == 1 and int(one(p, "contacts")) >= 1, r.stdout
    assert pw_a not in r.stdout + r.stderr
    assert "showed alice@localhost on all transports" in r.stderr, r.stderr
    r = cli(causeway, "--show-user", "nobody@localhost")
    assert r.returncode == 2 and "not registered" in r.stderr, (r.returncode, r.stderr)
    assert "showed nobody@localhost on all transports: not registered" in r.stderr, r.stderr
    r = cli(causeway, "--show-user", "not a jid")
    assert r.returncode == 1 and "not a bare JID" in r.stderr, (r.returncode, r.stderr)
    r = cli(causeway, "--show-user", "alice@localhost/phone")
    assert r.returncode == 1 and "not a bare JID" in r.stderr, (r.returncode, r.stderr)
    r = cli(causeway, "--show-user", "alice@localhost", "--stats")
    assert r.returncode == 1 and "give one of" in r.stderr, r.stderr

    r = cli(causeway, "--stats")
    assert r.returncode == 0, r.stderr
    p = kv(r.stdout)
    assert one(p, "transport") == "loop" and one(p, "type") == "loopback", r.stdout
    assert one(p, "users") == "2" and int(one(p, "contacts")) >= 1, r.stdout
    assert "read the statistics of all transports" in r.stderr, r.stderr

    # the service kept serving while the shell read its store
    body = unique("still")
    alice.send_message(ECHO, body)
    alice.wait_message(frm=ECHO, body="echo: " + body)
    assert causeway.alive()


def test_02_shell_delete_ends_the_running_session(rig, causeway, prosody, tmp_path):
    pw = unique("pw")
    alice = online_user(rig, "alice", "alice-legacy", pw)
    # the audit record also goes to the journal (a real datagram socket here)
    path = str(tmp_path / "journal.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(5)
    m = alice.mark()
    r = cli(causeway, "--delete-user", "alice@localhost", env=dict(os.environ, CAUSEWAY_JOURNAL_SOCKET=path))
    assert r.returncode == 0, r.stderr
    p = kv(r.stdout)
    assert one(p, "deleted") == "alice@localhost" and one(p, "transport") == "loop", r.stdout
    assert int(one(p, "contacts_removed")) >= 1 and one(p, "secrets_removed") == "1", r.stdout
    assert "deleted alice@localhost from transport loop" in r.stderr, r.stderr
    rec = parse_journal(s.recv(1 << 20))
    s.close()
    assert rec["MESSAGE"].startswith("admin ") and "deleted alice@localhost" in rec["MESSAGE"], rec
    assert rec["CAUSEWAY_USER"] == "alice@localhost" and "(shell, uid" in rec["CAUSEWAY_ADMIN"], rec
    assert rec["PRIORITY"] == "5" and "CAUSEWAY_TRANSPORT" not in rec, rec
    assert pw not in repr(rec)

    # the running process notices by itself (PRAGMA data_version, within
    # CW_ADMIN_WATCH_SECONDS) and ends the session as unregistering does
    alice.wait_stanza(is_from_gw("unsubscribed"), timeout=10, since=m, what="unsubscribed from the gateway")
    alice.wait_stanza(is_from_gw("unavailable"), timeout=5, since=m, what="unavailable from the gateway")
    causeway.wait_log("alice@localhost was deleted from the store by another process")
    # and serves her as an unregistered user from then on
    r = alice.query(GW, NS["reg"])
    assert_result(r, "registration form")
    assert r.find("reg:query/reg:registered", NS) is None, "still registered:\n" + xml_str(r)
    again = cli(causeway, "--delete-user", "alice@localhost")
    assert again.returncode == 2 and "not registered" in again.stderr, (again.returncode, again.stderr)
    assert "delete alice@localhost on all transports: not registered" in again.stderr
    assert cli(causeway, "--show-user", "alice@localhost").returncode == 2
    assert cli(causeway, "--list-users").stdout == ""
    # she can register again
    register_and_wait_subscribe(alice, "alice-legacy", unique("pw"))
    assert cli(causeway, "--list-users").stdout.startswith("loop\talice@localhost\t")
    assert causeway.alive()


def test_03_shell_without_a_store_and_with_a_newer_schema(rig, prosody, tmp_path):
    cw = rig.new_causeway()          # never started: no database yet
    r = cli(cw, "--list-users")
    assert r.returncode == 0 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    r = cli(cw, "--stats")
    assert r.returncode == 0 and ("users", "0") in kv(r.stdout), r.stdout
    assert cli(cw, "--show-user", "alice@localhost").returncode == 2
    assert cli(cw, "--delete-user", "alice@localhost").returncode == 2
    # a store written by another version is neither read nor migrated
    cw.start()
    cw.stop()
    db = os.path.join(cw.data_dir, "loop.db")
    subprocess.run(["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                    "c.execute('PRAGMA user_version = 999'); c.commit()", db], check=True)
    for args in (["--list-users"], ["--delete-user", "alice@localhost"]):
        r = cli(cw, *args)
        assert r.returncode == 1 and "schema version 999" in r.stderr, (args, r.returncode, r.stderr)
    out = subprocess.run(["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1])"
                          ".execute('PRAGMA user_version').fetchone()[0])", db],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "999", "the shell changed the schema version to %s" % out


# ----------------------------------------------------------------- ad-hoc ----

def test_04_adhoc_admin_commands_forbidden_to_users(rig, causeway, prosody, admin):
    alice = rig.client("alice")
    register_and_wait_subscribe(alice, "alice-legacy", unique("pw"))
    nodes = command_nodes(alice)
    assert not set(ADMIN_NODES) & set(nodes), sorted(nodes)
    nodes = command_nodes(admin)
    assert set(ADMIN_NODES) | {"stats", "reload"} <= set(nodes), sorted(nodes)
    assert nodes["admin-announce"].get("name") == "Announce to all online users"
    for node in ADMIN_NODES + ("stats", "reload"):
        assert_error(execute(alice, node), "forbidden", what="%s as alice" % node)
        causeway.wait_log("admin alice@localhost/")
        assert "refused %s: not an administrator of loop" % node in causeway.log()
    # a session started by the admin cannot be completed by a user
    r = assert_result(execute(admin, "admin-show-user"))
    sid = r.find("cmd:command", NS).get("sessionid")
    assert_error(execute(alice, "admin-show-user", "complete", sid,
                         submit({"accountjid": "alice@localhost"})), "forbidden")


def test_05_adhoc_list_show_delete(rig, causeway, prosody, admin):
    pw = unique("pw")
    alice = online_user(rig, "alice", "alice-legacy", pw)
    bob = rig.client("bob")
    register_and_wait_subscribe(bob, "bob-legacy", unique("pw"))
    bob.wait_presence(frm=ECHO, timeout=10)   # his session is up

    cmd = completed(execute(admin, "admin-list-users"), "list users")
    f = form_fields(cmd.find("x:x", NS))
    assert field_values(f["registeredusersnum"]) == ["2"], xml_str(cmd)
    assert sorted(field_values(f["registereduserjids"])) == ["alice@localhost", "bob@localhost"]
    # bob's client came online at registration (it answers the subscription with presence)
    assert field_values(f["onlineusersnum"]) == ["2"], xml_str(cmd)
    assert sorted(field_values(f["onlineuserjids"])) == ["alice@localhost", "bob@localhost"]
    causeway.wait_log("listed the users of loop (2 registered, 2 online)")

    cmd = completed(run_command(admin, "admin-show-user", {"accountjid": "alice@localhost"}), "show")
    lines = field_values(form_fields(cmd.find("x:x", NS))["report"])
    assert "jid: alice@localhost" in lines and "field: password=(secret)" in lines, lines
    assert "online: yes" in lines, lines
    assert pw not in xml_str(cmd)
    causeway.wait_log("showed alice@localhost")
    r = run_command(admin, "admin-show-user", {"accountjid": "nobody@localhost"})
    assert_error(r, "item-not-found")
    assert_error(run_command(admin, "admin-show-user", {"accountjid": "no jid"}), "not-acceptable")

    m = bob.mark()
    cmd = completed(run_command(admin, "admin-delete-user", {"accountjid": "bob@localhost"}), "delete")
    assert "deleted: bob@localhost" in note(cmd), xml_str(cmd)
    bob.wait_stanza(is_from_gw("unsubscribed"), since=m, what="bob's unsubscribed")
    causeway.wait_log("deleted bob@localhost from loop")
    assert cli(causeway, "--show-user", "bob@localhost").returncode == 2
    assert_error(run_command(admin, "admin-delete-user", {"accountjid": "bob@localhost"}),
                 "item-not-found")
    causeway.wait_log("delete bob@localhost: not registered")
    # the administrator deleting their own registration (the requester's user object)
    register_and_wait_subscribe(admin, "admin-legacy", unique("pw"))
    completed(run_command(admin, "admin-delete-user", {"accountjid": "admin@localhost"}), "self-delete")
    assert causeway.alive()
    completed(execute(admin, "admin-list-users"), "list after self-delete")


def test_06_adhoc_disconnect_and_announce(rig, causeway, prosody, admin):
    alice = online_user(rig, "alice", "alice-legacy", unique("pw"))
    bob = online_user(rig, "bob", "bob-legacy", unique("pw"))
    text = unique("maintenance at noon")

    ma, mb = alice.mark(), bob.mark()
    cmd = completed(run_command(admin, "admin-announce", {"body": text}), "announce")
    assert "Sent to 2 resources of 2 online users." == note(cmd), xml_str(cmd)
    for c, m in ((alice, ma), (bob, mb)):
        msg = c.wait_message(frm=GW, body=text, since=m)
        assert msg.get("type") == "headline" and msg.get("from") == GW, xml_str(msg)
    causeway.wait_log("announced %d bytes to 2 resources of 2 online users" % len(text))
    assert text not in causeway.log(), "the announcement's text is in the log"
    assert_error(run_command(admin, "admin-announce", {"body": "  "}), "not-acceptable")

    m = alice.mark()
    cmd = completed(run_command(admin, "admin-disconnect-user", {"accountjid": "alice@localhost"}),
                    "disconnect")
    p = alice.wait_stanza(is_from_gw("unavailable"), since=m, what="unavailable from the gateway")
    assert "administrator" in (p.findtext("c:status", None, NS) or ""), xml_str(p)
    alice.wait_presence(frm=ECHO, ptype="unavailable", since=m)
    causeway.wait_log("disconnected alice@localhost")
    # registered still, offline now: the next announce skips her
    cmd = completed(execute(admin, "admin-list-users"), "list")
    f = form_fields(cmd.find("x:x", NS))
    assert field_values(f["registeredusersnum"]) == ["2"] and field_values(f["onlineusersnum"]) == ["1"]
    assert_error(run_command(admin, "admin-disconnect-user", {"accountjid": "alice@localhost"}),
                 "item-not-found")
    # and her next available presence logs her in again
    m = alice.mark()
    alice.send_presence(to=GW)
    alice.wait_presence(frm=ECHO, since=m, timeout=10)
    ma, mb = alice.mark(), bob.mark()
    completed(run_command(admin, "admin-announce", {"body": text + "!"}), "announce again")
    alice.wait_message(frm=GW, body=text + "!", since=ma)
    bob.wait_message(frm=GW, body=text + "!", since=mb)


def test_07_adhoc_stats_and_reload_logged(rig, causeway, prosody, admin):
    completed(execute(admin, "stats"), "stats")
    causeway.wait_log("read the statistics of loop")
    cmd = completed(execute(admin, "reload"), "reload")
    assert "reloaded" in note(cmd), xml_str(cmd)
    causeway.wait_log("reloaded the configuration")
    records = [l for l in causeway.log().splitlines() if " admin admin@localhost/" in l]
    assert len(records) == 2, records


# -------------------------------------------------------------------- IRC ----

def test_08_irc_disconnect_quits_and_leaves_rooms(rig):
    """Disconnect on the IRC transport, whose users need no registration:
    a user in a room only has a session; the disconnect QUITs the IRC
    connection, the room's self-presence says unavailable, and joining
    again connects again."""
    from irc_harness import IrcClient, NgIrcd
    from test_irc import IRC_DOMAIN, join, occupant, is_presence, irc_causeway
    rig.start_prosody(domain=IRC_DOMAIN)
    ngircd = rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()
    cw = irc_causeway(rig, ngircd.port)
    watcher = IrcClient(ngircd.port, "watcher", label="raw-watcher")
    rig.add_service(watcher)
    watcher.connect()
    watcher.join("#chan")
    alice = rig.client("alice")
    bob = rig.client("bob")
    join(alice, "#chan", "alicenick")
    join(bob, "#chan", "bobnick")
    admin_c = rig.client("admin")
    gw = IRC_DOMAIN

    def run(node, fields):
        r = assert_result(admin_c.iq("<iq type='set' to='%s'><command xmlns='%s' node='%s' "
                                     "action='execute'/></iq>" % (gw, CMD_NS, node)))
        sid = r.find("cmd:command", NS).get("sessionid")
        return admin_c.iq("<iq type='set' to='%s'><command xmlns='%s' node='%s' action='complete' "
                          "sessionid='%s'>%s</command></iq>" % (gw, CMD_NS, node, sid, submit(fields)))

    ma, mb = alice.mark(), bob.mark()
    cmd = completed(run("admin-announce", {"body": "irc news"}), "announce on irc")
    # alice and bob in the room (and the admin, with a presence to the gateway)
    assert re.fullmatch(r"Sent to ([23]) resources of \1 online users\.", note(cmd)), xml_str(cmd)
    alice.wait_message(frm=gw, body="irc news", since=ma)
    bob.wait_message(frm=gw, body="irc news", since=mb)

    assert watcher.lusers() == 3   # watcher, alicenick, bobnick
    m, mw = alice.mark(), watcher.mark()
    completed(run("admin-disconnect-user", {"accountjid": "alice@localhost"}), "disconnect on irc")
    p = alice.wait_stanza(lambda el: is_presence(el, occupant("#chan", "alicenick"), "unavailable", (110,)),
                          timeout=10, since=m, what="self-presence unavailable")
    assert "administrator" in (p.findtext("c:status", None, NS) or ""), xml_str(p)
    watcher.wait(command="PART", pred=lambda l: l.nick == "alicenick", since=mw, timeout=10,
                 what="alicenick's PART")
    # and her IRC connection is gone (the QUIT itself is seen by nobody: no channel left)
    harness.wait_until(lambda: watcher.lusers() == 2, 10, "alicenick's connection closed")
    cw.wait_log("admin admin@localhost/")
    assert "disconnected alice@localhost" in cw.log()
    # bob is untouched; alice is not reconnected behind her back
    time.sleep(1)
    assert "alicenick" not in {n.lstrip("~&@%+") for n in watcher.names("#chan")}
    assert "bobnick" in {n.lstrip("~&@%+") for n in watcher.names("#chan")}
    assert_error(run("admin-disconnect-user", {"accountjid": "alice@localhost"}), "item-not-found")
    # joining again connects again
    join(alice, "#chan", "alicenick")
    assert "alicenick" in {n.lstrip("~&@%+") for n in watcher.names("#chan")}
    assert cw.alive()


# -------------------------------------------------------------------- SMS ----

def test_09_sms_shell_commands_on_the_transports_own_store(rig):
    """The SMS transport's own file (NAME-sms.db) in the shell commands:
    number claims and the outbox in --stats and --show-user; --delete-user,
    while the service runs, releases the number (the running transport lets
    somebody else claim it at once) and removes the user's outbox."""
    from sms_rig import SMS_DOMAIN, SmsSetup, register, registered, send_sms, assert_result as ok
    rig.start_prosody(domain=SMS_DOMAIN, offline=True)
    sms = SmsSetup(rig)
    alice_num, bob_num, phone = "+4930123450", "+4930123451", "+4915112345678"
    alice = rig.client("alice")
    bob = rig.client("bob")
    registered(alice, alice_num)
    registered(bob, bob_num)
    sms.kannel.stop_fakesmsc()         # the MT waits for its DLR: one message in the outbox
    send_sms(alice, phone, "queued")
    sms.wait_unfinished(1)

    r = cli(sms.cw, "--stats", "sms")
    assert r.returncode == 0, r.stderr
    p = kv(r.stdout)
    assert one(p, "type") == "sms" and one(p, "users") == "2", r.stdout
    assert one(p, "sms_claims_active") == "2" and one(p, "sms_claims_pending") == "0", r.stdout
    assert one(p, "sms_outbox_depth") == "1", r.stdout
    assert int(one(p, "sms_outbox_oldest_age")) < 60, r.stdout

    r = cli(sms.cw, "--show-user", "alice@localhost")
    assert r.returncode == 0, r.stderr
    p = kv(r.stdout)
    assert one(p, "sms_number") == alice_num and one(p, "sms_number_state") == "active", r.stdout
    assert one(p, "sms_messages") == "1" and int(one(p, "sms_conversations")) >= 1, r.stdout

    m = alice.mark()
    r = cli(sms.cw, "--delete-user", "alice@localhost", "sms")
    assert r.returncode == 0, r.stderr
    p = kv(r.stdout)
    assert one(p, "sms_number_released") == alice_num and one(p, "sms_messages_removed") == "1", r.stdout
    alice.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("from") == SMS_DOMAIN
                      and el.get("type") == "unsubscribed", timeout=10, since=m,
                      what="unsubscribed from the SMS gateway")
    sms.cw.wait_log("alice@localhost was deleted from the store by another process")
    assert sms.unfinished() == 0
    # her number is free for somebody else, in the running process too
    ok(register(bob, alice_num), "bob takes the released number")
    r = kv(cli(sms.cw, "--show-user", "bob@localhost").stdout)
    assert one(r, "sms_number") == alice_num, r
    assert one(kv(cli(sms.cw, "--stats").stdout), "sms_claims_active") == "1"
    sms.kannel.start_fakesmsc()
    assert sms.cw.alive()


# --------------------------------------------------------------- libpurple ----

def test_10_purple_disconnect_logs_out_even_with_stay_connected(rig):
    """Disconnect on the purple transport (prpl-jabber against legacy.test):
    the legacy account signs off although stay_connected is on, the user is
    told, and their next available presence signs it on again."""
    from purple_rig import (PURPLE_DOMAIN, T, carol_values, legacy_client, register_online,
                            start_prosody, start_purple_causeway, wait_legacy_offline,
                            wait_legacy_online)
    start_prosody(rig)
    cw = start_purple_causeway(rig)
    dave = legacy_client(rig, "dave")
    alice = rig.client("alice")
    admin_c = rig.client("admin")
    md = dave.mark()
    register_online(rig, alice, carol_values(rig, stay_connected=True))
    wait_legacy_online(dave, "carol", since=md)

    md, m = dave.mark(), alice.mark()
    r = assert_result(admin_c.iq("<iq type='set' to='%s'><command xmlns='%s' node='admin-disconnect-user' "
                                 "action='execute'/></iq>" % (PURPLE_DOMAIN, CMD_NS)))
    sid = r.find("cmd:command", NS).get("sessionid")
    completed(admin_c.iq("<iq type='set' to='%s'><command xmlns='%s' node='admin-disconnect-user' "
                         "action='complete' sessionid='%s'>%s</command></iq>"
                         % (PURPLE_DOMAIN, CMD_NS, sid, submit({"accountjid": "alice@localhost"}))),
              "disconnect on purple")
    wait_legacy_offline(dave, "carol", since=md, timeout=T)
    alice.wait_stanza(lambda el: el.tag == "{jabber:client}presence" and el.get("from") == PURPLE_DOMAIN
                      and el.get("type") == "unavailable", timeout=T, since=m,
                      what="unavailable from the purple gateway")
    cw.wait_log("disconnected alice@localhost")
    md = dave.mark()
    alice.send_presence()       # her next available presence: a new session
    wait_legacy_online(dave, "carol", since=md, timeout=15)
    assert cw.alive()
