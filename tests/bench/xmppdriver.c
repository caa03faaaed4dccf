/* xmppdriver.c — load driver for Causeway's side-by-side benchmarks (tests/bench/).
 *
 * A tiny XEP-0114 *server*: it listens on a loopback port, starts the gateway
 * under test itself (so it knows its PID and when it was started), accepts the
 * gateway's component stream, checks the handshake SHA-1(stream id + secret)
 * and then plays many XMPP users by writing stanzas from 'uK@bench.local/r'
 * straight into the component stream and reading what the gateway sends back.
 * No XMPP server is involved, so none can be the bottleneck. It is also a raw
 * IRC client ("benchirc") on the IRC server the gateway bridges to: it listens
 * to the channel (XMPP -> IRC) and speaks in it (IRC -> XMPP fan-out).
 *
 *   xmppdriver --mode irc|core [options] -- GATEWAY-ARGV...
 *
 * The gateway's configuration is written from --config-template (the string
 * @XMPP_PORT@ replaced by the port this driver listens on) to --config-out.
 * The gateway's stdout and stderr go to --log. Results are printed on stdout
 * as key=value lines; diagnostics go to stderr, prefixed "driver:". Exit
 * status: 0 when every phase completed, 2 on a timeout or a wrong stanza
 * count, 3 when the gateway died or dropped the stream, 1 on usage errors.
 *
 * Every wait has a deadline; nothing sleeps for a fixed time except the idle
 * window, which is a measurement. The gateway is stopped by its PID (SIGTERM,
 * then SIGKILL after --stop-timeout seconds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define USER_DOMAIN "bench.local"
#define IRC_NICK "benchirc"
#define READ_CHUNK (256 * 1024)

/* ------------------------------------------------------------------ options */

static struct {
    const char *mode;
    const char *domain;
    const char *secret;
    const char *config_template;
    const char *config_out;
    const char *log_path;
    const char *ready;      /* substring of the gateway's log meaning "ready" */
    int expect_presences;   /* core: presences the gateway sends at start-up */
    int users;
    int irc_port;
    const char *irc_host;   /* the IRC server as written in JIDs */
    const char *channel;
    int x2i_msgs, fan_msgs, window, lat_msgs;
    double idle_s, phase_cap_s, lat_cap_s, timeout_s, stop_timeout_s;
    int iq_count, iq_window, iq_senders;
    int ircd_pid;
    char **gw_argv;
} opt = {
    .mode = "irc", .domain = "irc.bench.local", .secret = "benchsecret",
    .users = 1, .irc_host = "127.0.0.1", .channel = "#bench",
    .x2i_msgs = 1000, .fan_msgs = 1000, .window = 50, .lat_msgs = 200,
    .idle_s = 10, .phase_cap_s = 20, .lat_cap_s = 5, .timeout_s = 120, .stop_timeout_s = 10,
    .iq_count = 20000, .iq_window = 100, .iq_senders = 100,
};

/* ------------------------------------------------------------------- basics */

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
    fputs("driver: ", stderr);
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

typedef struct {
    char *d;
    size_t len, cap;
} Buf;

static void
buf_reserve(Buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->d = g_realloc(b->d, cap);
    b->cap = cap;
}

static void
buf_add(Buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->d + b->len, s, n);
    b->len += n;
    b->d[b->len] = '\0';
}

static void G_GNUC_PRINTF(2, 3)
buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap > b->len ? b->cap - b->len : 0;
        va_start(ap, fmt);
        int n = vsnprintf(room ? b->d + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        buf_reserve(b, (size_t)n + 1);
    }
}

static void
buf_consume(Buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->d, b->d + n, b->len - n);
        b->len -= n;
    }
    if (b->d)
        b->d[b->len] = '\0';
}

/* -------------------------------------------------------- process accounting */

static long clk_tck;

/* utime+stime of a process in clock ticks, or -1. */
static long long
proc_cpu_ticks(int pid)
{
    char path[64], data[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    data[n] = '\0';
    char *p = strrchr(data, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* fields after ')': 3 state ... 14 utime 15 stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
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
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

typedef struct {
    int64_t t;
    long long gw, ircd, self;
} CpuMark;

static int gw_pid = -1;

static CpuMark
cpu_mark(void)
{
    CpuMark m = { .t = now_ns() };
    m.gw = gw_pid > 0 ? proc_cpu_ticks(gw_pid) : -1;
    m.ircd = opt.ircd_pid > 0 ? proc_cpu_ticks(opt.ircd_pid) : -1;
    m.self = proc_cpu_ticks(getpid());
    return m;
}

/* Prints PREFIX_cpu_s and the CPU share (% of one core) of the gateway, the
 * IRC server and this driver between a and b; returns the gateway's seconds. */
static double
cpu_report(const char *prefix, CpuMark a, CpuMark b)
{
    double wall = (double)(b.t - a.t) / 1e9;
    double gw = (double)(b.gw - a.gw) / (double)clk_tck;
    result("%s_cpu_s=%.3f", prefix, gw);
    if (wall > 0) {
        result("%s_gw_cpu_pct=%.1f", prefix, 100.0 * gw / wall);
        if (a.ircd >= 0 && b.ircd >= 0)
            result("%s_ircd_cpu_pct=%.1f", prefix, 100.0 * (double)(b.ircd - a.ircd) / (double)clk_tck / wall);
        result("%s_driver_cpu_pct=%.1f", prefix, 100.0 * (double)(b.self - a.self) / (double)clk_tck / wall);
    }
    return gw;
}

/* ------------------------------------------------------------------ latency */

typedef struct {
    int64_t *v;
    size_t n, cap;
} Samples;

static void
samples_add(Samples *s, int64_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = g_realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double
samples_pct_ms(Samples *s, double pct)
{
    if (!s->n)
        return -1;
    size_t i = (size_t)(pct / 100.0 * (double)(s->n - 1) + 0.5);
    return (double)s->v[i] / 1e6;
}

static void
samples_report(const char *prefix, Samples *s)
{
    qsort(s->v, s->n, sizeof *s->v, cmp_i64);
    result("%s_lat_samples=%zu", prefix, s->n);
    if (s->n) {
        result("%s_p50_ms=%.3f", prefix, samples_pct_ms(s, 50));
        result("%s_p99_ms=%.3f", prefix, samples_pct_ms(s, 99));
        result("%s_max_ms=%.3f", prefix, (double)s->v[s->n - 1] / 1e6);
    }
}

/* -------------------------------------------------------------- event loop */

static int epfd = -1;

enum { TAG_LISTEN = 1, TAG_COMP, TAG_IRC, TAG_LOG };

static void
ep_add(int fd, int tag, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)tag };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        note("epoll_ctl add: %s", strerror(errno));
}

static void
ep_mod(int fd, int tag, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)tag };
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void
set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ------------------------------------------------------------- the gateway */

static int log_fd = -1, log_pipe = -1;
static Buf log_line;
static int64_t t_spawn, t_ready = -1;
static bool gw_dead, stopping;
static int gw_status;

static void
spawn_gateway(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        note("pipe: %s", strerror(errno));
        exit(1);
    }
    log_fd = open(opt.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        note("cannot open %s: %s", opt.log_path, strerror(errno));
        exit(1);
    }
    fflush(NULL);
    t_spawn = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        note("fork: %s", strerror(errno));
        exit(1);
    }
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execvp(opt.gw_argv[0], opt.gw_argv);
        fprintf(stderr, "driver: cannot run %s: %s\n", opt.gw_argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    gw_pid = pid;
    result("gateway_pid=%d", gw_pid);
    log_pipe = p[0];
    set_nonblock(log_pipe);
    ep_add(log_pipe, TAG_LOG, EPOLLIN);
    note("gateway started, pid %d: %s", gw_pid, opt.gw_argv[0]);
}

