#!/bin/bash
# sandbox.sh — `make run`: the whole thing on loopback, in the foreground.
# Starts Prosody (XEP-0356 granted to the gateways), ngIRCd, an IRC demo user
# (scripts/sandbox-bot.lua) in #causeway, Kannel (bearerbox + smsbox) with
# fakesmsc as the phone network (its stdin is the FIFO kannel/phone: write
# "FROM TO text ..." lines into it to text), and Causeway in supervisor mode
# with four transports: irc (irc.localhost, default server = this ngIRCd, so
# #causeway@irc.localhost works), sms (sms.localhost, numbers
# +15550100-+15550199 to claim), purple (purple.localhost, prpl-jabber; its
# legacy network is Prosody's second VirtualHost legacy.localhost, with the
# account demo@legacy.localhost to register and buddy@legacy.localhost, played
# by scripts/mod_sandbox_buddy.lua, who answers) and loopback (loop.localhost,
# echo@). Prints how to connect, then waits. Ctrl-C or SIGTERM stops everything it started
# (by PID); if one of them dies, the rest are stopped too. State (the demo
# account, the gateways' databases and key) stays in the sandbox directory, so
# the next run reuses it; logs are there too.
#
# Environment (all optional):
#   SANDBOX_C2S=5222  SANDBOX_COMPONENT=5347  SANDBOX_IRC=6667   ports on 127.0.0.1
#   SANDBOX_KANNEL=13000   Kannel's ports: admin +0, smsbox +1, sendsms +13, fake
#                          SMS centre +20; Causeway's SMS callbacks +100
#   SANDBOX_DIR=.sandbox      state and logs (relative to the repository)
#   CAUSEWAY_BIN=./causeway   the binary to run
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DIR=${SANDBOX_DIR:-$HERE/.sandbox}
case "$DIR" in /*) ;; *) DIR="$HERE/$DIR" ;; esac
C2S=${SANDBOX_C2S:-5222}
COMP=${SANDBOX_COMPONENT:-5347}
IRC=${SANDBOX_IRC:-6667}
KANNEL=${SANDBOX_KANNEL:-13000}
K_ADMIN=$KANNEL K_SMSBOX=$((KANNEL + 1)) K_SENDSMS=$((KANNEL + 13)) K_FAKE=$((KANNEL + 20))
K_CALLBACK=$((KANNEL + 100))
BIN=${CAUSEWAY_BIN:-$HERE/causeway}
IRC_DOMAIN=irc.localhost
LOOP_DOMAIN=loop.localhost
SMS_DOMAIN=sms.localhost
SMS_NUMBERS=+15550100-+15550199
SMS_DEMO_NUMBER=+15550100   # what the banner suggests claiming
PHONE=+15557654321          # the fake phone the banner texts from
FAKESMSC=/usr/lib/kannel/test/fakesmsc
IRC_SERVER=localhost          # what Causeway connects to: the JIDs' %server part
IRC_NAME=irc.sandbox.localhost  # ngIRCd's own name (must contain a dot)
CHAN='#causeway'
BOT=demobot
USER_JID=demo@localhost
USER_PW=demo
PURPLE_DOMAIN=purple.localhost
LEGACY_HOST=legacy.localhost   # Prosody's second VirtualHost: the purple component's legacy network
LEGACY_USER=demo
LEGACY_PW=legacy
LEGACY_BUDDY=buddy             # scripts/mod_sandbox_buddy.lua

say() { echo "sandbox: $*"; }
die() { echo "sandbox: $*" >&2; exit 1; }

for tool in prosody prosodyctl ngircd lua5.4 bearerbox smsbox "$FAKESMSC"; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool is missing: run \`make run\` (installs the run profile) or scripts/install-deps.sh run"
done
[ -x "$BIN" ] || die "$BIN is not built: run \`make run\` (or make, then this script)"

port_busy() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
busy=""
port_busy "$C2S" && busy="$busy SANDBOX_C2S=$C2S"
port_busy "$COMP" && busy="$busy SANDBOX_COMPONENT=$COMP"
port_busy "$IRC" && busy="$busy SANDBOX_IRC=$IRC"
for p in $K_ADMIN $K_SMSBOX $K_SENDSMS $K_FAKE $K_CALLBACK; do
    port_busy "$p" && { busy="$busy SANDBOX_KANNEL=$KANNEL (port $p)"; break; }
done
if [ -n "$busy" ]; then
    die "in use on 127.0.0.1:$busy; move them, e.g. SANDBOX_C2S=15222 SANDBOX_COMPONENT=15347 SANDBOX_IRC=16667 SANDBOX_KANNEL=23000 make run"
fi

secret() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
SECRET_IRC=$(secret)
SECRET_LOOP=$(secret)
SECRET_SMS=$(secret)
SECRET_PURPLE=$(secret)
SMS_TOKEN=$(secret)
KANNEL_PW=$(secret)

# ---- processes: started here, stopped by PID ------------------------------
PIDS=()
declare -A NAME LOG
# Each runs in its own session (setsid: the same PID, as it is no group
# leader): Ctrl-C in the terminal reaches only this script, whose trap stops
# them in reverse order (Causeway first, so it leaves IRC cleanly) instead of
# each dying on its own and racing the others.
start() {   # [STDIN=FILE] start NAME LOGFILE COMMAND...
    local name=$1 log=$2
    shift 2
    setsid "$@" >"$log" 2>&1 <"${STDIN:-/dev/null}" &
    PIDS+=("$!")
    NAME[$!]=$name
    LOG[$!]=$log
}
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
children() {  # live children of PID $1, from /proc (procps is not in minbase)
    local f st state ppid
    for f in /proc/[0-9]*/stat; do
        { read -r st < "$f"; } 2>/dev/null || continue
        read -r state ppid _ <<< "${st##*) }"
        [ "$ppid" = "$1" ] && [ "$state" != Z ] && { f=${f#/proc/}; echo "${f%/stat}"; }
    done
    return 0
}
stop_pid() {
    local pid=$1 i kids
    alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    kids=$(children "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        say "${NAME[$pid]} (pid $pid) ignored SIGTERM for 5 s: killed"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    for k in $kids; do   # e.g. a transport child its supervisor left behind
        if alive "$k"; then kill -KILL "$k" 2>/dev/null || true; fi
    done
}
cleanup() {
    trap '' INT TERM HUP
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
    [ "${#PIDS[@]}" -gt 0 ] && say "stopped"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

wait_for() {   # wait_for SECONDS PID WHAT COMMAND...
    local secs=$1 pid=$2 what=$3 i
    shift 3
    for i in $(seq 1 $((secs * 10))); do
        "$@" && return 0
        if ! alive "$pid"; then
            echo "sandbox: ${NAME[$pid]} exited while starting; the end of ${LOG[$pid]}:" >&2
            tail -n 15 "${LOG[$pid]}" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "sandbox: no $what after $secs s; the end of ${LOG[$pid]}:" >&2
    tail -n 15 "${LOG[$pid]}" >&2
    exit 1
}
in_log() { grep -qF -- "$2" "$1" 2>/dev/null; }

# ---- configuration ----------------------------------------------------------
mkdir -p "$DIR/prosody/data" "$DIR/prosody/certificates" "$DIR/causeway" "$DIR/ngircd/conf.d" \
    "$DIR/kannel"
chmod 700 "$DIR"
sed -e "s|@DIR@|$DIR/prosody|g" -e "s|@C2S@|$C2S|g" -e "s|@COMP@|$COMP|g" \
    -e "s|@SECRET_IRC@|$SECRET_IRC|g" -e "s|@SECRET_LOOP@|$SECRET_LOOP|g" \
    -e "s|@SECRET_SMS@|$SECRET_SMS|g" -e "s|@SECRET_PURPLE@|$SECRET_PURPLE|g" \
    -e "s|@SCRIPTS@|$HERE/scripts|g" \
    "$HERE/scripts/sandbox-prosody.cfg.lua.in" > "$DIR/prosody/prosody.cfg.lua"
if [ "$(id -u)" -eq 0 ]; then uidgid=$'\tServerUID = 0\n\tServerGID = 0'; else uidgid=""; fi
while IFS= read -r line; do
    line=${line//@DIR@/$DIR/ngircd}; line=${line//@PORT@/$IRC}; line=${line//@NAME@/$IRC_NAME}
    line=${line//@UIDGID@/$uidgid}
    printf '%s\n' "$line"
done < "$HERE/scripts/sandbox-ngircd.conf.in" > "$DIR/ngircd/ngircd.conf"

cat > "$DIR/causeway.conf" <<CONF
# generated by scripts/sandbox.sh at each start (the secrets change each time)
[xmpp]
host = 127.0.0.1
port = $COMP
reconnect_min = 0.5
reconnect_max = 10
[gateway]
data_dir = $DIR/causeway
allowed_domains = localhost
admins = $USER_JID
[transport:irc]
type = irc
domain = $IRC_DOMAIN
secret = $SECRET_IRC
default_server = $IRC_SERVER
irc_port = $IRC
[transport:loop]
type = loopback
domain = $LOOP_DOMAIN
secret = $SECRET_LOOP
[transport:sms]
type = sms
domain = $SMS_DOMAIN
secret = $SECRET_SMS
kannel_url = http://127.0.0.1:$K_SENDSMS/cgi-bin/sendsms
kannel_username = causeway
kannel_password = $KANNEL_PW
callback_listen = 127.0.0.1:$K_CALLBACK
callback_token = $SMS_TOKEN
numbers = $SMS_NUMBERS
default_country = US
retry_min = 1
retry_max = 30
[transport:purple]
type = purple
domain = $PURPLE_DOMAIN
secret = $SECRET_PURPLE
protocol = prpl-jabber
CONF
chmod 600 "$DIR/causeway.conf"
sed -e "s|@DIR@|$DIR/kannel|g" -e "s|@ADMIN@|$K_ADMIN|g" -e "s|@SMSBOX@|$K_SMSBOX|g" \
    -e "s|@SENDSMS@|$K_SENDSMS|g" -e "s|@FAKESMSC@|$K_FAKE|g" -e "s|@PASSWORD@|$KANNEL_PW|g" \
    -e "s|@CALLBACK@|http://127.0.0.1:$K_CALLBACK|g" -e "s|@TOKEN@|$SMS_TOKEN|g" \
    "$HERE/scripts/sandbox-kannel.conf.in" > "$DIR/kannel/kannel.conf"
chmod 600 "$DIR/kannel/kannel.conf"
touch "$DIR/kannel/bearerbox.store"
# The phones: fakesmsc reads "FROM TO text ..." lines from this FIFO. The
# script holds it open read-write, so writers never block and fakesmsc never
# sees the end of its input.
rm -f "$DIR/kannel/phone"
mkfifo -m 600 "$DIR/kannel/phone"
exec 7<>"$DIR/kannel/phone"

if [ -e "$DIR/prosody/data/localhost/accounts/demo.dat" ]; then
    say "reusing $DIR (account $USER_JID, gateway databases)"
else
    prosodyctl --config "$DIR/prosody/prosody.cfg.lua" register demo localhost "$USER_PW" \
        >"$DIR/prosodyctl.log" 2>&1 || { cat "$DIR/prosodyctl.log" >&2; die "could not register $USER_JID"; }
    say "new state in $DIR: registered $USER_JID"
fi
# (a state directory from before the purple component lacks this one)
if [ ! -e "$DIR/prosody/data/${LEGACY_HOST//./%2e}/accounts/$LEGACY_USER.dat" ]; then
    prosodyctl --config "$DIR/prosody/prosody.cfg.lua" register "$LEGACY_USER" "$LEGACY_HOST" "$LEGACY_PW" \
        >"$DIR/prosodyctl.log" 2>&1 || { cat "$DIR/prosodyctl.log" >&2; die "could not register $LEGACY_USER@$LEGACY_HOST"; }
    say "registered the legacy account $LEGACY_USER@$LEGACY_HOST"
fi

# ---- start ------------------------------------------------------------------
say "starting Prosody (127.0.0.1:$C2S for clients, :$COMP for components; hosts localhost and $LEGACY_HOST), ngIRCd (:$IRC), $BOT, Kannel, Causeway"
start Prosody "$DIR/prosody/stdout.log" prosody --config "$DIR/prosody/prosody.cfg.lua" -F
pid_prosody=$!
start ngIRCd "$DIR/ngircd/ngircd.log" ngircd -f "$DIR/ngircd/ngircd.conf" -n
pid_ngircd=$!
wait_for 15 "$pid_prosody" "Prosody on port $COMP" port_busy "$COMP"
wait_for 15 "$pid_ngircd" "ngIRCd on port $IRC" port_busy "$IRC"
start "the IRC bot" "$DIR/bot.log" lua5.4 "$HERE/scripts/sandbox-bot.lua" 127.0.0.1 "$IRC" "$BOT" "$CHAN"
pid_bot=$!
start bearerbox "$DIR/kannel/bearerbox.out" bearerbox -v 2 "$DIR/kannel/kannel.conf"
pid_bearerbox=$!
wait_for 15 "$pid_bearerbox" "Kannel's bearerbox on port $K_SMSBOX" port_busy "$K_SMSBOX"
start smsbox "$DIR/kannel/smsbox.out" smsbox -v 2 "$DIR/kannel/kannel.conf"
pid_smsbox=$!
wait_for 15 "$pid_smsbox" "Kannel's sendsms interface on port $K_SENDSMS" port_busy "$K_SENDSMS"
# fakesmsc prints every SMS the phones get ("Got message N: FROM TO ...")
STDIN="$DIR/kannel/phone" start fakesmsc "$DIR/kannel/phones.log" \
    "$FAKESMSC" -H 127.0.0.1 -r "$K_FAKE" -i 0 -v 0
start Causeway "$DIR/causeway.log" "$BIN" -c "$DIR/causeway.conf" -v
pid_cw=$!
wait_for 15 "$pid_bot" "$BOT in $CHAN" in_log "$DIR/bot.log" "joined $CHAN"
wait_for 15 "$pid_cw" "connection of $IRC_DOMAIN to Prosody" in_log "$DIR/causeway.log" "component $IRC_DOMAIN connected"
wait_for 15 "$pid_cw" "connection of $LOOP_DOMAIN to Prosody" in_log "$DIR/causeway.log" "component $LOOP_DOMAIN connected"
wait_for 15 "$pid_cw" "connection of $SMS_DOMAIN to Prosody" in_log "$DIR/causeway.log" "component $SMS_DOMAIN connected"
wait_for 15 "$pid_cw" "connection of $PURPLE_DOMAIN to Prosody" in_log "$DIR/causeway.log" "component $PURPLE_DOMAIN connected"

# The banner: what a newcomer pastes. A transport added to the sandbox adds
# its lines here (SMS: how to text from the fake phone; libpurple: the legacy
# account to add), and tests/e2e/test_sandbox.py reads it.
irssi_line=""
if command -v irssi >/dev/null 2>&1; then
    irssi_line="
    irssi -c 127.0.0.1 -p $IRC -n you        then: /join $CHAN"
fi
cat <<MSG

Causeway sandbox is running, everything on 127.0.0.1 (state and logs in $DIR).

  XMPP account    $USER_JID    password: $USER_PW    (admin of the gateways)
                  server 127.0.0.1, port $C2S, no TLS: allow plain-text login in your client
                  e.g. profanity, then: /connect $USER_JID server 127.0.0.1 port $C2S tls disable

  IRC             gateway $IRC_DOMAIN -> ngIRCd 127.0.0.1:$IRC; $BOT waits in $CHAN and answers.
                  Join this room (MUC) with any nick, no registration needed:
    $CHAN%$IRC_SERVER@$IRC_DOMAIN
    $CHAN@$IRC_DOMAIN                 (the same room: $IRC_SERVER is the default server)
                  The same channel from the IRC side, then type e.g.  PRIVMSG $CHAN :hello
    { printf 'NICK you\\r\\nUSER you 0 * :you\\r\\nJOIN $CHAN\\r\\n'; cat; } | nc 127.0.0.1 $IRC$irssi_line

  Loopback        gateway $LOOP_DOMAIN: register with it (service discovery; any username
                  and password), then chat with echo@$LOOP_DOMAIN, which repeats what you say.

  SMS             gateway $SMS_DOMAIN -> Kannel 127.0.0.1:$K_SENDSMS -> fakesmsc (the phones).
                  Register with it claiming the number $SMS_DEMO_NUMBER (any of $SMS_NUMBERS),
                  then text the phone $PHONE by writing to
    $PHONE@$SMS_DOMAIN
                  and text yourself from that phone (one line per SMS):
    echo '$PHONE $SMS_DEMO_NUMBER text Hello from the phone' > $DIR/kannel/phone
                  What the phones receive: grep 'Got message' $DIR/kannel/phones.log

  libpurple       gateway $PURPLE_DOMAIN (prpl-jabber) -> Prosody's second host $LEGACY_HOST, playing
                  the legacy network; $LEGACY_BUDDY@$LEGACY_HOST there answers. Register with it (form):
                  Username $LEGACY_USER, Domain $LEGACY_HOST, Password $LEGACY_PW,
                  Connect server 127.0.0.1, Connect port $C2S, Connection security opportunistic_tls,
                  Allow plaintext auth over unencrypted streams: yes (leave the rest); come online,
                  and once signed on the buddy is in your roster: write to
    $LEGACY_BUDDY\\40$LEGACY_HOST@$PURPLE_DOMAIN

  Logs: tail -f $DIR/causeway.log    Ctrl-C stops everything.

MSG

# Wait until a signal (the traps above exit, and cleanup stops the rest) or
# until one of ours exits by itself, which stops the others.
set +e
wait -n "${PIDS[@]}"
for pid in "${PIDS[@]}"; do
    if ! alive "$pid"; then
        wait "$pid"
        echo "sandbox: ${NAME[$pid]} exited (status $?); the end of ${LOG[$pid]}:" >&2
        tail -n 15 "${LOG[$pid]}" >&2
        break
    fi
done
exit 1
