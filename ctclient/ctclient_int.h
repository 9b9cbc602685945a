/* ctclient/ctclient_int.h - the ctclient's pure pieces (no I/O), exposed so
 * that tests can pin them byte for byte. */
#ifndef CTCA_CTCLIENT_INT_H
#define CTCA_CTCLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/ctclient.h"
#include "ctca/error.h"

/* Largest request body: CTCA_CTCLIENT_MAX_CHAIN certificates of
 * CTCA_CTCLIENT_MAX_CERT_LEN bytes each, base64-encoded, plus the JSON frame. */
#define CTCA_CTCLIENT_MAX_REQUEST                                                      \
    ((size_t)CTCA_CTCLIENT_MAX_CHAIN * ((CTCA_CTCLIENT_MAX_CERT_LEN + 2) / 3 * 4 + 3) + 64)

/* Largest serialized SCT: version, log ID, timestamp, two u16-prefixed vectors
 * and the two algorithm bytes. */
#define CTCA_CTCLIENT_MAX_SCT (1 + 32 + 8 + 2 + 65535 + 2 + 2 + 65535)

/* ctca_ctclient_chain_json: the add-chain request body {"chain":["<b64>",...]}
 * for n certificates (1..CTCA_CTCLIENT_MAX_CHAIN, each 1..MAX_CERT_LEN bytes,
 * else CTCA_ERR_VALUE_RANGE). *out is malloc'd, caller frees. */
CTCA_RESULT ctca_ctclient_chain_json(const ctca_view *chain, size_t n, uint8_t **out,
                                     size_t *out_len);

/* ctca_ctclient_entry_json: the RFC 9162 submit-entry request body
 * {"submission":"<b64>","type":T,"chain":["<b64>",...]} for chain[0] (the
 * submission) and chain[1..n) (the chain), with the same bounds as
 * ctca_ctclient_chain_json. *out is malloc'd, caller frees. */
CTCA_RESULT ctca_ctclient_entry_json(unsigned type, const ctca_view *chain, size_t n,
                                     uint8_t **out, size_t *out_len);

/* A submit-entry answer: serialized TransItems (malloc'd; sth and inclusion
 * NULL when absent). */
typedef struct ctca_ctclient_entry_answer {
    uint8_t *sct, *sth, *inclusion;
    size_t sct_len, sth_len, inclusion_len;
} ctca_ctclient_entry_answer;

/* ctca_ctclient_parse_entry_response: the JSON answer of submit-entry (RFC
 * 9162 5.1). Strict: a top-level object holding "sct" once, and "sth" and
 * "inclusion" at most once each, all base64 strings; unknown fields are
 * ignored. "sct" must be exactly one x509_sct_v2 or precert_sct_v2 TransItem
 * (log ID an OID of 2..127 octets, signature non-empty, no trailing bytes),
 * "sth" a signed_tree_head_v2 and "inclusion" an inclusion_proof_v2 (checked
 * by type; their contents are the core's). CTCA_ERR_BAD_RESPONSE with the
 * reason in detail (may be NULL) on any violation. The caller releases *out
 * with ctca_ctclient_entry_answer_cleanup (also after a failure). */
CTCA_RESULT ctca_ctclient_parse_entry_response(ctca_view body, ctca_ctclient_entry_answer *out,
                                               char *detail, size_t detail_len);
/* ctca_ctclient_entry_answer_cleanup: frees and zeroes a; accepts a zeroed one. */
void ctca_ctclient_entry_answer_cleanup(ctca_ctclient_entry_answer *a);

/* ctca_ctclient_problem: "<type>: <detail>" of an RFC 7807 problem body
 * (RFC 9162 5), the type without its "urn:ietf:params:trans:error:" prefix,
 * into buf; false when body is not such an object. */
bool ctca_ctclient_problem(ctca_view body, char *buf, size_t buf_len);

/* ctca_ctclient_url: joins base_url and path (no leading '/'), inserting the
 * '/' a base URL may lack. base_url must be an absolute http or https URL
 * without query, fragment or credentials, of printable ASCII; path printable
 * ASCII without spaces; else CTCA_ERR_CONFIG. *out is malloc'd, caller frees. */
CTCA_RESULT ctca_ctclient_url(const char *base_url, const char *path, char **out);

/* ctca_ctclient_parse_sct_response: the JSON answer of add-chain/add-pre-chain
 * (RFC 6962 4.1) into a serialized SCT (RFC 6962 3.2). Strict: a top-level
 * object holding each of sct_version (the integer 0), id (base64 of 32 bytes),
 * timestamp (an integer literal < 2^63), extensions (base64, maybe empty) and
 * signature (base64 of exactly one DigitallySigned) once; unknown fields are
 * ignored. CTCA_ERR_BAD_RESPONSE on any violation, with the reason in detail
 * (may be NULL). *sct is malloc'd, caller frees. */
CTCA_RESULT ctca_ctclient_parse_sct_response(ctca_view body, uint8_t **sct, size_t *sct_len,
                                             char *detail, size_t detail_len);

/* ctca_ctclient_parse_retry_after: true when the header line (name, colon,
 * value, optional CRLF) is Retry-After with a delta-seconds value; *seconds gets
 * it, clamped to INT32_MAX. An HTTP-date value gives false. */
bool ctca_ctclient_parse_retry_after(const char *line, size_t n, long *seconds);

#endif