static void
on_log_readable(void)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(log_pipe, chunk, sizeof chunk);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, log_pipe, NULL);
                close(log_pipe);
                log_pipe = -1;
            }
            return;
        }
        if (write(log_fd, chunk, (size_t)n) < 0) {
            /* nothing to do: the log is for people */
        }
        if (!opt.ready || t_ready >= 0)
            continue;
        buf_add(&log_line, chunk, (size_t)n);
        char *nl;
        while ((nl = memchr(log_line.d, '\n', log_line.len))) {
            *nl = '\0';
            if (t_ready < 0 && strstr(log_line.d, opt.ready))
                t_ready = now_ns();
            buf_consume(&log_line, (size_t)(nl - log_line.d) + 1);
        }
    }
}

static void
check_gateway(void)
{
    if (gw_dead || gw_pid <= 0)
        return;
    int st;
    pid_t r = waitpid(gw_pid, &st, WNOHANG);
    if (r == gw_pid) {
        gw_dead = true;
        gw_status = st;
        if (WIFSIGNALED(st))
            note("GATEWAY DIED: killed by signal %d (%s); see %s", WTERMSIG(st), strsignal(WTERMSIG(st)),
                 opt.log_path);
        else
            note("GATEWAY EXITED with status %d; see %s", WEXITSTATUS(st), opt.log_path);
    }
}

static void loop_once(int max_ms);

static int
stop_gateway(void)
{
    if (gw_pid <= 0 || gw_dead)
        return gw_dead ? gw_status : 0;
    stopping = true;
    kill(gw_pid, SIGTERM);
    int64_t deadline = now_ns() + (int64_t)(opt.stop_timeout_s * 1e9);
    int st = 0;
    for (;;) {
        pid_t r = waitpid(gw_pid, &st, WNOHANG);
        if (r == gw_pid)
            break;
        if (now_ns() > deadline) {
            note("gateway pid %d ignored SIGTERM for %.0fs: SIGKILL", gw_pid, opt.stop_timeout_s);
            kill(gw_pid, SIGKILL);
            waitpid(gw_pid, &st, 0);
            break;
        }
        /* keep serving: the gateway closes its stream (we answer with our
         * </stream:stream>), its IRC connections and writes its log */
        loop_once(10);
    }
    if (log_pipe >= 0)
        on_log_readable();
    gw_dead = true;
    gw_status = st;
    return st;
}

/* ------------------------------------------------------- component stream */

static int listen_fd = -1, comp_fd = -1;
static Buf comp_in, comp_out;
static bool comp_header_seen, comp_closed, comp_close_sent, handshake_ok;
static long long history_in;
static int64_t t_handshake = -1;
static char stream_id[40];
static uint32_t comp_events;

static void
comp_flush(void)
{
    while (comp_fd >= 0 && comp_out.len) {
        ssize_t n = send(comp_fd, comp_out.d, comp_out.len, MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&comp_out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        note("component stream: write failed: %s", strerror(errno));
        comp_closed = true;
        comp_out.len = 0;
        return;
    }
    if (comp_fd >= 0 && comp_close_sent && !comp_out.len) {
        /* both sides closed their stream: the server ends the connection */
        epoll_ctl(epfd, EPOLL_CTL_DEL, comp_fd, NULL);
        close(comp_fd);
        comp_fd = -1;
        return;
    }
    uint32_t want = EPOLLIN | (comp_out.len ? EPOLLOUT : 0);
    if (comp_fd >= 0 && want != comp_events) {
        ep_mod(comp_fd, TAG_COMP, want);
        comp_events = want;
    }
}

/* The end of the element that starts at p (a start tag), or NULL when the
 * buffer does not hold all of it yet. */
static const char *
element_end(const char *p, const char *e)
{
    int depth = 0;
    while (p < e) {
        const char *lt = memchr(p, '<', (size_t)(e - p));
        if (!lt || lt + 1 >= e)
            return NULL;
        if (lt[1] == '/') {
            const char *gt = memchr(lt, '>', (size_t)(e - lt));
            if (!gt)
                return NULL;
            p = gt + 1;
            if (--depth <= 0)
                return p;
        } else if (lt[1] == '?' || lt[1] == '!') {
            const char *gt = memchr(lt, '>', (size_t)(e - lt));
            if (!gt)
                return NULL;
            p = gt + 1;
        } else {
            const char *q = lt + 1;
            char quote = 0;
            for (; q < e; q++) {
                char c = *q;
                if (quote) {
                    if (c == quote)
                        quote = 0;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '>') {
                    break;
                }
            }
            if (q >= e)
                return NULL;
            p = q + 1;
            if (q[-1] != '/')
                depth++;
            else if (depth == 0)
                return p;
        }
    }
    return NULL;
}

/* Copies attribute NAME of the start tag [tag, tag_end) into out. */
static bool
get_attr(const char *tag, const char *tag_end, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    for (const char *p = tag; p + nl + 2 < tag_end; p++) {
        if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r') && !memcmp(p, name, nl) &&
            p[nl] == '=' && (p[nl + 1] == '\'' || p[nl + 1] == '"')) {
            char q = p[nl + 1];
            const char *v = p + nl + 2;
            const char *ve = memchr(v, q, (size_t)(tag_end - v));
            if (!ve)
                return false;
            size_t n = (size_t)(ve - v);
            if (n >= outsz)
                n = outsz - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
    }
    out[0] = '\0';
    return false;
}

/* The end of the start tag beginning at p ('>' included). */
static const char *
start_tag_end(const char *p, const char *e)
{
    char quote = 0;
    for (; p < e; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            return p + 1;
        }
    }
    return NULL;
}

