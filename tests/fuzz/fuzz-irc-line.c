/* fuzz-irc-line.c — libFuzzer harness for irc-line.c: parse, build, and the line buffer.
 *
 * One input, three uses:
 *   - parsed as one line (up to a NUL): the parse obeys the header's promises,
 *     and a line that cw_irc_line_buildv() can write back parses the same;
 *   - fed as a byte stream to a CwIrcLineBuffer, whole and in chunks of
 *     input-derived sizes: both give the same lines;
 *   - cut at NUL bytes into a command and parameters for cw_irc_line_buildv():
 *     a built line never holds CR or LF and parses back to what was built.
 */
#include "fuzz-common.h"

#include "irc/irc-line.h"

/* Would cw_irc_line_buildv() refuse these? (the header's rules) */
static gboolean
build_should_refuse(const char *command, const char *const *params, guint n)
{
    if (!*command)
        return TRUE;
    for (const char *c = command; *c; c++)
        if (!g_ascii_isalnum(*c))
            return TRUE;
    if (n > CW_IRC_LINE_MAX_PARAMS)
        return TRUE;
    for (guint i = 0; i < n; i++) {
        if (strpbrk(params[i], "\r\n"))
            return TRUE;
        if (i + 1 < n && (!*params[i] || strchr(params[i], ' ') || params[i][0] == ':'))
            return TRUE;
    }
    return FALSE;
}

/* Build command + params; check the line and that it parses back. */
static void
check_build(const char *command, const char *const *params, guint n)
{
    g_autofree char *built = cw_irc_line_buildv(command, params);
    if (!built) {
        CW_FUZZ_CHECK(build_should_refuse(command, params, n));
        return;
    }
    CW_FUZZ_CHECK(!build_should_refuse(command, params, n));
    CW_FUZZ_CHECK(strpbrk(built, "\r\n") == NULL);
    g_autoptr(CwIrcLine) back = cw_irc_line_parse(built);
    CW_FUZZ_CHECK(back != NULL);
    CW_FUZZ_CHECK(g_ascii_strcasecmp(back->command, command) == 0);
    CW_FUZZ_CHECK(g_hash_table_size(back->tags) == 0 && back->source == NULL);
    CW_FUZZ_CHECK(back->params->len == n);
    for (guint i = 0; i < n; i++)
        CW_FUZZ_CHECK(strcmp(g_ptr_array_index(back->params, i), params[i]) == 0);

    /* The varargs form writes the same line. */
    if (n <= 3) {
        const char *p[3] = { NULL, NULL, NULL };
        for (guint i = 0; i < n; i++)
            p[i] = params[i];
        g_autofree char *v = n == 0   ? cw_irc_line_build(command, NULL)
                             : n == 1 ? cw_irc_line_build(command, p[0], NULL)
                             : n == 2 ? cw_irc_line_build(command, p[0], p[1], NULL)
                                      : cw_irc_line_build(command, p[0], p[1], p[2], NULL);
        CW_FUZZ_CHECK(g_strcmp0(v, built) == 0);
    }
}

static void
check_parse(const char *raw)
{
    g_autoptr(CwIrcLine) line = cw_irc_line_parse(raw);
    if (!line)
        return;
    CW_FUZZ_CHECK(line->command && *line->command && !strchr(line->command, ' '));
    for (const char *c = line->command; *c; c++)
        CW_FUZZ_CHECK(!g_ascii_islower(*c));
    CW_FUZZ_CHECK(line->tags && line->params);
    CW_FUZZ_CHECK(!line->nick || *line->nick);
    CW_FUZZ_CHECK(!line->user || *line->user);
    CW_FUZZ_CHECK(!line->host || *line->host);
    CW_FUZZ_CHECK(!line->source || !strchr(line->source, ' '));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, line->tags);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        CW_FUZZ_CHECK(*(const char *)key && !strpbrk(key, "; ="));
        CW_FUZZ_CHECK(cw_irc_line_tag(line, key) != NULL);
    }
    guint n = line->params->len;
    for (guint i = 0; i + 1 < n; i++) {
        const char *p = g_ptr_array_index(line->params, i);
        CW_FUZZ_CHECK(*p && !strchr(p, ' ') && p[0] != ':');
    }
    for (guint i = 0; i < n + 2; i++)
        CW_FUZZ_CHECK((cw_irc_line_param(line, i) != NULL) == (i < n));
    CW_FUZZ_CHECK((cw_irc_line_last_param(line) != NULL) == (n > 0));
    int numeric = cw_irc_line_numeric(line);
    CW_FUZZ_CHECK(numeric >= -1 && numeric <= 999);
    const char *c = line->command;
    gboolean three_digits = strlen(c) == 3 && g_ascii_isdigit(c[0]) && g_ascii_isdigit(c[1]) &&
                            g_ascii_isdigit(c[2]);
    CW_FUZZ_CHECK((numeric >= 0) == three_digits);

    /* Written back (without tags and prefix), the line parses the same. */
    g_ptr_array_add(line->params, NULL);
    check_build(line->command, (const char *const *)line->params->pdata, n);
    g_ptr_array_remove_index(line->params, n);
}

