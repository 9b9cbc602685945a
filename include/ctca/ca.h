/* ctca/ca.h - the CA building blocks the issuance pipeline is assembled from:
 * the CA directory (init and open), its configuration and profiles, CSRs,
 * serials and TBSCertificate building. Signing is not here: the issuance
 * engine signs what it journaled (ctca/issue.h).
 *
 * Every TBSCertificate is built with ctca_builder so its bytes are fully
 * determined (and can be journaled) before anything is signed; OpenSSL is used
 * to parse and verify CSRs, to generate keys and to sign.
 *
 * Time and randomness are injected: builders take `now` in seconds since the
 * epoch, serials take a ctca_rand_fn (NULL means OpenSSL's RAND_bytes).
 *
 * Threads: a ctca_ca is immutable once opened. Every accessor, and the
 * engine's signing through the CA's signers, may run on several threads on
 * one ctca_ca at once. ctca_ca_free must not race with them. */
#ifndef CTCA_CA_H
#define CTCA_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"
#include "ctca/policy.h"

/* ---- randomness ------------------------------------------------------------ */

/* A source of random bytes: fills buf[0..n) and returns 1, or returns 0 on
 * failure. NULL wherever one is taken means OpenSSL's RAND_bytes. */
typedef int (*ctca_rand_fn)(void *ctx, uint8_t *buf, size_t n);

/* ---- configuration and profiles (ctca.json) ----------------------------- */

/* The file names ctca init writes inside the CA directory. */
#define CTCA_CA_CONFIG_FILE "ctca.json"
#define CTCA_CA_KEY_FILE "ca.key"
#define CTCA_CA_CERT_FILE "ca.pem"
#define CTCA_CA_STORE_FILE "ctca.db"
/* What ctca init --preca writes: the Precertificate Signing Certificate and its key. */
#define CTCA_CA_PRECA_CERT_FILE "preca.pem"
#define CTCA_CA_PRECA_KEY_FILE "preca.key"

#define CTCA_CONFIG_MAX_BYTES ((size_t)1024 * 1024)
#define CTCA_CONFIG_MAX_PROFILES 64
#define CTCA_PROFILE_NAME_MAX 64
#define CTCA_PROFILE_MAX_OIDS 16  /* per ext_key_usage and policy_oids */
#define CTCA_PROFILE_MAX_URL 1024
#define CTCA_PROFILE_MAX_VALIDITY_DAYS 3650

/* What issuance does when the logs have not given SCTs meeting the CT policy
 * by the deadline ("ct.fallback", DESIGN.md step 5). */
typedef enum ctca_fallback {
    CTCA_FALLBACK_CONFIG = 0,  /* in a request: use the CA's ct.fallback */
    CTCA_FALLBACK_DEFER,       /* "defer" (default): the record waits in the store and
                                * the queue collects SCTs from the logs still needed */
    CTCA_FALLBACK_FAIL,        /* "fail": the record is marked failed */
    CTCA_FALLBACK_UNEMBEDDED   /* "unembedded": the certificate is issued now without
                                * SCTs and the queue logs it with add-chain */
} ctca_fallback;

/* ctca_fallback_parse: "defer", "fail" or "unembedded". */
CTCA_RESULT ctca_fallback_parse(const char *s, ctca_fallback *out);
/* ctca_fallback_name: the name ctca_fallback_parse takes ("config" for
 * CTCA_FALLBACK_CONFIG); static, never NULL. */
const char *ctca_fallback_name(ctca_fallback f);

/* CT settings ("ct" object; every key optional, defaults shown). */
typedef struct ctca_ct_settings {
    uint32_t log_timeout_ms; /* 10000: one log's submission */
    uint32_t deadline_ms;    /* 20000: the whole SCT collection */
    unsigned min_scts;       /* 2 */
    unsigned min_operators;  /* 2: distinct log operators among the SCTs */
    /* "chrome", "apple" or a custom policy file (ctca/policy.h), relative to the
     * CA directory; NULL: min_scts SCTs of min_operators operators, from usable,
     * qualified or readonly logs. Exclusive with min_scts/min_operators. */
    char *policy;
    /* false: logs of log_type "test" or "monitoring_only" are never submitted to;
     * true for private PKIs whose own logs are typed so. */
    bool allow_test_logs;
    ctca_fallback fallback;  /* "defer" */
} ctca_ct_settings;

