/* metrics.c — the metrics registry: families of counter/gauge series and their text rendering. */
#define G_LOG_DOMAIN "causeway"
#include <causeway/metrics.h>

#include <math.h>
#include <string.h>

typedef struct {
    char *label, *value; /* NULL when the series has no label of its own */
    guint64 count;       /* counters */
    double gauge;        /* gauges */
} Series;

#define HISTOGRAM_MAX_BOUNDS 16

struct CwMetricsHistogram {
    double bounds[HISTOGRAM_MAX_BOUNDS];
    guint64 buckets[HISTOGRAM_MAX_BOUNDS + 1]; /* not cumulative; the last is +Inf */
    guint n;
    double sum;
    guint64 count;
};

typedef struct {
    char *name, *help;
    CwMetricType type;
    CwMetricsHistogram *histogram; /* CW_METRIC_HISTOGRAM only */
    GPtrArray *series;   /* Series*, in creation order */
    GHashTable *by_key;  /* "label\x1fvalue" -> Series* (borrowed) */
} Family;

typedef struct {
    CwMetricsCollector fn;
    gpointer data;
} Collector;

typedef struct {
    char *own_labels;    /* transport="NAME",type="TYPE" already escaped */
    GPtrArray *families; /* Family*, in creation order (rendering is stable) */
    GHashTable *by_name; /* name -> Family* (borrowed) */
    GArray *collectors;
} Registry;

static Registry *reg;

static void
series_free(gpointer p)
{
    Series *s = p;
    g_free(s->label);
    g_free(s->value);
    g_free(s);
}

static void
family_free(gpointer p)
{
    Family *f = p;
    g_free(f->name);
    g_free(f->help);
    g_free(f->histogram);
    g_hash_table_unref(f->by_key);
    g_ptr_array_unref(f->series);
    g_free(f);
}

void
cw_metrics_escape_label(GString *out, const char *v)
{
    for (const char *c = v; *c; c++) {
        if (*c == '\\')
            g_string_append(out, "\\\\");
        else if (*c == '"')
            g_string_append(out, "\\\"");
        else if (*c == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *c);
    }
}

static void
escape_help(GString *out, const char *v)
{
    for (const char *c = v; *c; c++) {
        if (*c == '\\')
            g_string_append(out, "\\\\");
        else if (*c == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *c);
    }
}

static gboolean
valid_name(const char *s)
{
    if (!s || !*s || g_ascii_isdigit(*s))
        return FALSE;
    for (; *s; s++)
        if (!g_ascii_isalnum(*s) && *s != '_' && *s != ':')
            return FALSE;
    return TRUE;
}

void
cw_metrics_init(const char *transport, const char *type)
{
    g_return_if_fail(reg == NULL);
    reg = g_new0(Registry, 1);
    GString *own = g_string_new(NULL);
    if (transport) {
        g_string_append(own, "transport=\"");
        cw_metrics_escape_label(own, transport);
        g_string_append_c(own, '"');
    }
    if (type) {
        g_string_append_printf(own, "%stype=\"", own->len ? "," : "");
        cw_metrics_escape_label(own, type);
        g_string_append_c(own, '"');
    }
    reg->own_labels = g_string_free(own, FALSE);
    reg->families = g_ptr_array_new_with_free_func(family_free);
    reg->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    reg->collectors = g_array_new(FALSE, FALSE, sizeof(Collector));
}

void
cw_metrics_deinit(void)
{
    if (!reg)
        return;
    g_hash_table_unref(reg->by_name);
    g_ptr_array_unref(reg->families);
    g_array_unref(reg->collectors);
    g_free(reg->own_labels);
    g_clear_pointer(&reg, g_free);
}

static Series *
series_get(const char *name, const char *help, CwMetricType type, const char *label,
           const char *value)
{
    if (!reg)
        return NULL;
    Family *f = g_hash_table_lookup(reg->by_name, name);
    if (!f) {
        g_return_val_if_fail(valid_name(name), NULL);
        f = g_new0(Family, 1);
        f->name = g_strdup(name);
        f->help = g_strdup(help ? help : name);
        f->type = type;
        f->series = g_ptr_array_new_with_free_func(series_free);
        f->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_ptr_array_add(reg->families, f);
        g_hash_table_insert(reg->by_name, f->name, f);
    }
    g_return_val_if_fail(f->type == type, NULL);
    g_return_val_if_fail(!label || valid_name(label), NULL);
    char key[256];
    g_snprintf(key, sizeof key, "%s\x1f%s", label ? label : "", value ? value : "");
    Series *s = g_hash_table_lookup(f->by_key, key);
    if (!s) {
        s = g_new0(Series, 1);
        s->label = g_strdup(label);
        s->value = label ? g_strdup(value ? value : "") : NULL;
        g_ptr_array_add(f->series, s);
        g_hash_table_insert(f->by_key, g_strdup(key), s);
    }
    return s;
}

guint64 *
cw_metrics_counter(const char *name, const char *help, const char *label, const char *value)
{
    Series *s = series_get(name, help, CW_METRIC_COUNTER, label, value);
    return s ? &s->count : NULL;
}

void
cw_metrics_count(const char *name, const char *help, const char *label, const char *value,
                 guint64 n)
{
    Series *s = series_get(name, help, CW_METRIC_COUNTER, label, value);
    if (s)
        s->count += n;
}

void
cw_metrics_gauge_set(const char *name, const char *help, const char *label, const char *value,
                     double v)
{
    Series *s = series_get(name, help, CW_METRIC_GAUGE, label, value);
    if (s)
        s->gauge = v;
}

