/* e2edriver.c — end-to-end load driver: many raw c2s XMPP users on a real
 * XMPP server (Prosody), bridged into IRC channels by the gateway under test
 * (tests/bench/bench-e2e.py runs it).
 *
 * One user per TCP connection, no TLS (loopback): stream, SASL PLAIN, bind,
 * initial presence. Then, one phase after the other:
 *   join   every user sends its MUC join presence at once; the time until the
 *          last user got its self-presence (status code 110) is the join storm
 *   fan    a raw IRC client ("benchirc") writes --fan-msgs lines round-robin
 *          into the channels; every <message/> the users receive counts
 *   x2i    the users write --x2i-msgs groupchat messages (round-robin); every
 *          PRIVMSG benchirc reads counts (x2i_*); then until every user of the
 *          sender's room got the message's reflection (x2i_all_*)
 * Between phases the driver waits until nothing arrived for --quiet seconds.
 * It reads utime+stime of --prosody-pid, --gw-pid and --ircd-pid and Prosody's stime
 * alone (/proc/PID/stat) around each phase, and RSS of the gateway. Results: key=value lines on stdout;
 * diagnostics on stderr, prefixed "e2edriver:". Exit 0 when every phase
 * completed, 2 on a timeout, 1 on usage errors.
 *
 * The driver does not parse XML: Prosody re-serialises every stanza it
 * routes (single quotes, its own attribute order), so the markers counted here
 * ("</message>", "code='110'") are the same whichever gateway sent them.
 * Markers cut by a read boundary are found through a carry of the last bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IRC_NICK "benchirc"
#define CARRY 16

static struct {
    int c2s_port, irc_port, users, channels, fan_msgs, x2i_msgs, window, login_window;
    int prosody_pid, gw_pid, ircd_pid;
    double timeout_s, quiet_s;
    const char *domain, *user_domain, *password, *irc_host, *channel;
} opt = {
    .channels = 1, .fan_msgs = 200, .x2i_msgs = 2000, .window = 50, .login_window = 200,
    .timeout_s = 120, .quiet_s = 1.0, .user_domain = "bench.local", .password = "benchpw",
    .irc_host = "127.0.0.1", .channel = "#bench",
};

/* ------------------------------------------------------------------ basics */

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void G_GNUC_PRINTF(1, 2)
note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("e2edriver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void G_GNUC_PRINTF(1, 2)
result(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

static long clk_tck;

/* stime alone (sys_only) or utime+stime of pid, in seconds */
static double
proc_cpu_split_s(int pid, bool sys_only)
{
    char path[64], data[2048];
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    data[n] = '\0';
    char *p = strrchr(data, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(sys_only ? st : ut + st) / (double)clk_tck;
}

static double
proc_cpu_s(int pid)
{
    return proc_cpu_split_s(pid, false);
}

static long
proc_status_kb(int pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

typedef struct {
    int64_t t;
    double prosody, gw, self, prosody_sys, ircd;
} Mark;

static Mark
mark(void)
{
    return (Mark){ now_ns(), proc_cpu_s(opt.prosody_pid), proc_cpu_s(opt.gw_pid), proc_cpu_s(getpid()),
                   proc_cpu_split_s(opt.prosody_pid, true), proc_cpu_s(opt.ircd_pid) };
}

/* PREFIX_wall_s, PREFIX_prosody_cpu_s, PREFIX_gw_cpu_s, PREFIX_driver_cpu_s */
static void
mark_report(const char *prefix, Mark a, Mark b)
{
    result("%s_wall_s=%.3f", prefix, (double)(b.t - a.t) / 1e9);
    result("%s_prosody_cpu_s=%.3f", prefix, b.prosody - a.prosody);
    result("%s_prosody_sys_s=%.3f", prefix, b.prosody_sys - a.prosody_sys);
    result("%s_gw_cpu_s=%.3f", prefix, b.gw - a.gw);
    result("%s_driver_cpu_s=%.3f", prefix, b.self - a.self);
    if (opt.ircd_pid > 0)
        result("%s_ircd_cpu_s=%.3f", prefix, b.ircd - a.ircd);
}

/* -------------------------------------------------------------- connections */

enum { ST_CONNECTING, ST_FEAT1, ST_AUTH, ST_FEAT2, ST_BIND, ST_READY, ST_DEAD };

typedef struct {
    int fd, state, idx, chan;
    GString *out;   /* pending output */
    GString *in;    /* login phase: everything since the last step; later only a carry */
    bool joined;
} User;

static int epfd;
static User *users;
static int N, ready_count, dead_count, joined_count, join_errors;
static int64_t t_last_rx, t_last_join;
static long long msgs_rx, presences_rx;
static GString *irc_out, *irc_in;
static int irc_fd = -1, irc_joined_chans;
static bool irc_welcomed, irc_dead;
static long long irc_privmsgs;

static void
chan_name(int c, char *out, size_t n)
{
    if (opt.channels == 1)
        snprintf(out, n, "%s", opt.channel);
    else
        snprintf(out, n, "%s%d", opt.channel, c);
}

static void
flush_fd(int fd, GString *out, uint64_t tag, bool *dead)
{
    while (out->len) {
        ssize_t n = send(fd, out->str, out->len, MSG_NOSIGNAL);
        if (n > 0) {
            g_string_erase(out, 0, n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        *dead = true;
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | (out->len ? EPOLLOUT : 0), .data.u64 = tag };
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void
user_send(User *u, const char *s)
{
    g_string_append(u->out, s);
}

static void
user_flush(User *u)
{
    bool dead = false;
    if (u->state == ST_DEAD || u->state == ST_CONNECTING)
        return;
    flush_fd(u->fd, u->out, (uint64_t)u->idx, &dead);
    if (dead) {
        note("user %d: write failed: %s", u->idx + 1, strerror(errno));
        u->state = ST_DEAD;
        dead_count++;
    }
}

static void
stream_open(User *u)
{
    char s[256];
    snprintf(s, sizeof s,
             "<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", opt.user_domain);
    user_send(u, s);
}

static void
user_connect(User *u)
{
    u->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->fd < 0) {
        note("socket: %s", strerror(errno));
        exit(2);
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.c2s_port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(u->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        note("connect: %s", strerror(errno));
        exit(2);
    }
    int one = 1;
    setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)u->idx };
    epoll_ctl(epfd, EPOLL_CTL_ADD, u->fd, &ev);
    u->state = ST_CONNECTING;
    stream_open(u);
}

/* occurrences of m in h[0..n) that end after h[skip]: the first skip bytes are
 * the carry of the previous read, whose complete markers were counted then */
static int
count_marker(const char *h, size_t n, const char *m, size_t skip)
{
    int c = 0;
    size_t ml = strlen(m);
    const char *p = h, *e = h + n;
    while ((p = memmem(p, (size_t)(e - p), m, ml))) {
        if ((size_t)(p - h) + ml > skip)
            c++;
        p += ml;
    }
    return c;
}

/* Login steps on the text received since the last step. */
static void
user_login_step(User *u)
{
    const char *s = u->in->str;
    if (strstr(s, "<failure") || strstr(s, "stream:error")) {
        note("user %d: login failed: %.300s", u->idx + 1, s);
        u->state = ST_DEAD;
        dead_count++;
        return;
    }
    switch (u->state) {
    case ST_FEAT1:
        if (strstr(s, "</stream:features>")) {
            char raw[256], auth[512];
            int n = snprintf(raw, sizeof raw, "%cu%d%c%s", 0, u->idx + 1, 0, opt.password);
            g_autofree char *b64 = g_base64_encode((const guchar *)raw, (gsize)n);
            snprintf(auth, sizeof auth,
                     "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>", b64);
            user_send(u, auth);
            g_string_truncate(u->in, 0);
            u->state = ST_AUTH;
        }
        break;
    case ST_AUTH:
        if (strstr(s, "<success")) {
            g_string_truncate(u->in, 0);
            stream_open(u);
            u->state = ST_FEAT2;
        }
        break;
    case ST_FEAT2:
        if (strstr(s, "</stream:features>")) {
            g_string_truncate(u->in, 0);
            user_send(u, "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                         "<resource>r</resource></bind></iq>");
            u->state = ST_BIND;
        }
        break;
    case ST_BIND:
        if (strstr(s, "</iq>")) {
            g_string_truncate(u->in, 0);
            user_send(u, "<presence/>");
            u->state = ST_READY;
            ready_count++;
        }
        break;
    }
}

static void
user_readable(User *u)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(u->fd, buf, sizeof buf, 0);
        if (n > 0) {
            t_last_rx = now_ns();
            if (u->state != ST_READY) {
                g_string_append_len(u->in, buf, n);
                user_login_step(u);
                continue;
            }
            /* carry + new data, scanned for the markers */
            size_t carry = u->in->len;
            g_string_append_len(u->in, buf, n);
            const char *h = u->in->str;
            size_t len = u->in->len;
            msgs_rx += count_marker(h, len, "</message>", carry);
            presences_rx += count_marker(h, len, "<presence", carry);
            if (!u->joined && (memmem(h, len, "code='110'", 10) || memmem(h, len, "code=\"110\"", 10))) {
                u->joined = true;
                joined_count++;
                t_last_join = t_last_rx;
            }
            if (!u->joined && memmem(h, len, "<presence", 9) && memmem(h, len, "type='error'", 12)) {
                note("user %d: join error: %.400s", u->idx + 1, h);
                u->joined = true;
                join_errors++;
            }
            /* keep what may be the start of a cut marker: everything after the last '<' if short */
            const char *lt = memrchr(h, '<', len);
            size_t keep = lt ? (size_t)(h + len - lt) : 0;
            if (keep > CARRY)
                keep = 0;
            g_string_erase(u->in, 0, len - keep);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        note("user %d: connection closed (state %d): %.300s", u->idx + 1, u->state, u->in->str);
        epoll_ctl(epfd, EPOLL_CTL_DEL, u->fd, NULL);
        if (u->state == ST_READY)
            ready_count--;
        u->state = ST_DEAD;
        dead_count++;
        return;
    }
}

/* --------------------------------------------------------------- IRC side */

#define IRC_TAG ((uint64_t)1 << 40)

static void
irc_send(const char *line)
{
    g_string_append(irc_out, line);
    g_string_append(irc_out, "\r\n");
}

static void
irc_line(char *line)
{
    char *prefix = NULL;
    if (*line == '@' && !(line = strchr(line, ' ')))
        return;
    if (*line == ' ')
        line++;
    if (*line == ':') {
        prefix = line + 1;
        if (!(line = strchr(line, ' ')))
            return;
        *line++ = '\0';
    }
    (void)prefix;
    char *cmd = line, *rest = strchr(line, ' ');
    if (rest)
        *rest++ = '\0';
    else
        rest = line + strlen(line);
    char *trailing = strstr(rest, " :");
    if (trailing)
        trailing += 2;
    else if (*rest == ':')
        trailing = rest + 1;
    if (!strcmp(cmd, "PING")) {
        g_autofree char *pong = g_strdup_printf("PONG :%s", trailing ? trailing : rest);
        irc_send(pong);
    } else if (!strcmp(cmd, "001")) {
        irc_welcomed = true;
        /* join the channels, 20 per line */
        GString *j = g_string_new(NULL);
        for (int c = 0; c < opt.channels; c++) {
            char name[128];
            chan_name(c, name, sizeof name);
            g_string_append(j, j->len ? "," : "JOIN ");
            g_string_append(j, name);
            if ((c + 1) % 20 == 0 || c + 1 == opt.channels) {
                irc_send(j->str);
                g_string_truncate(j, 0);
            }
        }
        g_string_free(j, TRUE);
    } else if (!strcmp(cmd, "366")) {
        irc_joined_chans++;
    } else if (!strcmp(cmd, "433") || !strcmp(cmd, "ERROR") || !strcmp(cmd, "405") || !strcmp(cmd, "471")) {
        note("IRC: %s %s", cmd, rest);
        if (cmd[0] == '4' && cmd[1] == '3')
            irc_dead = true;
    } else if (!strcmp(cmd, "PRIVMSG")) {
        irc_privmsgs++;
    }
}

static void
irc_readable(void)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(irc_fd, buf, sizeof buf, 0);
        if (n > 0) {
            g_string_append_len(irc_in, buf, n);
            char *start = irc_in->str, *nl;
            while ((nl = memchr(start, '\n', irc_in->len - (size_t)(start - irc_in->str)))) {
                *nl = '\0';
                if (nl > start && nl[-1] == '\r')
                    nl[-1] = '\0';
                irc_line(start);
                start = nl + 1;
            }
            g_string_erase(irc_in, 0, start - irc_in->str);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        note("IRC: connection closed");
        irc_dead = true;
        epoll_ctl(epfd, EPOLL_CTL_DEL, irc_fd, NULL);
        return;
    }
}

static void
irc_connect(void)
{
    irc_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.irc_port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(irc_fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        note("IRC: connect: %s", strerror(errno));
        exit(2);
    }
    int one = 1;
    setsockopt(irc_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = IRC_TAG };
    epoll_ctl(epfd, EPOLL_CTL_ADD, irc_fd, &ev);
    irc_send("NICK " IRC_NICK);
    irc_send("USER bench 0 * :Causeway e2e bench");
}

/* ------------------------------------------------------------- main loop */

static int next_login;
static GPtrArray *dirty;  /* users with pending output */

static void
loop_once(int max_ms)
{
    for (int i = 0; i < N; i++)
        if (users[i].out->len && users[i].state != ST_CONNECTING)
            user_flush(&users[i]);
    if (irc_out->len && !irc_dead)
        flush_fd(irc_fd, irc_out, IRC_TAG, &irc_dead);
    struct epoll_event evs[256];
    int n = epoll_wait(epfd, evs, 256, max_ms);
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == IRC_TAG) {
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                irc_readable();
            if (evs[i].events & EPOLLOUT)
                flush_fd(irc_fd, irc_out, IRC_TAG, &irc_dead);
            continue;
        }
        User *u = &users[tag];
        if (u->state == ST_DEAD)
            continue;
        if (u->state == ST_CONNECTING && (evs[i].events & EPOLLOUT))
            u->state = ST_FEAT1;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            user_readable(u);
        if ((evs[i].events & EPOLLOUT) && u->state != ST_DEAD)
            user_flush(u);
    }
}

static bool
run_until(bool (*done)(void), void (*pump)(void), double timeout_s, const char *what)
{
    int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
    while (!done()) {
        if (now_ns() > deadline) {
            note("timeout (%.0f s) waiting for %s", timeout_s, what);
            return false;
        }
        if (pump)
            pump();
        loop_once(5);
    }
    return true;
}

static bool done_irc(void) { return irc_dead || irc_joined_chans >= opt.channels; }
static bool done_login(void) { return ready_count + dead_count >= N; }
static bool done_join(void) { return joined_count + join_errors + dead_count >= N; }
static bool done_quiet(void) { return now_ns() - t_last_rx > (int64_t)(opt.quiet_s * 1e9); }

static void
login_pump(void)
{
    while (next_login < N && next_login - ready_count - dead_count < opt.login_window)
        user_connect(&users[next_login++]);
}

/* fan-out: benchirc writes lines; each reaches the users of its channel */
static long long fan_sent, fan_target, fan_expect, fan_base;
static int64_t fan_t_last;

static long long
chan_users(int c)
{
    return N / opt.channels + (c < N % opt.channels ? 1 : 0);
}

static void
fan_pump(void)
{
    /* in flight: at most window messages' worth of stanzas not yet delivered */
    long long delivered = msgs_rx - fan_base;
    long long per = (N + opt.channels - 1) / opt.channels;
    while (fan_sent < fan_target && fan_expect - delivered < (long long)opt.window * per) {
        char name[128], line[256];
        int c = (int)(fan_sent % opt.channels);
        chan_name(c, name, sizeof name);
        snprintf(line, sizeof line, "PRIVMSG %s :fan %lld lorem ipsum dolor sit amet", name, fan_sent);
        irc_send(line);
        fan_expect += chan_users(c);
        fan_sent++;
    }
}

static bool
done_fan(void)
{
    if (msgs_rx - fan_base >= fan_expect && fan_sent >= fan_target) {
        fan_t_last = t_last_rx;
        return true;
    }
    return false;
}

/* XMPP -> IRC */
static long long x_sent, x_target, x_base;

static void
x_pump(void)
{
    while (x_sent < x_target && x_sent - (irc_privmsgs - x_base) < opt.window) {
        User *u = &users[x_sent % N];
        if (u->state == ST_READY) {
            char name[128], s[512];
            chan_name(u->chan, name, sizeof name);
            snprintf(s, sizeof s,
                     "<message type='groupchat' to='%s%%%s@%s' id='x%lld'><body>x2i %lld lorem ipsum dolor "
                     "sit amet</body></message>", name, opt.irc_host, opt.domain, x_sent, x_sent);
            user_send(u, s);
        }
        x_sent++;
    }
}

static bool done_x(void) { return x_sent >= x_target && irc_privmsgs - x_base >= x_target; }

static long long x_refl_base, x_refl_expect;
static int64_t x_refl_t_last;

static bool
done_refl(void)
{
    if (msgs_rx - x_refl_base >= x_refl_expect) {
        x_refl_t_last = t_last_rx;
        return true;
    }
    return false;
}

static int
fail(const char *what)
{
    result("failed=%s", what);
    return 2;
}

int
main(int argc, char **argv)
{
    clk_tck = sysconf(_SC_CLK_TCK);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
#define S(name, f) else if (!strcmp(a, name)) opt.f = v
#define I(name, f) else if (!strcmp(a, name)) opt.f = atoi(v)
#define D(name, f) else if (!strcmp(a, name)) opt.f = g_ascii_strtod(v, NULL)
        if (0) {}
        I("--c2s-port", c2s_port); I("--irc-port", irc_port); I("--users", users); I("--channels", channels);
        I("--fan-msgs", fan_msgs); I("--x2i-msgs", x2i_msgs); I("--window", window);
        I("--login-window", login_window); I("--prosody-pid", prosody_pid); I("--gw-pid", gw_pid); I("--ircd-pid", ircd_pid);
        D("--timeout", timeout_s); D("--quiet", quiet_s);
        S("--domain", domain); S("--user-domain", user_domain); S("--password", password);
        S("--irc-host", irc_host); S("--channel", channel);
        else {
            fprintf(stderr, "e2edriver: unknown option %s\n", a);
            return 1;
        }
    }
    if (!opt.c2s_port || !opt.irc_port || opt.users < 1 || !opt.domain || opt.channels < 1) {
        fprintf(stderr, "usage: e2edriver --c2s-port P --irc-port P --users N --domain GW [--channels C] "
                        "[--prosody-pid PID --gw-pid PID --ircd-pid PID] [--fan-msgs M --x2i-msgs M --window W]\n");
        return 1;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    N = opt.users;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    users = g_new0(User, N);
    for (int i = 0; i < N; i++) {
        users[i].idx = i;
        users[i].chan = i % opt.channels;
        users[i].out = g_string_new(NULL);
        users[i].in = g_string_new(NULL);
        users[i].fd = -1;
    }
    irc_out = g_string_new(NULL);
    irc_in = g_string_new(NULL);
    (void)dirty;

    irc_connect();
    if (!run_until(done_irc, NULL, opt.timeout_s, "benchirc to join") || irc_dead)
        return fail("irc");

    Mark a = mark();
    if (!run_until(done_login, login_pump, opt.timeout_s + N * 0.05, "logins") || dead_count)
        return fail("login");
    Mark b = mark();
    result("logged_in=%d", ready_count);
    mark_report("login", a, b);
    run_until(done_quiet, NULL, opt.timeout_s, "quiet");
    long rss0 = proc_status_kb(opt.gw_pid, "VmRSS");
    result("rss_before_join_kb=%ld", rss0);

    /* join storm: all at once */
    a = mark();
    for (int i = 0; i < N; i++) {
        char name[128], s[512];
        chan_name(users[i].chan, name, sizeof name);
        snprintf(s, sizeof s,
                 "<presence to='%s%%%s@%s/u%d'><x xmlns='http://jabber.org/protocol/muc'>"
                 "<history maxstanzas='0'/></x></presence>", name, opt.irc_host, opt.domain, i + 1);
        user_send(&users[i], s);
    }
    long long p0 = presences_rx;
    bool ok = run_until(done_join, NULL, opt.timeout_s + N * 0.2, "self-presences");
    result("joined=%d", joined_count);
    result("join_errors=%d", join_errors);
    result("join_storm_s=%.3f", (double)(t_last_join - a.t) / 1e9);
    if (!ok || join_errors || dead_count) {
        result("rss_at_failure_kb=%ld", proc_status_kb(opt.gw_pid, "VmRSS"));
        return fail("join");
    }
    run_until(done_quiet, NULL, opt.timeout_s + N * 0.2, "the join storm to settle");
    b = mark();
    b.t = t_last_rx;
    mark_report("join", a, b);
    result("join_presences=%lld", presences_rx - p0);
    result("rss_kb=%ld", proc_status_kb(opt.gw_pid, "VmRSS"));
    result("rss_hwm_kb=%ld", proc_status_kb(opt.gw_pid, "VmHWM"));
    result("prosody_rss_kb=%ld", proc_status_kb(opt.prosody_pid, "VmRSS"));

    /* IRC -> XMPP fan-out */
    if (opt.fan_msgs > 0) {
        fan_base = msgs_rx;
        fan_target = opt.fan_msgs;
        a = mark();
        ok = run_until(done_fan, fan_pump, opt.timeout_s + (double)fan_target * N / 2000.0, "fan-out");
        b = mark();
        b.t = fan_t_last ? fan_t_last : b.t;
        result("fan_delivered=%lld", msgs_rx - fan_base);
        result("fan_expected=%lld", fan_expect);
        mark_report("fan", a, b);
        result("fan_stanzas_per_s=%.1f", (double)(msgs_rx - fan_base) / ((double)(b.t - a.t) / 1e9));
        if (!ok)
            return fail("fan");
        run_until(done_quiet, NULL, opt.timeout_s, "quiet");
    }

    /* XMPP -> IRC */
    if (opt.x2i_msgs > 0) {
        x_base = irc_privmsgs;
        x_target = opt.x2i_msgs;
        long long m0 = msgs_rx;
        a = mark();
        ok = run_until(done_x, x_pump, opt.timeout_s + x_target / 100.0, "XMPP->IRC");
        b = mark();
        result("x2i_received=%lld", irc_privmsgs - x_base);
        mark_report("x2i", a, b);
        result("x2i_msgs_per_s=%.1f", (double)(irc_privmsgs - x_base) / ((double)(b.t - a.t) / 1e9));
        result("x2i_reflections_at_irc=%lld", msgs_rx - m0);
        if (!ok)
            return fail("x2i");
        /* the same phase until every sender's room got the reflection too: what the users see */
        x_refl_base = m0;
        for (long long k = 0; k < x_target; k++)
            x_refl_expect += chan_users(users[k % N].chan);
        bool all = run_until(done_refl, NULL, opt.timeout_s, "the reflections of XMPP->IRC");
        Mark c = mark();
        c.t = x_refl_t_last ? x_refl_t_last : t_last_rx;
        result("x2i_reflections=%lld", msgs_rx - m0);
        result("x2i_reflections_expected=%lld", x_refl_expect);
        mark_report("x2i_all", a, c);
        result("x2i_all_msgs_per_s=%.1f", (double)(irc_privmsgs - x_base) / ((double)(c.t - a.t) / 1e9));
        if (!all)
            note("XMPP->IRC: %lld of %lld reflections", msgs_rx - m0, x_refl_expect);
        run_until(done_quiet, NULL, opt.timeout_s, "quiet");
    }
    result("rss_end_kb=%ld", proc_status_kb(opt.gw_pid, "VmRSS"));
    result("ok=1");
    return 0;
}
