/* test-log-redact.c — unit tests for the debug log's password redaction (log-redact.c). */
#include "log-redact.h"

#include <string.h>

#define SECRET "s3cret-XYZ"

typedef struct {
    const char *name;
    const char *xml;
    const char *const keep[4]; /* must still be in the output */
} Case;

/* Each input holds SECRET (or its start) where a password is; none may show it. */
static const Case cases[] = {
    { "muc-join-password",
      "<presence to='#chan%irc.example.net@irc.localhost/al'><x xmlns='http://jabber.org/protocol/muc'>"
      "<password>" SECRET "</password><history maxstanzas='0'/></x></presence>",
      { "<presence to='#chan%irc.example.net@irc.localhost/al'>", "http://jabber.org/protocol/muc",
        "<password>" CW_LOG_REDACTED "</password>", "<history maxstanzas='0'>" } },
    { "register-legacy-fields",
      "<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>alice</username>"
      "<password>" SECRET "</password><key>" SECRET "</key></query></iq>",
      { "<username>alice</username>", "<password>" CW_LOG_REDACTED "</password>" } },
    { "form-submit-without-types",
      "<iq type='set'><command xmlns='http://jabber.org/protocol/commands' node='configure'>"
      "<x xmlns='jabber:x:data' type='submit'>"
      "<field var='FORM_TYPE'><value>jabber:iq:register</value></field>"
      "<field var='sasl_password'><value>" SECRET "</value></field>"
      "<field var='after_connect'><value>PRIVMSG NickServ :IDENTIFY " SECRET "</value>"
      "<value>JOIN #x</value></field></x></command></iq>",
      { "<value>jabber:iq:register</value>", "<field var='after_connect'>",
        "<value>" CW_LOG_REDACTED "</value>" } },
    { "form-text-private-and-public-types",
      "<x xmlns='jabber:x:data' type='form'>"
      "<field var='pin' type='text-private'><value>" SECRET "</value></field>"
      "<field var='tls' type='boolean'><value>1</value></field>"
      "<field var='sasl' type='list-single'><value>plain</value><option><value>plain</value></option></field>"
      "<field var='nick' type='text-single'><value>" SECRET "</value></field></x>",
      { "<field var='tls' type='boolean'><value>1</value>", "<value>plain</value>" } },
    { "muc-owner-room-secret",
      "<iq type='set'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
      "type='submit'><field var='muc#roomconfig_roomsecret'><value>" SECRET "</value></field></x>"
      "</query></iq>",
      { "muc#roomconfig_roomsecret" } },
    { "sasl", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" SECRET "</auth>",
      { "mechanism='PLAIN'" } },
    { "handshake", "<handshake>" SECRET "</handshake>", { "<handshake>" } },
    { "iq-auth", "<query xmlns='jabber:iq:auth'><digest>" SECRET "</digest><token>" SECRET
                 "</token><resource>r</resource></query>",
      { "<resource>r</resource>" } },
    { "several-stanzas-in-one-write",
      "<message to='a@b'><body>hello</body></message>"
      "<presence><x xmlns='http://jabber.org/protocol/muc'><password>" SECRET "</password></x></presence>",
      { "<body>hello</body>" } },
    { "cut-inside-password",
      "<presence><x xmlns='http://jabber.org/protocol/muc'><password>" SECRET,
      { "<presence>" } },
    { "cut-inside-form-value",
      "<x xmlns='jabber:x:data'><field var='after_connect'><value>IDENTIFY " SECRET, { "after_connect" } },
    { "cdata", "<password><![CDATA[" SECRET "]]></password>", { "<password>" } },
    { "prefixed-namespace",
      "<d:x xmlns:d='jabber:x:data'><d:field var='p'><d:value>" SECRET "</d:value></d:field></d:x>",
      { "<d:field var='p'>" } },
    { "nested-in-password", "<password><b>" SECRET "</b></password>", { "<b>" } },
    { "text-outside-stanzas", SECRET "<message/>", { "<message>" } },
    { "entity-encoded", "<password>&#115;3cret-XYZ &amp; more</password>", { "</password>" } },
};