static const char *
memmem_s(const char *h, const char *e, const char *needle)
{
    return memmem(h, (size_t)(e - h), needle, strlen(needle));
}

/* Text of the first <NAME>…</NAME> child (simple content) into out. */
static bool
child_text(const char *s, const char *e, const char *name, char *out, size_t outsz)
{
    char open[32], close[32];
    snprintf(open, sizeof open, "<%s", name);
    snprintf(close, sizeof close, "</%s>", name);
    const char *p = s;
    while ((p = memmem_s(p, e, open))) {
        char c = p[strlen(open)];
        if (c == '>' || c == ' ')
            break;
        p++;
    }
    if (!p)
        return false;
    const char *gt = memchr(p, '>', (size_t)(e - p));
    if (!gt || gt[-1] == '/')
        return false;
    const char *ce = memmem_s(gt, e, close);
    if (!ce)
        return false;
    size_t n = (size_t)(ce - gt - 1);
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, gt + 1, n);
    out[n] = '\0';
    return true;
}

static void
comp_send(const char *s, size_t n)
{
    buf_add(&comp_out, s, n);
}

/* ----------------------------------------------------------- bench state */

static char room_jid[256];
static size_t room_len;
static int N;

/* join storm and roster */
static int64_t *t_joined;           /* per user: self-presence (110) received */
static int joined_count, join_errors, unavailable_seen;
static uint8_t *seen_bits;          /* per user: occupants seen (N + 1 bits) */
static int *seen_count;             /* per user: distinct occupants seen */
static long long settled_users;     /* users who saw all N + 1 occupants */
static int64_t t_join_start, t_last_join = -1;

/* IRC side */
static int irc_fd = -1;
static Buf irc_in, irc_out;
static bool irc_welcomed, irc_joined, irc_closed;
static uint8_t *irc_join_bits;
static int irc_joins_seen;

/* XMPP -> IRC */
static int x_sent, x_recv_irc, x_complete;
static long long x_deliv;           /* 'x' groupchats delivered to XMPP users */
static int *x_deliv_seq;            /* per message: XMPP copies delivered */
static uint8_t *x_irc_seen;         /* per message: the IRC listener got it */
static int x_seq_max;
static int64_t x_t0, x_t_last = -1, x_t_complete = -1;

/* A message is complete when the IRC channel and all N users have it. */
static void
x_check_complete(long seq, int64_t t)
{
    if (x_irc_seen[seq] && x_deliv_seq[seq] == N) {
        x_complete++;
        x_t_complete = t;
    }
}
static Samples x_lat_load, x_lat_one, *x_lat = &x_lat_load;

/* IRC -> XMPP */
static int f_sent;
static int *f_deliv;                /* per message */
static long long f_deliv_total;
static int f_complete;
static int64_t f_t0, f_t_last = -1;
static Samples f_lat_load, f_lat_one, *f_lat = &f_lat_load;

/* core */
static int iq_sent, iq_ok, iq_err;
static int64_t iq_t0, iq_t_last = -1;
static char iq_prefix;
static long long presences_in, messages_in, iqs_in, stanzas_in;
static int64_t t_presences = -1;

/* anomalies (wrong stanzas) */
static long long bad_from, dup_deliv, msg_errors, iq_errors_other, unknown_bodies;
static int reported_anomalies;

static void G_GNUC_PRINTF(3, 4)
anomaly(const char *s, const char *e, const char *fmt, ...)
{
    if (reported_anomalies >= 8)
        return;
    reported_anomalies++;
    va_list ap;
    va_start(ap, fmt);
    fputs("driver: WRONG STANZA: ", stderr);
    vfprintf(stderr, fmt, ap);
    int len = (int)(e - s);
    fprintf(stderr, ": %.*s%s\n", len > 600 ? 600 : len, s, len > 600 ? "..." : "");
    va_end(ap);
}

/* 1..N for 'uK@bench.local/...', or 0. */
static int
user_index(const char *jid)
{
    if (jid[0] != 'u')
        return 0;
    char *end;
    long k = strtol(jid + 1, &end, 10);
    if (k < 1 || k > N || *end != '@' || strncmp(end + 1, USER_DOMAIN, strlen(USER_DOMAIN)))
        return 0;
    return (int)k;
}

/* occupant bit of a nick: uK -> K-1, benchirc -> N; or -1. */
static int
nick_bit(const char *nick)
{
    if (!strcmp(nick, IRC_NICK))
        return N;
    if (nick[0] != 'u')
        return -1;
    char *end;
    long k = strtol(nick + 1, &end, 10);
    if (k < 1 || k > N || *end)
        return -1;
    return (int)k - 1;
}

static const char *
occupant_nick(const char *from)
{
    if (strncmp(from, room_jid, room_len) || from[room_len] != '/')
        return NULL;
    return from + room_len + 1;
}

static bool
parse_body(const char *body, char *kind, long *seq, int64_t *ts)
{
    char *end;
    if ((body[0] != 'x' && body[0] != 'f') || body[1] != ' ')
        return false;
    *kind = body[0];
    *seq = strtol(body + 2, &end, 10);
    if (*end != ' ')
        return false;
    *ts = strtoll(end + 1, &end, 10);
    return *end == '\0';
}

static void
handle_presence(const char *s, const char *e, const char *te)
{
    char from[512], to[256], type[32];
    get_attr(s, te, "from", from, sizeof from);
    get_attr(s, te, "to", to, sizeof to);
    get_attr(s, te, "type", type, sizeof type);
    presences_in++;
    if (t_presences < 0 && opt.expect_presences > 0 && presences_in >= opt.expect_presences)
        t_presences = now_ns();
    int u = user_index(to);
    const char *nick = occupant_nick(from);
    if (!u || !nick)
        return;
    if (!strcmp(type, "error")) {
        join_errors++;
        anomaly(s, e, "presence error for user %d", u);
        return;
    }
    if (!strcmp(type, "unavailable")) {
        if (stopping)
            return; /* the gateway says goodbye */
        unavailable_seen++;
        anomaly(s, e, "unavailable presence for user %d", u);
        return;
    }
    if (*type)
        return;
    int bit = nick_bit(nick);
    if (bit < 0)
        return;
    uint8_t *bits = seen_bits + (size_t)(u - 1) * (size_t)((N + 8) / 8);
    if (!(bits[bit / 8] & (1u << (bit % 8)))) {
        bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
        if (++seen_count[u - 1] == N + 1)
            settled_users++;
    }
    if (bit == u - 1 && t_joined[u - 1] < 0 &&
        (memmem_s(s, e, "code='110'") || memmem_s(s, e, "code=\"110\""))) {
        int64_t t = now_ns();
        t_joined[u - 1] = t;
        joined_count++;
        t_last_join = t;
    }
}

