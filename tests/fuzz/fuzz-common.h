/* fuzz-common.h — what every libFuzzer harness shares: GLib logging, checks, input splitting.
 *
 * Each harness is one tests/fuzz/fuzz-<area>.c with LLVMFuzzerTestOneInput;
 * `make fuzz` builds it with -fsanitize=fuzzer,address,undefined. A broken
 * property is reported with CW_FUZZ_CHECK(), which prints the condition and
 * aborts, so libFuzzer saves the input as a crash artifact.
 */
#pragma once
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CW_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* A critical (g_return_if_fail) or error reached from input is a bug (STYLE:
 * never assert on network input): print it and abort. The rest is dropped —
 * logging at fuzzing speed only slows the search — unless CW_FUZZ_LOG is set. */
static inline GLogWriterOutput
cw_fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        g_log_writer_standard_streams(level, fields, n_fields, data);
        abort();
    }
    if (getenv("CW_FUZZ_LOG"))
        return g_log_writer_standard_streams(level, fields, n_fields, data);
    return G_LOG_WRITER_HANDLED;
}

static inline void
cw_fuzz_init_logging(void)
{
    g_log_set_writer_func(cw_fuzz_log_writer, NULL, NULL);
}

/* The input cut at every sep byte, each piece NUL-terminated (a NUL inside a
 * piece ends it as a C string). Free with g_ptr_array_unref. */
static inline GPtrArray *
cw_fuzz_split(const uint8_t *data, size_t size, uint8_t sep)
{
    GPtrArray *pieces = g_ptr_array_new_with_free_func(g_free);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == sep) {
            g_ptr_array_add(pieces, g_strndup((const char *)data + start, i - start));
            start = i + 1;
        }
    }
    return pieces;
}

/* The input as one C string (it ends at the first NUL byte). */
static inline char *
cw_fuzz_string(const uint8_t *data, size_t size)
{
    return g_strndup((const char *)data, size);
}

/* Has s a C0 control other than the ones allowed (e.g. "\t\n")? */
static inline gboolean
cw_fuzz_has_c0(const char *s, const char *allowed)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 && !strchr(allowed, *p))
            return TRUE;
    return FALSE;
}
