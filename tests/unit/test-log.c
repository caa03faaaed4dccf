/* test-log.c — the log writer: one line per record, whatever the message holds. */
#include <string.h>

#include "log.h"

static void
test_controls_escaped(void)
{
    if (g_test_subprocess()) {
        cw_log_init(CW_LOG_NORMAL, "t");
        g_message("nick from 001: evil\rFAKE LINE\nnext\x01 tab\tend");
        g_message("plain line");
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*evil\\rFAKE LINE\\nnext\\x01 tab\\tend\n*plain line\n");
    g_test_trap_assert_stderr_unmatched("*evil\r*");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/log/controls-escaped", test_controls_escaped);
    return g_test_run();
}
