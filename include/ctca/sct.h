/* ctca/sct.h - RFC 6962 SCTs: codec, signed input, verification, and the
 * reconstruction of the TBSCertificate a log signed for a precertificate.
 *
 * Parsing is strict (ctca/asn1.h): an SCT or list with trailing bytes, a length
 * outside its TLS bounds, or an unknown version is refused with an exact code.
 * A serialize of a parse returns the same bytes. */
#ifndef CTCA_SCT_H
#define CTCA_SCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"

#define CTCA_LOG_ID_LEN 32
#define CTCA_SCT_MAX_EXTENSIONS 65535 /* CtExtensions opaque<0..2^16-1> */
#define CTCA_SCT_MAX_SIGNATURE 65535  /* digitally-signed opaque<0..2^16-1> */
#define CTCA_SCT_LIST_MAX 64          /* SCTs per list we accept: a cap, not a spec bound */

typedef enum ctca_entry_type {
    CTCA_ENTRY_X509 = 0,
    CTCA_ENTRY_PRECERT = 1
} ctca_entry_type;

/* TLS 1.2 HashAlgorithm / SignatureAlgorithm values (RFC 5246 7.4.1.4.1). */
enum { CTCA_HASH_SHA256 = 4 };
enum { CTCA_SIGALG_RSA = 1, CTCA_SIGALG_ECDSA = 3 };

/* A v1 SignedCertificateTimestamp. extensions and signature are owned
 * (malloc'd) and released by ctca_sct_cleanup. */
typedef struct ctca_sct {
    uint8_t version; /* 0 = v1 */
    uint8_t log_id[CTCA_LOG_ID_LEN];
    uint64_t timestamp; /* ms since the epoch */
    uint8_t *extensions;
    size_t extensions_len;
    uint8_t hash_alg;
    uint8_t sig_alg;
    uint8_t *signature;
    size_t signature_len;
} ctca_sct;

/* ctca_sct_parse: parses exactly one serialized SCT (all of in). On success the
 * caller owns *out (ctca_sct_cleanup). On failure *out is zeroed. */
CTCA_RESULT ctca_sct_parse(ctca_view in, ctca_sct *out);
/* ctca_sct_serialize: *out is malloc'd, caller frees. */
CTCA_RESULT ctca_sct_serialize(const ctca_sct *sct, uint8_t **out, size_t *out_len);
/* ctca_sct_cleanup: frees sct's buffers and zeroes it; accepts a zeroed sct. */
void ctca_sct_cleanup(ctca_sct *sct);

typedef struct ctca_sct_list {
    ctca_sct *scts;
    size_t n;
} ctca_sct_list;

/* ctca_sct_list_parse: a SignedCertificateTimestampList (RFC 6962 3.3):
 * opaque SerializedSCT<1..2^16-1>; list<1..2^16-1>. Caller owns *out
 * (ctca_sct_list_cleanup); zeroed on failure. */
CTCA_RESULT ctca_sct_list_parse(ctca_view in, ctca_sct_list *out);
/* ctca_sct_list_serialize: n >= 1 SCTs into a list; *out malloc'd, caller frees. */
CTCA_RESULT ctca_sct_list_serialize(const ctca_sct *scts, size_t n, uint8_t **out,
                                    size_t *out_len);
void ctca_sct_list_cleanup(ctca_sct_list *list);

/* What a log signed, besides the SCT's own fields: for x509_entry the leaf
 * certificate, for precert_entry the issuer key hash and the precert TBS. The
 * views are borrowed. */
typedef struct ctca_signed_entry {
    ctca_entry_type type;
    ctca_view leaf_cert;                         /* X509 */
    uint8_t issuer_key_hash[CTCA_LOG_ID_LEN];    /* PRECERT */
    ctca_view tbs;                               /* PRECERT */
} ctca_signed_entry;

/* ctca_sct_signed_input: the digitally-signed struct of RFC 6962 3.2 for sct and
 * entry; *out malloc'd, caller frees. */