static void test_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *out = cw_log_redact_xml(c->xml);
    g_assert_nonnull(out);
    g_assert_null(strstr(out, SECRET));
    g_assert_null(strstr(out, "s3cret"));
    for (gsize i = 0; i < G_N_ELEMENTS(c->keep) && c->keep[i]; i++)
        if (strstr(out, c->keep[i]) == NULL)
            g_error("%s: '%s' missing from: %s", c->name, c->keep[i], out);
    if (strstr(out, g_str_has_prefix(c->name, "cut-") ? CW_LOG_CUT : CW_LOG_REDACTED) == NULL)
        g_error("%s: nothing redacted in: %s", c->name, out);
    /* Idempotent: the log line redacted twice is the same. */
    g_autofree char *again = cw_log_redact_xml(out);
    g_assert_cmpstr(again, ==, out);
}

/* What holds no password comes out with its text (only <a/> becomes <a></a>). */
static void test_kept(void)
{
    const char *in = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                     "xmlns:stream='http://etherx.jabber.org/streams' to='irc.localhost'>";
    g_autofree char *out = cw_log_redact_xml(in);
    g_assert_cmpstr(out, ==, in);

    g_autofree char *msg = cw_log_redact_xml("<message from='a@b' to='c@d' type='chat'>"
                                             "<body>it&apos;s &lt;fine&gt; &amp; kept</body></message>");
    g_assert_cmpstr(msg, ==, "<message from='a@b' to='c@d' type='chat'>"
                             "<body>it&apos;s &lt;fine&gt; &amp; kept</body></message>");
    g_autofree char *empty = cw_log_redact_xml("<x xmlns='jabber:x:data'><field var='FORM_TYPE' "
                                               "type='hidden'><value>urn:x</value></field></x>");
    g_assert_nonnull(strstr(empty, "<value>urn:x</value>"));
}

/* What cannot be parsed cannot be checked, so it is not shown at all. */
static void test_fails_closed(void)
{
    const char *bad[] = {
        "cret-XYZ</password></x></presence><message/>", /* a write chunk starting mid-stanza */
        "</cw-log-redact>" SECRET,                      /* closing the wrapper */
        "<password>" SECRET "</passwd>",
        "<a b=" SECRET ">",
        "<password>&bogus;" SECRET "</password>",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *out = cw_log_redact_xml(bad[i]);
        if (out != NULL)
            g_error("'%s' should not parse; got: %s", bad[i], out);
        g_autofree char *line = cw_log_redact_line(bad[i]);
        g_assert_null(strstr(line, "XYZ"));
        g_assert_nonnull(strstr(line, "bytes of XML not logged"));
    }
}

static void test_line(void)
{
    g_autofree char *recv = cw_log_redact_line("RECV: <presence><x xmlns='http://jabber.org/protocol/muc'>"
                                               "<password>" SECRET "</password></x></presence>");
    g_assert_true(g_str_has_prefix(recv, "RECV: <presence>"));
    g_assert_null(strstr(recv, SECRET));
    g_autofree char *sent = cw_log_redact_line("SENT: <handshake>" SECRET "</handshake>");
    g_assert_cmpstr(sent, ==, "SENT: <handshake>" CW_LOG_REDACTED "</handshake>");
    g_autofree char *plain = cw_log_redact_line("Attempting to connect to 127.0.0.1");
    g_assert_cmpstr(plain, ==, "Attempting to connect to 127.0.0.1");
    /* A write chunk of text only, cut inside a password. */
    g_autofree char *text_only = cw_log_redact_line("SENT: " SECRET);
    g_assert_cmpstr(text_only, ==, "SENT: " CW_LOG_CUT);
    g_autofree char *sm = cw_log_redact_line("SM error: Stanza received was: <password>" SECRET "</password>");
    g_assert_cmpstr(sm, ==, "SM error: Stanza received was: <password>" CW_LOG_REDACTED "</password>");
    g_autofree char *cut = cw_log_redact_line("SENT: ord</password></x></presence>");
    g_assert_cmpstr(cut, ==, "SENT: (29 bytes of XML not logged: they do not parse, so they "
                             "cannot be checked for passwords)");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/log-redact/redacted/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/log-redact/kept", test_kept);
    g_test_add_func("/log-redact/fails-closed", test_fails_closed);
    g_test_add_func("/log-redact/line", test_line);
    return g_test_run();
}
