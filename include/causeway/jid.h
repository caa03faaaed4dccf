/* jid.h — JID parsing and XEP-0106 (JID Escaping) for legacy ids.
 *
 * Pure functions, no I/O, no libstrophe. All returned strings are newly
 * allocated (g_free) unless stated otherwise. Inputs are UTF-8; functions
 * never assert on network input: invalid input yields FALSE / NULL.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* RFC 7622 limit for each of localpart, domainpart and resourcepart, in bytes. */
#define CW_JID_PART_MAX 1023

/* Split "node@domain/resource" into its parts. Any out-parameter may be NULL.
 * The first '/' starts the resource (which may hold '/' and '@'); before it,
 * the first '@' ends the node. The node and resource are NULL when absent.
 * Returns FALSE (and sets no out-parameter) when the JID is malformed: NULL,
 * empty, empty domain, '@' in the domain ("a@b@c"), empty node before '@',
 * empty resource after '/', a part over CW_JID_PART_MAX bytes, invalid UTF-8,
 * or control characters / white space (Unicode, so also NBSP) in node or
 * domain. The resource may contain spaces.
 * The domain is lower-cased (ASCII); node and resource are returned as is. */
gboolean cw_jid_split(const char *jid, char **node, char **domain, char **resource);

/* TRUE if cw_jid_split() would accept the JID. */
gboolean cw_jid_is_valid(const char *jid);

/* "node@Domain/res" -> "node@domain" (domain lower-cased); NULL if invalid. */
char *cw_jid_bare(const char *jid);

/* The resource part (allocated), or NULL when there is none or the JID is invalid. */
char *cw_jid_resource(const char *jid);

/* Build a JID from parts. node and resource may be NULL or "" (both mean
 * absent); domain must not be NULL. No escaping or checking is done. */
char *cw_jid_make(const char *node, const char *domain, const char *resource);

/* Compare two bare JIDs: domain case-insensitively, node case-insensitively
 * (ASCII; XMPP nodeprep folds case). Full JIDs may be passed: the resources
 * are ignored. FALSE when either JID is invalid. */
gboolean cw_jid_bare_equal(const char *a, const char *b);

/* XEP-0106: escape an arbitrary legacy id into a JID localpart.
 * Escapes space " & ' / : < > @ as \20 \22 \26 \27 \2f \3a \3c \3e \40, and a
 * backslash as \5c only when the two characters after it are one of those ten
 * lowercase codes (\20 ... \5c), which is exactly when it would otherwise
 * unescape; any other backslash is kept bare ("a\b" -> "a\b", "a\5cb" ->
 * "a\5c5cb", "\\" -> "\\", trailing "\" kept). So every id round-trips:
 * cw_jid_unescape_node(cw_jid_escape_node(id)) == id. Non-ASCII UTF-8 and
 * control characters are kept as they are (the latter make an invalid JID).
 * Returns NULL for NULL, empty input or invalid UTF-8. The result may exceed
 * CW_JID_PART_MAX; callers check with cw_jid_is_valid(). */
char *cw_jid_escape_node(const char *legacy_id);

/* XEP-0106 reverse: every \XX sequence naming one of the ten escapable
 * characters becomes that character, reading left to right; anything else
 * (including uppercase "\2F", which nodeprep never produces) is kept verbatim.
 * An empty node gives an empty string.
 * Returns NULL for NULL input or invalid UTF-8. */
char *cw_jid_unescape_node(const char *node);

G_END_DECLS
