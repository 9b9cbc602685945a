/* core/x509/signer_int.h - keys and the one signer interface (signer.c).
 *
 * A ctca_signer holds a private key and signs with it, and never hands the
 * key out: what leaves it is signatures and the public half. The CA, its
 * PreCA and the OCSP responder each sign through one. The key sits behind a
 * table of operations (ctca_signer_ops): a PEM key file today, a PKCS#11 key
 * next, whose private half never enters this process.
 *
 * Internal on purpose: libctca has no public function that signs given
 * bytes. Certificates are signed by the issuance engine's steps, in order
 * (ctca/issue.h), which journal the TBS first.
 *
 * Threads: a signer is immutable once made; sign may be called from any
 * number of threads at once (each call builds its own OpenSSL context). */
#ifndef CTCA_CORE_SIGNER_INT_H
#define CTCA_CORE_SIGNER_INT_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "core/x509/x509_int.h"

/* What a kind of key does. impl is the kind's own state. */
typedef struct ctca_signer_ops {
    const char *kind; /* "file", ... */
    /* sign: the signature of msg with md: ECDSA as a DER Ecdsa-Sig-Value, RSA
     * as PKCS#1 v1.5. *sig malloc'd. */
    CTCA_RESULT (*sign)(void *impl, const EVP_MD *md, ctca_view msg, uint8_t **sig,
                        size_t *sig_len);
    void (*free)(void *impl);
} ctca_signer_ops;

typedef struct ctca_signer ctca_signer;

/* ctca_signer_new: a signer of kind ops over impl (taken: ops->free releases
 * it, also on failure) whose public key is pub (taken; a public-only key).
 * The signature algorithm follows from pub (ctca_key_sig_alg):
 * CTCA_ERR_KEY_UNSUPPORTED for a key ctca does not sign with. */
CTCA_RESULT ctca_signer_new(const ctca_signer_ops *ops, void *impl, EVP_PKEY *pub,
                            ctca_signer **out);
/* ctca_signer_from_key: a "file" signer over key (private; one reference
 * taken, the caller keeps its own). */
CTCA_RESULT ctca_signer_from_key(EVP_PKEY *key, ctca_signer **out);
/* ctca_signer_load_file: a "file" signer over the unencrypted PEM private key
 * at path; with strict, a file group or others can access is refused
 * (CTCA_ERR_KEY_PERMISSIONS). Errors name path in eb. */
CTCA_RESULT ctca_signer_load_file(const char *path, bool strict, ctca_signer **out,
                                  ctca_errbuf *eb);
/* ctca_key_file_load: the unencrypted PEM private key at path itself, with
 * ctca_signer_load_file's checks, for ctca init, which copies an imported
 * key into the CA directory. */
CTCA_RESULT ctca_key_file_load(const char *path, bool strict, EVP_PKEY **out, ctca_errbuf *eb);
/* ctca_signer_free: accepts NULL. */
void ctca_signer_free(ctca_signer *s);

/* ctca_signer_get0_public: the public key (no private half), borrowed. */
EVP_PKEY *ctca_signer_get0_public(const ctca_signer *s);
/* ctca_signer_get0_alg: the AlgorithmIdentifier DER it signs with, borrowed. */
ctca_view ctca_signer_get0_alg(const ctca_signer *s);
/* ctca_signer_get0_md: the digest of that algorithm. */
const EVP_MD *ctca_signer_get0_md(const ctca_signer *s);
/* ctca_signer_get0_kind: ops->kind. */
const char *ctca_signer_get0_kind(const ctca_signer *s);

/* ctca_signer_sign: s's signature of msg with its algorithm's digest,
 * verified with the public key before it is returned (a faulty signature,
 * e.g. an RSA-CRT fault, can leak the key). *sig malloc'd. */
CTCA_RESULT ctca_signer_sign(const ctca_signer *s, ctca_view msg, uint8_t **sig,
                             size_t *sig_len);
/* ctca_signer_sign_tbs: Certificate ::= SEQUENCE { tbs, signatureAlgorithm,
 * signature } of tbs signed by s; the TBS's signature field must equal s's
 * algorithm (RFC 5280 4.1.1.2; CTCA_ERR_SIG_ALG_MISMATCH). *cert malloc'd. */
CTCA_RESULT ctca_signer_sign_tbs(const ctca_signer *s, ctca_view tbs, uint8_t **cert,
                                 size_t *cert_len);

/* ---- public keys ---------------------------------------------------------- */

/* ctca_key_sig_alg: the AlgorithmIdentifier DER (into alg, >= 32 bytes) and
 * digest a key signs with: sha256WithRSAEncryption with NULL parameters for
 * RSA 2048..8192, ecdsa-with-SHA256 for P-256 and ecdsa-with-SHA384 for
 * P-384 (no parameters). CTCA_ERR_KEY_UNSUPPORTED for anything else. */
CTCA_RESULT ctca_key_sig_alg(EVP_PKEY *key, uint8_t alg[32], size_t *alg_len,
                             const EVP_MD **md);
/* ctca_key_spki: key's public half as a DER SubjectPublicKeyInfo; *out malloc'd. */
CTCA_RESULT ctca_key_spki(EVP_PKEY *key, uint8_t **out, size_t *out_len);
/* ctca_key_id: SHA-1 of the subjectPublicKey BIT STRING contents of spki
 * (RFC 5280 4.2.1.2 method (1)). */
CTCA_RESULT ctca_key_id(ctca_view spki, uint8_t out[20]);

#endif
