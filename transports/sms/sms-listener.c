/* sms-listener.c — the HTTP listener for Kannel's MO and DLR callbacks (libsoup 3
 * server; see sms-listener.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-listener.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>

#define LISTEN_BACKLOG 1024
#define FORM_TYPE "application/x-www-form-urlencoded"

struct CwSmsListener {
    SoupServer *server;
    GSocket *socket;
    char *token;
    CwSmsListenerHandlers handlers;
    gpointer data;
    guint port;
    guint64 refused, malformed, taken;
};

/* "host:port" or "[v6]:port", host an IP literal -> address, or NULL. */
static GInetSocketAddress *
split_address(const char *address)
{
    const char *colon;
    g_autofree char *host = NULL;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':')
            return NULL;
        host = g_strndup(address + 1, (gsize)(close - address - 1));
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon || memchr(address, ':', (gsize)(colon - address)))
            return NULL; /* a bare IPv6 address needs brackets */
        host = g_strndup(address, (gsize)(colon - address));
    }
    guint64 port;
    if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL))
        return NULL;
    g_autoptr(GInetAddress) ip = g_inet_address_new_from_string(host);
    if (!ip)
        return NULL;
    return G_INET_SOCKET_ADDRESS(g_inet_socket_address_new(ip, (guint16)port));
}

static GInetSocketAddress *
parse_address(const char *address, GError **error)
{
    GInetSocketAddress *addr = split_address(address);
    if (!addr)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "SMS listener address '%s': expected IP:PORT or [IPv6]:PORT", address);
    return addr;
}

static void
answer_text(SoupServerMessage *msg, guint status, const char *text)
{
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, text,
                                     strlen(text));
}

static void
answer_empty(SoupServerMessage *msg, guint status)
{
    soup_server_message_set_status(msg, status, NULL);
    soup_message_headers_set_content_length(soup_server_message_get_response_headers(msg), 0);
}

static gboolean
is_callback_path(const char *path)
{
    return strcmp(path, "/mo") == 0 || strcmp(path, "/dlr") == 0;
}

static gboolean
is_form(SoupServerMessage *msg)
{
    const char *type =
        soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), NULL);
    return type && g_ascii_strcasecmp(type, FORM_TYPE) == 0;
}

/* Before the body is read: a POST announcing too large a body is refused
 * without reading it. */
static void
on_early(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
    if (strcmp(soup_server_message_get_method(msg), SOUP_METHOD_POST) != 0)
        return;
    goffset len =
        soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));
    if (len > CW_SMS_CALLBACK_MAX)
        answer_text(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "callback too large");
}

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *decoded_query,
           gpointer user_data)
{
    CwSmsListener *l = user_data;
    if (soup_server_message_get_status(msg) != SOUP_STATUS_NONE)
        return; /* answered by on_early */
    if (!is_callback_path(path)) {
        answer_text(msg, SOUP_STATUS_NOT_FOUND, "not found");
        return;
    }
    const char *method = soup_server_message_get_method(msg);
    const char *raw;
    gsize len;
    if (strcmp(method, SOUP_METHOD_GET) == 0) {
        /* the raw query: libsoup's decoded table would cut text at a %00
         * (UTF-16BE holds many) */
        raw = g_uri_get_query(soup_server_message_get_uri(msg));
        if (!raw)
            raw = "";
        len = strlen(raw);
    } else if (strcmp(method, SOUP_METHOD_POST) == 0) {
        if (!is_form(msg)) {
            answer_text(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "expected " FORM_TYPE);
            return;
        }
        SoupMessageBody *body = soup_server_message_get_request_body(msg);
        raw = body->data ? body->data : "";
        len = (gsize)body->length;
    } else {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                     "GET, POST");
        answer_text(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
        return;
    }
    if (len > CW_SMS_CALLBACK_MAX) {
        answer_text(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "callback too large");
        return;
    }

    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) params = cw_sms_query_parse(raw, (gssize)len, &error);
    if (!params) {
        l->malformed++;
        answer_text(msg, SOUP_STATUS_BAD_REQUEST, error->message);
        return;
    }
    if (!cw_sms_query_token_ok(params, l->token)) {
        l->refused++;
        answer_text(msg, SOUP_STATUS_FORBIDDEN, "forbidden");
        return;
    }

    CwSmsCallbackAnswer answer;
    if (strcmp(path, "/mo") == 0) {
        CwSmsMo mo;
        if (!cw_sms_mo_parse(params, &mo, &error)) {
            l->malformed++;
            answer_text(msg, SOUP_STATUS_BAD_REQUEST, error->message);
            return;
        }
        answer = l->handlers.mo ? l->handlers.mo(&mo, l->data) : CW_SMS_CALLBACK_TAKEN;
        cw_sms_mo_clear(&mo);
    } else {
        CwSmsDlr dlr;
        if (!cw_sms_dlr_parse(params, &dlr, &error)) {
            l->malformed++;
            answer_text(msg, SOUP_STATUS_BAD_REQUEST, error->message);
            return;
        }
        answer = l->handlers.dlr ? l->handlers.dlr(&dlr, l->data) : CW_SMS_CALLBACK_TAKEN;
        cw_sms_dlr_clear(&dlr);
    }
    if (answer == CW_SMS_CALLBACK_LATER) {
        answer_text(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "try again later");
        return;
    }
    l->taken++;
    /* empty: smsbox would text a body back to the phone */
    answer_empty(msg, SOUP_STATUS_OK);
}

