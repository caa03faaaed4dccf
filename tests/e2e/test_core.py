"""End-to-end tests of Causeway's core with the loopback transport.

Real Prosody 0.12 (with and without mod_privilege), real XMPP clients
(slixmpp), the real causeway binary ($CAUSEWAY_BIN, default ./causeway).
One test function per behaviour item of the core specification.
"""
import os
import signal
import subprocess
import time

import pytest

import harness
from harness import NS, xml_str, error_of, form_fields, field_values, form_type, unique

GW = harness.GW_DOMAIN
ECHO = "echo@" + GW
CMD_NS = NS["cmd"]
REG_FORM_TYPE = "jabber:iq:register"


# ---------------------------------------------------------------- helpers ----

def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


def submit_form(fields, ftype=REG_FORM_TYPE):
    out = ["<x xmlns='jabber:x:data' type='submit'>"]
    if ftype:
        out.append("<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % ftype)
    for var, val in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, _esc(val)))
    out.append("</x>")
    return "".join(out)


def register(client, username, password, nick=None):
    fields = {"username": username, "password": password}
    if nick is not None:
        fields["nick"] = nick
    return client.query(GW, NS["reg"], "set", submit_form(fields))


def assert_result(r, what=""):
    assert r.get("type") == "result", "%s: expected result, got:\n%s" % (what, xml_str(r))
    return r


def assert_error(r, condition, etype=None, what=""):
    assert r.get("type") == "error", "%s: expected error %s, got:\n%s" % (what, condition, xml_str(r))
    e = error_of(r)
    assert e is not None, "%s: error without <error/>:\n%s" % (what, xml_str(r))
    assert e[1] == condition, "%s: expected %s, got %s:\n%s" % (what, condition, e[1], xml_str(r))
    if etype is not None:
        assert e[0] == etype, "%s: expected error type %s, got %s:\n%s" % (what, etype, e[0], xml_str(r))
    return e


def register_and_wait_subscribe(client, username, password, nick=None):
    m = client.mark()
    assert_result(register(client, username, password, nick), "registration of %s" % client.jid)
    client.wait_presence(frm=GW, ptype="subscribe", since=m)


def command_nodes(client):
    r = assert_result(client.query(GW, NS["items"], node=CMD_NS), "command list")
    return {i.get("node"): i for i in r.findall("items:query/items:item", NS)}


def execute(client, node, action="execute", sessionid=None, payload=""):
    sid = " sessionid='%s'" % sessionid if sessionid else ""
    return client.iq("<iq type='set' to='%s'><command xmlns='%s' node='%s' action='%s'%s>%s</command></iq>"
                     % (GW, CMD_NS, node, action, sid, payload))


def reg_values(q):
    """{name: [values]} from both the legacy fields and the data form of a
    jabber:iq:register query."""
    vals = {}
    for name in ("username", "password", "nick"):
        el = q.find("reg:" + name, NS)
        if el is not None and (el.text or "").strip():
            vals.setdefault(name, []).append(el.text.strip())
    x = q.find("x:x", NS)
    if x is not None:
        for var, f in form_fields(x).items():
            v = [s for s in field_values(f) if s.strip()]
            if v and var in ("username", "password", "nick"):
                vals.setdefault(var, []).extend(v)
    return vals


