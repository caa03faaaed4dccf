/* sms-poll.c — an epoll set as one GSource (sms-poll.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-poll.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct {
    GSource base;
    CwSmsPoll *p;
} PollSource;

struct CwSmsPollWatch {
    CwSmsPoll *p;
    int fd;
    GIOCondition cond;
    CwSmsPollFunc func; /* NULL once removed */
    gpointer data;
};

struct CwSmsPoll {
    int epfd;
    PollSource *source;
    guint size;
    gboolean dispatching, freed;
    GPtrArray *dead; /* watches removed during a dispatch: freed at its end */
};

static guint32
to_epoll(GIOCondition cond)
{
    return (cond & G_IO_IN ? EPOLLIN : 0) | (cond & G_IO_OUT ? EPOLLOUT : 0) |
           (cond & G_IO_PRI ? EPOLLPRI : 0);
}

static GIOCondition
from_epoll(guint32 ev)
{
    return (ev & EPOLLIN ? G_IO_IN : 0) | (ev & EPOLLOUT ? G_IO_OUT : 0) |
           (ev & EPOLLPRI ? G_IO_PRI : 0) | (ev & EPOLLHUP ? G_IO_HUP : 0) |
           (ev & EPOLLERR ? G_IO_ERR : 0);
}

static void
poll_destroy(CwSmsPoll *p)
{
    g_source_destroy((GSource *)p->source);
    g_source_unref((GSource *)p->source);
    close(p->epfd);
    g_ptr_array_unref(p->dead);
    g_free(p);
}

static gboolean
poll_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    CwSmsPoll *p = ((PollSource *)source)->p;
    struct epoll_event evs[CW_SMS_POLL_BATCH];
    int n;
    do
        n = epoll_wait(p->epfd, evs, CW_SMS_POLL_BATCH, 0);
    while (n < 0 && errno == EINTR);
    p->dispatching = TRUE;
    for (int i = 0; i < n && !p->freed; i++) {
        CwSmsPollWatch *w = evs[i].data.ptr;
        if (w->func) /* not removed by an earlier callback of this turn */
            w->func(w, w->fd, from_epoll(evs[i].events), w->data);
    }
    p->dispatching = FALSE;
    g_ptr_array_set_size(p->dead, 0); /* frees them */
    if (p->freed)
        poll_destroy(p);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs poll_funcs = {.dispatch = poll_dispatch};

CwSmsPoll *
cw_sms_poll_new(GError **error)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "epoll_create1: %s",
                    g_strerror(e));
        return NULL;
    }
    CwSmsPoll *p = g_new0(CwSmsPoll, 1);
    p->epfd = epfd;
    p->dead = g_ptr_array_new_with_free_func(g_free);
    p->source = (PollSource *)g_source_new(&poll_funcs, sizeof(PollSource));
    p->source->p = p;
    g_source_set_static_name((GSource *)p->source, "sms poll set");
    g_source_add_unix_fd((GSource *)p->source, epfd, G_IO_IN);
    g_source_attach((GSource *)p->source, g_main_context_get_thread_default());
    return p;
}

void
cw_sms_poll_free(CwSmsPoll *p)
{
    if (!p)
        return;
    g_warn_if_fail(p->size == 0);
    if (p->dispatching) {
        p->freed = TRUE; /* at the end of this turn */
        return;
    }
    poll_destroy(p);
}

CwSmsPollWatch *
cw_sms_poll_add(CwSmsPoll *p, int fd, GIOCondition cond, CwSmsPollFunc func, gpointer data)
{
    g_return_val_if_fail(p != NULL && fd >= 0 && func != NULL, NULL);
    CwSmsPollWatch *w = g_new0(CwSmsPollWatch, 1);
    struct epoll_event ev = {.events = to_epoll(cond), .data.ptr = w};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        g_free(w);
        errno = e;
        return NULL;
    }
    w->p = p;
    w->fd = fd;
    w->cond = cond;
    w->func = func;
    w->data = data;
    p->size++;
    return w;
}

void
cw_sms_poll_modify(CwSmsPollWatch *w, GIOCondition cond)
{
    g_return_if_fail(w != NULL && w->func != NULL);
    if (to_epoll(cond) == to_epoll(w->cond))
        return;
    struct epoll_event ev = {.events = to_epoll(cond), .data.ptr = w};
    if (epoll_ctl(w->p->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
        g_warning("sms poll: cannot change the watch of fd %d: %s", w->fd, g_strerror(errno));
    w->cond = cond;
}

void
cw_sms_poll_remove(CwSmsPollWatch *w)
{
    if (!w)
        return;
    g_return_if_fail(w->func != NULL);
    CwSmsPoll *p = w->p;
    /* ENOENT/EBADF: the fd was closed first; the kernel dropped it then */
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->func = NULL;
    p->size--;
    if (p->dispatching)
        g_ptr_array_add(p->dead, w); /* an event of this turn may point at it */
    else
        g_free(w);
}

guint
cw_sms_poll_size(CwSmsPoll *p)
{
    g_return_val_if_fail(p != NULL, 0);
    return p->size;
}
