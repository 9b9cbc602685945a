/* core/ca/ca_int.h - internals shared by the CA building blocks (ca.c,
 * preca.c, config.c, profile.c, tbs.c), the layers above and tests. Only
 * this folder reads struct ctca_ca's fields. Not a public header. */
#ifndef CTCA_CORE_CA_INT_H
#define CTCA_CORE_CA_INT_H

#include <openssl/evp.h>

#include "core/x509/csr_int.h"
#include "core/x509/signer_int.h"
#include "core/x509/x509_int.h"
#include "ctca/ca.h"

/* ---- config ------------------------------------------------------------- */

/* The CA directory's own paths as written in ctca.json (relative to the CA
 * directory unless absolute), borrowed from cfg. */
const char *ctca_config_get0_ca_cert(const ctca_config *cfg);
const char *ctca_config_get0_ca_key(const ctca_config *cfg);
const char *ctca_config_get0_store(const ctca_config *cfg);
/* The PreCA's files ("preca_cert", "preca_key"; both or neither), or NULL. */
const char *ctca_config_get0_preca_cert(const ctca_config *cfg);
const char *ctca_config_get0_preca_key(const ctca_config *cfg);

/* ctca_config_default_json: the ctca.json ctca init writes (pretty JSON):
 * default paths and CT settings, log_list (NULL: null), preca_cert and
 * preca_key when preca, and the tls-server and tls-client profiles. *out
 * malloc'd, caller frees. */
CTCA_RESULT ctca_config_default_json(const char *log_list, bool preca, char **out);

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

/* ---- signing with the CA's keys ------------------------------------------- */

/* ctca_ca_sign_tbs: tbs signed by the CA's signer (ctca_signer_sign_tbs).
 * Internal: only the issuance engine's steps sign what they journaled
 * (ctca/issue.h); tests use it to make certificates. Thread-safe. */
CTCA_RESULT ctca_ca_sign_tbs(const ctca_ca *ca, ctca_view tbs, uint8_t **cert, size_t *cert_len);
/* ctca_ca_sign_cms_precert: the CMS precertificate over tbs signed by the CA
 * (ctca_cms_precert_build with the CA's key ID); internal as
 * ctca_ca_sign_tbs is. */
CTCA_RESULT ctca_ca_sign_cms_precert(const ctca_ca *ca, ctca_view tbs, uint8_t **out,
                                     size_t *out_len);
/* ctca_ca_check_cms_signer: whether the CA can sign CMS precertificates
 * (ctca_cms_precert_check_signer). */
CTCA_RESULT ctca_ca_check_cms_signer(const ctca_ca *ca);
/* ctca_ca_get0_signer: the CA key's signer, borrowed. */
const ctca_signer *ctca_ca_get0_signer(const ctca_ca *ca);

/* ---- certificates (tbs.c, ca.c) ------------------------------------------------ */

#define CTCA_KEY_ID_MAX 64 /* a subjectKeyIdentifier we keep */

/* ctca_tbs_add_key_usage: a critical keyUsage Extension with the RFC 5280
 * 4.2.1.3 bits set in bits (bit i = 1u << i, i <= 8), in DER named-bit form. */
void ctca_tbs_add_key_usage(ctca_builder *b, unsigned bits);
/* ctca_tbs_add_ski: a subjectKeyIdentifier Extension holding id. */
void ctca_tbs_add_ski(ctca_builder *b, const uint8_t id[20]);

/* ctca_ca_build_root: a self-signed v3 root TBS for key with subject (DER
 * Name), the serial, validity [now, now+days*86400-1], and basicConstraints
 * CA:TRUE (critical), keyUsage keyCertSign+cRLSign (critical) and SKI, signed.
 * *cert malloc'd. */
