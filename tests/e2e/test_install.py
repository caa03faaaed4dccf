"""End-to-end test of the installed files: the systemd units' ExecStart= command
lines, run as systemd would run them (NOTIFY_SOCKET, WATCHDOG_USEC of
WatchdogSec=, UMask=), with the installed binary and the shipped example
configuration pointed at the test Prosody; /metrics scraped.

The installed tree is CW_INSTALL_ROOT (make check-install sets it to the
scratch root the .deb was installed into with dpkg --root); without it the
test installs this checkout with `make install DESTDIR=... PREFIX=/usr` itself.
"""
import os
import re
import shlex
import socket
import subprocess
import time

import pytest

import harness
from test_metrics import get, parse, value, wait_value

UNIT_DIR = "lib/systemd/system"


@pytest.fixture(scope="module")
def install_root(tmp_path_factory):
    root = os.environ.get("CW_INSTALL_ROOT")
    if root:
        return os.path.abspath(root)
    root = str(tmp_path_factory.mktemp("destdir"))
    out = subprocess.run(["make", "-s", "-C", harness.REPO_ROOT, "install", "PREFIX=/usr",
                          "DESTDIR=" + root], capture_output=True, text=True)
    assert out.returncode == 0, "make install failed:\n%s%s" % (out.stdout, out.stderr)
    return root


def unit_settings(path):
    """{key: [values]} of the [Service] section of a unit file."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                k, _, v = line.partition("=")
                settings.setdefault(k, []).append(v)
    return settings


def exec_start(settings, instance=None):
    """ExecStart= as argv, the way systemd reads it: one command, its
    prefixes (@-:+!) stripped, %i and %% expanded; any other specifier or a
    $VARIABLE fails the test (this parser would need to learn it)."""
    lines = settings["ExecStart"]
    assert len(lines) == 1, "one ExecStart= expected: %r" % lines
    cmd = lines[0].lstrip("@-:+!")
    assert "$" not in cmd, "ExecStart= uses a variable: %r" % cmd
    argv = []
    for a in shlex.split(cmd):
        assert not re.search(r"%[^i%]", a), "unknown specifier in %r" % a
        if "%i" in a:
            assert instance, "%%i in a non-template unit: %r" % cmd
        argv.append(a.replace("%i", instance or "").replace("%%", "%"))
    return argv


def timespan_usec(text):
    m = re.fullmatch(r"(\d+)(s|min|ms)?", text)
    assert m, "WatchdogSec=%s: this test reads only N, Ns, Nms, Nmin" % text
    return int(m.group(1)) * {None: 1000000, "s": 1000000, "ms": 1000, "min": 60000000}[m.group(2)]


def example_config(root, cfg_path, prosody, data_dir, metrics_port):
    """The installed /etc/causeway/causeway.conf (the shipped example) with only
    the site-specific values changed: the XMPP port, the component's domain and
    secret, data_dir, allowed_domains and admins, plus [metrics] listen."""
    with open(os.path.join(root, "etc/causeway/causeway.conf")) as f:
        text = f.read()
    subs = [(r"(?m)^port = 5347$", "port = %d" % prosody.comp),
            (r"(?m)^data_dir = /var/lib/causeway$", "data_dir = " + data_dir),
            (r"(?m)^allowed_domains = example.org$", "allowed_domains = localhost"),
            (r"(?m)^admins = admin@example.org$", "admins = admin@localhost"),
            (r"(?m)^domain = loop.example.org$", "domain = " + harness.GW_DOMAIN),
            (r"(?m)^secret = change-me-loop$", "secret = " + harness.GW_SECRET),
            (r"(?m)^#\[metrics\]\n#listen = .*$", "[metrics]\nlisten = 127.0.0.1:%d" % metrics_port)]
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text)
        assert n == 1, "the shipped causeway.conf changed: %r matched %d times" % (pat, n)
    with open(cfg_path, "w") as f:
        f.write(text)


@pytest.mark.parametrize("unit,instance", [("causeway.service", None), ("causeway@.service", "loop")],
                         ids=["supervisor", "template"])
def test_installed_unit_runs(rig, tmp_path, install_root, unit, instance):
    settings = unit_settings(os.path.join(install_root, UNIT_DIR, unit))
    assert settings["Type"] == ["notify"] and settings["User"] == ["causeway"], settings
    argv = exec_start(settings, instance)
    # The unit's own paths, as installed: /usr/bin/causeway and /etc/causeway/causeway.conf.
    assert argv[:3] == ["/usr/bin/causeway", "-c", "/etc/causeway/causeway.conf"], argv
    assert argv[3:] == (["--transport", instance] if instance else []), argv
    binary = os.path.join(install_root, argv[0].lstrip("/"))
    assert os.access(binary, os.X_OK), binary

    rig.start_prosody()
    port, = harness.free_ports(1)
    cw = rig.new_causeway()   # its run dir, log and teardown; its config is replaced
    example_config(install_root, cw.cfg, rig.prosody, cw.data_dir, port)
    argv = [binary, "-c", cw.cfg] + argv[3:]

    sock_path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path,
               WATCHDOG_USEC=str(timespan_usec(settings["WatchdogSec"][0])))
    umask = int(settings["UMask"][0], 8)
    old = os.umask(umask)
    try:
        cw.proc = harness.Proc(argv, cw.log_path, env=env)
    finally:
        os.umask(old)

    def ready():
        try:
            return s.recv(4096).decode() == "READY=1" or ready()
        except socket.timeout:
            assert cw.alive(), "%s exited:\n%s" % (argv, cw.report())
            return False
    harness.wait_until(ready, 15, "READY=1 from the installed %s" % unit)
    s.close()
    harness.wait_until(lambda: harness.port_open(port), 10, "metrics port")
    wait_value(port, "causeway_component_connected", lambda v: v == 1, transport="loop")
    st, body = get(port, "/health")
    assert st == 200, body
    samples = parse(get(port, "/metrics")[1])
    assert value(samples, "causeway_component_connected", transport="loop") == 1
    # the database and the key were created under data_dir, private (UMask=0077)
    time.sleep(0.2)
    made = [os.path.join(d, f) for d, _, fs in os.walk(cw.data_dir) for f in fs]
    assert made, "nothing in data_dir %s" % cw.data_dir
    for p in made:
        assert os.stat(p).st_mode & 0o077 == 0, "%s is not private: %o" % (p, os.stat(p).st_mode)
    assert cw.stop() == 0


def test_man_page_documents_every_option():
    """causeway(8) names every long option `causeway --help` offers, so the
    page cannot drift from the command line (causeway.conf(5) has the same
    check against the parser's key tables in test-config-keys)."""
    out = subprocess.run([harness.causeway_bin(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    options = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", out.stdout, re.M))
    assert "--forget-secrets" in options and "--config" in options, out.stdout
    with open(os.path.join(harness.REPO_ROOT, "man", "causeway.8")) as f:
        page = f.read().replace("\\-", "-")
    missing = sorted(o for o in options if o not in page)
    assert not missing, "options missing from man/causeway.8: %s" % missing
