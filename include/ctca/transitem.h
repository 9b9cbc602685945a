/* ctca/transitem.h - RFC 9162 (CT 2.0) TransItems: codec, TransItemList, log
 * IDs as OIDs, the signed input of v2 SCTs and their verification, STH and
 * inclusion-proof checks.
 *
 * Parsing is strict (ctca/asn1.h): every length is checked against its TLS
 * bounds, hashes must be SHA-256's 32 bytes (the only registered hash, RFC 9162
 * 10.2.1), log artifact extensions must be in strictly ascending type order
 * (4.6), nothing may trail, and an unknown versioned_type is refused
 * (CTCA_ERR_TRANSITEM_TYPE; 0x0000..0x00FF, RFC 6962's range, is
 * CTCA_ERR_TRANSITEM_RFC6962). A serialize of a parse gives back the same bytes.
 * On failure outputs are zeroed. */
#ifndef CTCA_TRANSITEM_H
#define CTCA_TRANSITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"
#include "ctca/sct.h"

#define CTCA_LOG_ID_OID_MIN 2   /* opaque LogID<2..127> (RFC 9162 4.4) */
#define CTCA_LOG_ID_OID_MAX 127
#define CTCA_HASH_LEN 32        /* SHA-256 */
#define CTCA_PROOF_MAX_NODES 64 /* a tree of < 2^64 leaves never needs more */
#define CTCA_TRANSITEM_LIST_MAX 64 /* items per list we accept: a cap, not a spec bound */
#define CTCA_TRANSITEM_MAX_LEN 0xffff /* SerializedTransItem<1..2^16-1> (6.3) */

/* VersionedTransType (RFC 9162 4.5, 10.2.3). */
typedef enum ctca_trans_type {
    CTCA_TT_X509_ENTRY_V2 = 0x0100,
    CTCA_TT_PRECERT_ENTRY_V2 = 0x0101,
    CTCA_TT_X509_SCT_V2 = 0x0102,
    CTCA_TT_PRECERT_SCT_V2 = 0x0103,
    CTCA_TT_STH_V2 = 0x0104,
    CTCA_TT_CONSISTENCY_PROOF_V2 = 0x0105,
    CTCA_TT_INCLUSION_PROOF_V2 = 0x0106
} ctca_trans_type;

/* ctca_trans_type_name: "precert_sct_v2", ...; "unknown" otherwise. */
const char *ctca_trans_type_name(unsigned type);

/* A log ID: the DER contents of the log's OID (no tag, no length). */
typedef struct ctca_log_id_v2 {
    uint8_t oid[CTCA_LOG_ID_OID_MAX];
    size_t len;
} ctca_log_id_v2;

/* ctca_log_id_v2_from_string: "1.3.101.8192" into *out; CTCA_ERR_DER_OID for
 * text that is not an OID, CTCA_ERR_VALUE_RANGE when it encodes to more than
 * 127 octets. */
CTCA_RESULT ctca_log_id_v2_from_string(const char *s, ctca_log_id_v2 *out);
/* ctca_log_id_v2_to_string: dotted decimal into buf (CTCA_ERR_VALUE_RANGE when
 * buf is too small; 512 bytes always suffice). */
CTCA_RESULT ctca_log_id_v2_to_string(const ctca_log_id_v2 *id, char *buf, size_t buf_len);
/* ctca_log_id_v2_eq: true when a and b are the same OID. */
bool ctca_log_id_v2_eq(const ctca_log_id_v2 *a, const ctca_log_id_v2 *b);

