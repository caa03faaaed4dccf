"""The backup and restore procedure of docs/admin-guide.md, against a real
Prosody and ngIRCd: the key file kept outside data_dir, the database copied
with `sqlite3 DB ".backup FILE"` while the gateway runs, the two restored
after a loss; a database restored without its key is refused by name (no
new key is made over stored secrets) until the key is back or the admin
runs --forget-secrets: then the registrations stay and only the secrets go.
"""
import os
import re
import shutil
import stat
import subprocess

import harness
from irc_harness import IrcClient
from test_irc import IRC_DOMAIN, SERVER_JID, T, adhoc_configure, join, wait_privmsg
from test_secrets import AFTER_CONNECT, AFTER_SECRET, ngircd, prosody  # noqa: F401 (fixtures)


def start_with_key(rig, irc_port, key):
    cw = rig.new_causeway(domain=IRC_DOMAIN, ttype="irc", transport="irc",
                          extra="irc_port = %d\nflood_burst = 0\n" % irc_port)
    with open(cw.cfg) as f:
        text = f.read()
    with open(cw.cfg, "w") as f:
        f.write(text.replace("[gateway]\n", "[gateway]\nkey_file = %s\n" % key, 1))
    return cw


def db_files(cw):
    return [os.path.join(cw.data_dir, "irc.db" + s) for s in ("", "-wal", "-shm")]


def restore(cw, backup_db):
    """The disk is gone: remove the database (and its WAL), put the backup back."""
    for p in db_files(cw):
        if os.path.exists(p):
            os.unlink(p)
    shutil.copyfile(backup_db, db_files(cw)[0])
    os.chmod(db_files(cw)[0], 0o600)


def test_backup_and_restore(rig, prosody, ngircd, alice):  # noqa: F811 (fixtures)
    keydir = os.path.join(rig.dir, "etc")
    os.makedirs(keydir)
    key = os.path.join(keydir, "causeway.key")
    backups = os.path.join(rig.dir, "backups")
    os.makedirs(os.path.join(backups, "db"))
    os.makedirs(os.path.join(backups, "key"))
    cw = start_with_key(rig, ngircd.port, key)
    cw.start()
    adhoc_configure(alice, SERVER_JID, {"after_connect": AFTER_CONNECT})

    # the backup, while the gateway runs: the database with sqlite3's .backup,
    # the key on its own
    backup_db = os.path.join(backups, "db", "irc.db")
    r = subprocess.run(["sqlite3", db_files(cw)[0], ".backup '%s'" % backup_db],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["sqlite3", backup_db, "PRAGMA integrity_check"], capture_output=True,
                       text=True, timeout=30)
    assert r.stdout.strip() == "ok", r.stdout + r.stderr
    backup_key = os.path.join(backups, "key", "causeway.key")
    shutil.copy2(key, backup_key)
    with open(backup_db, "rb") as f:
        assert AFTER_SECRET.encode() not in f.read(), "the database backup holds the secret in clear"
    cw.stop()

    # both lost, both restored: the stored command is decrypted and sent again
    os.unlink(key)
    restore(cw, backup_db)
    shutil.copy2(backup_key, key)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    cw.start(wait_connected=False)
    cw.wait_connected(2)
    op = IrcClient(ngircd.port, "opnick", label="raw-opnick")
    rig.add_service(op)
    op.connect(timeout=T)
    op.join("#c")
    mi = op.mark()
    join(alice, "#c", "alicenick")
    wait_privmsg(op, "alicenick", "opnick", "IDENTIFY %s" % AFTER_SECRET, since=mi)
    cw.stop()

    # the database restored without its key: the gateway refuses to start
    # (a new key would not decrypt the stored secrets), names the key file,
    # and makes no new key
    os.unlink(key)
    restore(cw, backup_db)
    r = subprocess.run([cw.bin, "-c", cw.cfg, "--transport", "irc"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1, r.stderr
    assert "[gateway] key_file" in r.stderr and key in r.stderr, r.stderr
    assert "restore the key file" in r.stderr and "--forget-secrets" in r.stderr, r.stderr
    assert not os.path.exists(key)

    # the key is lost for good: --forget-secrets deletes the secrets (and
    # says how many); then the gateway starts with a new key, the user is
    # still registered, the join works, the command is not sent
    r = subprocess.run([cw.bin, "-c", cw.cfg, "--forget-secrets"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "transport: irc\nsecrets_removed: 1\nroom_passwords_removed: 0\n" in r.stdout, r.stdout
    assert "forgot the secrets of transport irc (1 values, 0 room passwords)" in r.stderr, r.stderr
    cw.start(wait_connected=False)
    cw.wait_connected(3)
    cw.wait_log("created key file %s" % key)
    mi = op.mark()
    # alice's client still counts itself in #c; the restored database has no
    # rooms: she joins again
    join(alice, "#c", "alicenick")
    op.wait(command="JOIN", pred=lambda l: l.nick == "alicenick", since=mi, timeout=T)
    op.sync()
    assert not op.find(command="PRIVMSG", pred=lambda l: "IDENTIFY" in l.params[-1], since=mi)