static void
handle_message(const char *s, const char *e, const char *te)
{
    char from[512], to[256], type[32], body[256];
    messages_in++;
    get_attr(s, te, "type", type, sizeof type);
    get_attr(s, te, "to", to, sizeof to);
    get_attr(s, te, "from", from, sizeof from);
    if (!strcmp(type, "error")) {
        msg_errors++;
        anomaly(s, e, "message error");
        return;
    }
    if (strcmp(type, "groupchat"))
        return;
    if (!child_text(s, e, "body", body, sizeof body))
        return; /* subject */
    if (memmem_s(s, e, "urn:xmpp:delay")) {
        history_in++; /* room history sent on join */
        return;
    }
    int u = user_index(to);
    const char *nick = occupant_nick(from);
    char kind;
    long seq;
    int64_t ts;
    if (!u || !nick || !parse_body(body, &kind, &seq, &ts)) {
        unknown_bodies++;
        anomaly(s, e, "unexpected groupchat");
        return;
    }
    int64_t t = now_ns();
    if (kind == 'x') {
        char want[32];
        snprintf(want, sizeof want, "u%ld", seq % N + 1);
        if (strcmp(nick, want)) {
            bad_from++;
            anomaly(s, e, "groupchat x %ld should come from %s", seq, want);
        }
        if (seq < 0 || seq >= x_sent || seq >= x_seq_max) {
            unknown_bodies++;
            anomaly(s, e, "XMPP->IRC message never sent");
            return;
        }
        if (++x_deliv_seq[seq] > N) {
            dup_deliv++;
            anomaly(s, e, "XMPP->IRC message %ld delivered more than %d times", seq, N);
            return;
        }
        x_deliv++;
        x_check_complete(seq, t);
        return;
    }
    /* fan-out */
    if (strcmp(nick, IRC_NICK)) {
        bad_from++;
        anomaly(s, e, "groupchat f %ld should come from %s", seq, IRC_NICK);
    }
    if (seq < 0 || seq >= f_sent || !f_deliv) {
        unknown_bodies++;
        anomaly(s, e, "fan-out message never sent");
        return;
    }
    if (++f_deliv[seq] > N) {
        dup_deliv++;
        anomaly(s, e, "fan-out message %ld delivered more than %d times", seq, N);
        return;
    }
    if (f_deliv[seq] == N)
        f_complete++;
    f_deliv_total++;
    f_t_last = t;
    samples_add(f_lat, t - ts);
}

static void
handle_iq(const char *s, const char *e, const char *te)
{
    char from[512], to[256], type[32], id[128];
    iqs_in++;
    get_attr(s, te, "type", type, sizeof type);
    get_attr(s, te, "id", id, sizeof id);
    get_attr(s, te, "from", from, sizeof from);
    get_attr(s, te, "to", to, sizeof to);
    if (!strcmp(type, "result") || !strcmp(type, "error")) {
        if (id[0] == iq_prefix && iq_prefix) {
            if (type[0] == 'r')
                iq_ok++;
            else {
                iq_err++;
                anomaly(s, e, "iq error");
            }
            iq_t_last = now_ns();
        } else if (type[0] == 'e') {
            iq_errors_other++;
        }
        return;
    }
    /* A request from the gateway to a user or to the server: answer as a
     * server and a plain client would. The attribute values are echoed as
     * they came (still escaped), between double quotes; a request with a
     * double quote in one of them (never seen) is counted, not answered. */
    if (strchr(id, '"') || strchr(from, '"') || strchr(to, '"')) {
        iq_errors_other++;
        return;
    }
    if (memmem_s(s, e, "urn:xmpp:ping")) {
        buf_printf(&comp_out, "<iq type=\"result\" id=\"%s\" from=\"%s\" to=\"%s\"/>", id, to, from);
    } else if (!strcmp(type, "get") && memmem_s(s, e, "http://jabber.org/protocol/disco#info")) {
        buf_printf(&comp_out,
                   "<iq type=\"result\" id=\"%s\" from=\"%s\" to=\"%s\"><query xmlns='http://jabber.org/"
                   "protocol/disco#info'><identity category='client' type='bot'/><feature "
                   "var='http://jabber.org/protocol/disco#info'/></query></iq>",
                   id, to, from);
    } else {
        buf_printf(&comp_out,
                   "<iq type=\"error\" id=\"%s\" from=\"%s\" to=\"%s\"><error type='cancel'><service-unavailable "
                   "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                   id, to, from);
    }
}

static void
handle_stanza(const char *s, const char *e)
{
    const char *te = start_tag_end(s, e);
    if (!te)
        return;
    stanzas_in++;
    const char *name = s + 1;
    size_t nl = strcspn(name, " \t\r\n/>");
    if (nl == 8 && !memcmp(name, "presence", 8))
        handle_presence(s, e, te);
    else if (nl == 7 && !memcmp(name, "message", 7))
        handle_message(s, e, te);
    else if (nl == 2 && !memcmp(name, "iq", 2))
        handle_iq(s, e, te);
    else if (nl == 9 && !memcmp(name, "handshake", 9)) {
        char digest[64];
        const char *p = te;
        const char *ce = memmem_s(p, e, "</handshake>");
        size_t n = ce ? (size_t)(ce - p) : 0;
        if (n >= sizeof digest)
            n = sizeof digest - 1;
        memcpy(digest, p, n);
        digest[n] = '\0';
        g_autofree char *input = g_strconcat(stream_id, opt.secret, NULL);
        g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA1, input, -1);
        if (g_ascii_strcasecmp(digest, want)) {
            note("handshake digest mismatch (got '%s', want '%s'): not-authorized", digest, want);
            static const char refuse[] = "<stream:error><not-authorized "
                                         "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                                         "</stream:error></stream:stream>";
            comp_send(refuse, sizeof refuse - 1);
            comp_closed = true;
            return;
        }
        comp_send("<handshake/>", 12);
        handshake_ok = true;
        t_handshake = now_ns();
    } else if (nl == 12 && !memcmp(name, "stream:error", 12)) {
        note("stream error from the gateway: %.*s", (int)(e - s), s);
    }
}