/* All complete lines of a buffer, as GBytes, plus its dropped count at the end. */
static GPtrArray *
drain(CwIrcLineBuffer *buf, GPtrArray *lines, guint *dropped)
{
    gsize len;
    char *l;
    while ((l = cw_irc_line_buffer_next(buf, &len))) {
        CW_FUZZ_CHECK(len > 0 && len <= CW_IRC_LINE_MAX);
        CW_FUZZ_CHECK(l[len] == '\0' && memchr(l, '\n', len) == NULL);
        g_ptr_array_add(lines, g_bytes_new_take(l, len));
    }
    *dropped += cw_irc_line_buffer_take_dropped(buf);
    return lines;
}

static void
check_buffer(const uint8_t *data, size_t size)
{
    /* The first byte also says how many times the stream repeats the input,
     * so lines longer than CW_IRC_LINE_MAX occur without huge inputs. */
    guint repeat = size ? 1 + data[0] % 4 : 1;
    g_autoptr(GPtrArray) whole = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_autoptr(GPtrArray) chunked = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    guint dropped_whole = 0, dropped_chunked = 0;

    g_autoptr(CwIrcLineBuffer) a = cw_irc_line_buffer_new();
    for (guint r = 0; r < repeat; r++)
        cw_irc_line_buffer_push(a, data, size);
    drain(a, whole, &dropped_whole);

    /* Chunk sizes from a PRNG seeded with the input: 0..64 bytes, sometimes
     * bigger, draining in between. */
    g_autoptr(CwIrcLineBuffer) b = cw_irc_line_buffer_new();
    guint32 seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    for (guint r = 0; r < repeat; r++) {
        size_t off = 0;
        while (off < size) {
            size_t n = g_rand_int_range(rand, 0, 8) == 0 ? (size_t)g_rand_int_range(rand, 0, 4096)
                                                         : (size_t)g_rand_int_range(rand, 0, 65);
            n = MIN(n, size - off);
            cw_irc_line_buffer_push(b, data + off, n);
            off += n;
            if (g_rand_boolean(rand))
                drain(b, chunked, &dropped_chunked);
        }
    }
    drain(b, chunked, &dropped_chunked);

    CW_FUZZ_CHECK(whole->len == chunked->len);
    for (guint i = 0; i < whole->len; i++)
        CW_FUZZ_CHECK(g_bytes_equal(whole->pdata[i], chunked->pdata[i]));
    CW_FUZZ_CHECK(dropped_whole == dropped_chunked);

    /* Every line the buffer gives is something the parser can take. */
    for (guint i = 0; i < whole->len && i < 64; i++)
        check_parse(g_bytes_get_data(whole->pdata[i], NULL));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *raw = cw_fuzz_string(data, size);
    check_parse(raw);
    check_buffer(data, size);

    g_autoptr(GPtrArray) pieces = cw_fuzz_split(data, size, '\0');
    if (pieces->len <= 24) {
        g_ptr_array_add(pieces, NULL);
        check_build(pieces->pdata[0], (const char *const *)pieces->pdata + 1, pieces->len - 2);
    }
    return 0;
}