def run_cli(args, timeout=10):
    b = harness.causeway_bin()
    assert os.path.isfile(b) and os.access(b, os.X_OK), \
        "CAUSEWAY_BIN %s is not an executable file (build it with `make`)" % b
    try:
        return subprocess.run([b] + args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        pytest.fail("causeway %s did not exit within %ss" % (" ".join(args), timeout))


# ------------------------------------------------------------------ tests ----

def test_01_disco_info(causeway, alice):
    r = assert_result(alice.query(GW, NS["info"]), "disco#info")
    assert r.get("from") == GW
    ids = [(i.get("category"), i.get("type")) for i in r.findall("info:query/info:identity", NS)]
    assert ("gateway", "loopback") in ids, xml_str(r)
    feats = {f.get("var") for f in r.findall("info:query/info:feature", NS)}
    want = {NS["info"], NS["reg"], NS["gw"], NS["ping"], NS["ver"], NS["cmd"], NS["x"]}
    assert want <= feats, "missing features %s in\n%s" % (sorted(want - feats), xml_str(r))


def test_02_registration(causeway, alice, bob):
    pw = unique("pw")
    # the empty form
    r = assert_result(alice.query(GW, NS["reg"]), "register get")
    q = r.find("reg:query", NS)
    assert q is not None, xml_str(r)
    assert q.find("reg:instructions", NS) is not None, xml_str(r)
    for name in ("username", "password", "nick"):
        assert q.find("reg:" + name, NS) is not None, "no legacy <%s/>:\n%s" % (name, xml_str(r))
    assert q.find("reg:registered", NS) is None, xml_str(r)
    x = q.find("x:x", NS)
    assert x is not None, "no data form:\n" + xml_str(r)
    assert x.get("type") == "form"
    assert form_type(x) == REG_FORM_TYPE, xml_str(x)
    f = form_fields(x)
    assert {"username", "password", "nick"} <= set(f), xml_str(x)
    assert f["username"].get("type", "text-single") == "text-single"
    assert f["username"].find("x:required", NS) is not None, "username not required"
    assert f["password"].get("type") == "text-private"
    assert f["password"].find("x:required", NS) is not None, "password not required"
    assert f["nick"].get("type", "text-single") == "text-single"
    assert f["nick"].find("x:required", NS) is None, "nick must be optional"

    # submit the form -> result, then a subscription request from the gateway
    register_and_wait_subscribe(alice, "alice-legacy", pw)

    # re-query: registered, values shown, password never
    r = assert_result(alice.query(GW, NS["reg"]), "register get (registered)")
    q = r.find("reg:query", NS)
    assert q.find("reg:registered", NS) is not None, xml_str(r)
    vals = reg_values(q)
    assert vals.get("username") and set(vals["username"]) == {"alice-legacy"}, xml_str(r)
    assert "password" not in vals, "password value in reply:\n" + xml_str(r)
    assert pw not in xml_str(r), "password leaked:\n" + xml_str(r)

    # change (nick) with a new submit
    assert_result(register(alice, "alice-legacy", pw, nick="Alice in Loopland"), "re-register")
    r = assert_result(alice.query(GW, NS["reg"]), "register get after change")
    vals = reg_values(r.find("reg:query", NS))
    assert vals.get("nick") and set(vals["nick"]) == {"Alice in Loopland"}, xml_str(r)
    assert pw not in xml_str(r)

    # required password missing -> not-acceptable (modify), text mentions Password
    r = bob.query(GW, NS["reg"], "set", submit_form({"username": "bob-legacy"}))
    _t, _c, text = assert_error(r, "not-acceptable", "modify", "submit without password")
    assert text and "password" in text.lower(), "error text should name Password:\n" + xml_str(r)

    # legacy fields, no form
    m = bob.mark()
    r = bob.query(GW, NS["reg"], "set", "<username>bob-legacy</username><password>%s</password>" % pw)
    assert_result(r, "legacy-field registration")
    bob.wait_presence(frm=GW, ptype="subscribe", since=m)
    r = assert_result(bob.query(GW, NS["reg"]))
    q = r.find("reg:query", NS)
    assert q.find("reg:registered", NS) is not None, xml_str(r)
    assert set(reg_values(q).get("username", [])) == {"bob-legacy"}, xml_str(r)
    assert pw not in xml_str(r)

    # remove -> result, unsubscribe + unsubscribed from the gateway, not registered
    m = alice.mark()
    assert_result(alice.query(GW, NS["reg"], "set", "<remove/>"), "remove")
    alice.wait_presence(frm=GW, ptype="unsubscribe", since=m)
    alice.wait_presence(frm=GW, ptype="unsubscribed", since=m)
    r = assert_result(alice.query(GW, NS["reg"]), "register get after remove")
    assert r.find("reg:query/reg:registered", NS) is None, xml_str(r)
    # bob is unaffected
    r = assert_result(bob.query(GW, NS["reg"]))
    assert r.find("reg:query/reg:registered", NS) is not None, xml_str(r)


@pytest.mark.parametrize("privilege", [True, False], ids=["privilege", "no-privilege"])
def test_03_roster_and_echo(rig, causeway, privilege):
    a1 = rig.client("alice")
    register_and_wait_subscribe(a1, "alice-legacy", unique("pw"))
    # come online afresh: the first resource of a registered user
    a1.disconnect()
    a2 = rig.client("alice")
    if privilege:
        # XEP-0356 roster push (or already in the roster fetched at login)
        item = a2.wait_roster_item(ECHO, timeout=10)
        assert item.get("name") == "Echo", xml_str(item)
        assert ECHO in a2.roster(), "echo contact not stored in alice's roster"
    else:
        def is_sub(el):
            return (el.tag == "{jabber:client}presence" and el.get("type") == "subscribe"
                    and harness.bare(el.get("from")) == ECHO)
        if not a1.find_stanzas(is_sub):
            a2.wait_stanza(is_sub, timeout=10, what="subscribe from " + ECHO)
    body = unique("hello")
    a2.send_message(ECHO, body)
    a2.wait_message(frm=ECHO, body="echo: " + body)
    other = "someone-else@" + GW
    a2.send_message(other, body + "!")
    a2.wait_message(frm=other, body="echo: " + body + "!")


def test_04_gateway_jid_translation(causeway, alice):
    r = assert_result(alice.query(GW, NS["gw"]), "gateway get")
    q = r.find("gw:query", NS)
    assert q.find("gw:desc", NS) is not None and (q.findtext("gw:desc", "", NS)).strip(), xml_str(r)
    assert q.find("gw:prompt", NS) is not None, xml_str(r)
    r = assert_result(alice.query(GW, NS["gw"], "set", "<prompt>bob@example.com</prompt>"), "gateway set")
    assert r.findtext("gw:query/gw:jid", None, NS) == "bob\\40example.com@" + GW, xml_str(r)


def test_05_ping_and_version(causeway, alice):
    assert_result(alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % GW), "ping")
    r = assert_result(alice.query(GW, NS["ver"]), "version")
    assert r.findtext("ver:query/ver:name", None, NS) == "Causeway", xml_str(r)
    assert (r.findtext("ver:query/ver:version", "", NS)).strip(), xml_str(r)


