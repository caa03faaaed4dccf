#!/usr/bin/python3
"""Prosody's CPU per groupchat stanza, by stanza shape (make bench-e2e's companion).

    /usr/bin/python3 tests/bench/stanza-cost.py      (about a minute)

One Prosody (the same configuration as bench-e2e.py), E2E_COST_USERS c2s users
that only drain their sockets, and a XEP-0114 component written here that sends
E2E_COST_STANZAS groupchat messages of each variant to them, round-robin, in
one of two write patterns (batched into 64 KiB writes, or one write per
stanza). Prosody's utime+stime from the first write until the users received
the last stanza, per 10,000 stanzas; medians of E2E_COST_RUNS rounds, the
variants interleaved so the machine's noise hits them alike.

    E2E_COST_CALLGRIND=1 /usr/bin/python3 tests/bench/stanza-cost.py

runs Prosody under valgrind's callgrind instead and reports the instructions
Prosody executes per stanza (callgrind_control zeroes the counters before each
variant and dumps them after it): exact and repeatable, where CPU seconds on a
shared 2-core machine vary by 15 % from round to round. One round is enough
(E2E_COST_RUNS defaults to 1 there; E2E_COST_STANZAS to 3000).
"""
import hashlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_e2e", os.path.join(HERE, "bench-e2e.py"))
e2e = importlib.util.module_from_spec(spec)
sys.argv = sys.argv[:1]
spec.loader.exec_module(e2e)
bench = e2e.bench

CALLGRIND = os.environ.get("E2E_COST_CALLGRIND", "") not in ("", "0")
USERS = int(os.environ.get("E2E_COST_USERS", "20"))
STANZAS = int(os.environ.get("E2E_COST_STANZAS", "3000" if CALLGRIND else "40000"))
RUNS = int(os.environ.get("E2E_COST_RUNS", "1" if CALLGRIND else "3"))
ROOM = "#bench%127.0.0.1@" + e2e.DOMAIN
UUID = "86e9f3f2-2fec-40b3-ac39-d159b52bb5d8"
BODY = "fan 0 lorem ipsum dolor sit amet"

VARIANTS = {
    # what Causeway sent at the start commit
    "causeway-start": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{uuid}"><body>{body}</body>'
                      '<stanza-id xmlns="urn:xmpp:sid:0" id="{uuid}" by="{room}"/></message>',
    # what biboumi 9 sends
    "biboumi": "<message from='{room}/benchirc' id='{uuid}' to='{to}' type='groupchat'><body>{body}</body></message>",
    # Causeway since 0d00e63: short ids, the stanza-id also the message id
    "causeway-short": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{sid}"><body>{body}</body>'
                      '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
    "no-stanza-id": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{uuid}"><body>{body}</body></message>',
    "no-stanza-id-short-msg-id": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{sid}"><body>{body}'
                                 '</body></message>',
    "no-ids": '<message type="groupchat" from="{room}/benchirc" to="{to}"><body>{body}</body></message>',
    "short-ids-no-msg-id": '<message type="groupchat" from="{room}/benchirc" to="{to}"><body>{body}</body>'
                           '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
    "xml-lang": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{sid}" xml:lang="en"><body>{body}'
                '</body><stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
    "bare-to": '<message type="groupchat" from="{room}/benchirc" to="{bare}" id="{sid}"><body>{body}</body>'
               '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
    "long-body": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{sid}"><body>{body}{pad}</body>'
                 '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
}
PATTERNS = ["batched", "per-stanza"] if not CALLGRIND else ["batched"]