/* The queue of log submissions ("queue" object; every key optional, defaults
 * shown; times in ms). */
typedef struct ctca_queue_settings {
    unsigned max_attempts;        /* 10: failed attempts before an item is parked */
    uint32_t backoff_base_ms;     /* 1000: delay after a first failure, doubling */
    uint32_t backoff_max_ms;      /* 3600000: the delay's cap */
    unsigned breaker_failures;    /* 5: consecutive failures that open a log's breaker */
    uint32_t breaker_cooldown_ms; /* 60000: how long it stays open */
    uint32_t lease_ms;            /* 120000: how long a worker holds an item */
    uint32_t recover_after_ms;    /* 300000: an issuance left unfinished this long is
                                   * taken over by the queue or a ctca batch re-run,
                                   * unless its owner runs on this host (one
                                   * provably dead is taken at once) */
    unsigned batch;               /* 64: items leased at once */
} ctca_queue_settings;

/* The OCSP responder ("ocsp" object; every key optional). */
typedef struct ctca_ocsp_settings {
    uint32_t validity_hours; /* 96: nextUpdate - thisUpdate, 8..240 (CA/B BR 4.9.10) */
    /* A delegated responder (RFC 6960 4.2.2.2): its certificate (PEM, issued by
     * the CA with the id-kp-OCSPSigning EKU) and key (PEM, mode 0600), relative
     * to the CA directory; both NULL: the CA key signs responses. */
    char *responder_cert;
    char *responder_key;
} ctca_ocsp_settings;

/* Key usage bits allowed in an end-entity profile (RFC 5280 4.2.1.3 bit numbers). */
enum {
    CTCA_KU_DIGITAL_SIGNATURE = 1u << 0,
    CTCA_KU_CONTENT_COMMITMENT = 1u << 1,
    CTCA_KU_KEY_ENCIPHERMENT = 1u << 2, /* applied only when the subject key is RSA */
    CTCA_KU_DATA_ENCIPHERMENT = 1u << 3,
    CTCA_KU_KEY_AGREEMENT = 1u << 4
};

/* SAN types ("dns", "ip", "email", "uri" in allowed_san_types). */
enum { CTCA_SAN_DNS = 1u << 0, CTCA_SAN_IP = 1u << 1, CTCA_SAN_EMAIL = 1u << 2, CTCA_SAN_URI = 1u << 3 };

/* How the issued certificate's subject is formed ("subject" field). A CSR's
 * subject attributes are never copied beyond what the mode names. */
typedef enum ctca_subject_mode {
    CTCA_SUBJECT_EMPTY = 0,    /* "empty": no subject; the SAN extension is then critical */
    CTCA_SUBJECT_CN_FIRST_DNS, /* "cn_first_dns": CN = the first DNS SAN when it fits
                                * ub-common-name (64), else empty */
    CTCA_SUBJECT_CN_FROM_CSR   /* "cn_from_csr": the CSR's CN (UTF8String) if any, else empty */
} ctca_subject_mode;

/* An encoded OBJECT IDENTIFIER (contents octets only). */
typedef struct ctca_oid {
    uint8_t der[32];
    size_t len;
} ctca_oid;

/* A certificate profile, read-only, owned by its ctca_config. */
typedef struct ctca_profile {
    const char *name;
    unsigned validity_days;       /* notAfter = notBefore + days*86400 - 1 */
    unsigned key_usage;           /* CTCA_KU_* bits, non-zero */
    ctca_oid eku[CTCA_PROFILE_MAX_OIDS];
    size_t eku_count;             /* >= 1 */
    unsigned allowed_san_types;   /* CTCA_SAN_* bits, non-zero; >= 1 SAN always required */
    ctca_subject_mode subject;
    const char *ocsp_url;         /* AIA id-ad-ocsp, or NULL */
    const char *ca_issuers_url;   /* AIA id-ad-caIssuers, or NULL */
    const char *crl_url;          /* CRL distribution point, or NULL */
    ctca_oid policies[CTCA_PROFILE_MAX_OIDS];
    size_t policy_count;          /* certificatePolicies omitted when 0 */
    unsigned ct_version;          /* "ct_version": 1 (RFC 6962, default) or 2 (RFC 9162) */
    bool preca;                   /* "preca" (default true): precertificates are signed by
                                   * the CA's PreCA when it has one (ctca_ca_get0_preca_cert) */
} ctca_profile;

