/* Writes COUNT PEM CSRs, each for its own fresh ECDSA P-256 key, to OUT_DIR:
 *
 *   csrgen OUT_DIR COUNT
 *
 * OUT_DIR/host-NNNNN.csr asks for CN and DNS SAN host-NNNNN.bench.example.
 * One process writes thousands in about a second, where `openssl req` would
 * need a process (several ms) per CSR. The private keys are not kept. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>

static int write_csr(const char *dir, long i)
{
    char name[64], path[4096], san[80];
    snprintf(name, sizeof name, "host-%05ld.bench.example", i);
    snprintf(path, sizeof path, "%s/host-%05ld.csr", dir, i);
    snprintf(san, sizeof san, "DNS:%s", name);
    int ok = 0;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subj = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = NULL;
    FILE *f = NULL;
    if (key == NULL || req == NULL || subj == NULL || exts == NULL)
        goto out;
    ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    if (ext == NULL || !sk_X509_EXTENSION_push(exts, ext))
        goto out;
    ext = NULL;
    if (!X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name, -1,
                                    -1, 0) ||
        !X509_REQ_set_subject_name(req, subj) || !X509_REQ_set_pubkey(req, key) ||
        !X509_REQ_add_extensions(req, exts) || !X509_REQ_sign(req, key, EVP_sha256()))
        goto out;
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        goto out;
    }
    ok = PEM_write_X509_REQ(f, req) == 1;
    ok = fclose(f) == 0 && ok;
out:
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subj);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: csrgen OUT_DIR COUNT\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (n < 1 || n > 99999) {
        fprintf(stderr, "csrgen: COUNT must be 1..99999\n");
        return 2;
    }
    for (long i = 1; i <= n; i++)
        if (!write_csr(argv[1], i)) {
            fprintf(stderr, "csrgen: CSR %ld failed\n", i);
            return 1;
        }
    return 0;
}