/* One TransItem. The fields each type uses (the others stay zero):
 *   x509_entry_v2, precert_entry_v2 (TimestampedCertificateEntryDataV2):
 *       timestamp, issuer_key_hash, tbs, extensions (sct_extensions)
 *   x509_sct_v2, precert_sct_v2 (SignedCertificateTimestampDataV2):
 *       log_id, timestamp, extensions (sct_extensions), signature
 *   signed_tree_head_v2 (SignedTreeHeadDataV2):
 *       log_id, timestamp, tree_size, root_hash, extensions (sth_extensions),
 *       signature
 *   consistency_proof_v2: log_id, tree_size (tree_size_1), tree_size_2, path
 *   inclusion_proof_v2: log_id, tree_size, leaf_index, path
 * extensions holds the contents of the Extension vector (the serialized
 * Extension structs, without the vector's 2-byte length). Buffers are owned
 * (malloc'd) and released by ctca_transitem_cleanup; a zeroed item is empty. */
typedef struct ctca_transitem {
    ctca_trans_type type;
    ctca_log_id_v2 log_id;
    uint64_t timestamp;
    uint8_t issuer_key_hash[CTCA_HASH_LEN];
    uint8_t *tbs;
    size_t tbs_len;
    uint8_t *extensions;
    size_t extensions_len;
    uint8_t *signature;
    size_t signature_len;
    uint64_t tree_size;
    uint64_t tree_size_2;
    uint64_t leaf_index;
    uint8_t root_hash[CTCA_HASH_LEN];
    uint8_t (*path)[CTCA_HASH_LEN];
    size_t path_len;
} ctca_transitem;

/* ctca_transitem_parse: exactly one serialized TransItem (all of in). The
 * caller owns *out (ctca_transitem_cleanup). */
CTCA_RESULT ctca_transitem_parse(ctca_view in, ctca_transitem *out);
/* ctca_transitem_parse_as: as ctca_transitem_parse, and
 * CTCA_ERR_TRANSITEM_WRONG_TYPE unless the item is of type a or type b. */
CTCA_RESULT ctca_transitem_parse_as(ctca_view in, ctca_trans_type a, ctca_trans_type b,
                                    ctca_transitem *out);
/* ctca_transitem_serialize: *out malloc'd, caller frees. The item is checked
 * as the parser would check it (bounds, hash lengths, extension order). */
CTCA_RESULT ctca_transitem_serialize(const ctca_transitem *item, uint8_t **out, size_t *out_len);
/* ctca_transitem_cleanup: frees item's buffers and zeroes it; accepts a zeroed item. */
void ctca_transitem_cleanup(ctca_transitem *item);
/* ctca_transitem_is_sct: true for x509_sct_v2 and precert_sct_v2. */
bool ctca_transitem_is_sct(const ctca_transitem *item);

typedef struct ctca_transitem_list {
    ctca_transitem *items;
    size_t n;
} ctca_transitem_list;

/* ctca_transitem_list_parse: a TransItemList (RFC 9162 6.3):
 * opaque SerializedTransItem<1..2^16-1>; trans_item_list<1..2^16-1>. Every
 * item is parsed strictly; more than CTCA_TRANSITEM_LIST_MAX items is
 * CTCA_ERR_TRANSITEM_LIST_TOO_LONG, none CTCA_ERR_TRANSITEM_LIST_EMPTY. Caller
 * owns *out (ctca_transitem_list_cleanup). */
CTCA_RESULT ctca_transitem_list_parse(ctca_view in, ctca_transitem_list *out);
/* ctca_transitem_list_serialize: n (1..CTCA_TRANSITEM_LIST_MAX) items into a
 * list; *out malloc'd, caller frees. */
CTCA_RESULT ctca_transitem_list_serialize(const ctca_transitem *items, size_t n, uint8_t **out,
                                          size_t *out_len);
/* ctca_transitem_list_cleanup: frees and zeroes list; accepts a zeroed one. */
void ctca_transitem_list_cleanup(ctca_transitem_list *list);

/* What a v2 SCT commits to besides its own fields (RFC 9162 8.1.3): the
 * issuer key hash (SHA-256 of the issuing CA's SubjectPublicKeyInfo) and the
 * TBSCertificate (borrowed): the certificate's own for x509_sct_v2, the CMS
 * precertificate's eContent (the final TBS minus 1.3.101.75) for
 * precert_sct_v2. */
