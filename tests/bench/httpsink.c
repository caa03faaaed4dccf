/* httpsink.c — the trivial HTTP sink of tests/bench/sms-bench.py (Kannel's MO
 * get-url and DLR url in the ceiling phases), in C so that it is never what
 * limits Kannel.
 *
 *   httpsink PORT
 *
 * Listens on 127.0.0.1:PORT, answers every request (HTTP/1.x, keep-alive)
 * with "200 OK" and an empty body, and reports on stdout, one line each:
 *   M <text> <ns>   a request for /mo: its text parameter, URL-decoded
 *                   (spaces as '_'), and when it came (CLOCK_MONOTONIC ns)
 *   D <type> <ns>   a request for /dlr: its type parameter
 * Lines are written once per event-loop turn. It runs until stdin closes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 4096
#define BUF 65536

typedef struct {
    char *d;
    size_t len;
} Conn;

static Conn conns[MAX_FD];
static char out[1 << 20];
static size_t out_len;

static long long
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The URL-decoded value of query parameter name in [q, e), spaces as '_'. */
static void
param(const char *q, const char *e, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    dst[0] = '\0';
    const char *p = q;
    while (p < e) {
        const char *amp = memchr(p, '&', (size_t)(e - p));
        const char *end = amp ? amp : e;
        if ((size_t)(end - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
            size_t n = 0;
            for (const char *s = p + nl + 1; s < end && n + 1 < cap; s++) {
                int c = (unsigned char)*s;
                if (c == '%' && end - s >= 3 && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
                    c = hexval(s[1]) * 16 + hexval(s[2]);
                    s += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                dst[n++] = (c == ' ' || c == '\n' || c == '\r') ? '_' : (char)c;
            }
            dst[n] = '\0';
        }
        p = end + 1;
    }
}

static void
request(const char *line, const char *le)
{
    const char *sp = memchr(line, ' ', (size_t)(le - line));
    if (!sp)
        return;
    const char *t = sp + 1;
    const char *te = memchr(t, ' ', (size_t)(le - t));
    if (!te)
        te = le;
    const char *qm = memchr(t, '?', (size_t)(te - t));
    const char *pe = qm ? qm : te;
    char v[512];
    if (out_len > sizeof out - 1024) {
        fwrite(out, 1, out_len, stdout);
        out_len = 0;
    }
    if (pe - t == 3 && !memcmp(t, "/mo", 3)) {
        param(qm ? qm + 1 : te, te, "text", v, sizeof v);
        out_len += (size_t)snprintf(out + out_len, sizeof out - out_len, "M %s %lld\n", v, now_ns());
    } else if (pe - t == 4 && !memcmp(t, "/dlr", 4)) {
        param(qm ? qm + 1 : te, te, "type", v, sizeof v);
        out_len += (size_t)snprintf(out + out_len, sizeof out - out_len, "D %s %lld\n", v, now_ns());
    }
}

static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void
readable(int fd)
{
    Conn *c = &conns[fd];
    for (;;) {
        if (!c->d)
            c->d = malloc(BUF);
        ssize_t n = recv(fd, c->d + c->len, BUF - c->len - 1, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            close(fd);
            free(c->d);
            c->d = NULL;
            c->len = 0;
            return;
        }
        c->len += (size_t)n;
        c->d[c->len] = '\0';
        size_t replies = 0;
        for (;;) {
            char *h = strstr(c->d, "\r\n\r\n");
            if (!h)
                break;
            size_t body = 0;
            char *cl = strcasestr(c->d, "\r\ncontent-length:");
            if (cl && cl < h)
                body = strtoul(cl + 17, NULL, 10);
            size_t total = (size_t)(h + 4 - c->d) + body;
            if (total > c->len)
                break;
            char *le = strstr(c->d, "\r\n");
            request(c->d, le);
            memmove(c->d, c->d + total, c->len - total + 1);
            c->len -= total;
            replies++;
        }
        for (size_t i = 0; i < replies; i++)
            if (send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL) < 0)
                break;
        if (c->len >= BUF - 1) { /* a request too large: not ours */
            close(fd);
            free(c->d);
            c->d = NULL;
            c->len = 0;
            return;
        }
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: httpsink PORT\n");
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 512) < 0) {
        perror("httpsink: bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    ev.data.fd = 0;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    printf("READY\n");
    fflush(stdout);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == 0) {
                char b[64];
                if (read(0, b, sizeof b) <= 0)
                    return 0;
            } else if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if (c >= MAX_FD) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
            } else {
                readable(fd);
            }
        }
        if (out_len) {
            fwrite(out, 1, out_len, stdout);
            fflush(stdout);
            out_len = 0;
        }
    }
}
