"""The shipped server snippets and example config, as an admin uses them.

conf/prosody-causeway.cfg.lua and conf/ejabberd-causeway.yml are put into a
base server config the way their comments say (Prosody: the global part
before the users' VirtualHost, the hosts after it; ejabberd: each top-level
key merged into the base's), with only the domain (example.org ->
localhost) and the port (5347 -> a free one) changed; conf/causeway.conf is
used likewise (and its data_dir moved into the test directory). Then: the
config passes --check, the component connects, the server's XEP-0356 grant
arrives in the namespace that server speaks, a user registers, gets the
echo contact (Prosody: pushed into the roster; ejabberd 23.01: its push
fails, the gateway falls back to a subscription request), and messages go
both ways, to a contact and to the gateway JID (`help`).
"""
import os
import re
import subprocess

import pytest

import ejabberd_rig
import harness
from harness import NS, xml_str, unique

GW = harness.GW_DOMAIN            # loop.localhost: conf/causeway.conf's loop.example.org
ECHO = "echo@" + GW
CONF = os.path.join(harness.REPO_ROOT, "conf")


def shipped(name):
    with open(os.path.join(CONF, name)) as f:
        return f.read()


def localise(text, port):
    """The shipped text for this test's server: example.org -> localhost, the
    component port 5347 -> port. Nothing else changes."""
    assert "example.org" in text and "5347" in text
    return text.replace("example.org", "localhost").replace("5347", str(port))


def shipped_causeway_conf(cw, port):
    """conf/causeway.conf for this test (port, domains, data_dir in the test dir)."""
    text = localise(shipped("causeway.conf"), port)
    assert "\ndata_dir = /var/lib/causeway\n" in text
    text = text.replace("\ndata_dir = /var/lib/causeway\n", "\ndata_dir = %s\n" % cw.data_dir)
    with open(cw.cfg, "w") as f:
        f.write(text)


class ShippedProsody(harness.Prosody):
    """Prosody from fixtures/prosody-base.cfg.lua.in plus the shipped snippet
    (all_at_end: the whole snippet after the admin's hosts, against its advice)."""

    def __init__(self, run_dir, all_at_end=False):
        self.all_at_end = all_at_end
        super().__init__(run_dir)

    def _write_config(self):
        snippet = localise(shipped("prosody-causeway.cfg.lua"), self.comp)
        # "put them in the global part of prosody.cfg.lua, before its first VirtualHost line"
        cut = re.search(r"^VirtualHost ", snippet, re.M)
        assert cut, "no VirtualHost line in conf/prosody-causeway.cfg.lua"
        if self.all_at_end:
            cut = re.search(r"\A", snippet)
        with open(os.path.join(harness.FIXTURES, "prosody-base.cfg.lua.in")) as f:
            t = f.read()
        for k, v in (("@DIR@", self.dir), ("@C2S@", str(self.c2s)),
                     ("@RUN_AS_ROOT@", "true" if os.geteuid() == 0 else "false"),
                     ("@SNIPPET_GLOBAL@", snippet[:cut.start()]),
                     ("@SNIPPET_HOSTS@", snippet[cut.start():])):
            t = t.replace(k, v)
        with open(self.cfg, "w") as f:
            f.write(t)


def submit_registration(client):
    form = ("<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"
            "<field var='username'><value>alice-legacy</value></field>"
            "<field var='password'><value>%s</value></field></x>" % unique("pw"))
    m = client.mark()
    r = client.query(GW, NS["reg"], "set", form)
    assert r.get("type") == "result", "registration: " + xml_str(r)
    client.wait_presence(frm=GW, ptype="subscribe", since=m, timeout=10)


