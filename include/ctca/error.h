/* ctca/error.h - the one error convention of libctca.
 *
 * Every fallible function returns a ctca_err (declared with CTCA_RESULT so the
 * compiler rejects an ignored result) and hands values back through
 * out-parameters. Each code has a category and a fixed human string; tests
 * assert exact codes. Context (which file, which field) is added by the caller,
 * usually through a ctca_errbuf. */
#ifndef CTCA_ERROR_H
#define CTCA_ERROR_H

#include <stddef.h>

typedef enum ctca_err_category {
    CTCA_CAT_NONE = 0,
    CTCA_CAT_DECODE,   /* malformed bytes: DER, TLS, base64, PEM */
    CTCA_CAT_ENCODE,   /* a value we were asked to write cannot be written */
    CTCA_CAT_RESOURCE, /* memory */
    CTCA_CAT_CRYPTO,   /* the crypto library failed or a key is unsupported */
    CTCA_CAT_VERIFY,   /* well-formed input that does not verify */
    CTCA_CAT_INPUT,    /* files, configs, CSRs, profiles, usage */
    CTCA_CAT_STORE,    /* the SQLite store */
    CTCA_CAT_NETWORK,  /* talking to logs */
    CTCA_CAT_POLICY,   /* CT policy not satisfied */
    CTCA_CAT_INTERNAL  /* a bug in ctca */
} ctca_err_category;

