/* Fuzz target: the PKCS#10 parser (ctca_csr_parse), with its own DER walk,
 * the key import and the self-signature check. What it accepts keeps the
 * header's promises: the digest is the input's SHA-256, the SPKI is a
 * SEQUENCE found in the input, every SAN is well-formed for its type, and a
 * second parse agrees. */
#define _GNU_SOURCE /* memmem */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/ca.h"

static void check_san(const ctca_san *san)
{
    if (san == NULL)
        abort();
    if (san->type == CTCA_SAN_IP) {
        if (san->len != 4 && san->len != 16)
            abort();
    } else if (san->value == NULL || san->value[san->len] != '\0' ||
               strlen((const char *)san->value) != san->len) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_csr *a = NULL, *b = NULL;
    if (ctca_csr_parse(ctca_view_make(data, size), &a, NULL) != CTCA_OK)
        return 0;
    uint8_t digest[32];
    if (EVP_Digest(data, size, digest, NULL, EVP_sha256(), NULL) != 1 ||
        memcmp(digest, ctca_csr_get0_digest(a), sizeof digest) != 0)
        abort();
    ctca_view spki = ctca_csr_get0_spki(a);
    if (spki.len < 2 || spki.data[0] != 0x30 || memmem(data, size, spki.data, spki.len) == NULL)
        abort();
    for (size_t i = 0; i < ctca_csr_san_count(a); i++)
        check_san(ctca_csr_get0_san(a, i));
    if (ctca_csr_parse(ctca_view_make(data, size), &b, NULL) != CTCA_OK ||
        ctca_csr_san_count(a) != ctca_csr_san_count(b) ||
        ctca_csr_key_is_rsa(a) != ctca_csr_key_is_rsa(b))
        abort();
    ctca_csr_free(a);
    ctca_csr_free(b);
    return 0;
}
