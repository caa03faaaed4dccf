"""Smoke test of the purple transport: prpl-jabber against the rig's second
Prosody VirtualHost (other.localhost) as the legacy network, reached by IP
address with connection_security = opportunistic_tls.

alice@localhost registers her legacy account legacyalice@other.localhost
through XEP-0077 on the gateway, comes online, and exchanges one message each
way with mallory@other.localhost (a second slixmpp client on the legacy side).
"""
import os

import harness
from harness import NS, xml_str

GW = harness.GW_DOMAIN
LEGACY_PW = "legacy-pw-7d1f"


def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


def submit(fields):
    out = ["<x xmlns='jabber:x:data' type='submit'>",
           "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>"]
    for var, val in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, _esc(val)))
    out.append("</x>")
    return "".join(out)


def test_purple_jabber_roundtrip(rig):
    prosody = rig.start_prosody()
    prosody.register("legacyalice", "other.localhost", LEGACY_PW)
    cw = rig.start_causeway(ttype="purple", transport="purple",
                            extra="protocol = prpl-jabber\n")
    alice = rig.client("alice")
    mallory = rig.client("mallory")

    r = alice.query(GW, NS["reg"], "get")
    assert r.get("type") == "result", xml_str(r)
    x = r.find("reg:query/x:x", NS)
    vars_ = {f.get("var") for f in x.findall("x:field", NS)}
    assert {"username", "split1", "password", "connection_security", "stay_connected"} <= vars_

    r = alice.query(GW, NS["reg"], "set", submit({
        "username": "legacyalice", "split1": "other.localhost", "split2": "gw",
        "password": LEGACY_PW, "connect_server": "127.0.0.1", "port": str(prosody.c2s),
        "connection_security": "opportunistic_tls", "auth_plain_in_clear": "1",
    }))
    assert r.get("type") == "result", xml_str(r)
    alice.send_presence(to=GW)
    cw.wait_log("signed on to prpl-jabber", timeout=15)

    # legacy -> XMPP
    m = alice.mark()
    mallory.send_message("legacyalice@other.localhost", "hello from the legacy side")
    mallory_jid = "mallory\\40other.localhost@" + GW
    msg = alice.wait_message(body="hello from the legacy side", since=m, timeout=15)
    assert msg.get("from").split("/")[0] == mallory_jid, xml_str(msg)

    # XMPP -> legacy, never echoed back to alice
    m2 = mallory.mark()
    ma = alice.mark()
    alice.send_message(mallory_jid, "hello from XMPP <b>&")
    got = mallory.wait_message(body="hello from XMPP <b>&", since=m2, timeout=15)
    assert got.get("from").startswith("legacyalice@other.localhost"), xml_str(got)
    echoes = [s for s in alice.stanzas[ma:] if s.tag.endswith("message")
              and (s.findtext("c:body", namespaces=NS) or "") == "hello from XMPP <b>&"]
    assert not echoes, "own send echoed: %s" % xml_str(echoes[0])

    # The legacy password is in no file libpurple wrote.
    pdir = os.path.join(cw.data_dir, "purple-purple")
    assert os.path.isdir(pdir), os.listdir(cw.data_dir)
    assert (os.stat(pdir).st_mode & 0o777) == 0o700
    for root, _dirs, files in os.walk(pdir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert LEGACY_PW.encode() not in fh.read(), "password in %s" % f