/* X(code, category, message) */
#define CTCA_ERROR_LIST(X)                                                              \
    X(CTCA_OK, NONE, "success")                                                         \
    X(CTCA_ERR_TRUNCATED, DECODE, "input is truncated")                                 \
    X(CTCA_ERR_TRAILING_DATA, DECODE, "trailing bytes after the structure")             \
    X(CTCA_ERR_DER_TAG, DECODE, "unexpected DER tag")                                   \
    X(CTCA_ERR_DER_HIGH_TAG, DECODE, "high-tag-number DER form is not supported")       \
    X(CTCA_ERR_DER_LENGTH_INDEFINITE, DECODE, "indefinite length is not DER")           \
    X(CTCA_ERR_DER_LENGTH_NONMINIMAL, DECODE, "DER length is not minimally encoded")    \
    X(CTCA_ERR_DER_LENGTH_TOO_LONG, DECODE, "DER length is too large")                  \
    X(CTCA_ERR_DER_INTEGER, DECODE, "malformed DER INTEGER")                            \
    X(CTCA_ERR_DER_BOOLEAN, DECODE, "malformed DER BOOLEAN")                            \
    X(CTCA_ERR_DER_NULL, DECODE, "malformed DER NULL")                                  \
    X(CTCA_ERR_DER_OID, DECODE, "malformed OBJECT IDENTIFIER")                          \
    X(CTCA_ERR_DER_BIT_STRING, DECODE, "malformed BIT STRING")                          \
    X(CTCA_ERR_DER_TIME, DECODE, "malformed UTCTime or GeneralizedTime")                \
    X(CTCA_ERR_DER_STRING, DECODE, "malformed DER string")                              \
    X(CTCA_ERR_TLS_LENGTH_RANGE, DECODE, "TLS vector length outside its allowed range") \
    X(CTCA_ERR_BASE64, DECODE, "invalid base64")                                        \
    X(CTCA_ERR_PEM, DECODE, "invalid PEM")                                              \
    X(CTCA_ERR_CERT_MALFORMED, DECODE, "malformed X.509 certificate")                   \
    X(CTCA_ERR_EXT_DUPLICATE, DECODE, "extension appears more than once")               \
    X(CTCA_ERR_POISON_AND_SCT_LIST, DECODE,                                             \
      "certificate carries both the CT poison and an SCT list")                         \
    X(CTCA_ERR_POISON_MALFORMED, DECODE, "CT poison extension is not critical NULL")    \
    X(CTCA_ERR_NOT_PRECERT, DECODE, "certificate has no CT poison extension")           \
    X(CTCA_ERR_NO_SCT_LIST, DECODE, "certificate has no embedded SCT list")             \
    X(CTCA_ERR_SCT_VERSION, DECODE, "unsupported SCT version")                          \
    X(CTCA_ERR_SCT_LIST_EMPTY, DECODE, "SCT list is empty")                             \
    X(CTCA_ERR_SCT_LIST_TOO_LONG, DECODE, "SCT list holds too many SCTs")              \
    X(CTCA_ERR_SIG_ALG_UNSUPPORTED, DECODE, "unsupported signature algorithm")          \
    X(CTCA_ERR_JSON, DECODE, "malformed JSON")                                          \
    X(CTCA_ERR_TRANSITEM_TYPE, DECODE, "unknown TransItem versioned_type")              \
    X(CTCA_ERR_TRANSITEM_RFC6962, DECODE,                                               \
      "RFC 6962 (v1) structure where an RFC 9162 TransItem is expected")                \
    X(CTCA_ERR_TRANSITEM_WRONG_TYPE, DECODE, "TransItem is not of the expected type")   \
    X(CTCA_ERR_TRANSITEM_EXTENSIONS, DECODE,                                            \
      "log artifact extensions are not in strictly ascending type order")               \
    X(CTCA_ERR_HASH_LEN, DECODE, "hash is not 32 bytes (SHA-256)")                      \
    X(CTCA_ERR_PROOF_TOO_LONG, DECODE, "Merkle proof holds more than 64 nodes")         \
    X(CTCA_ERR_TRANSITEM_LIST_EMPTY, DECODE, "TransItemList is empty")                  \
    X(CTCA_ERR_TRANSITEM_LIST_TOO_LONG, DECODE, "TransItemList holds too many items")   \
    X(CTCA_ERR_NO_TRANSPARENCY_INFO, DECODE,                                            \
      "certificate has no Transparency Information extension (1.3.101.75)")             \
    X(CTCA_ERR_CMS_MALFORMED, DECODE,                                                   \
      "CMS precertificate does not follow the RFC 9162 3.2 profile")                    \
    X(CTCA_ERR_OCSP_MALFORMED, DECODE, "malformed OCSP response")                       \
    X(CTCA_ERR_OCSP_REQUEST, DECODE, "malformed OCSP request")                          \
    X(CTCA_ERR_BUILDER_CAP, ENCODE, "output exceeds its size cap")                      \
    X(CTCA_ERR_BUILDER_MISUSE, ENCODE, "builder used out of order")                     \
    X(CTCA_ERR_VALUE_RANGE, ENCODE, "value out of encodable range")                     \
    X(CTCA_ERR_NOMEM, RESOURCE, "out of memory")                                        \
    X(CTCA_ERR_CRYPTO, CRYPTO, "cryptographic operation failed")                        \
    X(CTCA_ERR_KEY_UNSUPPORTED, CRYPTO, "unsupported key type or size")                 \
    X(CTCA_ERR_SIG_INVALID, VERIFY, "signature does not verify")                        \
    X(CTCA_ERR_SIG_ALG_MISMATCH, VERIFY, "signature algorithm does not match the key")  \
    X(CTCA_ERR_SCT_UNKNOWN_LOG, VERIFY, "SCT is from an unknown log")                   \
    X(CTCA_ERR_SCT_FUTURE, VERIFY, "SCT timestamp is in the future")                    \
    X(CTCA_ERR_SCT_TOO_EARLY, VERIFY, "SCT timestamp is before the certificate's notBefore") \
    X(CTCA_ERR_SCT_LOG_ID_MISMATCH, VERIFY, "SCT log ID does not match the log key")    \
    X(CTCA_ERR_PROOF_INVALID, VERIFY, "Merkle inclusion proof does not verify")        \
    X(CTCA_ERR_TBS_MISMATCH, VERIFY,                                                    \
      "final TBSCertificate does not correspond to the precertificate")                 \
    X(CTCA_ERR_ISSUER_MISMATCH, VERIFY,                                                 \
      "issuer certificate's subject is not the certificate's issuer")                   \
    X(CTCA_ERR_OCSP_SIGNER, VERIFY,                                                     \
      "OCSP response is not signed by the issuer or its delegated responder")           \
    X(CTCA_ERR_USAGE, INPUT, "invalid command-line usage")                              \
    X(CTCA_ERR_IO, INPUT, "file could not be read or written")                          \
    X(CTCA_ERR_CONFIG, INPUT, "invalid configuration")                                  \
    X(CTCA_ERR_LOG_LIST, INPUT, "invalid log list")                                     \
    X(CTCA_ERR_CSR_MALFORMED, INPUT, "CSR is not a valid PKCS#10 request")              \
    X(CTCA_ERR_CSR_SIGNATURE, INPUT, "CSR signature does not verify")                   \
    X(CTCA_ERR_CSR_KEY, INPUT, "CSR key type or size is not allowed")                   \
    X(CTCA_ERR_PROFILE, INPUT, "request not allowed by the profile")                    \
    X(CTCA_ERR_KEY_PERMISSIONS, INPUT, "private key file is readable by others")        \
    X(CTCA_ERR_PRECA, INPUT, "Precertificate Signing Certificate cannot be used")       \
    X(CTCA_ERR_OCSP_STATUS, INPUT, "OCSP response status is not successful")            \
    X(CTCA_ERR_OCSP_NO_MATCH, INPUT, "OCSP response has no status for the certificate") \
    X(CTCA_ERR_STORE, STORE, "database error")                                          \
    X(CTCA_ERR_STORE_NOT_FOUND, STORE, "no such record in the store")                   \
    X(CTCA_ERR_STORE_MISSING, STORE, "the store is missing or empty")                   \
    X(CTCA_ERR_STORE_CONFLICT, STORE, "record conflicts with the store")                \
    X(CTCA_ERR_IN_PROGRESS, STORE, "another process is issuing this record")            \
    X(CTCA_ERR_STORE_DUPLICATE, STORE, "the CSR already has a record under this profile") \
    X(CTCA_ERR_HTTP, NETWORK, "HTTP transfer failed")                                   \
    X(CTCA_ERR_HTTP_STATUS, NETWORK, "log answered with an HTTP error status")          \
    X(CTCA_ERR_TIMEOUT, NETWORK, "log did not answer in time")                          \
    X(CTCA_ERR_BODY_TOO_LARGE, NETWORK, "log response body exceeds its cap")            \
    X(CTCA_ERR_BAD_RESPONSE, NETWORK, "log response is malformed")                      \
    X(CTCA_ERR_NO_LOGS, POLICY, "no usable CT logs for this certificate")               \
    X(CTCA_ERR_POLICY_UNMET, POLICY, "SCTs obtained do not satisfy the CT policy")      \
    X(CTCA_ERR_REVOKED, POLICY, "the serial was revoked before its certificate was issued") \
    X(CTCA_ERR_DEFERRED, POLICY, "issuance deferred: the queue will collect its SCTs")  \
    X(CTCA_ERR_STEP_ORDER, INTERNAL, "issuance step called out of order")               \
    X(CTCA_ERR_INTERNAL, INTERNAL, "internal error")

