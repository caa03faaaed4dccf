"""End-to-end tests of [metrics] (/metrics, /health) and sd_notify.

Real Prosody, the real causeway binary (supervisor and children), a real
AF_UNIX datagram socket as NOTIFY_SOCKET (the sd_notify protocol itself).
"""
import os
import re
import signal
import socket
import time
import urllib.error
import urllib.request

import harness

GW = harness.GW_DOMAIN
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def metrics_extra(port):
    return "\n[metrics]\nlisten = 127.0.0.1:%d\n" % port


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse(text):
    """{(name, frozenset(labels)): value}; asserts the exposition is well formed."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in typed, "family %s typed twice:\n%s" % (name, text)
            typed.add(name)
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "bad sample line %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        assert m.group(1) in typed or m.group(1).rsplit("_", 1)[0] in typed, line
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name, **labels):
    want = set(labels.items())
    for (n, ls), v in samples.items():
        if n == name and want <= set(ls):
            return v
    return None


def wait_value(port, name, pred, timeout=15, **labels):
    last = [None]

    def check():
        last[0] = value(parse(get(port, "/metrics")[1]), name, **labels)
        return last[0] is not None and pred(last[0])
    try:
        harness.wait_until(check, timeout, "%s%s" % (name, labels))
    except Exception:
        raise AssertionError("%s %s: last value %s" % (name, labels, last[0]))
    return last[0]


def test_metrics_supervisor(rig):
    rig.start_prosody()
    port, = harness.free_ports(1)
    cw = rig.new_causeway(extra=metrics_extra(port))
    cw.start(supervisor=True)
    harness.wait_until(lambda: harness.port_open(port), 10, "metrics port")
    wait_value(port, "causeway_component_connected", lambda v: v == 1, transport="loop")
    st, body = get(port, "/health")
    assert st == 200, body

    # a message sent to the gateway makes it send one back: stanzas out by kind moves
    before = wait_value(port, "causeway_stanzas_out_total", lambda v: True, kind="message",
                        transport="loop", type="loopback")
    alice = rig.client("alice")
    alice.send_message(GW, "help")
    alice.wait_message(frm=GW)
    wait_value(port, "causeway_stanzas_out_total", lambda v: v > before, kind="message",
               transport="loop")
    assert value(parse(get(port, "/metrics")[1]), "causeway_stanzas_in_total",
                 kind="message") >= 1

    # kill -9 of the child: the supervisor counts a restart, the child comes back
    assert value(parse(get(port, "/metrics")[1]), "causeway_child_restarts_total",
                 transport="loop") == 0
    sup = cw.proc.pid
    kids = [p for p in harness.children_of(sup)]
    assert len(kids) == 1, kids
    os.kill(kids[0], signal.SIGKILL)
    wait_value(port, "causeway_child_restarts_total", lambda v: v == 1, transport="loop")
    cw.wait_connected(2, timeout=20)
    wait_value(port, "causeway_component_connected", lambda v: v == 1, transport="loop")

    # /health follows the XMPP server
    rig.prosody.kill()
    harness.wait_until(lambda: get(port, "/health")[0] == 503, 15, "/health 503")
    st, body = get(port, "/health")
    assert "transport loop" in body and "since" in body, body
    rig.prosody.start()
    harness.wait_until(lambda: get(port, "/health")[0] == 200, 30, "/health 200 again")
    assert get(port, "/nothing")[0] == 404


def test_metrics_single_transport(rig):
    """--transport NAME alone serves its own /metrics and /health."""
    rig.start_prosody()
    port, = harness.free_ports(1)
    cw = rig.start_causeway(extra=metrics_extra(port))
    harness.wait_until(lambda: harness.port_open(port), 10, "metrics port")
    samples = parse(get(port, "/metrics")[1])
    assert value(samples, "causeway_component_connected", transport="loop") == 1
    assert value(samples, "causeway_child_restarts_total") is None  # no supervisor here
    assert get(port, "/health")[0] == 200
    cw.stop()


def test_sd_notify(rig, tmp_path):
    rig.start_prosody()
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    cw = rig.new_causeway()
    os.environ["NOTIFY_SOCKET"] = path
    os.environ["WATCHDOG_USEC"] = "400000"  # pings every 200 ms
    try:
        cw.start(supervisor=True)
    finally:
        del os.environ["NOTIFY_SOCKET"]
        del os.environ["WATCHDOG_USEC"]
    got = []
    deadline = time.time() + 10
    while time.time() < deadline and not ("READY=1" in got and got.count("WATCHDOG=1") >= 3):
        try:
            got.append(s.recv(4096).decode())
        except socket.timeout:
            pass
    assert "READY=1" in got, got
    assert got.count("WATCHDOG=1") >= 3, got
    assert any(g.startswith("STATUS=1 of 1 transports connected") for g in got), got
    # the child never talks to systemd itself: only the supervisor's status lines
    assert not any("disconnected" in g or g.startswith("STATUS=connecting") for g in got), got
    cw.proc.signal(signal.SIGTERM)
    cw.wait_exit(10)
    rest = []
    try:
        while True:
            rest.append(s.recv(4096).decode())
    except socket.timeout:
        pass
    assert "STOPPING=1" in rest, rest
    s.close()


def test_metrics_irc_reconnects(rig):
    """A killed IRC server: legacy reconnects counted, connection states follow, errors by condition."""
    from irc_harness import NgIrcd
    from test_irc import IRC_DOMAIN, join, groupchat
    rig.start_prosody(domain=IRC_DOMAIN)
    ngircd = rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()
    port, = harness.free_ports(1)
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                          extra="irc_port = %d\nflood_burst = 0\nirc_servers = 127.0.0.1\n%s" % (ngircd.port,
                                                                         metrics_extra(port)))
    cw.start(supervisor=True)
    alice = rig.client("alice")
    join(alice, "#chan", "alicenick")
    wait_value(port, "causeway_legacy_connections", lambda v: v == 1, state="connected",
               transport="irc", type="irc")
    assert value(parse(get(port, "/metrics")[1]), "causeway_legacy_reconnects_total") in (None, 0)
    ngircd.kill()
    wait_value(port, "causeway_legacy_reconnects_total", lambda v: v >= 1, transport="irc")
    wait_value(port, "causeway_legacy_connections", lambda v: v == 0, state="connected")
    groupchat(alice, "#chan", "sent while down")
    wait_value(port, "causeway_errors_sent_total", lambda v: v >= 1, transport="irc")
    ngircd.start()
    wait_value(port, "causeway_legacy_connections", lambda v: v == 1, state="connected",
               timeout=30)
    samples = parse(get(port, "/metrics")[1])
    assert value(samples, "causeway_store_statement_seconds_count", transport="irc") > 0
    assert value(samples, "causeway_legacy_queue_bytes", transport="irc") is not None


def parse_journal(data):
    """The journal's native protocol: KEY=VALUE\\n, or KEY\\n<le64 length><bytes>\\n."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            n = int.from_bytes(data[nl + 1:nl + 9], "little")
            v = data[nl + 9:nl + 9 + n]
            assert data[nl + 9 + n:nl + 10 + n] == b"\n", data
            i = nl + 10 + n
        assert re.match(rb"^[A-Z0-9_]+$", k), k
        fields[k.decode()] = v.decode()
    return fields