CTCA_RESULT ctca_sct_signed_input(const ctca_sct *sct, const ctca_signed_entry *entry,
                                  uint8_t **out, size_t *out_len);

/* ctca_merkle_tree_leaf: the MerkleTreeLeaf (RFC 6962 3.4) a log appends for
 * sct and entry (v1, timestamped_entry); *out malloc'd, caller frees. */
CTCA_RESULT ctca_merkle_tree_leaf(const ctca_sct *sct, const ctca_signed_entry *entry,
                                  uint8_t **out, size_t *out_len);
/* ctca_merkle_leaf_hash: SHA-256(0x00 || MerkleTreeLeaf) (RFC 6962 2.1). */
CTCA_RESULT ctca_merkle_leaf_hash(const ctca_sct *sct, const ctca_signed_entry *entry,
                                  uint8_t out[CTCA_LOG_ID_LEN]);

/* A log's public key and its log ID (SHA-256 of the DER SubjectPublicKeyInfo).
 * Opaque; ECDSA P-256 and RSA (>= 2048 bits) keys are accepted. */
typedef struct ctca_log_key ctca_log_key;

/* ctca_log_key_from_spki: from DER SubjectPublicKeyInfo; caller frees *out. */
CTCA_RESULT ctca_log_key_from_spki(ctca_view spki, ctca_log_key **out);
/* ctca_log_key_from_pem_file: from a PEM "PUBLIC KEY" file (or a DER SPKI
 * file); caller frees *out. */
CTCA_RESULT ctca_log_key_from_pem_file(const char *path, ctca_log_key **out);
/* ctca_log_key_load: as ctca_log_key_from_pem_file, and on failure eb (may be
 * NULL) names the file and the reason. */
CTCA_RESULT ctca_log_key_load(const char *path, ctca_log_key **out, ctca_errbuf *eb);
/* ctca_log_key_free: accepts NULL. */
void ctca_log_key_free(ctca_log_key *key);
/* ctca_log_key_get0_id: the 32-byte log ID, borrowed from key. */
const uint8_t *ctca_log_key_get0_id(const ctca_log_key *key);
/* ctca_log_key_get0_spki: the DER SPKI, borrowed from key. */
ctca_view ctca_log_key_get0_spki(const ctca_log_key *key);
/* ctca_log_key_sig_alg: CTCA_SIGALG_RSA or CTCA_SIGALG_ECDSA. */
uint8_t ctca_log_key_sig_alg(const ctca_log_key *key);

/* ctca_sct_verify: checks, in this order, that sct's log ID is key's
 * (CTCA_ERR_SCT_LOG_ID_MISMATCH), that its hash is SHA-256 and its signature
 * algorithm matches the key (CTCA_ERR_SIG_ALG_MISMATCH), that its timestamp is
 * not after now_ms (CTCA_ERR_SCT_FUTURE), and that the signature verifies over
 * the signed input (CTCA_ERR_SIG_INVALID). */
CTCA_RESULT ctca_sct_verify(const ctca_sct *sct, const ctca_log_key *key,
                            const ctca_signed_entry *entry, uint64_t now_ms);

/* ---- certificates (DER, borrowed) ------------------------------------------ */

/* ctca_precert_tbs_from_precert: the TBSCertificate of precert with the CT
 * poison removed. CTCA_ERR_NOT_PRECERT without poison, CTCA_ERR_EXT_DUPLICATE
 * for two poisons, CTCA_ERR_POISON_AND_SCT_LIST when an SCT list is there too,
 * CTCA_ERR_POISON_MALFORMED unless it is critical with NULL value. *tbs malloc'd. */
CTCA_RESULT ctca_precert_tbs_from_precert(ctca_view precert, uint8_t **tbs, size_t *tbs_len);
/* ctca_precert_tbs_from_final: the TBSCertificate of a final certificate with
 * the SCT list extension removed (CTCA_ERR_NO_SCT_LIST when absent). */
