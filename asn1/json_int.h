/* asn1/json_int.h - the one strict reader of JSON that comes from outside (ctca.json,
 * custom policy files, Chrome v3 log lists, log responses), and a writer for the
 * documents ctca itself prints in cJSON's old layout.
 *
 * Underneath is jansson, which keeps integers as exact 64-bit json_int_t, refuses
 * duplicate keys while parsing and refuses \u0000 unless asked. On top, this layer
 * gives every error the path of the field it is about ("profiles.p.validity_days:
 * expected an integer in 1..3650"), bounds size and depth, and applies each format's
 * rule for unknown keys. No I/O and no policy: callers read files and decide what a
 * value means. Internal to libctca. */
#ifndef CTCA_ASN1_JSON_INT_H
#define CTCA_ASN1_JSON_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/error.h"

/* What an object key that the reader does not know means for a format. */
typedef enum ctca_json_unknown {
    CTCA_JSON_UNKNOWN_IGNORE, /* log lists, log responses: newer fields are expected */
    CTCA_JSON_UNKNOWN_REFUSE  /* ctca.json, policy files: a typo must not be ignored */
} ctca_json_unknown;

/* One input format. Duplicate keys are refused in every format: two parsers could
 * otherwise read two different documents from one text. */
typedef struct ctca_json_format {
    ctca_err code;          /* a field's type, range, key or size is wrong */
    ctca_err syntax_code;   /* the text is not one JSON value */
    size_t max_bytes;       /* larger input is refused before parsing */
    size_t max_depth;       /* nesting of arrays and objects, the root counting 1 */
    ctca_json_unknown unknown;
    const char *unknown_msg; /* what an unknown key is called: "unknown key" */
    const char *path_prefix; /* put before every path: "" or "field " */
} ctca_json_format;

/* A value in a parsed document together with how it was reached, so that an error
 * can name it. v is NULL when the member or element is absent. Nodes live on the
 * stack and point at their parent; they are valid while the parent and the
 * document are. */
typedef struct ctca_json_node {
    const json_t *v;
    const struct ctca_json_node *up;
    const char *key; /* the member name, or NULL for an array element */
    size_t index;
    const ctca_json_format *fmt;
} ctca_json_node;

/* ctca_json_parse: text[0..len) as one JSON value with nothing but whitespace
 * after it. Refused: more than fmt->max_bytes, a NUL byte, a syntax error
 * (fmt->syntax_code), and (fmt->code, naming the field) a duplicate key, a string
 * holding \u0000, an integer written -0, a number beyond 64-bit integers or
 * doubles, nesting deeper than fmt->max_depth. *root is owned by the caller
 * (json_decref). */
CTCA_RESULT ctca_json_parse(const ctca_json_format *fmt, const char *text, size_t len,
                            json_t **root, ctca_errbuf *eb);

/* ctca_json_root: the node of a parsed document's root. */
ctca_json_node ctca_json_root(const ctca_json_format *fmt, const json_t *root);
/* ctca_json_member: obj's member key (v NULL when absent or obj is no object). */
ctca_json_node ctca_json_member(const ctca_json_node *obj, const char *key);
/* ctca_json_element: arr's element i (v NULL when out of range or arr is no array). */
ctca_json_node ctca_json_element(const ctca_json_node *arr, size_t i);

/* ctca_json_path: n's path ("operators[2].logs[0].key", "" for the root) into buf. */
void ctca_json_path(const ctca_json_node *n, char *buf, size_t len);

/* ctca_json_fail: sets eb to "<prefix><path>: <message>" (just the message for the
 * root) and returns n's format's code. */
ctca_err ctca_json_fail(const ctca_json_node *n, ctca_errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ctca_json_check_keys: under CTCA_JSON_UNKNOWN_REFUSE, fails naming the first
 * member of obj not in known (NULL-terminated); otherwise succeeds. */
CTCA_RESULT ctca_json_check_keys(const ctca_json_node *obj, const char *const *known,
                                 ctca_errbuf *eb);

/* ctca_json_int_in: true and *out when v is an integer (never a real, however
 * whole) in [lo, hi]. The range is checked on the exact json_int_t, so no value
 * is converted before it is known to fit. */
bool ctca_json_int_in(const json_t *v, int64_t lo, int64_t hi, int64_t *out);

/* ctca_json_get_int: n's integer in [lo, hi]; absent: *out is untouched and the
 * result is OK unless required ("missing"). Anything else fails with "expected an
 * integer in lo..hi". */
CTCA_RESULT ctca_json_get_int(const ctca_json_node *n, bool required, int64_t lo, int64_t hi,
                              int64_t *out, ctca_errbuf *eb);

/* ctca_json_string: n's string (NUL-free, UTF-8, borrowed) or NULL when n is
 * absent or not a string. */
const char *ctca_json_string(const ctca_json_node *n);

/* ctca_json_print: v in the layout ctca has always written its files in (cJSON's:
 * tabs, "key":<TAB>value, arrays on one line), without a final newline; or
 * compact when pretty is false. Integers are written exactly. *out is malloc'd,
 * NUL-terminated; caller frees. */
CTCA_RESULT ctca_json_print(const json_t *v, bool pretty, char **out);

#endif
