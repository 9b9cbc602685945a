/* tests/testlog/testlog.h - ctca-testlog, a local RFC 6962 CT log for tests,
 * demos and benchmarks.
 *
 * log.c holds the log proper (chain checks, sequencing, SCT and STH signing,
 * the Merkle tree, dedupe); http.c is the libmicrohttpd front end with the
 * fault injection; main.c parses options and runs the server. */
#ifndef CTCA_TESTLOG_H
#define CTCA_TESTLOG_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/error.h"
#include "ctca/sct.h"
#include "ctca/transitem.h"
#include "tests/testlog/merkle.h"

#define TL_MAX_BODY ((size_t)1024 * 1024) /* request body cap */
#define TL_MAX_CHAIN 16                   /* certificates per submitted chain */
#define TL_CA_CACHE 32                    /* CA certificates kept parsed */
#define TL_MAX_ENTRIES_PER_GET 256        /* get-entries range cap */

/* Options that shape SCTs (the HTTP-level faults live in tl_server). */
typedef struct tl_sct_opts {
    int64_t time_offset_ms; /* --sct-time-offset-ms */
    bool fixed_time;        /* --fixed-time-ms: the log's clock is pinned */
    int64_t fixed_time_ms;
    bool static_ct;         /* --static-ct: leaf_index extension */
    unsigned ct_version;    /* --ct-version: 1 (RFC 6962, default) or 2 (RFC 9162) */
    bool has_log_id_oid;    /* --log-id-oid given; else derived from the key */
    ctca_log_id_v2 log_id_oid;
} tl_sct_opts;

/* One sequenced entry. All buffers are owned. */
typedef struct tl_entry {
    uint8_t *leaf; /* MerkleTreeLeaf */
    size_t leaf_len;
    uint8_t *extra; /* extra_data of RFC 6962 4.6 */
    size_t extra_len;
    uint64_t timestamp;
    uint8_t *ext; /* CtExtensions */
    size_t ext_len;
    uint8_t *sig; /* the raw signature inside DigitallySigned */
    size_t sig_len;
    uint8_t identity[TL_HASH_LEN]; /* dedupe key */
    uint8_t leaf_hash[TL_HASH_LEN];
} tl_entry;

/* A 32-byte-key -> index open-addressing table. */
typedef struct tl_index {
    struct tl_slot {
        uint8_t key[TL_HASH_LEN];
        size_t value;
        bool used;
    } *slots;
    size_t cap, n;
} tl_index;

typedef struct tl_log {
    EVP_PKEY *key; /* signing key (owned) */
    uint8_t sig_alg; /* CTCA_SIGALG_ECDSA or CTCA_SIGALG_RSA */
    uint8_t *spki;   /* DER SubjectPublicKeyInfo (owned) */
    size_t spki_len;
    uint8_t log_id[CTCA_LOG_ID_LEN];
    ctca_log_id_v2 log_id_v2; /* RFC 9162 log ID (ct_version 2) */

    X509 **roots; /* accepted roots (owned); none = accept any verifying chain */
    uint8_t **root_der;
    size_t *root_der_len;
    size_t n_roots;

    tl_sct_opts sct;

    /* CA certificates of submitted chains, parsed once: every chain repeats
     * them, and parsing a certificate (its key) costs more than checking it. */
    pthread_mutex_t ca_mu;
    struct tl_ca_cert {
        uint8_t *der;
        size_t der_len;
        X509 *x;
    } ca_certs[TL_CA_CACHE];
    size_t n_ca_certs;

    pthread_mutex_t mu; /* guards everything below */
    tl_merkle tree;
    tl_entry *entries;
    size_t n_entries, cap_entries;
    tl_index by_identity;
    tl_index by_leaf_hash;
} tl_log;

/* An SCT as the log hands it out (before any response fault). */
typedef struct tl_sct_out {
    uint64_t timestamp;
    uint8_t *ext;
    size_t ext_len;
    uint8_t *sig; /* raw signature bytes */
    size_t sig_len;
    uint64_t index;
    bool duplicate;
} tl_sct_out;
void tl_sct_out_cleanup(tl_sct_out *s);

