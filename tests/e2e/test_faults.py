"""Fault injection: what Causeway does when the things around it break.

Real Prosody 0.12, real ngIRCd, real XMPP clients (slixmpp), raw IRC clients
and the real causeway binary ($CAUSEWAY_BIN) with the IRC transport
(domain irc.localhost, rooms #chan%127.0.0.1@irc.localhost). Each test kills
or blocks one thing and checks that the gateway survives, tells the user, and
works again afterwards. Each prints what it measured as a "FIGURE:" line
(shown with -s; also appended to $CAUSEWAY_FIGURES, default
tests/e2e/.run/figures.txt).

  1 Prosody killed -9 mid-traffic and restarted
  2 ngIRCd killed and restarted while a user is in a channel
  3 supervisor mode: the irc child killed -9, restarted, users probed, and
    the user put back into her room by the gateway (her self-ping succeeds)
  4 the SQLite database locked by another process during a registration
  5 the data directory's file system full during a registration
    (a tiny tmpfs: needs root and mount(2); skipped where mounting is refused)
  6 Prosody frozen (SIGSTOP) while the IRC channel talks: nothing is lost,
    everything arrives in order once it reads again (SIGCONT)

Run: scripts/run-e2e.sh -k test_faults -s      (about a minute)
"""
import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

import harness
from harness import NS, error_of, record_figure, xml_str
from irc_harness import (IrcClient, IrcGatewayAddr, NgIrcd, irc_causeway_extra, muc_join, muc_status_codes,
                         muc_send, muc_wait, wait_privmsg)

IRC_DOMAIN = "irc.localhost"
SERVER = "127.0.0.1"
A = IrcGatewayAddr(IRC_DOMAIN, SERVER)
T = 10.0
PING = "<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
BUSY_TIMEOUT = 5.0   # gateway/store.c STORE_BUSY_TIMEOUT_MS


# ----------------------------------------------------------------- fixtures --

@pytest.fixture
def prosody(rig):
    """Prosody with the IRC gateway's component domain (overrides conftest's)."""
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


def new_irc_causeway(rig, irc_port, **kw):
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                            extra=irc_causeway_extra(irc_port), **kw)


@pytest.fixture
def causeway(rig, prosody, ngircd):
    return new_irc_causeway(rig, ngircd.port).start()


@pytest.fixture
def raw(rig, ngircd):
    """raw(nick) -> a connected IrcClient on the ngIRCd (stopped at teardown)."""
    def make(nick, **kw):
        c = IrcClient(ngircd.port, nick, label="raw-" + nick)
        rig.add_service(c)
        return c.connect(**kw)
    return make


# ------------------------------------------------------------------ helpers --

def register_form(**fields):
    out = ["<x xmlns='jabber:x:data' type='submit'>"
           "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"]
    for k, v in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (k, harness._xml_escape(v)))
    out.append("</x>")
    return "".join(out)


def register(client, timeout=T, **fields):
    return client.query(IRC_DOMAIN, NS["reg"], "set", register_form(**fields), timeout=timeout)


def assert_alive(cw):
    assert cw.alive(), "causeway died (status %s):\n%s" % (cw.proc.returncode,
                                                           harness.tail(cw.log_path, 30))


def db_check(path):
    """(integrity_check result, table names) of a SQLite file, read by another process."""
    con = sqlite3.connect(path, timeout=10)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return ok, tables
    finally:
        con.close()


def is_body(prefix):
    return lambda el: (el.get("type") == "groupchat"
                       and (el.findtext("c:body", "", NS) or "").startswith(prefix))


def both_ways(client, op, chan, nick, tag):
    """One message each way between the XMPP user (as nick) and the raw client op."""
    mi = op.mark()
    muc_send(client, A, chan, "xmpp->irc " + tag)
    wait_privmsg(op, nick, chan, "xmpp->irc " + tag, since=mi, timeout=T)
    m = client.mark()
    op.privmsg(chan, "irc->xmpp " + tag)
    muc_wait(client, A, chan, op.nick, "irc->xmpp " + tag, since=m, timeout=T)


class Traffic:
    """Messages both ways every 50 ms in a background thread until stop()."""

    def __init__(self, client, op, chan):
        self.client, self.op, self.chan = client, op, chan
        self.halt = threading.Event()
        self.sent_irc = self.sent_xmpp = 0
        self.thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self.thread.start()

    def _run(self):
        i = 0
        while not self.halt.is_set():
            try:
                if not self.op.closed.is_set():
                    self.op.privmsg(self.chan, "flow irc %d" % i)
                    self.sent_irc += 1
            except OSError:
                pass
            try:
                if self.client.is_connected():
                    muc_send(self.client, A, self.chan, "flow xmpp %d" % i)
                    self.sent_xmpp += 1
            except Exception:  # noqa: BLE001  (the client's stream is going away)
                pass
            i += 1
            self.halt.wait(0.05)

    def stop(self):
        self.halt.set()
        self.thread.join(5)


