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
"""
import hashlib
import importlib.util
import os
import re
import shutil
import socket
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

USERS = int(os.environ.get("E2E_COST_USERS", "20"))
STANZAS = int(os.environ.get("E2E_COST_STANZAS", "40000"))
RUNS = int(os.environ.get("E2E_COST_RUNS", "3"))
ROOM = "#bench%127.0.0.1@" + e2e.DOMAIN
UUID = "86e9f3f2-2fec-40b3-ac39-d159b52bb5d8"
BODY = "fan 0 lorem ipsum dolor sit amet"

VARIANTS = {
    # what Causeway sent at the start commit
    "causeway-start": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{uuid}"><body>{body}</body>'
                      '<stanza-id xmlns="urn:xmpp:sid:0" id="{uuid}" by="{room}"/></message>',
    # what biboumi 9 sends
    "biboumi": "<message from='{room}/benchirc' id='{uuid}' to='{to}' type='groupchat'><body>{body}</body></message>",
    "no-stanza-id": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{uuid}"><body>{body}</body></message>',
    "short-ids": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{sid}"><body>{body}</body>'
                 '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
    "short-ids-no-msg-id": '<message type="groupchat" from="{room}/benchirc" to="{to}"><body>{body}</body>'
                           '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
    "xml-lang": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{uuid}" xml:lang="en"><body>{body}'
                '</body><stanza-id xmlns="urn:xmpp:sid:0" id="{uuid}" by="{room}"/></message>',
    "long-body": '<message type="groupchat" from="{room}/benchirc" to="{to}" id="{sid}"><body>{body}{pad}</body>'
                 '<stanza-id xmlns="urn:xmpp:sid:0" id="{sid}" by="{room}"/></message>',
}
PATTERNS = ["batched", "per-stanza"]


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
    p = e2e.Prosody(d, USERS).start()
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
                                                   uuid=UUID, sid="Kq3mZ8pA%04d" % (i % 10000), body=BODY,
                                                   pad=" x" * 100).encode())
                    before = sum(t.count for t in drains)
                    c0 = bench_cpu(p.proc.pid)
                    t0 = time.monotonic()
                    if pat == "batched":
                        blob = b"".join(stanzas)
                        for off in range(0, len(blob), 65536):
                            comp.sendall(blob[off:off + 65536])
                    else:
                        for st in stanzas:
                            comp.sendall(st)
                    deadline = time.monotonic() + 120
                    while sum(t.count for t in drains) - before < STANZAS and time.monotonic() < deadline:
                        time.sleep(0.01)
                    t1 = max(t.t_last for t in drains)
                    cpu = bench_cpu(p.proc.pid) - c0
                    got = sum(t.count for t in drains) - before
                    res.setdefault((v, pat), []).append((cpu * 1e4 / max(got, 1), got / max(t1 - t0, 1e-9),
                                                         len(stanzas[0])))
                    time.sleep(0.2)
        print("| variant | writes | bytes/stanza | Prosody CPU-s per 10k (median, range) | stanzas/s |")
        print("|---|---|---|---|---|")
        base = statistics.median(x[0] for x in res[("biboumi", "batched")])
        for (v, pat), xs in res.items():
            cpus = [x[0] for x in xs]
            print("| %s | %s | %d | %.3f (%.3f–%.3f), %.2f× biboumi's | %.0f |" % (
                v, pat, xs[0][2], statistics.median(cpus), min(cpus), max(cpus), statistics.median(cpus) / base,
                statistics.median(x[1] for x in xs)))
    finally:
        p.stop()


def bench_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