CTCA_RESULT ctca_ca_build_root(const ctca_signer *signer, ctca_view subject, const uint8_t *serial,
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
    uint8_t key_id[CTCA_KEY_ID_MAX]; /* the CA's SKI, or computed; for the AKI */
    size_t key_id_len;
    uint8_t issuer_key_hash[32];  /* SHA-256 of the SPKI */
    int64_t not_before, not_after; /* the CA certificate's validity, seconds */
    ctca_signer *signer;          /* the CA key */
    ctca_policy policy;           /* what issuance must meet (ct.policy) */
    /* The PreCA (ctca_preca_open); preca_cert NULL when none. */
    uint8_t *preca_cert;
    size_t preca_cert_len;
    ctca_tbs_fields preca_tbs;    /* borrowed from preca_cert */
    ctca_view preca_aki;          /* its AKI Extension element, borrowed */
    uint8_t preca_key_id[CTCA_KEY_ID_MAX]; /* its SKI, or computed; the precertificates' AKI */
    size_t preca_key_id_len;
    int64_t preca_not_before, preca_not_after;
    ctca_signer *preca_signer;    /* the PreCA's key, signing with the CA's algorithm */
};

/* ctca_tbs_key_id: the subjectKeyIdentifier of a certificate's TBS, or its key
 * ID computed as ctca_key_id does when it has none: what an AKI names it by. */
CTCA_RESULT ctca_tbs_key_id(const ctca_tbs_fields *tbs, uint8_t out[CTCA_KEY_ID_MAX],
                            size_t *out_len);

/* ---- the PreCA (preca.c) ----------------------------------------------------- */

/* ctca_preca_make: a new PreCA key of ca_key's type (same curve, same RSA size)
 * and its certificate, signed by ca_key for the CA certificate ca_cert: serial
 * from rand, validity from now to the CA's notAfter, subject the CA's with its
 * commonName followed by " Precertificate Signing" (an organizationalUnitName
 * "Precertificate Signing" appended when that does not fit or the CA has no
 * CN), basicConstraints CA:TRUE pathLen 0 and keyUsage keyCertSign (both
 * critical), extKeyUsage exactly 1.3.6.1.4.1.11129.2.4.4, SKI, and AKI = the
 * CA's key ID. *cert malloc'd; caller frees it and *key. */
CTCA_RESULT ctca_preca_make(const ctca_signer *ca_signer, ctca_view ca_cert, int64_t now, ctca_rand_fn rand,
                            void *rand_ctx, EVP_PKEY **key, uint8_t **cert, size_t *cert_len,
                            ctca_errbuf *eb);

/* ctca_preca_open: loads and checks ca's PreCA (cert_path, key_path; ca's own
 * certificate and key loaded): directly issued by the CA (its issuer is the
 * CA's subject byte for byte, the CA key verifies its signature, its AKI key
 * ID is the CA's), CA:TRUE, keyUsage (when present) with keyCertSign, the CT
 * EKU as its only EKU, a subject other than the CA's, its key (mode 0600) its
 * public key and signing with the CA's AlgorithmIdentifier (RFC 6962 3.2: the
 * precertificate and the final certificate share it). CTCA_ERR_PRECA naming
 * the file and the reason otherwise. */
CTCA_RESULT ctca_preca_open(ctca_ca *ca, const char *cert_path, const char *key_path,
                            ctca_errbuf *eb);

/* ctca_tbs_to_preca: tbs, a precertificate TBS built for ca
 * (ctca_tbs_build_precert), as ca's PreCA issues it: issuer = the PreCA's
 * subject, AKI keyIdentifier = the PreCA's key ID. CTCA_ERR_PRECA when ca
 * has no PreCA or tbs's validity falls outside the PreCA's. *out malloc'd. */
CTCA_RESULT ctca_tbs_to_preca(const ctca_ca *ca, ctca_view tbs, uint8_t **out, size_t *out_len,
                              ctca_errbuf *eb);
/* ctca_tbs_from_preca: the inverse, as logs rewrite it (RFC 6962 3.2) but
 * keeping the poison: issuer = the CA's subject, AKI = the PreCA's own AKI
 * extension. The final TBS is made from it. *out malloc'd. */
CTCA_RESULT ctca_tbs_from_preca(const ctca_ca *ca, ctca_view tbs, uint8_t **out,
                                size_t *out_len);
/* ctca_preca_sign_tbs: ctca_ca_sign_tbs with the PreCA's key; tbs's issuer
 * must be the PreCA's subject (CTCA_ERR_ISSUER_MISMATCH). Thread-safe. */
CTCA_RESULT ctca_preca_sign_tbs(const ctca_ca *ca, ctca_view tbs, uint8_t **cert,
                                size_t *cert_len);

#endif