typedef struct ctca_entry_v2 {
    uint8_t issuer_key_hash[CTCA_HASH_LEN];
    ctca_view tbs;
} ctca_entry_v2;

/* ctca_sct_v2_signed_input: the TransItem of type x509_entry_v2 (for an
 * x509_sct_v2) or precert_entry_v2 (for a precert_sct_v2) holding
 * TimestampedCertificateEntryDataV2 with the SCT's timestamp and extensions:
 * what the log signed (4.8) and, hashed as SHA-256(0x00 || it), the Merkle
 * leaf (4.7). CTCA_ERR_TRANSITEM_WRONG_TYPE when sct is not an SCT. *out
 * malloc'd, caller frees. */
CTCA_RESULT ctca_sct_v2_signed_input(const ctca_transitem *sct, const ctca_entry_v2 *entry,
                                     uint8_t **out, size_t *out_len);
/* ctca_sct_v2_leaf_hash: SHA-256(0x00 || the signed input), the leaf hash of
 * the log entry the SCT promises. */
CTCA_RESULT ctca_sct_v2_leaf_hash(const ctca_transitem *sct, const ctca_entry_v2 *entry,
                                  uint8_t out[CTCA_HASH_LEN]);

/* A v2 log as a verifier knows it: its OID log ID and its key (borrowed).
 * Only ECDSA P-256 keys sign v2 artifacts here (ecdsa_secp256r1_sha256,
 * 10.2.2); an RSA log key is CTCA_ERR_KEY_UNSUPPORTED. */
typedef struct ctca_log_v2 {
    ctca_log_id_v2 log_id;
    const ctca_log_key *key;
} ctca_log_v2;

/* ctca_sct_v2_verify: checks, in this order, that sct is an SCT
 * (CTCA_ERR_TRANSITEM_WRONG_TYPE), that its log ID is log's
 * (CTCA_ERR_SCT_LOG_ID_MISMATCH), that log's key can sign v2 artifacts
 * (CTCA_ERR_KEY_UNSUPPORTED), that its timestamp is not after now_ms
 * (CTCA_ERR_SCT_FUTURE), and that the signature verifies over the signed
 * input (CTCA_ERR_SIG_INVALID). */
CTCA_RESULT ctca_sct_v2_verify(const ctca_transitem *sct, const ctca_log_v2 *log,
                               const ctca_entry_v2 *entry, uint64_t now_ms);

/* ctca_sth_v2_signed_input: the TreeHeadDataV2 an STH's signature covers
 * (4.10). CTCA_ERR_TRANSITEM_WRONG_TYPE unless sth is a signed_tree_head_v2. */
CTCA_RESULT ctca_sth_v2_signed_input(const ctca_transitem *sth, uint8_t **out, size_t *out_len);
/* ctca_sth_v2_verify: sth is an STH of log (log ID, then signature), as
 * ctca_sct_v2_verify's first checks, without the time check. */
CTCA_RESULT ctca_sth_v2_verify(const ctca_transitem *sth, const ctca_log_v2 *log);
/* ctca_inclusion_v2_verify: proof (an inclusion_proof_v2 of sth's log and
 * tree size) proves leaf_hash at proof->leaf_index in the tree whose root sth
 * names (RFC 9162 2.1.3.2). CTCA_ERR_PROOF_INVALID when it does not;
 * CTCA_ERR_TRANSITEM_WRONG_TYPE / CTCA_ERR_SCT_LOG_ID_MISMATCH when the items
 * do not belong together. sth's signature is not checked here. */
CTCA_RESULT ctca_inclusion_v2_verify(const ctca_transitem *proof, const ctca_transitem *sth,
                                     const uint8_t leaf_hash[CTCA_HASH_LEN]);

#endif