CTCA_RESULT ctca_precert_tbs_from_final(ctca_view cert, uint8_t **tbs, size_t *tbs_len);
/* ctca_precert_tbs_from_preca_precert: for a precertificate issued by a
 * Precertificate Signing Certificate (RFC 6962 3.1): poison removed, issuer
 * replaced by preca_cert's issuer, and the AKI extension replaced by preca_cert's
 * own AKI (removed when the PreCA has none, appended when the precert has none).
 * CTCA_ERR_ISSUER_MISMATCH unless precert's issuer is preca_cert's subject.
 * preca_cert's EKU (1.3.6.1.4.1.11129.2.4.4) is not checked here. */
CTCA_RESULT ctca_precert_tbs_from_preca_precert(ctca_view precert, ctca_view preca_cert,
                                                uint8_t **tbs, size_t *tbs_len);
/* ctca_cert_issuer_key_hash: SHA-256 of issuer_cert's SubjectPublicKeyInfo. */
CTCA_RESULT ctca_cert_issuer_key_hash(ctca_view issuer_cert, uint8_t out[CTCA_LOG_ID_LEN]);
/* ctca_cert_get_sct_list: the SCT list embedded in cert (extension
 * 1.3.6.1.4.1.11129.2.4.2, an OCTET STRING holding an OCTET STRING holding the
 * TLS list). CTCA_ERR_NO_SCT_LIST when absent, CTCA_ERR_POISON_AND_SCT_LIST
 * when cert is also poisoned. Caller owns *out (ctca_sct_list_cleanup). */
CTCA_RESULT ctca_cert_get_sct_list(ctca_view cert, ctca_sct_list *out);
/* ctca_cert_check_issuer: CTCA_ERR_ISSUER_MISMATCH unless cert's issuer Name is
 * byte for byte issuer_cert's subject. */
CTCA_RESULT ctca_cert_check_issuer(ctca_view cert, ctca_view issuer_cert);

/* ---- verifying the SCTs embedded in a final certificate -------------------- */

/* The verdict on one embedded SCT. */
typedef struct ctca_sct_check {
    ctca_sct sct;              /* owned by the enclosing ctca_sct_checks */
    const ctca_log_key *key;   /* borrowed from the caller's keys; NULL: unknown log */
    ctca_err status;           /* CTCA_OK, CTCA_ERR_SCT_UNKNOWN_LOG, or a ctca_sct_verify
                                * error (SIG_INVALID, SCT_FUTURE, SIG_ALG_MISMATCH, ...) */
} ctca_sct_check;

typedef struct ctca_sct_checks {
    ctca_sct_check *items; /* in list order */
    size_t n;
    size_t n_valid;   /* status CTCA_OK */
    size_t n_invalid; /* from a known log, but not valid */
    size_t n_unknown; /* CTCA_ERR_SCT_UNKNOWN_LOG */
} ctca_sct_checks;

/* ctca_cert_verify_embedded_scts: checks every SCT embedded in cert (a final
 * certificate) as a precert_entry signed over cert's TBS minus the SCT list,
 * with the issuer key hash of issuer_cert (which must have issued cert:
 * CTCA_ERR_ISSUER_MISMATCH), against the log among keys whose ID it names,
 * taking now_ms as the present. Fails only when cert or issuer_cert cannot be
 * used (malformed, CTCA_ERR_NO_SCT_LIST, ...); per-SCT verdicts are in *out,
 * which the caller releases with ctca_sct_checks_cleanup (zeroed on failure). */
CTCA_RESULT ctca_cert_verify_embedded_scts(ctca_view cert, ctca_view issuer_cert,
                                           const ctca_log_key *const *keys, size_t n_keys,
                                           uint64_t now_ms, ctca_sct_checks *out);
/* ctca_sct_checks_cleanup: frees and zeroes checks; accepts a zeroed one. */
void ctca_sct_checks_cleanup(ctca_sct_checks *checks);

#endif
