/* core/ct/logkey_int.h - internal: raw signature checks with a log key, shared by
 * the RFC 6962 SCT code (logkey.c) and the RFC 9162 TransItem code
 * (transitem.c). Not a public header. */
#ifndef CTCA_CORE_LOGKEY_INT_H
#define CTCA_CORE_LOGKEY_INT_H

#include "ctca/sct.h"

/* ctca_log_key_verify: CTCA_OK when sig is key's SHA-256 signature of msg
 * (ECDSA, or RSASSA-PKCS1-v1_5 for an RSA key), CTCA_ERR_SIG_INVALID when it
 * is not (a malformed signature included), CTCA_ERR_CRYPTO when OpenSSL
 * fails. */
CTCA_RESULT ctca_log_key_verify(const ctca_log_key *key, const uint8_t *msg, size_t msg_len,
                                const uint8_t *sig, size_t sig_len);

#endif