typedef struct ctca_config ctca_config;

/* ctca_config_parse: parses ctca.json text strictly (JSON with no trailing
 * bytes, no duplicate keys, no unknown keys, exact types and ranges). Errors are
 * CTCA_ERR_CONFIG (CTCA_ERR_JSON for bad JSON syntax) with the field path in eb,
 * e.g. "profiles.tls-server.validity_days: expected an integer in 1..3650".
 * Caller owns *out (ctca_config_free); *out is NULL on failure. */
CTCA_RESULT ctca_config_parse(const char *json, size_t len, ctca_config **out, ctca_errbuf *eb);
/* ctca_config_load: ctca_config_parse of the file at path (at most
 * CTCA_CONFIG_MAX_BYTES); errors name the file. */
CTCA_RESULT ctca_config_load(const char *path, ctca_config **out, ctca_errbuf *eb);
/* ctca_config_free: accepts NULL. */
void ctca_config_free(ctca_config *cfg);
/* ctca_config_get0_ct: the CT settings, borrowed from cfg. */
const ctca_ct_settings *ctca_config_get0_ct(const ctca_config *cfg);
/* ctca_config_get0_queue: the queue settings, borrowed from cfg. */
const ctca_queue_settings *ctca_config_get0_queue(const ctca_config *cfg);
/* ctca_config_get0_ocsp: the OCSP responder settings, borrowed from cfg. */
const ctca_ocsp_settings *ctca_config_get0_ocsp(const ctca_config *cfg);
/* ctca_config_get0_log_list: the "log_list" path as written (NULL when null),
 * borrowed; ctca_ca_get0_log_list_path resolves it against the CA directory. */
const char *ctca_config_get0_log_list(const ctca_config *cfg);
/* ctca_config_get0_profile: the profile called name, borrowed; NULL when none. */
const ctca_profile *ctca_config_get0_profile(const ctca_config *cfg, const char *name);
/* ctca_config_profile_count / ctca_config_get0_profile_at: profiles in file order. */
size_t ctca_config_profile_count(const ctca_config *cfg);
const ctca_profile *ctca_config_get0_profile_at(const ctca_config *cfg, size_t i);

/* ---- CSRs -------------------------------------------------------------- */

#define CTCA_CSR_MAX_SANS 100
#define CTCA_SAN_MAX_LEN 253 /* DNS names; emails and URIs are capped at 1024 */

typedef struct ctca_san {
    unsigned type;       /* one CTCA_SAN_* */
    uint8_t *value;      /* DNS/email/URI: the IA5String bytes (NUL-terminated
                          * for convenience, NUL not counted); IP: 4 or 16 octets */
    size_t len;
} ctca_san;

typedef struct ctca_csr ctca_csr;

/* ctca_csr_parse: a PKCS#10 request from its DER. Refuses (CTCA_ERR_CSR_MALFORMED)
 * anything OpenSSL or ctca's strict DER reader rejects, including trailing bytes
 * and SAN types outside DNS/IP/email/URI; refuses (CTCA_ERR_CSR_KEY) keys other
 * than RSA 2048..8192 bits (multiple of 8, odd exponent >= 3) and ECDSA
 * P-256/P-384, with what the key is in eb; refuses (CTCA_ERR_CSR_SIGNATURE) a
 * self-signature that does not verify or is not PKCS#1 v1.5 or ECDSA with
 * SHA-256, SHA-384 or SHA-512. Only the SPKI, the extensionRequest's
 * subjectAltName and the subject CN are taken from the CSR; other requested
 * extensions are ignored. Caller owns *out (ctca_csr_free). */