def test_journal_logging(rig, tmp_path):
    """[gateway] log = journal: records reach a real AF_UNIX datagram socket in the
    journal's native protocol (systemd-journald cannot run here), with PRIORITY,
    CAUSEWAY_TRANSPORT and, hashed, CAUSEWAY_USER."""
    import hashlib
    from irc_harness import NgIrcd
    from test_irc import IRC_DOMAIN, join
    rig.start_prosody(domain=IRC_DOMAIN)
    ngircd = rig.add_service(NgIrcd(os.path.join(rig.dir, "ngircd"))).start()
    path = str(tmp_path / "journal.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                          extra="irc_port = %d\nflood_burst = 0\nirc_servers = 127.0.0.1\n" % ngircd.port,
                          gateway_extra="log = journal\nlog_user_jids = hash\n")
    os.environ["CAUSEWAY_JOURNAL_SOCKET"] = path
    try:
        cw.start(supervisor=True, wait_connected=False)
    finally:
        del os.environ["CAUSEWAY_JOURNAL_SOCKET"]
    records = []

    def wait_record(pred, what, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for r in records:
                if pred(r):
                    return r
            try:
                records.append(parse_journal(s.recv(1 << 20)))
            except socket.timeout:
                pass
        raise AssertionError("no journal record %s in %r" % (what, records))

    r = wait_record(lambda r: "component %s connected" % IRC_DOMAIN in r.get("MESSAGE", ""), "connected")
    assert r["CAUSEWAY_TRANSPORT"] == "irc" and r["PRIORITY"] == "5" and r["SYSLOG_IDENTIFIER"] == "causeway", r
    sup = wait_record(lambda r: r.get("MESSAGE", "").startswith("started transport irc"), "supervisor")
    assert "CAUSEWAY_TRANSPORT" not in sup, sup
    alice = rig.client("alice")
    join(alice, "#chan", "alicenick")
    ngircd.kill()
    r = wait_record(lambda r: "Lost the connection" in r.get("MESSAGE", ""), "about alice")
    assert r.get("CAUSEWAY_USER") == hashlib.sha256(b"alice@localhost").hexdigest()[:16], r
    assert cw.log() == "" or "Lost the connection" not in cw.log()  # not on stderr as well
    s.close()