#define CTCA_ERR_ENUM_(code, cat, msg) code,
typedef enum ctca_err { CTCA_ERROR_LIST(CTCA_ERR_ENUM_) CTCA_ERR_COUNT_ } ctca_err;
#undef CTCA_ERR_ENUM_

/* Declares a function returning ctca_err whose result must be checked. */
#define CTCA_RESULT __attribute__((warn_unused_result)) ctca_err

/* Returns from the enclosing function when expr fails. */
#define CTCA_GUARD(expr)                                                                \
    do {                                                                                \
        ctca_err ctca_guard_err_ = (expr);                                              \
        if (ctca_guard_err_ != CTCA_OK)                                                 \
            return ctca_guard_err_;                                                     \
    } while (0)

/* ctca_err_str: static human string for code; never NULL. */
const char *ctca_err_str(ctca_err code);
/* ctca_err_name: static identifier of code, e.g. "CTCA_ERR_TRUNCATED"; never NULL. */
const char *ctca_err_name(ctca_err code);
/* ctca_err_category_of: the category of code. */
ctca_err_category ctca_err_category_of(ctca_err code);

/* A caller-owned buffer for the context of an error ("field operators[2].logs[0].key:
 * not base64"). Functions that take one write into it only when they fail. */
typedef struct ctca_errbuf {
    char msg[512];
} ctca_errbuf;

/* ctca_errbuf_set: formats into eb (eb may be NULL) and returns code, so callers can
 * write `return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "...", ...)`. */
ctca_err ctca_errbuf_set(ctca_errbuf *eb, ctca_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
