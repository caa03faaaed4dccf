/* stanza.h — small helpers around libstrophe stanzas: autoptr, builders, errors.
 *
 * Ownership follows libstrophe: a function returning xmpp_stanza_t* gives the
 * caller one reference (release it, or use g_autoptr(xmpp_stanza_t)).
 * cw_stanza_add_child() takes over the child's reference.
 */
#pragma once
#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

static inline void cw_stanza_release(xmpp_stanza_t *s) { if (s) xmpp_stanza_release(s); }
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmpp_stanza_t, cw_stanza_release)

#define CW_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

/* New element <name xmlns=ns/> (ns may be NULL). */
xmpp_stanza_t *cw_stanza_new(xmpp_ctx_t *ctx, const char *name, const char *ns);
/* Append child to parent, consuming the caller's reference on child. Returns child (borrowed). */
xmpp_stanza_t *cw_stanza_add_child(xmpp_stanza_t *parent, xmpp_stanza_t *child);
/* Append <name xmlns=ns>text</name> (ns, text may be NULL). Returns the new child (borrowed). */
xmpp_stanza_t *cw_stanza_add_text_child(xmpp_stanza_t *parent, const char *name,
                                        const char *ns, const char *text);
/* Text of child <name/> (any ns when ns is NULL), newly allocated with g_malloc; NULL if absent. */
char *cw_stanza_child_text(xmpp_stanza_t *stanza, const char *name, const char *ns);
/* First element child (skipping text nodes), or NULL. Borrowed. */
xmpp_stanza_t *cw_stanza_first_element(xmpp_stanza_t *stanza);
/* Serialise (g_free). For debug logs and tests. */
char *cw_stanza_to_string(xmpp_stanza_t *stanza);
/* Append the stanza's XML to out: the document xmpp_stanza_to_text() makes
 * (attribute order aside), without its per-call allocations, and safe to
 * parse back: & < > " escaped, CR (and tab and LF in attribute values) as
 * character references, and only XML 1.0 characters in valid UTF-8 (other
 * C0 controls dropped, invalid bytes and U+FFFE/U+FFFF as U+FFFD: see
 * safetext.h), so no stanza can break the component stream. The send path. */
void cw_stanza_serialize(GString *out, xmpp_stanza_t *stanza);
/* Append text escaped (as above) as character data, or as (part of) a
 * double-quoted attribute value. */
void cw_xml_append_escaped(GString *out, const char *text, gboolean attribute);
/* Append ` name="value"` (value escaped); nothing when value is NULL. */
void cw_xml_append_attr(GString *out, const char *name, const char *value);

/* A short id, unique within this process and (with overwhelming probability)
 * across its restarts: 8 random base64url characters drawn once per process,
 * then a counter in base64url (1-11 characters): 9 characters for the first
 * 64 ids, 12 up to 16 million, at most 19. For the ids of stanzas sent in bulk (XEP-0359
 * stanza-ids of groupchat lines): a UUID costs the server 36 bytes to parse
 * per occurrence, and Prosody's CPU per stanza grows with its size (README,
 * "End to end with Prosody"). Writes the id and its NUL into buf; returns its
 * length. */
#define CW_SHORT_ID_SIZE 24
gsize cw_short_id(char buf[CW_SHORT_ID_SIZE]);

/* An iq result addressed back to the sender of iq (from/to swapped, same id). */
xmpp_stanza_t *cw_iq_result(xmpp_stanza_t *iq);
/* A new <iq type=type to=to from=from id=(generated)>. */
xmpp_stanza_t *cw_iq_new(xmpp_ctx_t *ctx, const char *type, const char *from, const char *to);

/* The one error reply builder (RFC 6120 §8.3): a copy of the stanza's
 * children-free envelope with from/to swapped, type='error' and
 * <error type=type><condition xmlns=stanzas/><text>text</text></error>.
 * The error type is derived from the condition when type is NULL.
 * Returns NULL when the stanza must not be answered (it is itself an error,
 * or an iq result). */
xmpp_stanza_t *cw_reply_error(xmpp_stanza_t *stanza, const char *condition, const char *text);

/* Count one error stanza sent, by its (checked) condition: causeway_errors_sent_total.
 * cw_reply_error() counts its own; the other builders call this. */
void cw_stanza_count_error(const char *condition);
/* Default error type for a defined condition (RFC 6120 §8.3.3). */
const char *cw_error_type_for(const char *condition);
/* condition when it is one of RFC 6120's defined conditions, else
 * "undefined-condition": a condition becomes an element name, so one given
 * by a transport is never written as it is unless it is known. */
const char *cw_error_condition_checked(const char *condition);
/* The condition to answer a refused request with, by the GError's domain:
 * CW_CONDITION_ERROR its code, G_IO_ERROR (a form's validation)
 * not-acceptable, CW_LIMITS_ERROR policy-violation, anything else
 * internal-server-error. */
const char *cw_error_condition_for(const GError *error);

G_END_DECLS