static void
comp_parse(void)
{
    const char *b = comp_in.d, *e = comp_in.d + comp_in.len, *p = b;
    if (!comp_header_seen) {
        const char *h = memmem_s(p, e, "<stream:stream");
        if (!h)
            return;
        const char *he = start_tag_end(h, e);
        if (!he)
            return;
        char to[256];
        get_attr(h, he, "to", to, sizeof to);
        if (strcmp(to, opt.domain))
            note("component asks for domain '%s', expected '%s'", to, opt.domain);
        snprintf(stream_id, sizeof stream_id, "bench%08x%08x", g_random_int(), g_random_int());
        buf_printf(&comp_out,
                   "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                   "xmlns='jabber:component:accept' from='%s' id='%s'>",
                   opt.domain, stream_id);
        comp_header_seen = true;
        p = he;
    }
    for (;;) {
        while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
            p++;
        if (p >= e)
            break;
        if (*p != '<') {
            note("component stream: unexpected text '%.20s'", p);
            comp_closed = true;
            break;
        }
        if (e - p >= 2 && p[1] == '/') {
            if (!comp_closed)
                note("component stream closed by the gateway");
            comp_closed = true;
            if (!comp_close_sent) {
                comp_send("</stream:stream>", 16);
                comp_close_sent = true;
            }
            p = e;
            break;
        }
        const char *end = element_end(p, e);
        if (!end)
            break;
        handle_stanza(p, end);
        p = end;
    }
    buf_consume(&comp_in, (size_t)(p - b));
}

