"""Self-tests of the end-to-end rig (no causeway binary needed).

They check that the harness itself works on this machine: Prosody starts from
the generated config (both variants), users log in on both hosts, clients
exchange stanzas, a component can attach (with the privilege advertisement in
the mod_privilege variant), Prosody can be killed and restarted on the same
ports, and the process bookkeeping leaves nothing behind.
"""
import asyncio
import copy
import os
import signal
import stat
import textwrap

import pytest

import harness
from harness import NS, xml_str, error_of

PRIV_NS = "urn:xmpp:privilege:2"


class FakeComponent:
    """A minimal XEP-0114 component (slixmpp) used only to exercise the rig."""

    def __init__(self, port, domain=harness.GW_DOMAIN, secret=harness.GW_SECRET):
        self.loop = harness.XmppLoop.get()
        self.port, self.domain, self.secret = port, domain, secret
        self.received = []
        self.x = None
        self.closed = None

    def connect(self, timeout=5.0):
        return self.loop.run(self._connect(timeout), timeout + 2)

    async def _connect(self, timeout):
        import slixmpp
        x = slixmpp.ComponentXMPP(self.domain, self.secret, "127.0.0.1", self.port)
        self.x = x
        started = asyncio.get_event_loop().create_future()

        def on_in(st):
            self.received.append(copy.deepcopy(st.xml))
            return st
        x.add_filter("in", on_in)
        x.add_event_handler("session_start", lambda _e: started.done() or started.set_result("ok"))
        x.add_event_handler("disconnected",
                            lambda _e: started.done() or started.set_result("disconnected"))

        def on_msg(m):
            if m["body"]:
                x.send_message(mto=m["from"], mfrom=m["to"], mbody="echo: " + m["body"], mtype="chat")
        x.add_event_handler("message", on_msg)
        x.connect()
        try:
            return await asyncio.wait_for(started, timeout)
        except asyncio.TimeoutError:
            x.abort()
            return "timeout"

    def send_raw(self, data):
        self.loop.call(self.x.send_raw, data)

    def close(self):
        if self.x is not None and self.x.transport is not None:
            self.loop.call(self.x.abort)


def test_prosody_starts_and_users_log_in(rig, prosody, alice, bob, admin, mallory):
    assert prosody.alive()
    for c in (alice, bob, admin, mallory):
        assert c.is_connected()
    assert mallory.full_jid.startswith("mallory@other.localhost/")
    r = alice.query("localhost", NS["info"])
    assert r.get("type") == "result", xml_str(r)
    ids = [(i.get("category"), i.get("type")) for i in r.findall("info:query/info:identity", NS)]
    assert ("server", "im") in ids
    # the gateway domain is a component with nothing attached: Prosody 0.12
    # bounces at once with remote-server-timeout
    r = alice.query(harness.GW_DOMAIN, NS["info"])
    assert r.get("type") == "error", xml_str(r)
    assert error_of(r)[1] in ("remote-server-timeout", "service-unavailable"), xml_str(r)


def test_clients_exchange_messages_across_hosts(prosody, alice, bob, mallory):
    body = harness.unique("hello")
    alice.send_message("bob@localhost", body)
    m = bob.wait_message(frm="alice@localhost", body=body)
    assert m.get("type") == "chat"
    mallory.send_message("alice@localhost", body + "-m")
    alice.wait_message(frm="mallory@other.localhost", body=body + "-m")


def test_wrong_password_fails(rig, prosody):
    c = harness.Client("alice@localhost", "wrong", prosody.c2s)
    with pytest.raises(RuntimeError):
        c.connect(timeout=5)
    c.abort()