CTCA_RESULT ctca_csr_parse(ctca_view der, ctca_csr **out, ctca_errbuf *eb);
/* ctca_csr_load: reads a PEM ("CERTIFICATE REQUEST") or DER file and parses it. */
CTCA_RESULT ctca_csr_load(const char *path, ctca_csr **out, ctca_errbuf *eb);
/* ctca_csr_free: accepts NULL. */
void ctca_csr_free(ctca_csr *csr);
/* ctca_csr_get0_spki: the CSR's SubjectPublicKeyInfo bytes verbatim, borrowed. */
ctca_view ctca_csr_get0_spki(const ctca_csr *csr);
/* ctca_csr_get0_digest: SHA-256 of the CSR's DER (32 bytes), borrowed. */
const uint8_t *ctca_csr_get0_digest(const ctca_csr *csr);
/* ctca_csr_san_count / ctca_csr_get0_san: the requested SANs in CSR order. */
size_t ctca_csr_san_count(const ctca_csr *csr);
const ctca_san *ctca_csr_get0_san(const ctca_csr *csr, size_t i);
/* ctca_csr_get0_cn: the subject's commonName as UTF-8, borrowed; NULL when absent. */
const char *ctca_csr_get0_cn(const ctca_csr *csr);
/* ctca_csr_key_is_rsa: true for an RSA subject key (keyEncipherment applies). */
bool ctca_csr_key_is_rsa(const ctca_csr *csr);
/* ctca_csr_check_profile: CTCA_ERR_PROFILE (the offending SAN and the reason in
 * eb) when csr has no SAN, a SAN type profile does not allow, a malformed DNS
 * name, email or URI, a duplicate SAN, or a CN the subject mode cannot use. */
CTCA_RESULT ctca_csr_check_profile(const ctca_csr *csr, const ctca_profile *profile,
                                   ctca_errbuf *eb);

/* ---- serials ------------------------------------------------------------- */

#define CTCA_SERIAL_LEN 16

/* ctca_serial_generate: 16 random bytes from rand (NULL: RAND_bytes) with the
 * top bit cleared, so the DER INTEGER is positive and carries 127 random bits
 * (CA/B BR 7.1 asks >= 64); an all-zero draw is redrawn. */
CTCA_RESULT ctca_serial_generate(ctca_rand_fn rand, void *rand_ctx,
                                 uint8_t serial[CTCA_SERIAL_LEN]);
/* ctca_serial_to_hex: lower-case hex of the minimal magnitude (the store's
 * serial form, ctca/store.h) into buf (>= 2*len+1 bytes). */
CTCA_RESULT ctca_serial_to_hex(const uint8_t *serial, size_t len, char *buf, size_t buf_len);

/* ---- the CA --------------------------------------------------------------- */

typedef struct ctca_ca ctca_ca;

/* Certificates ca.pem may hold: the CA certificate and its issuers. */
#define CTCA_CA_MAX_CHAIN 8

typedef enum ctca_key_type {
    CTCA_KEY_EC_P256 = 0,
    CTCA_KEY_EC_P384,
    CTCA_KEY_RSA_2048,
    CTCA_KEY_RSA_3072
} ctca_key_type;

/* ctca_key_type_parse: "rsa-2048", "rsa-3072", "ec-p256", "ec-p384". */
CTCA_RESULT ctca_key_type_parse(const char *s, ctca_key_type *out);

typedef struct ctca_init_params {
    const char *dir;             /* created (0700) unless it exists and is empty */
    ctca_key_type key_type;      /* new root only */
    const char *subject;         /* new root: RFC 4514 string, e.g. "CN=Example CA,O=Example"
                                  * (attributes CN O OU C L ST; written last-to-first as
                                  * RFC 4514 says); NULL: "CN=ctca Root CA" */
    unsigned validity_days;      /* new root; 0: 3650 */
    const char *import_cert;     /* both or neither: an existing CA to use (DER, or PEM:
                                  * the CA certificate, then optionally its issuers) */
    const char *import_key;
    const char *log_list;        /* recorded as an absolute path; NULL: null */
    int64_t now;                 /* seconds since the epoch: the root's notBefore */
    ctca_rand_fn rand;           /* root serial; NULL: RAND_bytes */
    void *rand_ctx;
    bool preca;                  /* also make a Precertificate Signing Certificate
                                  * (RFC 6962 3.1) and its key, named in ctca.json */
} ctca_init_params;

/* ctca_ca_init: creates a CA directory: ca.key (PKCS#8 PEM, mode 0600), ca.pem
 * (a new self-signed v3 root, or the imported CA certificate, which must be a
 * CA:TRUE certificate matching the imported key, followed by its issuers when
 * import_cert is such a bundle; ctca_ca_open's checks apply), and ctca.json (default CT
 * settings and the tls-server and tls-client profiles), with preca also
 * preca.key (0600) and preca.pem (ctca.json names them; see the PreCA section
 * below), and the store ctca.db
 * (created with ctca_store_open). A non-empty existing dir is refused with
 * CTCA_ERR_IO. On failure the files (and the directory) it created are
 * removed. */