static void
on_comp_readable(void)
{
    for (int i = 0; i < 8; i++) {
        buf_reserve(&comp_in, READ_CHUNK);
        ssize_t n = recv(comp_fd, comp_in.d + comp_in.len, READ_CHUNK, 0);
        if (n > 0) {
            comp_in.len += (size_t)n;
            comp_in.d[comp_in.len] = '\0';
            comp_parse();
            if (n < READ_CHUNK)
                return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (!comp_closed)
            note("component stream: connection closed by the gateway%s%s", n < 0 ? ": " : "",
                 n < 0 ? strerror(errno) : "");
        comp_closed = true;
        epoll_ctl(epfd, EPOLL_CTL_DEL, comp_fd, NULL);
        close(comp_fd);
        comp_fd = -1;
        comp_out.len = 0;
        return;
    }
}

static void
on_accept(void)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (comp_fd >= 0) {
        note("a second component connection: refused");
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    comp_fd = fd;
    comp_events = EPOLLIN;
    ep_add(fd, TAG_COMP, EPOLLIN);
}

/* --------------------------------------------------------------- IRC side */

static void
irc_send(const char *line)
{
    buf_add(&irc_out, line, strlen(line));
    buf_add(&irc_out, "\r\n", 2);
}

static void
irc_flush(void)
{
    while (irc_fd >= 0 && irc_out.len) {
        ssize_t n = send(irc_fd, irc_out.d, irc_out.len, MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&irc_out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        note("IRC: write failed: %s", strerror(errno));
        irc_closed = true;
        irc_out.len = 0;
        return;
    }
    if (irc_fd >= 0)
        ep_mod(irc_fd, TAG_IRC, EPOLLIN | (irc_out.len ? EPOLLOUT : 0));
}

static void
irc_line(char *line)
{
    char *prefix = NULL;
    if (*line == '@') { /* tags */
        line = strchr(line, ' ');
        if (!line)
            return;
        line++;
    }
    if (*line == ':') {
        prefix = line + 1;
        line = strchr(line, ' ');
        if (!line)
            return;
        *line++ = '\0';
    }
    char *cmd = line;
    char *rest = strchr(line, ' ');
    if (rest)
        *rest++ = '\0';
    else
        rest = line + strlen(line);
    char *trailing = strstr(rest, " :");
    if (trailing) {
        *trailing = '\0';
        trailing += 2;
    } else if (*rest == ':') {
        trailing = rest + 1;
        rest = (char *)"";
    }
    char nick[64] = "";
    if (prefix) {
        size_t n = strcspn(prefix, "!@");
        if (n >= sizeof nick)
            n = sizeof nick - 1;
        memcpy(nick, prefix, n);
        nick[n] = '\0';
    }
    if (!strcmp(cmd, "PING")) {
        char pong[600];
        snprintf(pong, sizeof pong, "PONG :%s", trailing ? trailing : rest);
        irc_send(pong);
    } else if (!strcmp(cmd, "001")) {
        irc_welcomed = true;
        char join[300];
        snprintf(join, sizeof join, "JOIN %s", opt.channel);
        irc_send(join);
    } else if (!strcmp(cmd, "366")) {
        irc_joined = true;
    } else if (!strcmp(cmd, "433") || !strcmp(cmd, "ERROR")) {
        note("IRC: %s %s :%s", cmd, rest, trailing ? trailing : "");
        irc_closed = true;
    } else if (!strcmp(cmd, "JOIN")) {
        int bit = nick_bit(nick);
        if (bit >= 0 && bit < N && !(irc_join_bits[bit / 8] & (1u << (bit % 8)))) {
            irc_join_bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
            irc_joins_seen++;
        }
    } else if (!strcmp(cmd, "PRIVMSG") && trailing) {
        char kind;
        long seq;
        int64_t ts;
        if (!parse_body(trailing, &kind, &seq, &ts) || kind != 'x') {
            unknown_bodies++;
            return;
        }
        int64_t t = now_ns();
        char want[32];
        snprintf(want, sizeof want, "u%ld", seq % N + 1);
        if (strcmp(nick, want)) {
            bad_from++;
            note("WRONG LINE: IRC message %ld from %s, expected %s", seq, nick, want);
        }
        if (seq < 0 || seq >= x_sent || seq >= x_seq_max || x_irc_seen[seq]) {
            unknown_bodies++;
            note("WRONG LINE: IRC message %ld unexpected or repeated", seq);
            return;
        }
        x_irc_seen[seq] = 1;
        x_recv_irc++;
        x_t_last = t;
        x_check_complete(seq, t);
        samples_add(x_lat, t - ts);
    }
}

static void
on_irc_event(uint32_t events)
{
    if (events & EPOLLOUT)
        irc_flush();
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (;;) {
        buf_reserve(&irc_in, 65536);
        ssize_t n = recv(irc_fd, irc_in.d + irc_in.len, 65536, 0);
        if (n > 0) {
            irc_in.len += (size_t)n;
            irc_in.d[irc_in.len] = '\0';
            char *start = irc_in.d, *nl;
            while ((nl = memchr(start, '\n', irc_in.len - (size_t)(start - irc_in.d)))) {
                *nl = '\0';
                if (nl > start && nl[-1] == '\r')
                    nl[-1] = '\0';
                irc_line(start);
                start = nl + 1;
            }
            buf_consume(&irc_in, (size_t)(start - irc_in.d));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        note("IRC: connection closed by the server");
        irc_closed = true;
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
        note("IRC: cannot connect to 127.0.0.1:%d: %s", opt.irc_port, strerror(errno));
        exit(2);
    }
    int one = 1;
    setsockopt(irc_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ep_add(irc_fd, TAG_IRC, EPOLLIN | EPOLLOUT);
    irc_send("NICK " IRC_NICK);
    irc_send("USER bench 0 * :Causeway bench listener");
}

/* ------------------------------------------------------------- main loop */

static void (*pump)(void);

/* One turn of the loop: wait at most max_ms for events and handle them. */
static void
loop_once(int max_ms)
{
    struct epoll_event evs[64];
    comp_flush();
    irc_flush();
    int n = epoll_wait(epfd, evs, 64, max_ms);
    for (int i = 0; i < n; i++) {
        switch (evs[i].data.u32) {
        case TAG_LISTEN:
            on_accept();
            break;
        case TAG_COMP:
            if (evs[i].events & EPOLLOUT)
                comp_flush();
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_comp_readable();
            break;
        case TAG_IRC:
            on_irc_event(evs[i].events);
            break;
        case TAG_LOG:
            on_log_readable();
            break;
        }
    }
}

/* Runs the loop until done() or the deadline; false on timeout or when the
 * gateway died or the stream closed. */
static bool
run_until(bool (*done)(void), double timeout_s, const char *what)
{
    int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
    for (;;) {
        if (done && done())
            return true;
        check_gateway();
        if (gw_dead) {
            note("while waiting for %s", what);
            return false;
        }
        if (comp_closed && handshake_ok) {
            note("component stream gone while waiting for %s", what);
            return false;
        }
        int64_t now = now_ns();
        if (now >= deadline) {
            if (done)
                note("TIMEOUT after %.1fs waiting for %s", timeout_s, what);
            return !done;
        }
        if (pump)
            pump();
        int64_t left_ms = (deadline - now) / 1000000 + 1;
        loop_once(left_ms > 100 ? 100 : (int)left_ms);
    }
}

static bool done_handshake(void) { return handshake_ok; }
static bool done_irc_joined(void) { return irc_joined || irc_closed; }
static bool done_joined(void) { return joined_count + join_errors >= N; }
static bool done_settled(void) { return settled_users >= N && irc_joins_seen >= N; }
static bool done_ready(void) { return t_ready >= 0; }
static bool done_presences(void) { return presences_in >= opt.expect_presences; }

/* ---- XMPP -> IRC: users take turns; at most x_window messages in flight
 * (sent, not yet seen by the IRC listener) */

static int x_target, x_window;
static int64_t x_cap_end;

static void
x_pump(void)
{
    int64_t now = now_ns();
    while (x_sent < x_target && x_sent - x_complete < x_window && now < x_cap_end) {
        int u = x_sent % N + 1;
        buf_printf(&comp_out,
                   "<message type='groupchat' id='x%d' from='u%d@" USER_DOMAIN "/r' to='%s'><body>x %d %lld"
                   "</body></message>",
                   x_sent, u, room_jid, x_sent, (long long)now);
        x_sent++;
    }
    if (now >= x_cap_end && x_target > x_sent)
        x_target = x_sent; /* time cap: stop offering load */
}

static bool done_x(void) { return x_sent >= x_target && x_complete >= x_sent; }

/* ---- IRC -> XMPP: benchirc speaks; at most f_window lines not yet
 * delivered to every user */

static int f_target, f_window;
static int64_t f_cap_end;

static void
f_pump(void)
{
    int64_t now = now_ns();
    while (f_sent < f_target && f_sent - f_complete < f_window && now < f_cap_end) {
        char line[200];
        snprintf(line, sizeof line, "PRIVMSG %s :f %d %lld", opt.channel, f_sent, (long long)now);
        irc_send(line);
        f_sent++;
    }
    if (now >= f_cap_end && f_target > f_sent)
        f_target = f_sent;
}

static bool done_f(void) { return f_sent >= f_target && f_complete >= f_sent; }

/* ---- IQ round trips */

static int iq_target;
static int64_t iq_cap_end;

static void
iq_pump(void)
{
    int64_t now = now_ns();
    while (iq_sent < iq_target && iq_sent - (iq_ok + iq_err) < opt.iq_window && now < iq_cap_end) {
        int u = iq_sent % opt.iq_senders + 1;
        if (iq_prefix == 'd')
            buf_printf(&comp_out,
                       "<iq type='get' id='d%d' from='u%d@" USER_DOMAIN "/r' to='%s'><query "
                       "xmlns='http://jabber.org/protocol/disco#info'/></iq>",
                       iq_sent, u, opt.domain);
        else
            buf_printf(&comp_out,
                       "<iq type='get' id='p%d' from='u%d@" USER_DOMAIN "/r' to='%s'><ping "
                       "xmlns='urn:xmpp:ping'/></iq>",
                       iq_sent, u, opt.domain);
        iq_sent++;
    }
    if (now >= iq_cap_end && iq_target > iq_sent)
        iq_target = iq_sent;
}

static bool done_iq(void) { return iq_sent >= iq_target && iq_ok + iq_err >= iq_sent; }

static bool
iq_phase(char prefix, const char *name)
{
    iq_prefix = prefix;
    iq_sent = iq_ok = iq_err = 0;
    iq_target = opt.iq_count;
    iq_t0 = now_ns();
    iq_cap_end = iq_t0 + (int64_t)(opt.phase_cap_s * 1e9);
    pump = iq_pump;
    bool ok = run_until(done_iq, opt.phase_cap_s + opt.timeout_s, name);
    pump = NULL;
    double secs = (double)(iq_t_last - iq_t0) / 1e9;
    result("%s_sent=%d", name, iq_sent);
    result("%s_ok=%d", name, iq_ok);
    result("%s_errors=%d", name, iq_err);
    if (iq_ok && secs > 0)
        result("%s_per_s=%.0f", name, (double)iq_ok / secs);
    return ok && iq_err == 0;
}

/* ------------------------------------------------------------- scenarios */

static int exit_code;

static void
fail(int code)
{
    if (exit_code < code)
        exit_code = code;
}

static bool
wait_start(void)
{
    if (!run_until(done_handshake, opt.timeout_s, "the component handshake")) {
        fail(gw_dead ? 3 : 2);
        return false;
    }
    result("handshake_ms=%.1f", (double)(t_handshake - t_spawn) / 1e6);
    return true;
}

static void
scenario_core(void)
{
    if (!wait_start())
        return;
    if (opt.ready) {
        if (run_until(done_ready, opt.timeout_s, "the gateway's ready log line"))
            result("ready_ms=%.1f", (double)(t_ready - t_spawn) / 1e6);
        else
            fail(gw_dead ? 3 : 2);
    }
    if (opt.expect_presences > 0) {
        if (run_until(done_presences, opt.timeout_s, "the start-up presences"))
            result("startup_presences_ms=%.1f", (double)(t_presences - t_spawn) / 1e6);
        else
            fail(gw_dead ? 3 : 2);
    }
    result("startup_presences=%lld", presences_in);
    result("startup_rss_kb=%ld", proc_status_kb(gw_pid, "VmRSS"));
    if (opt.iq_count > 0) {
        if (!iq_phase('d', "disco") || !iq_phase('p', "ping"))
            fail(gw_dead ? 3 : 2);
    }
}

static void
scenario_irc(void)
{
    N = opt.users;
    snprintf(room_jid, sizeof room_jid, "%s%%%s@%s", opt.channel, opt.irc_host, opt.domain);
    room_len = strlen(room_jid);
    t_joined = g_new(int64_t, N);
    for (int i = 0; i < N; i++)
        t_joined[i] = -1;
    seen_bits = g_new0(uint8_t, (size_t)N * (size_t)((N + 8) / 8));
    seen_count = g_new0(int, N);
    irc_join_bits = g_new0(uint8_t, (size_t)(N + 8) / 8);

    irc_connect();
    if (!run_until(done_irc_joined, opt.timeout_s, "the IRC listener to join") || irc_closed) {
        fail(2);
        return;
    }
    spawn_gateway();
    if (!wait_start())
        return;
    result("rss_start_kb=%ld", proc_status_kb(gw_pid, "VmRSS"));

    /* join storm: every user asks at once */
    t_join_start = now_ns();
    for (int u = 1; u <= N; u++)
        buf_printf(&comp_out,
                   "<presence from='u%d@" USER_DOMAIN "/r' to='%s/u%d'><x xmlns='http://jabber.org/"
                   "protocol/muc'/></presence>",
                   u, room_jid, u);
    bool ok = run_until(done_joined, opt.timeout_s + N * 0.2, "every self-presence (status 110)");
    result("joined=%d", joined_count);
    result("join_errors=%d", join_errors);
    if (joined_count)
        result("join_storm_s=%.3f", (double)(t_last_join - t_join_start) / 1e9);
    if (!ok || joined_count < N) {
        fail(gw_dead ? 3 : 2);
        return;
    }
    ok = run_until(done_settled, opt.timeout_s + N * 0.2, "every occupant list to be complete");
    result("settle_s=%.3f", (double)(now_ns() - t_join_start) / 1e9);
    result("settled_users=%lld", settled_users);
    result("irc_joins_seen=%d", irc_joins_seen);
    if (!ok) {
        fail(gw_dead ? 3 : 2);
        return;
    }
    long rss_settled = proc_status_kb(gw_pid, "VmRSS");
    result("rss_kb=%ld", rss_settled);

    /* idle: N users joined, nothing said */
    if (opt.idle_s > 0) {
        long long before = stanzas_in;
        CpuMark a = cpu_mark();
        run_until(NULL, opt.idle_s, "idle");
        CpuMark b = cpu_mark();
        if (gw_dead) {
            fail(3);
            return;
        }
        double gw = (double)(b.gw - a.gw) / (double)clk_tck;
        result("idle_cpu_pct=%.2f", 100.0 * gw / ((double)(b.t - a.t) / 1e9));
        result("idle_stanzas=%lld", stanzas_in - before);
    }
    /* after the idle window: what the N joined users cost once the storm's
     * transient buffers are gone (or kept: that shows too) */
    long rss_idle = proc_status_kb(gw_pid, "VmRSS");
    long hwm = proc_status_kb(gw_pid, "VmHWM"); /* the kernel updates it lazily */
    result("rss_idle_kb=%ld", rss_idle);
    result("rss_hwm_idle_kb=%ld", MAX(hwm, MAX(rss_idle, rss_settled)));

    /* XMPP -> IRC, throughput: users take turns; at most --window messages
     * not yet complete (seen in the channel and delivered to all N users) */
    x_seq_max = opt.x2i_msgs + opt.lat_msgs + 1;
    x_deliv_seq = g_new0(int, x_seq_max);
    x_irc_seen = g_new0(uint8_t, x_seq_max);
    x_target = opt.x2i_msgs;
    x_window = opt.window;
    x_t0 = now_ns();
    x_cap_end = x_t0 + (int64_t)(opt.phase_cap_s * 1e9);
    x_lat = &x_lat_load;
    CpuMark xa = cpu_mark();
    pump = x_pump;
    ok = run_until(done_x, opt.phase_cap_s + opt.timeout_s, "every XMPP->IRC message in the channel and at every user");
    pump = NULL;
    CpuMark xb = cpu_mark();
    result("x2i_sent=%d", x_sent);
    result("x2i_received=%d", x_recv_irc);
    result("x2i_complete=%d", x_complete);
    result("x2i_xmpp_deliveries=%lld", x_deliv);
    result("x2i_xmpp_expected=%lld", (long long)x_sent * N);
    if (x_complete && x_t_complete > x_t0)
        result("x2i_msgs_per_s=%.1f", (double)x_complete / ((double)(x_t_complete - x_t0) / 1e9));
    samples_report("x2i_load", x_lat);
    cpu_report("x2i", xa, xb);
    if (!ok) {
        fail(gw_dead ? 3 : 2);
        return;
    }

    /* XMPP -> IRC, latency: one message in flight */
    if (opt.lat_msgs > 0) {
        int xbase = x_sent;
        x_target = x_sent + opt.lat_msgs;
        x_window = 1;
        x_cap_end = now_ns() + (int64_t)(opt.lat_cap_s * 1e9);
        x_lat = &x_lat_one;
        pump = x_pump;
        ok = run_until(done_x, opt.lat_cap_s + opt.timeout_s, "XMPP->IRC messages (one in flight)");
        pump = NULL;
        result("x2i_lat_msgs=%d", x_sent - xbase);
        samples_report("x2i", x_lat);
        if (!ok) {
            fail(gw_dead ? 3 : 2);
            return;
        }
    }

    /* IRC -> XMPP fan-out, throughput: --window lines not yet delivered to all */
    f_deliv = g_new0(int, opt.fan_msgs + opt.lat_msgs + 1);
    f_target = opt.fan_msgs;
    f_window = opt.window;
    f_t0 = now_ns();
    f_cap_end = f_t0 + (int64_t)(opt.phase_cap_s * 1e9);
    f_lat = &f_lat_load;
    CpuMark fa = cpu_mark();
    pump = f_pump;
    ok = run_until(done_f, opt.phase_cap_s + opt.timeout_s, "every fan-out delivery");
    pump = NULL;
    CpuMark fb = cpu_mark();
    long long f_tp = f_deliv_total;
    result("fan_sent=%d", f_sent);
    result("fan_deliveries=%lld", f_deliv_total);
    result("fan_expected=%lld", (long long)f_sent * N);
    if (f_deliv_total && f_t_last > f_t0)
        result("fan_stanzas_per_s=%.1f", (double)f_deliv_total / ((double)(f_t_last - f_t0) / 1e9));
    samples_report("fan_load", f_lat);
    double cpu = cpu_report("fan", fa, fb);
    if (f_tp)
        result("fan_cpu_s_per_10k=%.4f", cpu / (double)f_tp * 10000.0);
    if (!ok) {
        fail(gw_dead ? 3 : 2);
        return;
    }

    /* IRC -> XMPP fan-out, latency: one line at a time */
    if (opt.lat_msgs > 0) {
        f_target = f_sent + opt.lat_msgs;
        f_window = 1;
        f_cap_end = now_ns() + (int64_t)(opt.lat_cap_s * 1e9);
        f_lat = &f_lat_one;
        int fbase = f_sent;
        pump = f_pump;
        ok = run_until(done_f, opt.lat_cap_s + opt.timeout_s, "every fan-out delivery (one in flight)");
        pump = NULL;
        result("fan_lat_msgs=%d", f_sent - fbase);
        samples_report("fan", f_lat);
        if (!ok)
            fail(gw_dead ? 3 : 2);
    }
    result("rss_end_kb=%ld", proc_status_kb(gw_pid, "VmRSS"));
}

/* ------------------------------------------------------------------ main */

static void
usage(void)
{
    fprintf(stderr,
            "usage: xmppdriver --mode irc|core --config-template IN --config-out OUT --log FILE\n"
            "         [--domain D] [--secret S] [--ready TEXT] [--expect-presences N]\n"
            "         [--users N] [--irc-port P] [--irc-host H] [--channel C] [--ircd-pid PID]\n"
            "         [--x2i-msgs M] [--fan-msgs K] [--window W] [--lat-msgs L] [--lat-cap S]\n"
            "         [--idle S] [--phase-cap S]\n"
            "         [--timeout S] [--iq-count Q] [--iq-window W] -- GATEWAY-ARGV...\n");
    exit(1);
}

static void
on_signal(int sig)
{
    /* interrupted: stop the gateway (by its PID) and go */
    if (gw_pid > 0 && !gw_dead)
        kill(gw_pid, SIGTERM);
    _exit(128 + sig);
}

int
main(int argc, char **argv)
{
    clk_tck = sysconf(_SC_CLK_TCK);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
#define S(name, field) else if (!strcmp(a, name)) opt.field = v
#define I(name, field) else if (!strcmp(a, name)) opt.field = atoi(v)
#define D(name, field) else if (!strcmp(a, name)) opt.field = g_ascii_strtod(v, NULL)
        if (0) {
        }
        S("--mode", mode);
        S("--domain", domain);
        S("--secret", secret);
        S("--config-template", config_template);
        S("--config-out", config_out);
        S("--log", log_path);
        S("--ready", ready);
        I("--expect-presences", expect_presences);
        I("--users", users);
        I("--irc-port", irc_port);
        S("--irc-host", irc_host);
        S("--channel", channel);
        I("--x2i-msgs", x2i_msgs);
        I("--fan-msgs", fan_msgs);
        I("--window", window);
        I("--lat-msgs", lat_msgs);
        D("--lat-cap", lat_cap_s);
        D("--idle", idle_s);
        D("--phase-cap", phase_cap_s);
        D("--timeout", timeout_s);
        D("--stop-timeout", stop_timeout_s);
        I("--iq-count", iq_count);
        I("--iq-window", iq_window);
        I("--iq-senders", iq_senders);
        I("--ircd-pid", ircd_pid);
        else usage();
#undef S
#undef I
#undef D
    }
    if (i >= argc || !opt.config_template || !opt.config_out || !opt.log_path)
        usage();
    opt.gw_argv = argv + i;
    if (opt.window < 1)
        opt.window = 1;
    if (opt.users < 1)
        opt.users = 1;
    N = opt.users;
    bool irc = !strcmp(opt.mode, "irc");
    if (!irc && strcmp(opt.mode, "core"))
        usage();
    if (irc && opt.irc_port <= 0)
        usage();

    epfd = epoll_create1(EPOLL_CLOEXEC);
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 16) < 0 ||
        getsockname(listen_fd, (struct sockaddr *)&a, &al) < 0) {
        note("cannot listen on 127.0.0.1: %s", strerror(errno));
        return 1;
    }
    ep_add(listen_fd, TAG_LISTEN, EPOLLIN);
    int port = ntohs(a.sin_port);

    g_autofree char *tmpl = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(opt.config_template, &tmpl, NULL, &err)) {
        note("%s", err->message);
        return 1;
    }
    g_autofree char *port_s = g_strdup_printf("%d", port);
    g_auto(GStrv) parts = g_strsplit(tmpl, "@XMPP_PORT@", -1);
    g_autofree char *conf = g_strjoinv(port_s, parts);
    if (!g_file_set_contents(opt.config_out, conf, -1, &err)) {
        note("%s", err->message);
        return 1;
    }
    result("xmpp_port=%d", port);

    if (irc) {
        scenario_irc();
    } else {
        spawn_gateway();
        scenario_core();
    }

    if (gw_pid > 0) {
        bool died_before = gw_dead;
        int st = stop_gateway();
        if (died_before)
            fail(3);
        else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
            note("gateway ended on SIGTERM with signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        result("gateway_exit=%s%d", WIFSIGNALED(st) ? "signal " : "", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }
    if (irc_fd >= 0) {
        irc_send("QUIT :bench done");
        irc_flush();
        close(irc_fd);
    }
    result("anomalies=%lld", bad_from + dup_deliv + msg_errors + unknown_bodies + (long long)join_errors +
                                 (long long)unavailable_seen);
    result("anomaly_detail=bad_from:%lld dup:%lld msg_errors:%lld unknown:%lld join_errors:%d unavailable:%d "
           "iq_errors_other:%lld",
           bad_from, dup_deliv, msg_errors, unknown_bodies, join_errors, unavailable_seen, iq_errors_other);
    result("stanzas_in=%lld", stanzas_in);
    result("history_in=%lld", history_in);
    result("status=%s", exit_code == 0 ? "ok" : exit_code == 3 ? "gateway-died" : "incomplete");
    return exit_code;
}
