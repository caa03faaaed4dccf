#!/usr/bin/python3
"""Soak test of Causeway's IRC transport: does it leak under a long, busy run?

SOAK_USERS XMPP users (default 500) join IRC channels on a real ngIRCd through
the real causeway binary, talk, leave, pause and start over, for SOAK_MINUTES
(default 10). The RSS and the open file descriptors of the causeway process
are printed at the start, every minute and at the end. The run fails when

  - the RSS at the end of the load is more than 20 % above the RSS after the
    first minute (SOAK_RSS_GROWTH, default 0.20),
  - the number of open fds, measured when nothing is joined (before the load,
    after a warm-up round, and after the load once every IRC connection has
    closed), grew,
  - causeway died or dropped its component stream, or
  - fewer than 90 % of the joins succeeded, or no message went through.

No XMPP server is involved: this script *is* the XMPP server. It listens for
causeway's XEP-0114 component stream (checks the handshake) and writes the
users' stanzas (from uK@localhost/soak) straight into it, reading what the
gateway sends back, so 500 users cost no Prosody accounts and no c2s
sessions. One raw IRC client ("soakwatch") sits in the first channel,
talks there and counts what arrives from the gateway's users.

Settings (environment):
  SOAK_USERS (500), SOAK_MINUTES (10), SOAK_CHANNEL_SIZE users per channel
  (25), SOAK_TALK seconds between a user's messages (3), SOAK_PAUSE seconds
  between a user's visits (4), SOAK_RSS_GROWTH (0.20), CAUSEWAY_BIN
  (./causeway), SOAK_DIR run directory (tests/soak/.run, emptied first).

Run: make soak [SOAK_USERS=100 SOAK_MINUTES=2]   or   /usr/bin/python3 tests/soak/soak.py
"""
import asyncio
import hashlib
import os
import random
import shutil
import sys
import time
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import harness  # noqa: E402
from irc_harness import IrcClient, NgIrcd  # noqa: E402

DOMAIN = "irc.localhost"
SECRET = "soak-secret"
SERVER = "127.0.0.1"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
STREAM_NS = "http://etherx.jabber.org/streams"


def env_num(name, default, cast=float):
    v = os.environ.get(name, "").strip()
    return cast(v) if v else default


USERS = env_num("SOAK_USERS", 500, int)
MINUTES = env_num("SOAK_MINUTES", 10.0)
CHANNEL_SIZE = max(1, env_num("SOAK_CHANNEL_SIZE", 25, int))
TALK = env_num("SOAK_TALK", 3.0)
PAUSE = env_num("SOAK_PAUSE", 4.0)
RSS_GROWTH = env_num("SOAK_RSS_GROWTH", 0.20)
RUN_DIR = os.path.abspath(os.environ.get("SOAK_DIR") or os.path.join(HERE, ".run"))
JOIN_TIMEOUT = 30.0


def log(msg):
    print("soak: %s" % msg, flush=True)


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;"))


def local(tag):
    return tag.rsplit("}", 1)[-1]


def bare(jid):
    return (jid or "").split("/", 1)[0]


def room(chan):
    return "%s%%%s@%s" % (chan, SERVER, DOMAIN)


class Stats:
    def __init__(self):
        self.joins = self.join_failed = self.join_timeouts = 0
        self.leaves = self.leave_timeouts = 0
        self.sent = self.received = self.reflected = 0
        self.errors = {}
        self.stanzas_in = 0

    def line(self):
        errs = ", ".join("%s=%d" % kv for kv in sorted(self.errors.items())) or "none"
        return ("joins %d (failed %d, timed out %d), leaves %d (timed out %d), groupchat sent %d, "
                "received %d (own reflections %d), stanzas in %d, errors: %s"
                % (self.joins, self.join_failed, self.join_timeouts, self.leaves, self.leave_timeouts,
                   self.sent, self.received, self.reflected, self.stanzas_in, errs))