CTCA_RESULT ctca_ca_init(const ctca_init_params *params, ctca_errbuf *eb);

/* ctca_ca_open: loads the CA in dir: its config, certificate chain and key. A
 * key file readable by group or others is refused with
 * CTCA_ERR_KEY_PERMISSIONS; a key that does not match the certificate with
 * CTCA_ERR_CONFIG. ca.pem holds the CA certificate, optionally followed by its
 * issuers leaf-most first (a PEM bundle of at most CTCA_CA_MAX_CHAIN
 * certificates and nothing else): each issuer's subject must be the previous
 * certificate's issuer name and its key must verify that certificate's
 * signature, else CTCA_ERR_CONFIG naming the file and the position. A PreCA
 * named in ctca.json that this CA may not use is refused with CTCA_ERR_PRECA
 * naming the file and the reason (see the PreCA section below). Caller owns
 * *out (ctca_ca_free). */
CTCA_RESULT ctca_ca_open(const char *dir, ctca_ca **out, ctca_errbuf *eb);
/* ctca_ca_free: accepts NULL. */
void ctca_ca_free(ctca_ca *ca);

/* Accessors; everything returned is borrowed from ca and lives as long as it. */
ctca_view ctca_ca_get0_cert(const ctca_ca *ca);          /* CA certificate DER */
/* ctca_ca_chain_len: how many certificates ca.pem holds (1..CTCA_CA_MAX_CHAIN):
 * the CA certificate, then its issuers as ctca_ca_open checked them. */
size_t ctca_ca_chain_len(const ctca_ca *ca);
/* ctca_ca_get0_chain_cert: certificate i of ca.pem as DER, borrowed from ca;
 * i = 0 is the CA certificate itself (ctca_ca_get0_cert), i = 1 its issuer,
 * and so on. An empty view when i >= ctca_ca_chain_len(ca). ctca_issue
 * submits the precertificate followed by exactly these certificates (RFC 6962
 * 4.2), the self-signed root included when ca.pem holds it: logs accept a
 * chain with or without the root, and sending what ca.pem holds keeps the
 * choice with whoever wrote it. */
ctca_view ctca_ca_get0_chain_cert(const ctca_ca *ca, size_t i);
ctca_view ctca_ca_get0_subject(const ctca_ca *ca);       /* its subject Name DER */
ctca_view ctca_ca_get0_spki(const ctca_ca *ca);          /* its SubjectPublicKeyInfo DER */
const uint8_t *ctca_ca_get0_issuer_key_hash(const ctca_ca *ca); /* SHA-256(SPKI), 32 bytes */
ctca_view ctca_ca_get0_sig_alg(const ctca_ca *ca);       /* AlgorithmIdentifier DER it signs with */
const ctca_config *ctca_ca_get0_config(const ctca_ca *ca);
const char *ctca_ca_get0_dir(const ctca_ca *ca);
const char *ctca_ca_get0_store_path(const ctca_ca *ca);    /* resolved against dir */
const char *ctca_ca_get0_log_list_path(const ctca_ca *ca); /* resolved; NULL when none */
/* ctca_ca_load_log_list: the log list a command uses: path (a --log-list)
 * when not NULL, else the CA's configured one; CTCA_ERR_CONFIG saying how to
 * give one when there is neither. Caller frees *out (ctca_log_list_free). */
CTCA_RESULT ctca_ca_load_log_list(const ctca_ca *ca, const char *path, ctca_log_list **out,
                                  ctca_errbuf *eb);
/* ctca_ca_get0_policy: the CT policy issuance must meet (ct.policy, loaded and
 * checked when the CA is opened), borrowed from ca. */
const ctca_policy *ctca_ca_get0_policy(const ctca_ca *ca);

/* ---- the Precertificate Signing Certificate (RFC 6962 3.1) ------------------
 * A CA may sign its CT 1.0 precertificates with a PreCA: a certificate it
 * issued directly, CA:TRUE (RFC 6962 3.1 says so, and logs validate the
 * submitted chain as a path), with the CT EKU 1.3.6.1.4.1.11129.2.4.4 as its
 * only extended key usage, so nothing it signs is trusted for anything else.
 * ctca.json names it ("preca_cert", "preca_key"); ctca_ca_open checks it. The
 * precertificate's issuer is then the PreCA's subject and its AKI the PreCA's
 * key ID; logs sign the TBS rewritten to the final issuer
 * (ctca_precert_tbs_from_preca_precert), which the final certificate, signed
 * by the CA, carries. */