/* tl_log_init: loads the private key at key_path (ECDSA P-256 or RSA >= 2048;
 * P-256 only for ct_version 2, RFC 9162 10.2.2) and, when roots_path is not
 * NULL, the accepted roots. A v2 log without a given OID gets
 * 1.3.101.80.N, N the first four bytes of its key's SHA-256 (RFC 9162 10.2.5's
 * log ID arc), so distinct keys give distinct IDs. Errors in eb. */
CTCA_RESULT tl_log_init(tl_log *log, const char *key_path, const char *roots_path,
                        const tl_sct_opts *opts, ctca_errbuf *eb);
void tl_log_cleanup(tl_log *log);

/* tl_log_now_ms: the log's clock (pinned by --fixed-time-ms). */
uint64_t tl_log_now_ms(const tl_log *log);

/* tl_log_submit: checks a chain (DER certificates, leaf first) for add-chain
 * (type X509) or add-pre-chain (type PRECERT), sequences it (or finds the
 * existing entry) and signs its SCT. Refusals are CTCA_ERR_* with the reason
 * in eb. */
CTCA_RESULT tl_log_submit(tl_log *log, ctca_entry_type type, const ctca_view *chain, size_t n,
                          tl_sct_out *out, ctca_errbuf *eb);

/* tl_log_sign: a DigitallySigned struct (hash, sig alg, opaque<0..2^16-1>)
 * over data, or just the raw signature when raw is true. *out malloc'd. */
CTCA_RESULT tl_log_sign(const tl_log *log, const uint8_t *data, size_t len, bool raw,
                        uint8_t **out, size_t *out_len);

/* Signed tree head of the current tree. */
typedef struct tl_sth {
    uint64_t tree_size;
    uint64_t timestamp;
    uint8_t root[TL_HASH_LEN];
    uint8_t *sig; /* DigitallySigned, malloc'd */
    size_t sig_len;
} tl_sth;
CTCA_RESULT tl_log_get_sth(tl_log *log, tl_sth *out);

/* tl_log_copy_entry: copies entry i's leaf and extra data (caller frees). */
CTCA_RESULT tl_log_copy_entry(tl_log *log, size_t i, uint8_t **leaf, size_t *leaf_len,
                              uint8_t **extra, size_t *extra_len);
/* tl_log_size: entries sequenced so far. */
size_t tl_log_size(tl_log *log);
/* tl_log_proof_by_hash: the index of the leaf with leaf_hash and its audit
 * path in a tree of tree_size (CTCA_ERR_STORE_NOT_FOUND when unknown or not in
 * that tree). */
CTCA_RESULT tl_log_proof_by_hash(tl_log *log, const uint8_t leaf_hash[TL_HASH_LEN],
                                 uint64_t tree_size, uint64_t *index, tl_proof *out,
                                 ctca_errbuf *eb);
/* tl_log_audit_path: by index. */
CTCA_RESULT tl_log_audit_path(tl_log *log, uint64_t index, uint64_t tree_size, tl_proof *out,
                              ctca_errbuf *eb);
/* tl_log_consistency: PROOF(first, second). */
CTCA_RESULT tl_log_consistency(tl_log *log, uint64_t first, uint64_t second, tl_proof *out,
                               ctca_errbuf *eb);

/* ---- shared by log.c and log_v2.c ------------------------------------------ */

/* tl_sha256: SHA-256 of p[0..n). */
CTCA_RESULT tl_sha256(const uint8_t *p, size_t n, uint8_t out[TL_HASH_LEN]);
/* tl_memdup: a malloc'd copy (non-NULL for n == 0), NULL when out of memory. */
uint8_t *tl_memdup(const void *p, size_t n);
/* tl_parse_cert: exactly one DER certificate (caller frees *out). */
CTCA_RESULT tl_parse_cert(ctca_view der, X509 **out);
/* tl_issued_by: parent's subject names child's issuer and its key verifies child. */
bool tl_issued_by(X509 *child, X509 *parent);
/* tl_log_ca_cert: a chain's CA certificate (exactly one DER certificate),
 * parsed, from the log's cache when seen before. *x is the log's when *owned
 * is false (valid until tl_log_cleanup), else the caller frees it. */
