#!/bin/bash
# sandbox.sh — `make run`: a local sandbox on loopback. Starts Prosody (with
# XEP-0356) from .sandbox/, registers a demo user, and runs Causeway in the
# foreground with a generated config. Ctrl-C stops everything it started.
# Ports: SANDBOX_C2S (default 5222) and SANDBOX_COMPONENT (default 5347).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$HERE/.sandbox"
C2S=${SANDBOX_C2S:-5222}
COMP=${SANDBOX_COMPONENT:-5347}
SECRET=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

port_busy() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
for p in "$C2S" "$COMP"; do
    if port_busy "$p"; then
        echo "port $p on 127.0.0.1 is in use; choose others: SANDBOX_C2S=15222 SANDBOX_COMPONENT=15347 make run" >&2
        exit 1
    fi
done

mkdir -p "$DIR/prosody/data" "$DIR/prosody/certificates" "$DIR/causeway"
sed -e "s|@DIR@|$DIR/prosody|g" -e "s|@C2S@|$C2S|g" -e "s|@COMP@|$COMP|g" \
    -e "s|@SECRET@|$SECRET|g" "$HERE/scripts/sandbox-prosody.cfg.lua.in" > "$DIR/prosody/prosody.cfg.lua"
prosodyctl --config "$DIR/prosody/prosody.cfg.lua" register demo localhost demo >/dev/null 2>&1 || true

cat > "$DIR/causeway.conf" <<CONF
[xmpp]
host = 127.0.0.1
port = $COMP
reconnect_min = 0.5
reconnect_max = 10
[gateway]
data_dir = $DIR/causeway
allowed_domains = localhost
admins = demo@localhost
[transport:loop]
type = loopback
domain = loop.localhost
secret = $SECRET
CONF

prosody --config "$DIR/prosody/prosody.cfg.lua" -F > "$DIR/prosody/stdout.log" 2>&1 &
PROSODY=$!
cleanup() { kill "$PROSODY" 2>/dev/null || true; wait "$PROSODY" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do port_busy "$COMP" && break; sleep 0.05; done

cat <<MSG

Causeway sandbox (everything on 127.0.0.1; files in $DIR):
  XMPP server  Prosody, client port $C2S, domain localhost, no TLS required
  account      demo@localhost, password demo (an admin of the gateway)
  gateway      loop.localhost — the loopback test network: register in your
               client's service discovery, then chat with echo@loop.localhost
  Connect e.g. with Gajim/Dino/Profanity to demo@localhost on 127.0.0.1:$C2S.
  Ctrl-C stops the sandbox.

MSG
"$HERE/causeway" -c "$DIR/causeway.conf" -v
