/* fuzz-config.c — libFuzzer harness for config.c: the INI configuration.
 *
 * The input is a config file. cw_config_load_data() either fails with a
 * one-line error naming the file, or returns a config that keeps its
 * promises (at least one transport, each with a known type and a valid bare
 * domain, distinct domains; admins are bare JIDs; reconnect_min <=
 * reconnect_max), which is then queried and freed. A transport type with
 * its own keys (irc) also reads them (its configure op) on a stub gateway.
 */
#include "fuzz-common.h"

#include "causeway/jid.h"
#include "gateway.h"

#define PATH "fuzz.ini"

static void
check_transport_config(CwConfig *config, CwTransportConfig *t)
{
    CW_FUZZ_CHECK(t->name && *t->name && t->group && g_str_has_prefix(t->group, "transport:"));
    CW_FUZZ_CHECK(strcmp(t->group + strlen("transport:"), t->name) == 0);
    CW_FUZZ_CHECK(t->type && t->ops && strcmp(t->ops->type, t->type) == 0);
    CW_FUZZ_CHECK(t->secret && *t->secret && t->host && t->port > 0);
    char *node = NULL, *domain = NULL, *resource = NULL;
    CW_FUZZ_CHECK(cw_jid_split(t->domain, &node, &domain, &resource));
    CW_FUZZ_CHECK(node == NULL && resource == NULL && strcmp(domain, t->domain) == 0);
    g_free(domain);
    CW_FUZZ_CHECK(cw_config_transport(config, t->name) == t);

    /* The transport reads its own keys; a stub gateway is enough for that. */
    if (t->ops->configure) {
        CwGateway gw = { .config = config, .tconf = t, .ops = t->ops };
        g_autoptr(GError) error = NULL;
        if (t->ops->configure(&gw, config->kf, config->path, t->group, &error)) {
            CW_FUZZ_CHECK(error == NULL);
            if (t->ops->deinit)
                t->ops->deinit(&gw);
        } else {
            CW_FUZZ_CHECK(error != NULL && g_str_has_prefix(error->message, PATH ": "));
        }
    }
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
    g_autofree char *text = cw_fuzz_string(data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) config = cw_config_load_data(text, PATH, &error);
    if (!config) {
        CW_FUZZ_CHECK(error != NULL && error->domain == CW_CONFIG_ERROR);
        CW_FUZZ_CHECK(g_str_has_prefix(error->message, PATH ": "));
        return 0;
    }
    CW_FUZZ_CHECK(error == NULL);
    CW_FUZZ_CHECK(config->kf && config->data_dir && config->allowed_domains && config->admins);
    CW_FUZZ_CHECK(config->reconnect_min_ms <= config->reconnect_max_ms);
    CW_FUZZ_CHECK(config->transports && config->transports->len > 0);
    for (guint i = 0; i < config->transports->len; i++)
        check_transport_config(config, config->transports->pdata[i]);
    for (guint i = 0; i < config->transports->len; i++)
        for (guint j = 0; j < i; j++)
            CW_FUZZ_CHECK(strcmp(((CwTransportConfig *)config->transports->pdata[i])->domain,
                                 ((CwTransportConfig *)config->transports->pdata[j])->domain) != 0);
    for (char **a = config->admins; *a; a++) {
        char *node = NULL, *resource = NULL;
        CW_FUZZ_CHECK(cw_jid_split(*a, &node, NULL, &resource) && node && !resource);
        g_free(node);
        CW_FUZZ_CHECK(cw_config_is_admin(config, *a));
    }
    for (char **d = config->allowed_domains; *d; d++)
        CW_FUZZ_CHECK(**d && cw_config_domain_allowed(config, *d));
    (void)cw_config_domain_allowed(config, "example.org");
    (void)cw_config_is_admin(config, "admin@example.org");
    CW_FUZZ_CHECK(cw_config_transport(config, "no such transport, surely") == NULL);
    return 0;
}