CTCA_RESULT tl_log_ca_cert(tl_log *log, ctca_view der, X509 **x, bool *owned);
/* tl_der_issued_by: as tl_issued_by for child given as DER, checked without
 * decoding child's own key: the names compared, the signature verified over
 * its TBS bytes (PKCS#1 v1.5 or ECDSA with SHA-2; other algorithms through
 * OpenSSL's parse). false also when child is not a certificate. */
bool tl_der_issued_by(ctca_view child, X509 *parent);
/* tl_log_append_locked: with log->mu held, appends e (leaf, identity and the
 * SCT fields set; the leaf hash is computed here); the log takes e's buffers. */
CTCA_RESULT tl_log_append_locked(tl_log *log, tl_entry *e);
/* tl_log_find_locked: with log->mu held, the index of the entry with identity. */
bool tl_log_find_locked(const tl_log *log, const uint8_t identity[TL_HASH_LEN], size_t *index);

/* ---- RFC 9162 (log_v2.c) ---------------------------------------------------- */

/* The error types of RFC 9162 5 and 5.1 ("urn:ietf:params:trans:error:" + name). */
typedef enum tl_problem {
    TL_PROBLEM_NONE = 0,
    TL_PROBLEM_MALFORMED,
    TL_PROBLEM_BAD_SUBMISSION,
    TL_PROBLEM_BAD_TYPE,
    TL_PROBLEM_BAD_CHAIN,
    TL_PROBLEM_BAD_CERTIFICATE,
    TL_PROBLEM_UNKNOWN_ANCHOR,
    TL_PROBLEM_SHUTDOWN,
    TL_PROBLEM_INTERNAL /* not an RFC 9162 type: the log itself failed (HTTP 500) */
} tl_problem;

/* tl_problem_name: "badSubmission", ...; "internal" for TL_PROBLEM_INTERNAL. */
const char *tl_problem_name(tl_problem p);

/* What submit-entry answers: serialized TransItems, malloc'd. */
typedef struct tl_v2_out {
    uint8_t *sct, *sth, *inclusion;
    size_t sct_len, sth_len, inclusion_len;
    bool duplicate;
} tl_v2_out;
void tl_v2_out_cleanup(tl_v2_out *o);

/* tl_log_submit_v2: RFC 9162 5.1 for a v2 log: submission is a certificate
 * (precert false) or a CMS precertificate, chain the CA certificates above it
 * (its certifier first; may be empty when an accepted root certified it).
 * Checks the chain (4.2.1), sequences the entry (or finds it) and returns its
 * SCT with an STH of the current tree and the entry's inclusion proof in it.
 * A refusal sets *problem and the reason in eb. */
CTCA_RESULT tl_log_submit_v2(tl_log *log, bool precert, ctca_view submission,
                             const ctca_view *chain, size_t n, tl_v2_out *out,
                             tl_problem *problem, ctca_errbuf *eb);
/* tl_log_sth_v2: a signed_tree_head_v2 TransItem of the current tree. */
CTCA_RESULT tl_log_sth_v2(tl_log *log, uint8_t **out, size_t *out_len);

/* ---- the HTTP front end ------------------------------------------------ */

typedef struct tl_faults {
    unsigned latency_ms;
    double fail_rate;
    uint64_t seed;
    bool hang;
    bool garbage;
    bool bad_signature;
    bool wrong_log_id;
    bool rate_limit;
    unsigned retry_after_s;
    bool shutdown; /* v2: refuse submissions with the "shutdown" error */
    unsigned fail_first; /* answer the first N submissions with 503 */
    bool huge_body;      /* answer submissions with a 200 body of TL_HUGE_BODY bytes */
} tl_faults;

#define TL_HUGE_BODY ((size_t)1024 * 1024)

typedef struct tl_server tl_server;

/* tl_server_start: serves log on addr (IPv4, port 0 = any free port);
 * *port_out gets the bound port. */
CTCA_RESULT tl_server_start(tl_log *log, const tl_faults *faults, const char *host,
                            uint16_t port, tl_server **out, uint16_t *port_out,
                            ctca_errbuf *eb);
/* tl_server_stop: wakes hanging and sleeping handlers, stops the daemon, frees. */
void tl_server_stop(tl_server *s);

#endif
