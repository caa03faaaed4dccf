/* dataform.h — XEP-0004 data forms as XML, built from a CwFormSpec and parsed back.
 *
 * Values tables are GHashTable char* -> char* with g_free destroy functions
 * (the same shape cw_form_validate() takes).
 */
#pragma once
#include <causeway/form.h>
#include <strophe.h>

G_BEGIN_DECLS

#define CW_NS_DATA "jabber:x:data"

GHashTable *cw_values_new(void);

/* <x xmlns='jabber:x:data' type=type> with title, instructions, a hidden
 * FORM_TYPE (when form_type is not NULL) and one <field/> per spec field.
 * Current values fill the fields; write-only values (TEXT_PRIVATE,
 * CW_FIELD_WRITE_ONLY) are never included. */
xmpp_stanza_t *cw_dataform_build(xmpp_ctx_t *ctx, const CwFormSpec *spec, const char *type,
                                 const char *form_type, GHashTable *values);

/* A type='result' form of plain (var, label, value) rows, for reports. */
xmpp_stanza_t *cw_dataform_result(xmpp_ctx_t *ctx, const char *title, const char *const *vars,
                                  const char *const *labels, const char *const *values);

/* The values of a submitted form <x type='submit'/>: var -> value, multiple
 * <value/>s joined with '\n'. FORM_TYPE is dropped; when form_type is not
 * NULL a FORM_TYPE present in the form must equal it. NULL with error
 * (G_IO_ERROR_INVALID_DATA, readable text) when x is not such a submit form. */
GHashTable *cw_dataform_parse_submit(xmpp_stanza_t *x, const char *form_type, GError **error);

/* The x:data child of a stanza, or NULL. Borrowed. */
xmpp_stanza_t *cw_dataform_find(xmpp_stanza_t *parent);

/* Legacy jabber:iq:register fields (XEP-0077 §3): append <username/> etc. for
 * every spec field with a legacy_name, with current values (never passwords). */
void cw_dataform_add_legacy_fields(xmpp_stanza_t *query, const CwFormSpec *spec,
                                   GHashTable *values);
/* Parse legacy fields back into var -> value (only spec fields with a legacy_name). */
GHashTable *cw_dataform_parse_legacy(xmpp_stanza_t *query, const CwFormSpec *spec);

G_END_DECLS