# -------------------------------------------------------------------- tests --

def test_01_prosody_killed_mid_traffic(rig, prosody, causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    muc_join(alice, A, "#chan", "alicenick")
    traffic = Traffic(alice, op, "#chan")
    try:
        # messages are flowing both ways
        alice.wait_stanza(is_body("flow irc"), T, what="traffic IRC -> XMPP")
        op.wait(command="PRIVMSG", pred=lambda l: l.nick == "alicenick" and l.params[-1].startswith("flow xmpp"),
                timeout=T, what="traffic XMPP -> IRC")
        time.sleep(0.5)
        irc0 = traffic.sent_irc
        t_kill = time.monotonic()
        prosody.kill()
        alice.disconnected.wait(5)
        prosody.start()
        t_up = time.monotonic()
        causeway.wait_connected(2, timeout=60)
        t_conn = time.monotonic()
        irc_during = traffic.sent_irc - irc0
    finally:
        traffic.stop()
    record_figure("fault 1: Prosody kill -9 mid-traffic -> component connected again after %.2f s "
                  "(%.2f s after Prosody listened again; %d IRC lines to the room during the outage)"
                  % (t_conn - t_kill, t_conn - t_up, irc_during))
    assert_alive(causeway)
    # alice reconnects her client and rejoins: messages flow both ways again
    a2 = rig.client("alice")
    t0 = time.monotonic()
    muc_join(a2, A, "#chan", "alicenick", timeout=T)
    both_ways(a2, op, "#chan", "alicenick", "after the Prosody restart")
    record_figure("fault 1: after the Prosody restart, rejoin + one message each way took %.2f s"
                  % (time.monotonic() - t0))
    assert_alive(causeway)


def test_02_irc_server_restart(rig, causeway, alice, raw, ngircd):
    op = raw("opnick")
    op.join("#chan")
    muc_join(alice, A, "#chan", "alicenick")
    t_kill = time.monotonic()
    ngircd.kill()
    op.closed.wait(5)
    causeway.wait_log("Lost the connection to %s" % SERVER, timeout=T)
    # a message while the server is down: an error back to the sending resource
    m = alice.mark()
    mid = muc_send(alice, A, "#chan", "sent while down")
    err = alice.wait_message(pred=lambda el: el.get("type") == "error" and el.get("id") == mid,
                             since=m, timeout=T)
    assert error_of(err) is not None, xml_str(err)
    assert err.get("to") == alice.full_jid, \
        "the error went to %s, not to the sending full JID %s:\n%s" % (err.get("to"), alice.full_jid, xml_str(err))
    assert harness.bare(err.get("from")) == A.room("#chan"), xml_str(err)
    ngircd.start()
    t_up = time.monotonic()
    op2 = raw("opnick2")
    op2.join("#chan")
    # back in the channel: the JOIN (or already in the names list if it was quicker than op2)
    if "alicenick" not in {n.lstrip("~&@%+") for n in op2.names("#chan")}:
        op2.wait(command="JOIN", pred=lambda l: l.nick == "alicenick" and l.params[0] == "#chan",
                 timeout=90, what="the gateway user's JOIN after the restart")
    t_back = time.monotonic()
    record_figure("fault 2: ngIRCd kill + restart -> gateway user back in the channel %.2f s after the "
                  "restart (%.2f s after the kill; error for the message sent while down: %s)"
                  % (t_back - t_up, t_back - t_kill, error_of(err)[1]))
    both_ways(alice, op2, "#chan", "alicenick", "after the IRC restart")
    op2.sync()
    assert not op2.find(command="PRIVMSG", pred=lambda l: l.params[-1] == "sent while down"), \
        "the bounced message was sent after all"
    assert_alive(causeway)


def test_03_supervisor_restarts_killed_irc_child(rig, prosody, ngircd, alice, raw):
    cw = new_irc_causeway(rig, ngircd.port).start(supervisor=True)
    sup = cw.proc.pid
    kids = harness.wait_until(lambda: harness.children_of(sup), 5, "the irc child of the supervisor")
    assert len(kids) == 1, kids
    child = kids[0]
    # alice registers with the IRC gateway (XEP-0077) and accepts its subscription request,
    # so the server answers the gateway's probes with her presence
    m = alice.mark()
    r = register(alice, nick="alicenick")
    assert r.get("type") == "result", "registration:\n" + xml_str(r)
    alice.wait_presence(frm=IRC_DOMAIN, ptype="subscribe", since=m, timeout=T)
    alice.send_presence(to=IRC_DOMAIN, ptype="subscribed")
    alice.send_presence()     # her presence again, now that the gateway may see it
    cw.wait_log("alice@localhost is online", timeout=T)
    op = raw("opnick")
    op.join("#chan")
    muc_join(alice, A, "#chan", "alicenick")
    both_ways(alice, op, "#chan", "alicenick", "before the kill")
    online_before = cw.count("alice@localhost is online")
    ready = "component %s ready:" % IRC_DOMAIN
    ready_before = cw.count(ready)

    mi, m_kill = op.mark(), alice.mark()
    t_kill = time.monotonic()
    os.kill(child, signal.SIGKILL)
    cw.wait_log(ready, ready_before + 1, timeout=30)
    t_ready = time.monotonic()
    assert cw.alive(), "the supervisor died with its child"
    new = harness.children_of(sup)
    assert len(new) == 1 and new[0] != child, "expected one new child, got %s" % new
    record_figure("fault 3: supervisor, irc child kill -9 -> new child connected and ready "
                  "(registered users probed) after %.2f s" % (t_ready - t_kill))
    ready_line = [ln for ln in cw.log().splitlines() if ready in ln][-1]
    assert "1 registered users probed" in ready_line, ready_line
    # the probe's answer: alice is online again for the new child
    cw.wait_log("alice@localhost is online", online_before + 1, timeout=T)
    # the old IRC connection died with the child
    op.wait(pred=lambda l: l.nick == "alicenick" and l.command in ("QUIT", "PART"), since=mi, timeout=T,
            what="alicenick leaving IRC with the killed child")
    # the new child puts her back into #chan by itself: IRC JOIN, room state to her resource
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick" and l.params[0] == "#chan", since=mi,
            timeout=T, what="alicenick back in #chan without her client doing anything")
    t_back = time.monotonic()
    alice.wait_presence(frm=A.occupant("#chan", "alicenick"), since=m_kill, timeout=T,
                        pred=lambda el: 110 in muc_status_codes(el))
    # XEP-0410: her client's self-ping finds her joined, so it never has to rejoin
    r = alice.iq(PING % A.occupant("#chan", "alicenick"), timeout=T)
    assert r.get("type") == "result", "self-ping after the restart:\n" + xml_str(r)
    both_ways(alice, op, "#chan", "alicenick", "after the child restart")
    record_figure("fault 3: after the irc child's kill -9 the user was back in her room %.2f s later "
                  "(IRC JOIN seen), without her client rejoining" % (t_back - t_kill))
    assert_alive(cw)