def test_06_unhandled_iq_and_no_reply_to_replies(causeway, alice):
    r = alice.iq("<iq type='get' to='%s'><query xmlns='urn:example:nothing'/></iq>" % GW)
    assert_error(r, "service-unavailable", "cancel", "unknown namespace")
    r = alice.iq("<iq type='set' to='%s'><query xmlns='urn:example:nothing'/></iq>" % GW)
    assert_error(r, "service-unavailable", "cancel", "unknown namespace (set)")
    m = alice.mark()
    alice.send_raw("<iq type='result' to='%s' id='stray-result-1'/>" % GW)
    alice.send_raw("<iq type='error' to='%s' id='stray-error-1'><error type='cancel'>"
                   "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" % GW)
    # the component handles a stream in order: once the ping is answered, any
    # reply to the two stanzas before it would have arrived
    assert_result(alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % GW))
    stray = alice.find_stanzas(lambda e: e.get("id") in ("stray-result-1", "stray-error-1"), since=m)
    assert not stray, "component answered a result/error iq:\n" + "\n".join(map(xml_str, stray))


def test_07_foreign_domain_forbidden(causeway, mallory):
    assert_error(mallory.query(GW, NS["info"]), "forbidden", what="disco#info from other.localhost")
    assert_error(mallory.query(GW, NS["reg"]), "forbidden", what="register get from other.localhost")
    r = mallory.query(GW, NS["reg"], "set", submit_form({"username": "m", "password": "m"}))
    assert_error(r, "forbidden", what="register set from other.localhost")