class Drain(threading.Thread):
    def __init__(self, port, k):
        super().__init__(daemon=True)
        self.s = socket.create_connection(("127.0.0.1", port))
        self.k = k
        self.count = 0
        self.t_last = 0
        self.lock = threading.Lock()
        self.login()

    def expect(self, marker):
        buf = b""
        while marker not in buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("closed: %r" % buf)
            buf += d
        return buf

    def login(self):
        import base64
        hdr = ("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" % e2e.USER_DOMAIN).encode()
        self.s.sendall(hdr)
        self.expect(b"</stream:features>")
        cred = base64.b64encode(("\0u%d\0%s" % (self.k, e2e.PASSWORD)).encode()).decode()
        self.s.sendall(("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % cred).encode())
        self.expect(b"<success")
        self.s.sendall(hdr)
        self.expect(b"</stream:features>")
        self.s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource>"
                       b"</bind></iq>")
        self.expect(b"</iq>")
        self.s.sendall(b"<presence/>")

    def run(self):
        tail = b""
        while True:
            d = self.s.recv(1 << 20)
            if not d:
                return
            buf = tail + d
            n = buf.count(b"</message>")
            tail = buf[-12:]
            if n:
                with self.lock:
                    self.count += n
                    self.t_last = time.monotonic()


def component(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' "
               "to='%s'>" % e2e.DOMAIN).encode())
    buf = b""
    while b"id=" not in buf or b">" not in buf:
        buf += s.recv(4096)
    sid = re.search(rb"id=['\"]([^'\"]+)['\"]", buf).group(1)
    s.sendall(b"<handshake>" + hashlib.sha1(sid + e2e.SECRET.encode()).hexdigest().encode() + b"</handshake>")
    buf = b""
    while b"<handshake" not in buf:
        buf += s.recv(4096)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def main():
    import resource
    d = os.path.join(e2e.RUN, "stanza-cost")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    p = e2e.Prosody(d, USERS)
    if CALLGRIND:
        p.start(wrap=["valgrind", "--tool=callgrind",
                      "--callgrind-out-file=%s/callgrind.out.%%p" % d, prosody_interpreter()], wait_s=120)
    else:
        p.start()
    try:
        drains = [Drain(p.c2s, k) for k in range(1, USERS + 1)]
        for t in drains:
            t.start()
        comp = component(p.comp)
        time.sleep(0.5)
        res = {}
        for run in range(RUNS):
            for v, tmpl in VARIANTS.items():
                for pat in PATTERNS:
                    stanzas = []
                    for i in range(STANZAS):
                        stanzas.append(tmpl.format(room=ROOM, to="u%d@%s/r" % (i % USERS + 1, e2e.USER_DOMAIN),
                                                   bare="u%d@%s" % (i % USERS + 1, e2e.USER_DOMAIN),
                                                   uuid=UUID, sid="Kq3mZ8pA%04d" % (i % 10000), body=BODY,
                                                   pad=" x" * 100).encode())
                    before = sum(t.count for t in drains)
                    if CALLGRIND:
                        subprocess.run(["callgrind_control", "-z", str(p.proc.pid)], check=True,
                                       stdout=subprocess.DEVNULL)
                    c0 = bench_cpu(p.proc.pid)
                    t0 = time.monotonic()
                    if pat == "batched":
                        blob = b"".join(stanzas)
                        for off in range(0, len(blob), 65536):
                            comp.sendall(blob[off:off + 65536])
                    else:
                        for st in stanzas:
                            comp.sendall(st)
                    deadline = time.monotonic() + (600 if CALLGRIND else 120)
                    while sum(t.count for t in drains) - before < STANZAS and time.monotonic() < deadline:
                        time.sleep(0.01)
                    t1 = max(t.t_last for t in drains)
                    cpu = bench_cpu(p.proc.pid) - c0
                    got = sum(t.count for t in drains) - before
                    if CALLGRIND:
                        cpu = callgrind_ir(p.proc.pid, d) / 1e4   # reported per 10k: instructions per stanza
                    res.setdefault((v, pat), []).append((cpu * 1e4 / max(got, 1), got / max(t1 - t0, 1e-9),
                                                         len(stanzas[0])))
                    time.sleep(0.2)
        what = "Prosody instructions per stanza (callgrind)" if CALLGRIND else "Prosody CPU-s per 10k (median, range)"
        print("| variant | writes | bytes/stanza | %s | stanzas/s |" % what)
        print("|---|---|---|---|---|")
        base = statistics.median(x[0] for x in res[("biboumi", "batched")])
        for (v, pat), xs in res.items():
            cpus = [x[0] for x in xs]
            f = "| %s | %s | %d | %.0f (%.0f–%.0f), %.2f× biboumi's | %.0f |" if CALLGRIND else \
                "| %s | %s | %d | %.3f (%.3f–%.3f), %.2f× biboumi's | %.0f |"
            print(f % (
                v, pat, xs[0][2], statistics.median(cpus), min(cpus), max(cpus), statistics.median(cpus) / base,
                statistics.median(x[1] for x in xs)))
    finally:
        p.stop()


def prosody_interpreter():
    """The Lua of /usr/bin/prosody's #! line (valgrind does not follow env's exec)."""
    with open(shutil.which("prosody")) as f:
        line = f.readline().split()
    return shutil.which(line[-1]) or line[-1]


def callgrind_ir(pid, d):
    """Dumps callgrind's counters of pid; returns the instructions counted since the last zeroing.
    Valgrind reads the request when the program runs, so a sleeping Prosody may take a while."""
    def dumps():
        return {f: os.path.getmtime(os.path.join(d, f)) for f in os.listdir(d)
                if f.startswith("callgrind.out") and os.path.getsize(os.path.join(d, f)) > 0}
    before = dumps()
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = [f for f, m in dumps().items() if before.get(f) != m]
        if new:
            time.sleep(0.5)   # let it finish writing
            ir = None
            with open(os.path.join(d, new[0]), errors="replace") as fh:
                for line in fh:
                    if line.startswith("summary:") or line.startswith("totals:"):
                        ir = int(line.split()[1])
            if ir is not None:
                return ir
        time.sleep(0.2)
    raise RuntimeError("no callgrind dump in %s" % d)


def bench_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
