/* purple-html.h — libpurple's message HTML to plain UTF-8 text and back. Pure functions:
 * no libpurple, no I/O, no logging.
 *
 * libpurple hands a UI received IMs and chat messages as HTML (whatever the prpl
 * produced: prpl-jabber's XHTML-IM with <html>/<body>/<p>, Pidgin's <font>/<b>,
 * AIM's <HTML><BODY BGCOLOR=...>, or plain text with & < > escaped), and expects
 * HTML from the UI when sending. XMPP bodies are plain text, so the transport
 * converts at the boundary in both directions.
 *
 * cw_purple_html_to_text() is a forgiving, single-pass tokenizer, not an HTML
 * parser: it never builds a tree, keeps no stack (nesting depth costs nothing),
 * and runs in time linear in its input, whatever the input.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* Formatting elements nested deeper than this keep their text only. */
#define CW_PURPLE_HTML_MAX_DEPTH 32

/* Input longer than this is cut (at a UTF-8 character boundary) before conversion. */
#define CW_PURPLE_HTML_MAX_INPUT (1024 * 1024)

/* The plain text of libpurple message HTML, allocated (g_free), always valid
 * UTF-8 without NUL; NULL when html is NULL.
 *
 * - Tags are removed, unknown ones included; comments (<!-- -->), <!DOCTYPE>
 *   and <?...?> are dropped; the contents of <script>, <style>
 *   and <title> are dropped.
 * - <br> (also <br/>, </br>) is a newline. Blocks (p, div, li, ul, ol,
 *   blockquote, pre, h1..h6, table, tr, hr) start and end on a line of their
 *   own: a newline is added at a block boundary unless the text already ends
 *   with one (so "<p>a</p><p>b</p>" is "a\nb", and "a<br></p>" has one newline).
 * - Never more than 2 consecutive newlines; ASCII whitespace (space, tab, CR,
 *   LF) is trimmed at both ends. Other whitespace is kept as it is (libpurple's
 *   plain text is not collapsed the way a browser collapses HTML).
 * - <a href="URL">TEXT</a> is "TEXT (URL)"; just URL when TEXT is empty or
 *   equals URL, and just TEXT when URL is TEXT with a "http://", "https://",
 *   "mailto:" or "xmpp:" prefix (libpurple's linkified addresses). Only
 *   http, https, xmpp and mailto URLs are shown: TEXT alone otherwise, or when
 *   the URL holds a control character.
 * - <img alt="X"> is X (no alt: nothing).
 * - Entities: &amp; &lt; &gt; &quot; &apos; (any case), &nbsp; (a plain space,
 *   as Pidgin uses it to keep runs of spaces), a few common named ones
 *   (&copy; &hellip; &mdash; ...), and &#NNN; / &#xHH; where 0, surrogates and
 *   values above U+10FFFF become U+FFFD. An entity needs its ';'; anything
 *   else starting with '&' is text.
 * - Bytes that are not valid UTF-8 each become U+FFFD.
 * - A '<' that does not start markup ("a < b", "<3", "<<") is text. A tag runs
 *   to its '>' outside a quoted attribute value, or up to a following '<' (an
 *   unclosed "<b" before another tag); one still open at the end of the input
 *   is not a tag, and the rest of the input is shown as text.
 * So plain text without markup passes through unchanged except for entity
 * decoding, the newline limit and the trim. */
char *cw_purple_html_to_text(const char *html);

/* HTML for libpurple from plain text, allocated (g_free); NULL when text is
 * NULL. & < > " are escaped and "\n" becomes "<br>"; nothing else changes
 * (spaces are not turned into &nbsp;). For valid UTF-8 text without leading or
 * trailing ASCII whitespace and without 3 consecutive newlines,
 * cw_purple_html_to_text() of the result is text again. */
char *cw_purple_text_to_html(const char *text);

/* XEP-0071: the content of an XHTML-IM <body/> (XHTML namespace, without the
 * body element itself) for libpurple message HTML, allocated (g_free); NULL
 * when html is NULL or carries no formatting, so a plain message gets no
 * <html/> element. The same tokenizer as cw_purple_html_to_text (linear, any
 * input), with a whitelist:
 * - <b>/<strong> -> <strong>, <i>/<em> -> <em>, <u> -> a span underlined,
 *   <font color> and <span style> -> <span style='...'> keeping only color
 *   (#rgb, #rrggbb or a name of letters), font-weight bold, font-style
 *   italic and text-decoration underline; <a href> with an http, https,
 *   xmpp or mailto URL (no control character) -> <a href='URL'> (other
 *   links keep their text only); <p> -> <p>; <br> and a newline in text ->
 *   <br/>; <img alt> -> its alt text.
 * - Every other element (script, style and title with their content, as in
 *   cw_purple_html_to_text) and every other attribute is dropped; text is
 *   re-escaped and characters XML 1.0 forbids are dropped.
 * - End tags close the innermost open element of that name (and what opened
 *   inside it); stray end tags are ignored, what is open at the end is
 *   closed, at most CW_PURPLE_HTML_MAX_DEPTH elements nest: the output is
 *   always a well-formed XML fragment.
 * "Formatting" is one of strong, em, span or a written; <p> and <br> alone
 * are not. */
char *cw_purple_html_to_xhtml(const char *html);

/* libpurple HTML for a plugin from the content of an XHTML-IM <body/> (as
 * XML text), allocated; NULL when xhtml is NULL or carries no formatting
 * (then send cw_purple_text_to_html of the plain body). The same whitelist,
 * written as <b>, <i>, <u>, <font color="...">, <a href="...">, <br> (and a
 * <br> between paragraphs). */
char *cw_purple_xhtml_to_html(const char *xhtml);

G_END_DECLS