/* ctca_ca_get0_preca_cert: the PreCA certificate's DER, borrowed from ca; an
 * empty view when the CA has none. */
ctca_view ctca_ca_get0_preca_cert(const ctca_ca *ca);

/* Certificates an add-pre-chain submission holds at most: the
 * precertificate, the PreCA, and ca.pem. */
#define CTCA_PRECERT_CHAIN_MAX (2 + CTCA_CA_MAX_CHAIN)

/* ctca_ca_precert_entry: for a CT 1.0 precertificate signed by ca or by its
 * PreCA (told apart by its issuer name; a PreCA's signature is verified, so a
 * PreCA replaced since is noticed): the TBS logs sign for it (*entry_tbs,
 * malloc'd, caller frees: the TBS minus the poison, rewritten to ca as the
 * final issuer for a PreCA's) and the add-pre-chain chain (RFC 6962 4.2: the
 * precertificate, the PreCA when it signed, then every certificate of
 * ca.pem) into chain (room for CTCA_PRECERT_CHAIN_MAX views borrowed from
 * precert and ca). *via_preca (may be NULL) tells which signed.
 * CTCA_ERR_ISSUER_MISMATCH when neither did. */
CTCA_RESULT ctca_ca_precert_entry(const ctca_ca *ca, ctca_view precert, uint8_t **entry_tbs,
                                  size_t *entry_tbs_len, ctca_view *chain, size_t *chain_len,
                                  bool *via_preca);

/* ---- TBSCertificates and signing ----------------------------------------- */

/* ctca_tbs_build_precert: the v3 TBSCertificate of a precertificate: serial
 * (magnitude bytes, 1..20), the CA's signature AlgorithmIdentifier, issuer = the
 * CA certificate's subject bytes verbatim, notBefore = now, notAfter = now +
 * validity_days*86400 - 1 (CTCA_ERR_PROFILE when outside the CA certificate's
 * validity), the subject the profile's mode gives, the CSR's SPKI
 * verbatim, and extensions in this order: keyUsage (critical), extKeyUsage,
 * basicConstraints CA:FALSE (critical), subjectKeyIdentifier (SHA-1 of the
 * subject key, RFC 5280 4.2.1.2 (1)), authorityKeyIdentifier (keyid = the CA's
 * SKI, or computed the same way when it has none), authorityInfoAccess (when
 * URLs are set), subjectAltName (critical when the subject is empty),
 * certificatePolicies (when set), cRLDistributionPoints (when set), and the CT
 * poison last. Runs ctca_csr_check_profile first. *out malloc'd, caller frees. */
CTCA_RESULT ctca_tbs_build_precert(const ctca_ca *ca, const ctca_profile *profile,
                                   const ctca_csr *csr, const uint8_t *serial, size_t serial_len,
                                   int64_t now, uint8_t **out, size_t *out_len, ctca_errbuf *eb);

/* ctca_tbs_build_v2: the TBSCertificate of an RFC 9162 (CT 2.0) certificate
 * before its Transparency Information: ctca_tbs_build_precert's without the CT
 * poison, which is what the CMS precertificate wraps (ctca/cms.h) and what
 * ctca_tbs_add_transparency_info (ctca/transparency.h) completes. */
CTCA_RESULT ctca_tbs_build_v2(const ctca_ca *ca, const ctca_profile *profile, const ctca_csr *csr,
                              const uint8_t *serial, size_t serial_len, int64_t now,
                              uint8_t **out, size_t *out_len, ctca_errbuf *eb);

/* ctca_tbs_precert_to_final: precert_tbs with its last extension, which must
 * be exactly the CT poison (CTCA_ERR_NOT_PRECERT otherwise), replaced in place
 * by the SCT list extension (1.3.6.1.4.1.11129.2.4.2, non-critical, an OCTET
 * STRING holding an OCTET STRING holding sct_list, the TLS-encoded
 * SignedCertificateTimestampList, checked for shape only). So the final TBS
 * minus the SCT extension equals the precert TBS minus the poison by
 * construction. *out malloc'd, caller frees. */
CTCA_RESULT ctca_tbs_precert_to_final(ctca_view precert_tbs, ctca_view sct_list,
                                      uint8_t **out, size_t *out_len);

#endif
