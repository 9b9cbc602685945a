/* core/ca_int.h - internals shared by the CA building blocks (ca.c, config.c,
 * csr.c, signer.c, tbs.c, profile.c) and their tests. Not a public header. */
#ifndef CTCA_CORE_CA_INT_H
#define CTCA_CORE_CA_INT_H

#include <openssl/evp.h>

#include "core/x509_int.h"
#include "ctca/ca.h"

/* ---- config ------------------------------------------------------------- */

/* The CA directory's own paths as written in ctca.json (relative to the CA
 * directory unless absolute), borrowed from cfg. */
const char *ctca_config_get0_ca_cert(const ctca_config *cfg);
const char *ctca_config_get0_ca_key(const ctca_config *cfg);
const char *ctca_config_get0_store(const ctca_config *cfg);

/* ctca_config_default_json: the ctca.json ctca init writes (pretty JSON):
 * default paths and CT settings, log_list (NULL: null), and the tls-server and
 * tls-client profiles. *out malloc'd, caller frees. */
CTCA_RESULT ctca_config_default_json(const char *log_list, char **out);

/* ctca_oid_from_dotted: encodes "1.2.840.113549" into out (contents octets);
 * false when s is not a well-formed dotted OID or does not fit. */
bool ctca_oid_from_dotted(const char *s, ctca_oid *out);

/* ---- profile checks (profile.c) ------------------------------------------- */

/* ctca_dns_name_check: NULL when name (len bytes) is a valid DNS SAN: LDH labels
 * of 1..63 octets, 253 octets in all, no empty label, no trailing dot, no label
 * starting or ending with '-', and at most one wildcard, as the whole leftmost
 * label of a name with at least two more labels. Else a static reason. */
const char *ctca_dns_name_check(const uint8_t *name, size_t len);
/* ctca_email_check / ctca_uri_check: same convention for rfc822Name and URI. */
const char *ctca_email_check(const uint8_t *s, size_t len);
const char *ctca_uri_check(const uint8_t *s, size_t len);
/* ctca_san_describe: "DNS:example.com", "IP:192.0.2.1", ... into buf. */
void ctca_san_describe(const ctca_san *san, char *buf, size_t buf_len);

/* ---- names ---------------------------------------------------------------- */

/* ctca_name_from_string: the DER Name of an RFC 4514 string ("CN=Example
 * CA,O=Example": RDNs listed last-to-first; attributes CN O OU C L ST, one per
 * RDN; '\' escapes the next character). CTCA_ERR_USAGE with the reason in eb. */
CTCA_RESULT ctca_name_from_string(const char *s, uint8_t **out, size_t *out_len,
                                  ctca_errbuf *eb);

/* ---- keys and signatures (signer.c) --------------------------------------- */

/* ctca_key_sig_alg: the AlgorithmIdentifier DER (into alg, >= 32 bytes) and
 * digest a CA key signs with: sha256WithRSAEncryption with NULL parameters for
 * RSA >= 2048, ecdsa-with-SHA256 for P-256 and ecdsa-with-SHA384 for P-384 (no
 * parameters). CTCA_ERR_KEY_UNSUPPORTED for anything else. */
CTCA_RESULT ctca_key_sig_alg(EVP_PKEY *key, uint8_t alg[32], size_t *alg_len,
                             const EVP_MD **md);
/* ctca_sign_tbs_with: the Certificate of tbs signed by key with (alg, md); the
 * TBS's signature field must equal alg; the signature is verified before the
 * certificate is returned. *cert malloc'd. */
CTCA_RESULT ctca_sign_tbs_with(EVP_PKEY *key, const EVP_MD *md, ctca_view alg, ctca_view tbs,
                               uint8_t **cert, size_t *cert_len);
/* ctca_sign_bytes_with: key's signature of data with md (ECDSA as DER
 * Ecdsa-Sig-Value, RSA as PKCS#1 v1.5), verified before it is returned. *sig
 * malloc'd, caller frees. */
CTCA_RESULT ctca_sign_bytes_with(EVP_PKEY *key, const EVP_MD *md, ctca_view data, uint8_t **sig,
                                 size_t *sig_len);
/* ctca_ca_sign_bytes: ctca_sign_bytes_with the CA key and its digest. Internal
 * on purpose: a public "sign anything with the CA key" would let a caller sign
 * a TBS that was never journaled; core signs only structures it built (the CMS
 * precertificate's signed attributes). Thread-safe. */