class User:
    def __init__(self, srv, k):
        self.srv = srv
        self.k = k
        self.jid = "u%d@localhost/soak" % k
        self.bare = "u%d@localhost" % k
        self.nick = "sk%d" % k
        self.chan = "#soak%d" % (k // CHANNEL_SIZE)
        self.waiter = None        # (kind, future): kind "join" or "leave"
        self.joined = False


class ComponentServer:
    """The XMPP server side of one XEP-0114 component connection."""

    def __init__(self, stats):
        self.stats = stats
        self.users = {}
        self.reader = self.writer = None
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self.server = None
        self.port = None

    async def listen(self):
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _conn(self, reader, writer):
        if self.writer is not None:        # one component at a time
            writer.close()
            return
        self.reader, self.writer = reader, writer
        sid = uuid.uuid4().hex
        parser = ET.XMLPullParser(events=("start", "end"))
        depth = 0
        root = None
        handshake_ok = False
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                parser.feed(data)
                for ev, el in parser.read_events():
                    if ev == "start":
                        depth += 1
                        if depth == 1:
                            root = el
                            writer.write(("<?xml version='1.0'?><stream:stream xmlns:stream='%s' "
                                          "xmlns='jabber:component:accept' from='%s' id='%s'>"
                                          % (STREAM_NS, DOMAIN, sid)).encode())
                        continue
                    depth -= 1
                    if depth != 1:
                        continue
                    root.remove(el)
                    if not handshake_ok:
                        want = hashlib.sha1((sid + SECRET).encode()).hexdigest()
                        if local(el.tag) != "handshake" or (el.text or "").strip().lower() != want:
                            log("bad handshake: %s" % ET.tostring(el, encoding="unicode")[:200])
                            writer.write(b"<stream:error><not-authorized "
                                         b"xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
                            return
                        handshake_ok = True
                        writer.write(b"<handshake/>")
                        self.connected.set()
                        continue
                    self.stats.stanzas_in += 1
                    self.dispatch(el)
        except (ConnectionError, ET.ParseError) as e:
            log("component stream: %s" % e)
        finally:
            self.closed.set()
            writer.close()

    def send(self, xml):
        self.writer.write(xml.encode())

    async def drain(self):
        await self.writer.drain()

    def dispatch(self, el):
        tag = local(el.tag)
        to = el.get("to", "")
        typ = el.get("type")
        u = self.users.get(bare(to))
        if tag == "iq":
            if typ in ("get", "set"):
                self.send("<iq type='error' id='%s' from='%s' to='%s'><error type='cancel'>"
                          "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                          % (esc(el.get("id", "")), esc(to), esc(el.get("from", ""))))
            return
        if typ == "error":
            err = el.find("{jabber:component:accept}error")
            cond = "?"
            if err is not None and len(err):
                cond = local(err[0].tag)
            self.stats.errors[tag + ":" + cond] = self.stats.errors.get(tag + ":" + cond, 0) + 1
            if u is not None and tag == "presence" and u.waiter and u.waiter[0] == "join" \
                    and bare(el.get("from")) == room(u.chan):
                u.waiter[1].done() or u.waiter[1].set_result(False)
            return
        if u is None:
            return
        if tag == "presence":
            x = el.find("{%s}x" % MUC_USER_NS)
            codes = set()
            if x is not None:
                codes = {s.get("code") for s in x.findall("{%s}status" % MUC_USER_NS)}
            if "110" in codes and bare(el.get("from")) == room(u.chan) and u.waiter:
                kind, fut = u.waiter
                if kind == "join" and typ is None and not fut.done():
                    fut.set_result(True)
                elif kind == "leave" and typ == "unavailable" and not fut.done():
                    fut.set_result(True)
        elif tag == "message" and typ == "groupchat":
            if el.find("{jabber:component:accept}body") is not None:
                self.stats.received += 1
                if el.get("from", "").endswith("/" + u.nick):
                    self.stats.reflected += 1


async def wait_for(fut, timeout):
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        return None


async def visit(srv, u, stats, talk=TALK, messages=None):
    """Join, talk a few times, leave. Returns False when the join failed."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    u.waiter = ("join", fut)
    srv.send("<presence from='%s' to='%s/%s'><x xmlns='%s'/></presence>" % (u.jid, room(u.chan), u.nick, MUC_NS))
    ok = await wait_for(fut, JOIN_TIMEOUT)
    u.waiter = None
    if ok is None:
        stats.join_timeouts += 1
    elif not ok:
        stats.join_failed += 1
    else:
        stats.joins += 1
        u.joined = True
        for i in range(messages if messages is not None else random.randint(1, 3)):
            await asyncio.sleep(random.uniform(0.5, 1.5) * talk)
            srv.send("<message from='%s' to='%s' type='groupchat' id='m%d-%d'><body>soak %s says %d</body></message>"
                     % (u.jid, room(u.chan), u.k, i, u.nick, i))
            stats.sent += 1
        if random.random() < 0.2:
            srv.send("<iq from='%s' to='%s' type='get' id='p%d'><ping xmlns='urn:xmpp:ping'/></iq>"
                     % (u.jid, DOMAIN, u.k))
        await srv.drain()
    # leave (also after a failed or timed-out join, so nothing lingers)
    fut = loop.create_future()
    u.waiter = ("leave", fut)
    srv.send("<presence from='%s' to='%s/%s' type='unavailable'/>" % (u.jid, room(u.chan), u.nick))
    if u.joined:
        left = await wait_for(fut, JOIN_TIMEOUT)
        if left:
            stats.leaves += 1
        else:
            stats.leave_timeouts += 1
    u.waiter = None
    u.joined = False
    return bool(ok)


async def user_loop(srv, u, stats, start_in, deadline):
    await asyncio.sleep(start_in)
    while time.monotonic() < deadline:
        await visit(srv, u, stats)
        await asyncio.sleep(random.uniform(0.5, 1.5) * PAUSE)


def sample(pid):
    return harness.proc_rss_kb(pid), harness.proc_fd_count(pid)


async def wait_quiet(watcher, timeout=120.0):
    """Until the watcher is the only user on the IRC server (every gateway
    connection closed)."""
    end = time.monotonic() + timeout
    n = None
    while time.monotonic() < end:
        n = await asyncio.to_thread(watcher.lusers)
        if n <= 1:
            return True
        await asyncio.sleep(1.0)
    log("still %s IRC users after %.0f s" % (n, timeout))
    return False


async def main():
    if os.path.isdir(RUN_DIR):
        shutil.rmtree(RUN_DIR)
    os.makedirs(RUN_DIR)
    stats = Stats()
    problems = []
    ngircd = NgIrcd(os.path.join(RUN_DIR, "ngircd"))   # MaxConnectionsIP = 0: all users come from 127.0.0.1
    ngircd.start()
    srv = ComponentServer(stats)
    await srv.listen()
    data = os.path.join(RUN_DIR, "data")
    os.makedirs(data)
    conf = os.path.join(RUN_DIR, "causeway.conf")
    harness.causeway_config(conf, srv.port, data, domain=DOMAIN, secret=SECRET,
                            allowed_domains="localhost", name="irc", ttype="irc",
                            extra="irc_port = %d\nhistory = 5\nirc_servers = 127.0.0.1\n"
                                  # every soak user connects to the one ngIRCd
                                  "max_connections_per_server = 100000\n" % ngircd.port)
    bin_ = harness.causeway_bin()
    cw = harness.Proc([bin_, "-c", conf, "--transport", "irc"], os.path.join(RUN_DIR, "causeway.log"))
    watcher = None
    try:
        await asyncio.wait_for(srv.connected.wait(), 15)
        log("causeway %s (pid %d) connected; %d users in channels of %d, %.1f min; run dir %s"
            % (bin_, cw.pid, USERS, CHANNEL_SIZE, MINUTES, RUN_DIR))
        users = [User(srv, k) for k in range(USERS)]
        srv.users = {u.bare: u for u in users}
        watcher = IrcClient(ngircd.port, "soakwatch")
        await asyncio.to_thread(watcher.connect)
        await asyncio.to_thread(watcher.join, "#soak0")

        # warm-up: a few users visit once, so one-time allocations are made
        await asyncio.gather(*(visit(srv, u, stats, talk=0.2, messages=1) for u in users[:5]))
        await wait_quiet(watcher)
        rss0, fds0 = sample(cw.pid)
        log("t=0s start (nothing joined): rss=%d KiB fds=%d" % (rss0, fds0))

        t0 = time.monotonic()
        deadline = t0 + MINUTES * 60
        ramp = min(30.0, MINUTES * 60 / 4)
        tasks = [asyncio.create_task(user_loop(srv, u, stats, random.uniform(0, ramp), deadline))
                 for u in users]

        async def watcher_talk():
            i = 0
            while time.monotonic() < deadline:
                await asyncio.to_thread(watcher.privmsg, "#soak0", "watcher line %d" % i)
                i += 1
                await asyncio.sleep(5)
        tasks.append(asyncio.create_task(watcher_talk()))

        samples = []
        next_sample = t0 + 60
        while time.monotonic() < deadline:
            await asyncio.sleep(min(1.0, max(0.0, min(next_sample, deadline) - time.monotonic())))
            if not cw.alive():
                raise RuntimeError("causeway died (status %s)" % cw.returncode)
            if srv.closed.is_set():
                raise RuntimeError("causeway closed its component stream")
            if time.monotonic() >= next_sample and time.monotonic() < deadline - 1:
                rss, fds = sample(cw.pid)
                samples.append((time.monotonic() - t0, rss, fds))
                log("t=%.0fs rss=%d KiB fds=%d | %s" % (time.monotonic() - t0, rss, fds, stats.line()))
                next_sample += 60
        rss_end_load, fds_end_load = sample(cw.pid)
        log("t=%.0fs end of load: rss=%d KiB fds=%d | %s"
            % (time.monotonic() - t0, rss_end_load, fds_end_load, stats.line()))
        await asyncio.wait_for(asyncio.gather(*tasks), JOIN_TIMEOUT * 3 + 60)
        quiet = await wait_quiet(watcher)
        await asyncio.sleep(1.0)
        rss_end, fds_end = sample(cw.pid)
        log("t=%.0fs end (everyone left%s): rss=%d KiB fds=%d"
            % (time.monotonic() - t0, "" if quiet else ", but IRC connections remain", rss_end, fds_end))
        irc_got = len(watcher.find(command="PRIVMSG", pred=lambda l: l.nick and l.nick.startswith("sk")))
        log("totals: %s; the IRC watcher received %d lines from gateway users" % (stats.line(), irc_got))

        # verdict
        if not cw.alive():
            problems.append("causeway died (status %s)" % cw.returncode)
        rss_1min = samples[0][1] if samples else None
        if rss_1min:
            growth = (rss_end_load - rss_1min) / rss_1min
            log("RSS after the first minute %d KiB, at the end of the load %d KiB: %+.1f %% (limit %+.0f %%)"
                % (rss_1min, rss_end_load, growth * 100, RSS_GROWTH * 100))
            if growth > RSS_GROWTH:
                problems.append("RSS grew %.1f %% after the first minute (%d -> %d KiB)"
                                % (growth * 100, rss_1min, rss_end_load))
        else:
            log("no sample after the first minute (SOAK_MINUTES < 2?): RSS growth not judged")
        log("fds with nothing joined: %d at the start, %d at the end" % (fds0, fds_end))
        if fds_end > fds0:
            problems.append("open fds grew from %d to %d" % (fds0, fds_end))
        if not quiet:
            problems.append("IRC connections still open after everyone left")
        attempts = stats.joins + stats.join_failed + stats.join_timeouts
        if attempts == 0 or stats.joins < 0.9 * attempts:
            problems.append("only %d of %d joins succeeded" % (stats.joins, attempts))
        if stats.received == 0 or irc_got == 0:
            problems.append("no messages went through (XMPP received %d, IRC %d)" % (stats.received, irc_got))
    except Exception as e:  # noqa: BLE001
        problems.append("%s: %s" % (type(e).__name__, e))
    finally:
        if watcher is not None:
            watcher.stop()
        status = None
        if cw.alive():
            cw.stop(10)
            status = cw.returncode
        else:
            cw.close()
        if status not in (None, 0):
            problems.append("causeway exited with status %s on SIGTERM" % status)
        ngircd.stop()
        srv.server.close()
    if problems:
        log("FAILED:\n  " + "\n  ".join(problems))
        log("causeway log (tail):\n" + harness.tail(cw.log_path, 20))
        return 1
    log("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