CwSmsListener *
cw_sms_listener_new(const char *address, const char *token, const CwSmsListenerHandlers *handlers,
                    gpointer data, GError **error)
{
    g_return_val_if_fail(address != NULL && token != NULL && *token, NULL);
    g_return_val_if_fail(handlers != NULL, NULL);
    g_autoptr(GInetSocketAddress) addr = parse_address(address, error);
    if (!addr)
        return NULL;

    /* our own socket, for the backlog (GSocketListener's is fixed at 10) */
    g_autoptr(GError) local = NULL;
    g_autoptr(GSocket) sock = g_socket_new(g_socket_address_get_family(G_SOCKET_ADDRESS(addr)),
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &local);
    if (sock && g_socket_bind(sock, G_SOCKET_ADDRESS(addr), TRUE, &local)) {
        g_socket_set_listen_backlog(sock, LISTEN_BACKLOG);
        if (!g_socket_listen(sock, &local))
            g_clear_object(&sock);
    } else {
        g_clear_object(&sock);
    }
    if (!sock) {
        g_set_error(error, G_IO_ERROR, local->code, "SMS listener on %s: %s", address,
                    local->message);
        return NULL;
    }
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, &local);
    if (!bound) {
        g_set_error(error, G_IO_ERROR, local->code, "SMS listener on %s: %s", address,
                    local->message);
        return NULL;
    }

    CwSmsListener *l = g_new0(CwSmsListener, 1);
    l->token = g_strdup(token);
    l->handlers = *handlers;
    l->data = data;
    l->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    l->server = soup_server_new("server-header", "Causeway", NULL);
    soup_server_add_early_handler(l->server, NULL, on_early, l, NULL);
    soup_server_add_handler(l->server, NULL, on_request, l, NULL);
    if (!soup_server_listen_socket(l->server, sock, 0, &local)) {
        g_set_error(error, G_IO_ERROR, local->code, "SMS listener on %s: %s", address,
                    local->message);
        cw_sms_listener_free(l);
        return NULL;
    }
    l->socket = g_steal_pointer(&sock);
    return l;
}

void
cw_sms_listener_free(CwSmsListener *l)
{
    if (!l)
        return;
    /* no handler may run with a freed l, whatever libsoup still holds */
    soup_server_remove_handler(l->server, NULL);
    soup_server_disconnect(l->server);
    g_object_unref(l->server);
    if (l->socket)
        g_socket_close(l->socket, NULL);
    g_clear_object(&l->socket);
    if (l->token)
        memset(l->token, 0, strlen(l->token));
    g_free(l->token);
    g_free(l);
}

guint
cw_sms_listener_port(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->port;
}

guint64
cw_sms_listener_refused(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->refused;
}

guint64
cw_sms_listener_malformed(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->malformed;
}

guint64
cw_sms_listener_taken(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->taken;
}
