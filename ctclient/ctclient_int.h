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
