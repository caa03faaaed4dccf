"""After the component reconnects (issue 14, finding 8): no ghost sessions.

Real Prosody, real ngIRCd, slixmpp clients and raw IRC clients. When Prosody
restarts, every client connection goes with it, but nothing tells the gateway
which of its users' resources are gone. A resource not heard from within
resume_grace after the reconnect is dropped as if it had sent unavailable
presence (its IRC session quits, its nick leaves the channel); one that comes
back in time keeps its session.
"""
import os
import time

import pytest

from irc_harness import (IrcClient, IrcGatewayAddr, NgIrcd, irc_causeway_extra, muc_join, muc_send,
                         wait_privmsg)

IRC_DOMAIN = "irc.localhost"
A = IrcGatewayAddr(IRC_DOMAIN, "127.0.0.1")
T = 10.0
GRACE = 2.0


@pytest.fixture
def prosody(rig):
    return rig.start_prosody(domain=IRC_DOMAIN)


@pytest.fixture
def ngircd(rig):
    return rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()


@pytest.fixture
def causeway(rig, prosody, ngircd):
    return rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                            extra=irc_causeway_extra(ngircd.port, extra="resume_grace = %s\n" % GRACE)).start()


@pytest.fixture
def op(rig, ngircd):
    c = IrcClient(ngircd.port, "opnick", label="raw-opnick")
    rig.add_service(c)
    c.connect()
    c.join("#chan")
    return c


def left_irc(nick):
    return lambda l: l.nick == nick and l.command in ("QUIT", "PART")


def restart_prosody(prosody, causeway, client):
    prosody.kill()
    client.disconnected.wait(5)
    prosody.start()
    causeway.wait_connected(2, timeout=60)


def test_ghost_resource_dropped_after_grace(rig, prosody, causeway, alice, op):
    muc_join(alice, A, "#chan", "alicenick")
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", timeout=T, what="alicenick's JOIN")
    m = op.mark()
    restart_prosody(prosody, causeway, alice)
    t_up = time.monotonic()
    # alice's client never comes back: her nick must not stay in the channel
    line = op.wait(pred=left_irc("alicenick"), since=m, timeout=GRACE + T,
                   what="alicenick leaving IRC after the grace period")
    assert time.monotonic() - t_up >= GRACE * 0.5, "dropped before the grace period: %r" % line.raw
    assert causeway.alive()


def test_resource_back_in_time_keeps_its_session(rig, prosody, causeway, alice, op):
    muc_join(alice, A, "#chan", "alicenick")
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", timeout=T, what="alicenick's JOIN")
    m = op.mark()
    restart_prosody(prosody, causeway, alice)
    a2 = rig.client("alice")
    a2.send_presence()
    muc_join(a2, A, "#chan", "alicenick", timeout=T)
    time.sleep(GRACE + 1.0)  # past the grace period: nothing may have been dropped
    op.sync()
    assert not op.find(pred=left_irc("alicenick"), since=m), "the returning user's session was dropped"
    mi = op.mark()
    muc_send(a2, A, "#chan", "still here")
    wait_privmsg(op, "alicenick", "#chan", "still here", since=mi, timeout=T)