void
cw_metrics_gauge_clear(const char *name)
{
    Family *f = reg ? g_hash_table_lookup(reg->by_name, name) : NULL;
    if (!f || f->type != CW_METRIC_GAUGE)
        return;
    g_hash_table_remove_all(f->by_key);
    g_ptr_array_set_size(f->series, 0);
}

CwMetricsHistogram *
cw_metrics_histogram(const char *name, const char *help, const double *bounds, guint n_bounds)
{
    g_return_val_if_fail(n_bounds <= HISTOGRAM_MAX_BOUNDS, NULL);
    if (!reg)
        return NULL;
    Family *f = g_hash_table_lookup(reg->by_name, name);
    if (f) {
        g_return_val_if_fail(f->type == CW_METRIC_HISTOGRAM, NULL);
        return f->histogram;
    }
    g_return_val_if_fail(valid_name(name), NULL);
    f = g_new0(Family, 1);
    f->name = g_strdup(name);
    f->help = g_strdup(help ? help : name);
    f->type = CW_METRIC_HISTOGRAM;
    f->series = g_ptr_array_new_with_free_func(series_free);
    f->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->histogram = g_new0(CwMetricsHistogram, 1);
    memcpy(f->histogram->bounds, bounds, n_bounds * sizeof *bounds);
    f->histogram->n = n_bounds;
    g_ptr_array_add(reg->families, f);
    g_hash_table_insert(reg->by_name, f->name, f);
    return f->histogram;
}

void
cw_metrics_observe(CwMetricsHistogram *h, double v)
{
    if (!h)
        return;
    guint i = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    h->buckets[i]++;
    h->sum += v;
    h->count++;
}

void
cw_metrics_add_collector(CwMetricsCollector fn, gpointer data)
{
    if (!reg) /* no registry (causeway --check): nothing to collect for */
        return;
    Collector c = { fn, data };
    g_array_append_val(reg->collectors, c);
}

void
cw_metrics_remove_collector(CwMetricsCollector fn, gpointer data)
{
    if (!reg)
        return;
    for (guint i = 0; i < reg->collectors->len; i++) {
        Collector *c = &g_array_index(reg->collectors, Collector, i);
        if (c->fn == fn && c->data == data) {
            g_array_remove_index(reg->collectors, i);
            return;
        }
    }
}

static void
append_double(GString *out, double v)
{
    if (isnan(v))
        g_string_append(out, "NaN");
    else if (isinf(v))
        g_string_append(out, v > 0 ? "+Inf" : "-Inf");
    else {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(out, g_ascii_dtostr(buf, sizeof buf, v)); /* locale-independent */
    }
}

static void
render_histogram(GString *out, Family *f)
{
    CwMetricsHistogram *h = f->histogram;
    const char *own = reg->own_labels, *sep = *own ? "," : "";
    g_string_append_printf(out, "# HELP %s ", f->name);
    escape_help(out, f->help);
    g_string_append_printf(out, "\n# TYPE %s histogram\n", f->name);
    guint64 cumulative = 0;
    for (guint i = 0; i <= h->n; i++) {
        cumulative += h->buckets[i];
        g_string_append_printf(out, "%s_bucket{%s%sle=\"", f->name, own, sep);
        if (i < h->n)
            append_double(out, h->bounds[i]);
        else
            g_string_append(out, "+Inf");
        g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
    }
    g_string_append_printf(out, "%s_sum%s%s%s ", f->name, *own ? "{" : "", own, *own ? "}" : "");
    append_double(out, h->sum);
    g_string_append_printf(out, "\n%s_count%s%s%s %" G_GUINT64_FORMAT "\n", f->name,
                           *own ? "{" : "", own, *own ? "}" : "", h->count);
}

char *
cw_metrics_render(void)
{
    g_return_val_if_fail(reg != NULL, NULL);
    for (guint i = 0; i < reg->collectors->len; i++) {
        Collector *c = &g_array_index(reg->collectors, Collector, i);
        c->fn(c->data);
    }
    GString *out = g_string_sized_new(4096);
    for (guint i = 0; i < reg->families->len; i++) {
        Family *f = reg->families->pdata[i];
        if (f->type == CW_METRIC_HISTOGRAM) {
            render_histogram(out, f);
            continue;
        }
        if (f->series->len == 0)
            continue;
        g_string_append_printf(out, "# HELP %s ", f->name);
        escape_help(out, f->help);
        g_string_append_printf(out, "\n# TYPE %s %s\n", f->name,
                               f->type == CW_METRIC_COUNTER ? "counter" : "gauge");
        for (guint j = 0; j < f->series->len; j++) {
            Series *s = f->series->pdata[j];
            g_string_append(out, f->name);
            if (*reg->own_labels || s->label) {
                g_string_append_c(out, '{');
                g_string_append(out, reg->own_labels);
                if (s->label) {
                    g_string_append_printf(out, "%s%s=\"", *reg->own_labels ? "," : "", s->label);
                    cw_metrics_escape_label(out, s->value);
                    g_string_append_c(out, '"');
                }
                g_string_append_c(out, '}');
            }
            g_string_append_c(out, ' ');
            if (f->type == CW_METRIC_COUNTER)
                g_string_append_printf(out, "%" G_GUINT64_FORMAT, s->count);
            else
                append_double(out, s->gauge);
            g_string_append_c(out, '\n');
        }
    }
    return g_string_free(out, FALSE);
}