CTCA_RESULT ctca_ca_sign_bytes(const ctca_ca *ca, ctca_view data, uint8_t **sig, size_t *sig_len);
/* ctca_key_id: SHA-1 of the subjectPublicKey BIT STRING contents of spki
 * (RFC 5280 4.2.1.2 method (1)). */
CTCA_RESULT ctca_key_id(ctca_view spki, uint8_t out[20]);

/* ---- certificates (tbs.c, ca.c) ------------------------------------------------ */

/* ctca_tbs_add_key_usage: a critical keyUsage Extension with the RFC 5280
 * 4.2.1.3 bits set in bits (bit i = 1u << i, i <= 8), in DER named-bit form. */
void ctca_tbs_add_key_usage(ctca_builder *b, unsigned bits);
/* ctca_tbs_add_ski: a subjectKeyIdentifier Extension holding id. */
void ctca_tbs_add_ski(ctca_builder *b, const uint8_t id[20]);

/* ctca_ca_build_root: a self-signed v3 root TBS for key with subject (DER
 * Name), the serial, validity [now, now+days*86400-1], and basicConstraints
 * CA:TRUE (critical), keyUsage keyCertSign+cRLSign (critical) and SKI, signed.
 * *cert malloc'd. */
CTCA_RESULT ctca_ca_build_root(EVP_PKEY *key, ctca_view subject, const uint8_t *serial,
                               size_t serial_len, int64_t now, unsigned days, uint8_t **cert,
                               size_t *cert_len);

/* ---- the CA certificate chain (ca.pem) ------------------------------------- */

/* The certificates of ca.pem in file order: the CA certificate, then its
 * issuers, leaf-most first. Zero-initialize; ctca_ca_chain_cleanup releases. */
typedef struct ctca_ca_chain {
    uint8_t *der[CTCA_CA_MAX_CHAIN];
    size_t len[CTCA_CA_MAX_CHAIN];
    size_t n;
} ctca_ca_chain;

/* ctca_ca_chain_load: reads path into chain (zeroed) and checks it. The file is
 * one DER certificate, or PEM whose blocks are all "CERTIFICATE" (text between
 * blocks is ignored), 1..CTCA_CA_MAX_CHAIN of them. Certificate 1 must be a
 * CA:TRUE certificate for key (the errors of a single imported CA: CONFIG,
 * CERT_MALFORMED, KEY_UNSUPPORTED); each later one must be a CA certificate
 * whose subject equals the previous one's issuer and whose key verifies the
 * previous one's signature, else CTCA_ERR_CONFIG naming path and the 1-based
 * position. On failure chain may hold part of the file: the caller still runs
 * ctca_ca_chain_cleanup. */
CTCA_RESULT ctca_ca_chain_load(const char *path, EVP_PKEY *key, ctca_ca_chain *chain,
                               ctca_errbuf *eb);
/* ctca_ca_chain_to_pem: every certificate of chain as PEM blocks, in order;
 * *out malloc'd, NUL-terminated, caller frees. */
CTCA_RESULT ctca_ca_chain_to_pem(const ctca_ca_chain *chain, char **out);
/* ctca_ca_chain_cleanup: frees the certificates and zeroes chain. */
void ctca_ca_chain_cleanup(ctca_ca_chain *chain);

/* ---- the CA handle -------------------------------------------------------- */

struct ctca_ca {
    char *dir;
    char *store_path;
    char *log_list_path;
    ctca_config *cfg;
    ctca_ca_chain chain;          /* ca.pem: chain.der[0] is the CA certificate */
    const uint8_t *cert;          /* borrowed: chain.der[0] */
    size_t cert_len;
    ctca_tbs_fields tbs;          /* borrowed from cert */
    uint8_t key_id[64];           /* the CA's SKI, or computed; for the AKI */
    size_t key_id_len;
    uint8_t issuer_key_hash[32];  /* SHA-256 of the SPKI */
    int64_t not_before, not_after; /* the CA certificate's validity, seconds */
    uint8_t sig_alg[32];
    size_t sig_alg_len;
    const EVP_MD *md;
    EVP_PKEY *key;
    ctca_policy policy;           /* what issuance must meet (ct.policy) */
};

/* ---- CSR ------------------------------------------------------------------- */

struct ctca_csr {
    uint8_t *der;
    size_t der_len;
    ctca_view spki;  /* borrowed from der */
    uint8_t digest[32];
    ctca_san *sans;
    size_t san_count;
    char *cn;        /* UTF-8, or NULL */
    bool cn_multiple;
    bool key_is_rsa;
};

#endif