@pytest.mark.parametrize("privilege", [True, False], ids=["privilege", "no-privilege"])
def test_component_attaches(rig, prosody, alice, privilege):
    comp = FakeComponent(prosody.comp)
    try:
        assert comp.connect() == "ok"
        if privilege:
            adv = harness.wait_until(
                lambda: [e for e in comp.received if e.find("{%s}privilege" % PRIV_NS) is not None],
                5, "privilege advertisement")[0]
            perms = {p.get("access"): p.get("type")
                     for p in adv.findall("{%s}privilege/{%s}perm" % (PRIV_NS, PRIV_NS))}
            assert perms == {"roster": "both", "message": "outgoing", "presence": "roster"}
            # a privileged roster push reaches alice's client
            comp.send_raw("<iq type='set' from='%s' to='alice@localhost' id='push1'>"
                          "<query xmlns='jabber:iq:roster'><item jid='echo@%s' name='Echo' "
                          "subscription='both'/></query></iq>" % (harness.GW_DOMAIN, harness.GW_DOMAIN))
            item = alice.wait_roster_item("echo@" + harness.GW_DOMAIN)
            assert item.get("name") == "Echo"
            assert "echo@" + harness.GW_DOMAIN in alice.roster()
        else:
            # a second way in: subscription presences work without privileges
            comp.send_raw("<presence type='subscribe' from='echo@%s' to='alice@localhost'/>"
                          % harness.GW_DOMAIN)
            alice.wait_presence(frm="echo@" + harness.GW_DOMAIN, ptype="subscribe")
        # plain routing both ways through the component
        body = harness.unique("ping")
        alice.send_message("echo@" + harness.GW_DOMAIN, body)
        alice.wait_message(frm="echo@" + harness.GW_DOMAIN, body="echo: " + body)
        # the component is now attached: disco reaches it (slixmpp answers)
        r = alice.query(harness.GW_DOMAIN, NS["info"])
        assert r.get("from") == harness.GW_DOMAIN
    finally:
        comp.close()


def test_component_wrong_secret_rejected(rig, prosody):
    comp = FakeComponent(prosody.comp, secret="wrong")
    try:
        assert comp.connect() in ("disconnected", "timeout")
    finally:
        comp.close()


def test_prosody_kill_and_restart_same_ports(rig, prosody, alice):
    c2s, comp = prosody.c2s, prosody.comp
    old_pid = prosody.proc.pid
    prosody.restart(kill=True)
    assert (prosody.c2s, prosody.comp) == (c2s, comp)
    assert prosody.proc.pid != old_pid and not harness.pid_alive(old_pid)
    alice.disconnected.wait(5)
    assert not alice.is_connected()
    # users survive (same data dir); a new client logs in on the same port
    a2 = rig.client("alice")
    r = a2.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert r.get("type") == "result"


def test_odd_stanzas_prosody_behaviour(prosody, alice, bob):
    """What Prosody itself does with some odd stanzas test_core sends."""
    # an invalid (3000-char node) JID is bounced by Prosody with jid-malformed
    # (slixmpp may then drop the connection: it cannot parse the bounce's from)
    bob.send_message("%s@%s" % ("a" * 3000, harness.GW_DOMAIN), "x")
    err = bob.wait_stanza(lambda e: e.get("type") == "error" and e.tag.endswith("message"),
                          what="jid-malformed bounce")
    assert error_of(err)[1] == "jid-malformed"
    # an iq without a child is answered by Prosody itself (bad-request)
    r = alice.iq("<iq type='get' to='%s'/>" % harness.GW_DOMAIN)
    assert error_of(r)[1] == "bad-request"
    alice.send_raw("<presence type='bogus' to='%s'/>" % harness.GW_DOMAIN)
    r = alice.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert r.get("type") == "result"
    assert alice.is_connected()


def _fake_binary(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/bash\n" + textwrap.dedent(body))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def test_causeway_process_bookkeeping(rig, tmp_path, monkeypatch):
    """Causeway wrapper: log waiting, exit codes, children found by config path
    and stopped by PID."""
    fake = str(tmp_path / "fake-causeway")
    _fake_binary(fake, """
        # pretend supervisor: one child that logs the connected line, restarted when killed
        trap 'kill $child 2>/dev/null; exit 0' TERM
        while true; do
          /usr/bin/python3 -c 'import time; print("component loop.localhost connected", flush=True); time.sleep(300)' "$@" &
          child=$!
          wait $child
        done
    """)
    monkeypatch.setenv("CAUSEWAY_BIN", fake)
    cw = harness.Causeway(str(tmp_path / "cw"), 1)
    rig.causeways.append(cw)
    cw.start(supervisor=True)
    kids = harness.children_of(cw.proc.pid)
    assert len(kids) == 1 and cw.proc.pid in cw.our_pids()
    os.kill(kids[0], signal.SIGKILL)
    cw.wait_connected(2, timeout=5)
    cw.proc.signal(signal.SIGTERM)
    assert cw.wait_exit(5) == 0
    # sleep children may outlive a careless supervisor: the rig finds them by config path
    cw.stop()
    assert cw.our_pids() == []


def test_causeway_missing_binary_fails_clearly(rig, tmp_path, monkeypatch):
    monkeypatch.setenv("CAUSEWAY_BIN", str(tmp_path / "nope"))
    cw = harness.Causeway(str(tmp_path / "cw"), 1)
    with pytest.raises(AssertionError, match="not an executable"):
        cw.start()