def test_04_database_locked(rig, causeway, alice, bob):
    db = os.path.join(causeway.data_dir, "irc.db")
    assert os.path.isfile(db), db
    hold = 7.0
    lock = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        t_lock = time.monotonic()
        # the registration (a write) and, right behind it, a ping (no write)
        m = alice.mark()
        t0 = time.monotonic()
        alice.send_raw("<iq type='set' to='%s' id='locked-reg'><query xmlns='%s'>%s</query></iq>"
                       % (IRC_DOMAIN, NS["reg"], register_form(nick="alicenick")))
        ping = bob.iq(PING % IRC_DOMAIN, timeout=BUSY_TIMEOUT + 5)
        t_ping = time.monotonic() - t0
        r = alice.wait_stanza(lambda el: el.get("id") == "locked-reg", BUSY_TIMEOUT + 5, m,
                              "reply to the registration")
        t_reply = time.monotonic() - t0
        assert_alive(causeway)
        left = hold - (time.monotonic() - t_lock)
        if left > 0:
            time.sleep(left)
        assert_alive(causeway)
    finally:
        lock.rollback() if lock.in_transaction else None
        lock.close()
    record_figure("fault 4: registration with the database locked -> %s after %.2f s (busy timeout %.0f s); "
                  "a ping from another user sent meanwhile was answered after %.2f s"
                  % (error_of(r)[1] if error_of(r) else r.get("type"), t_reply, BUSY_TIMEOUT, t_ping))
    assert r.get("type") == "error", "registration under a lock:\n" + xml_str(r)
    assert error_of(r)[1] == "internal-server-error", xml_str(r)
    assert t_reply <= BUSY_TIMEOUT + 1.5, "error after %.2f s, busy timeout is %.0f s" % (t_reply, BUSY_TIMEOUT)
    assert ping.get("type") == "result", xml_str(ping)
    locked = [ln for ln in causeway.log().splitlines() if "database is locked" in ln]
    assert locked, "no log line names the problem (database is locked):\n" + harness.tail(causeway.log_path)
    # released: registration works, the database is sound
    m = alice.mark()
    r = register(alice, nick="alicenick")
    assert r.get("type") == "result", "registration after the lock:\n" + xml_str(r)
    alice.wait_presence(frm=IRC_DOMAIN, ptype="subscribe", since=m, timeout=T)
    ok, tables = db_check(db)
    assert ok == "ok", ok
    assert {"users", "user_values", "contacts", "rooms"} <= tables, tables
    assert_alive(causeway)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 512 KiB tmpfs inside the test's tmp dir (requested before `rig`, so it
    is unmounted after the rig stopped causeway)."""
    mnt = tmp_path / "tinyfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(mnt)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and mount permission): %s"
                    % (r.stderr.strip() or r.returncode))
    yield str(mnt)
    r = subprocess.run(["umount", str(mnt)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["umount", "-l", str(mnt)], stdin=subprocess.DEVNULL, capture_output=True)
        raise AssertionError("umount %s: %s" % (mnt, r.stderr))


def fill(directory):
    """Write a file until the file system is full; return its path and size."""
    path = os.path.join(directory, "filler")
    n = 0
    chunk = b"\0" * 4096
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                n += f.write(chunk)
        except OSError:
            pass
    return path, n


def test_05_disk_full(tiny_fs, rig, prosody, ngircd, alice):
    cw = new_irc_causeway(rig, ngircd.port, data_dir=tiny_fs).start()
    db = os.path.join(tiny_fs, "irc.db")
    assert os.path.isfile(db) and os.path.isfile(os.path.join(tiny_fs, "causeway.key"))
    filler, size = fill(tiny_fs)
    st = os.statvfs(tiny_fs)
    m = alice.mark()
    t0 = time.monotonic()
    r = register(alice, nick="alicenick", realname="A" * 2000)
    dt = time.monotonic() - t0
    record_figure("fault 5: registration with the data dir full (tmpfs, %d KiB filler, %d blocks free) "
                  "-> %s in %.2f s" % (size // 1024, st.f_bavail, error_of(r)[1] if error_of(r) else r.get("type"), dt))
    assert_alive(cw)
    assert r.get("type") == "error", "registration on a full disk:\n" + xml_str(r)
    _t, cond, text = error_of(r)
    assert cond == "internal-server-error" and text, "a clear error with a text:\n" + xml_str(r)
    assert not alice.find_stanzas(lambda el: el.get("type") == "subscribe", since=m), "subscribed anyway"
    full = [ln for ln in cw.log().splitlines() if "full" in ln.lower()]
    assert full, "no log line names the full disk:\n" + harness.tail(cw.log_path)
    # the gateway still answers
    assert alice.iq(PING % IRC_DOMAIN).get("type") == "result"
    # space again: registration works, the database is sound
    os.unlink(filler)
    m = alice.mark()
    r = register(alice, nick="alicenick")
    assert r.get("type") == "result", "registration after freeing space:\n" + xml_str(r)
    alice.wait_presence(frm=IRC_DOMAIN, ptype="subscribe", since=m, timeout=T)
    ok, tables = db_check(db)
    assert ok == "ok", ok
    assert {"users", "user_values", "contacts", "rooms"} <= tables, tables
    assert_alive(cw)
    # stop it here, before the fixture unmounts its data dir
    st = cw.stop()
    assert st in (None, 0), "causeway exited with %s on SIGTERM" % st


def test_06_xmpp_server_frozen(rig, prosody, causeway, alice, raw):
    op = raw("opnick")
    op.join("#chan")
    muc_join(alice, A, "#chan", "alicenick")
    both_ways(alice, op, "#chan", "alicenick", "before the freeze")
    m = alice.mark()
    lines = ["frozen %02d %s" % (i, "x" * 300) for i in range(12)]
    os.kill(prosody.proc.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        for text in lines:
            op.privmsg("#chan", text)
        op.sync()  # ngIRCd took them all (it paces a client's lines)
        t_sent = time.monotonic()
        time.sleep(1.0)  # the gateway has read and written them, into the stopped server's socket
    finally:
        os.kill(prosody.proc.pid, signal.SIGCONT)
    t_cont = time.monotonic()
    got = [muc_wait(alice, A, "#chan", "opnick", text, since=m, timeout=T) for text in lines]
    t_all = time.monotonic()
    bodies = [el.findtext("c:body", "", NS) for el in alice.find_stanzas(is_body("frozen"), since=m)]
    record_figure("fault 6: Prosody stopped for %.1f s while %d IRC lines went to the room -> all %d "
                  "delivered in order %.2f s after it resumed"
                  % (t_cont - t0, len(lines), len(got), t_all - t_cont))
    assert bodies == lines, "lost, doubled or reordered: %r" % bodies
    assert t_sent - t0 < 60
    assert_alive(causeway)
    both_ways(alice, op, "#chan", "alicenick", "after the freeze")
