"""`default_server` (README, IRC keys): with it, `#chan@DOMAIN` and
`nick@DOMAIN` mean the default server's channel and user, while a server's
own JID (`127.0.0.1@DOMAIN`, anything with a dot, since IRC nicks have none)
still names the server: its ad-hoc "Configure server" is reachable. Real
Prosody and ngIRCd.
"""
import harness
from harness import xml_str
from test_irc import (IRC_DOMAIN, MUC_NS, SERVER, SERVER_JID, T, adhoc_configure, assert_alive,
                      is_presence, ngircd, prosody, raw, wait_privmsg)  # noqa: F401 (fixtures)


def test_default_server_short_jids_and_server_jid(rig, prosody, ngircd, alice, raw):
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                          extra="irc_port = %d\nflood_burst = 0\ndefault_server = %s\n"
                          % (ngircd.port, SERVER)).start()
    # the server's own JID (it has dots): Configure server works there
    adhoc_configure(alice, SERVER_JID, {"after_connect": "PRIVMSG opnick :hello from config"})

    op = raw("opnick")
    op.join("#chan")
    short_room = "#chan@%s" % IRC_DOMAIN
    m = alice.mark()
    mi = op.mark()
    alice.send_presence(to=short_room + "/alicenick", extra="<x xmlns='%s'/>" % MUC_NS)
    me = alice.wait_stanza(
        lambda el: el.tag == "{jabber:client}presence"
        and harness.bare(el.get("from")) == short_room
        and (el.get("type") == "error" or is_presence(el, short_room + "/alicenick", codes=(110,))),
        T, m, "self-presence in #chan@DOMAIN")
    assert me.get("type") != "error", xml_str(me)
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", since=mi, timeout=T)
    wait_privmsg(op, "alicenick", "opnick", "hello from config", since=mi)

    # a groupchat message to the short room JID reaches the channel
    mi = op.mark()
    alice.send_message(short_room, "to the short room", mtype="groupchat")
    wait_privmsg(op, "alicenick", "#chan", "to the short room", since=mi)

    # nick@DOMAIN is the default server's user
    mi = op.mark()
    alice.send_message("opnick@%s" % IRC_DOMAIN, "short private", mtype="chat")
    wait_privmsg(op, "alicenick", "opnick", "short private", since=mi)
    assert_alive(cw)
