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
#include "tests/testlog/merkle.h"

#define TL_MAX_BODY ((size_t)1024 * 1024) /* request body cap */
#define TL_MAX_CHAIN 16                   /* certificates per submitted chain */
#define TL_MAX_ENTRIES_PER_GET 256        /* get-entries range cap */

/* Options that shape SCTs (the HTTP-level faults live in tl_server). */
typedef struct tl_sct_opts {
    int64_t time_offset_ms; /* --sct-time-offset-ms */
    bool fixed_time;        /* --fixed-time-ms: the log's clock is pinned */
    int64_t fixed_time_ms;
    bool static_ct;         /* --static-ct: leaf_index extension */
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

    X509 **roots; /* accepted roots (owned); none = accept any verifying chain */
    uint8_t **root_der;
    size_t *root_der_len;
    size_t n_roots;

    tl_sct_opts sct;

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

/* tl_log_init: loads the private key at key_path (ECDSA P-256 or RSA >= 2048)
 * and, when roots_path is not NULL, the accepted roots. Errors in eb. */
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
} tl_faults;

typedef struct tl_server tl_server;

/* tl_server_start: serves log on addr (IPv4, port 0 = any free port);
 * *port_out gets the bound port. */
CTCA_RESULT tl_server_start(tl_log *log, const tl_faults *faults, const char *host,
                            uint16_t port, tl_server **out, uint16_t *port_out,
                            ctca_errbuf *eb);
/* tl_server_stop: wakes hanging and sleeping handlers, stops the daemon, frees. */
void tl_server_stop(tl_server *s);

#endif