def start_shipped_causeway(rig, comp_port):
    cw = rig.new_causeway()
    shipped_causeway_conf(cw, comp_port)
    r = subprocess.run([cw.bin, "-c", cw.cfg, "--check"], capture_output=True, text=True,
                       timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, "--check of the shipped causeway.conf: %s%s" % (r.stdout, r.stderr)
    return cw.start(timeout=20)


def talk(client):
    body = unique("hello")
    client.send_message(ECHO, body)
    client.wait_message(frm=ECHO, body="echo: " + body, timeout=10)
    m = client.mark()
    client.send_message(GW, "help")
    reply = client.wait_message(frm=GW, since=m, timeout=10)
    assert "This is Causeway" in (reply.findtext("c:body", "", NS)), xml_str(reply)


def test_prosody_snippet(rig):
    rig.prosody = ShippedProsody(os.path.join(rig.dir, "prosody"))
    out = prosodyctl_check_config(rig.prosody.cfg)
    assert "All checks passed" in out, out
    rig.prosody.register_all()
    rig.prosody.start()
    cw = start_shipped_causeway(rig, rig.prosody.comp)
    cw.wait_log("roster: localhost granted roster access (urn:xmpp:privilege:2)", timeout=10)
    a1 = rig.client("alice")
    submit_registration(a1)
    a1.disconnect()
    a2 = rig.client("alice")
    item = a2.wait_roster_item(ECHO, timeout=10)          # XEP-0356 push (or at login)
    assert item.get("name") == "Echo", xml_str(item)
    assert ECHO in a2.roster()
    talk(a2)
    assert "privileged roster push" not in cw.log()


def prosodyctl_check_config(cfg):
    r = subprocess.run(["prosodyctl", "--config", cfg, "check", "config"], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.stdout + r.stderr


def test_prosody_snippet_globals_after_a_host(rig):
    """What the snippet's comment warns of: its global options pasted after a
    VirtualHost line belong to that host. `prosodyctl check config` says so
    (Prosody itself only warns in its log and listens on its default port
    5347 instead: not started here, that port is not the test's to take)."""
    p = ShippedProsody(os.path.join(rig.dir, "prosody"), all_at_end=True)
    out = prosodyctl_check_config(p.cfg)
    # (the two names come in either order: Prosody walks a Lua table)
    m = re.search(r"You need to move the following options: (.*)", out)
    assert m and set(m.group(1).replace(",", " ").split()) == {"component_interfaces",
                                                                "component_ports"}, out


@pytest.mark.skipif(not ejabberd_rig.available(), reason="ejabberd is not installed "
                    "(scripts/install-deps.sh test installs it)")
def test_ejabberd_snippet(rig):
    snippet = shipped("ejabberd-causeway.yml")
    # the component port the snippet's listener gets in this test
    comp = harness.free_ports(1)[0]
    ej = ejabberd_rig.Ejabberd(os.path.join(rig.dir, "ejabberd"), localise(snippet, comp))
    assert ej.component_ports() == [comp]
    ej.comp = comp
    rig.prosody = ej          # the rig's XMPP server: clients and causeway use .c2s / .comp
    ej.start()
    cw = start_shipped_causeway(rig, comp)
    cw.wait_log("roster: localhost granted roster access (urn:xmpp:privilege:1)", timeout=15)
    grant = "Granting permissions to external component '%s': roster = both, presence = none, " \
            "message = none" % GW
    harness.wait_until(lambda: grant in ej.log(), 10, "ejabberd's log: " + grant)
    a1 = rig.client("alice")
    submit_registration(a1)
    a1.disconnect()
    a2 = rig.client("alice")

    def sub_from_echo(el):
        return (el.tag == "{jabber:client}presence" and el.get("type") == "subscribe"
                and harness.bare(el.get("from")) == ECHO)
    # ejabberd 23.01 refuses the privileged push (its bug #3942): the gateway
    # logs it once and asks for a subscription instead — of a1 if the contact
    # was added while it was still online (the first resource logged in), else
    # of a2 (ejabberd hands a pending request over at login)
    harness.wait_until(lambda: a1.find_stanzas(sub_from_echo) or a2.find_stanzas(sub_from_echo),
                       15, "subscribe from " + ECHO)
    cw.wait_log("the server refused a privileged roster push; adding contacts with "
                "subscription requests", timeout=5)
    talk(a2)