def test_08_odd_stanzas_do_not_crash(causeway, alice, bob):
    register_and_wait_subscribe(alice, "alice-legacy", unique("pw"))
    # A 3000-char node is not a valid JID: Prosody bounces it (jid-malformed)
    # before it reaches the component, and slixmpp then drops the connection
    # on the bounce's invalid 'from', so a throwaway client sends that one.
    bob.send_message("%s@%s" % ("n" * 3000, GW), "long node")
    bob.wait_message(frm="n" * 3000 + "@" + GW, pred=lambda e: e.get("type") == "error")
    m = alice.mark()
    alice.send_raw("<iq type='get' to='%s' id='odd-nochild'/>" % GW)
    alice.send_raw("<iq type='set' to='%s' id='odd-nochild-set'/>" % GW)
    alice.send_raw("<message to='%s' type='chat'/>" % GW)
    alice.send_raw("<message to='%s' type='chat'><thread>t</thread></message>" % ECHO)
    alice.send_raw("<message to='%s' type='bogus'><body>x</body></message>" % GW)
    # the longest valid node (1023 bytes) does reach the component
    alice.send_message("%s@%s" % ("n" * 1023, GW), "long node")
    alice.send_message(GW, "x" * 20000)
    alice.send_raw("<presence to='%s' type='bogus'/>" % GW)
    alice.send_raw("<presence to='%s' type='bogus'><status>?</status></presence>" % ECHO)
    alice.send_raw("<presence to='%s' type='probe'/>" % ECHO)
    alice.send_raw(
        "<iq type='set' to='%s' id='odd-form'><query xmlns='jabber:iq:register'>"
        "<x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE'><value>urn:example:wrong</value><value>second</value></field>"
        "<field var='username'><value>a</value><value>b</value></field>"
        "<field><value>no var</value></field><field var='password' type='bogus'/>"
        "<field var='nick'><value><junk/></value></field><junk xmlns='urn:x'>j</junk>"
        "</x></query></iq>" % GW)
    alice.send_raw("<iq type='set' to='%s' id='odd-empty-reg'><query xmlns='jabber:iq:register'/></iq>" % GW)
    alice.send_raw("<iq type='set' to='%s' id='odd-x-only'><query xmlns='jabber:iq:register'>"
                   "<x xmlns='jabber:x:data'/></query></iq>" % GW)
    alice.send_raw("<iq type='get' to='%s' id='odd-two'><ping xmlns='urn:xmpp:ping'/>"
                   "<query xmlns='jabber:iq:version'/></iq>" % GW)
    alice.send_raw("<iq type='set' to='%s' id='odd-cmd'><command xmlns='%s'/></iq>" % (GW, CMD_NS))
    # the component answers in order: the ping comes after all of the above
    assert_result(alice.iq("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % GW),
                  "ping after odd stanzas")
    assert causeway.alive(), "causeway died"
    # every iq get/set must be answered (RFC 6120 8.2.3); the bad ones with errors
    for iq_id in ("odd-nochild", "odd-nochild-set", "odd-form", "odd-empty-reg", "odd-x-only", "odd-cmd"):
        replies = alice.find_stanzas(lambda e, i=iq_id: e.get("id") == i, since=m)
        assert replies, "no reply to iq %s" % iq_id
        assert replies[0].get("type") == "error", "iq %s: %s" % (iq_id, xml_str(replies[0]))
    # still registered as before: the garbage form changed nothing
    r = assert_result(alice.query(GW, NS["reg"]))
    assert set(reg_values(r.find("reg:query", NS)).get("username", [])) == {"alice-legacy"}, xml_str(r)
    assert causeway.alive()


def test_09_wrong_secret_exits_78(rig, prosody):
    cw = rig.start_causeway(secret="not-the-secret", wait_connected=False)
    rc = cw.wait_exit(10)
    assert rc == 78, "exit status %s, expected 78 (EX_CONFIG)" % rc
    lines = [ln for ln in cw.log().splitlines() if GW in ln and "not-authorized" in ln]
    assert lines, "no log line naming %s and not-authorized:\n%s" % (GW, harness.tail(cw.log_path))


def test_10_prosody_restart(rig, causeway, prosody, alice):
    assert_result(alice.query(GW, NS["info"]), "disco before restart")
    prosody.restart(kill=True)
    t0 = time.monotonic()
    alice.disconnected.wait(5)
    a2 = rig.client("alice")
    last = None
    while time.monotonic() - t0 < 15:
        try:
            last = a2.query(GW, NS["info"], timeout=2)
            if last.get("type") == "result":
                break
        except TimeoutError as e:
            last = e
        assert causeway.alive(), "causeway exited when Prosody went away"
        time.sleep(0.2)
    assert not isinstance(last, Exception) and last.get("type") == "result", \
        "no disco#info answer within 15s of the restart; last: %s" % (
            last if isinstance(last, Exception) else xml_str(last))
    assert causeway.count(causeway.connected_line) >= 2
    assert causeway.alive()


def test_11_adhoc_commands(causeway, alice, admin):
    pw = unique("pw")
    register_and_wait_subscribe(alice, "alice-legacy", pw, nick="Al")
    nodes = command_nodes(alice)
    assert {"configure", "unregister"} <= set(nodes), sorted(nodes)
    assert not {"stats", "reload"} & set(nodes), "admin commands listed for a user: %s" % sorted(nodes)
    assert all(i.get("jid") == GW for i in nodes.values())
    nodes = command_nodes(admin)
    assert {"stats", "reload"} <= set(nodes), sorted(nodes)

    # stats as admin: completed with the counters
    r = assert_result(execute(admin, "stats"), "stats as admin")
    cmd = r.find("cmd:command", NS)
    assert cmd is not None and cmd.get("node") == "stats", xml_str(r)
    assert cmd.get("status") == "completed", xml_str(r)
    x = cmd.find("x:x", NS)
    assert x is not None, xml_str(r)
    f = form_fields(x)
    for var in ("users", "online", "stanzas_in", "stanzas_out", "uptime"):
        assert var in f and field_values(f[var]), "stats field %s missing or empty:\n%s" % (var, xml_str(x))
    for var in ("users", "online", "stanzas_in", "stanzas_out"):
        assert field_values(f[var])[0].strip().isdigit(), "%s not a count: %s" % (var, xml_str(f[var]))
    assert int(field_values(f["users"])[0]) == 1, xml_str(x)
    assert int(field_values(f["stanzas_in"])[0]) > 0, xml_str(x)

    # stats as a user: forbidden
    assert_error(execute(alice, "stats"), "forbidden", what="stats as alice")

    # configure as alice: a form with her values, never the password
    r = assert_result(execute(alice, "configure"), "configure as alice")
    cmd = r.find("cmd:command", NS)
    assert cmd is not None and cmd.get("status") == "executing", xml_str(r)
    assert cmd.get("sessionid"), xml_str(r)
    x = cmd.find("x:x", NS)
    assert x is not None and x.get("type") == "form", xml_str(r)
    f = form_fields(x)
    assert "username" in f and field_values(f["username"]) == ["alice-legacy"], xml_str(x)
    assert "nick" in f and field_values(f["nick"]) == ["Al"], xml_str(x)
    if "password" in f:
        assert not [v for v in field_values(f["password"]) if v], xml_str(x)
    assert pw not in xml_str(r), "password leaked:\n" + xml_str(r)
    # and cancel it cleanly
    r = assert_result(execute(alice, "configure", "cancel", cmd.get("sessionid")), "cancel configure")
    assert r.find("cmd:command", NS).get("status") == "canceled", xml_str(r)


def test_12_supervisor(rig, prosody, alice):
    cw = rig.start_causeway(supervisor=True)
    sup = cw.proc.pid
    kids = harness.wait_until(lambda: harness.children_of(sup), 5, "a child of the supervisor")
    assert len(kids) == 1, "one transport, one child; got %s" % kids
    child = kids[0]
    assert_result(alice.query(GW, NS["info"]), "disco via the child")

    os.kill(child, signal.SIGKILL)
    cw.wait_connected(2, timeout=15)
    assert cw.alive(), "supervisor died with its child"
    new = harness.children_of(sup)
    assert len(new) == 1 and new[0] != child, "expected one new child, got %s" % new
    r = harness.wait_until(lambda: (lambda r: r if r.get("type") == "result" else None)(
        alice.query(GW, NS["info"])), 5, "disco answered by the new child")
    assert_result(r)

    cw.proc.signal(signal.SIGTERM)
    rc = cw.wait_exit(10)
    assert rc == 0, "supervisor exit status %s on SIGTERM" % rc
    harness.wait_until(lambda: not cw.our_pids(), 5, "every causeway process gone")
    assert not harness.pid_alive(new[0])
    # and the component is gone from the server
    r = alice.query(GW, NS["info"])
    assert r.get("type") == "error", xml_str(r)


def _config_case(tmp_path, case):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    good = ("[xmpp]\nhost = 127.0.0.1\nport = 5347\n\n"
            "[gateway]\ndata_dir = %s\nallowed_domains = localhost\nadmins = admin@localhost\n\n"
            "[transport:loop]\ntype = loopback\ndomain = loop.localhost\nsecret = s3cret\n" % data)
    path = tmp_path / ("causeway-%s.conf" % case)
    if case == "missing-file":
        return str(path), None
    text = {
        "missing-domain": good.replace("domain = loop.localhost\n", ""),
        "port-abc": good.replace("port = 5347", "port = abc"),
        "port-70000": good.replace("port = 5347", "port = 70000"),
        "unknown-type": good.replace("type = loopback", "type = nope"),
        "duplicate-domain": good + "\n[transport:loop2]\ntype = loopback\ndomain = loop.localhost\nsecret = x\n",
    }[case]
    path.write_text(text)
    return str(path), text


_CONFIG_CASES = [
    ("missing-file", None),
    ("missing-domain", "domain"),
    ("port-abc", "port"),
    ("port-70000", "port"),
    ("unknown-type", "type"),
    ("duplicate-domain", "domain"),
]


# duplicate domains are a whole-file check, made by the supervisor only
@pytest.mark.parametrize("case,key,mode", [
    (c, k, m) for m in ("supervisor", "transport") for (c, k) in _CONFIG_CASES
    if not (c == "duplicate-domain" and m == "transport")])
def test_13_config_errors(tmp_path, case, key, mode):
    path, _text = _config_case(tmp_path, case)
    args = ["-c", path] + (["--transport", "loop"] if mode == "transport" else [])
    r = run_cli(args)
    assert r.returncode == 1, "exit %s, expected 1; stderr:\n%s" % (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, "expected one line on stderr, got:\n%s" % r.stderr
    assert path in lines[0], "stderr does not name the file %s:\n%s" % (path, r.stderr)
    if key:
        assert key in lines[0], "stderr does not name the key %r:\n%s" % (key, r.stderr)


def test_14_cli_version_and_help(tmp_path):
    with open(os.path.join(harness.REPO_ROOT, "VERSION")) as f:
        version = f.read().strip()
    r = run_cli(["--version"])
    assert r.returncode == 0 and r.stdout.strip() == "causeway " + version, (r.returncode, r.stdout, r.stderr)
    r = run_cli(["--help"])
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert "--transport" in r.stdout and "-c" in r.stdout, r.stdout
