/* The crypto floor of one CT issuance: what two CA signatures and three SCT
 * verifications cost on this machine, with the OpenSSL calls ctca makes
 * (EVP_DigestSign / EVP_DigestVerify over SHA-256, a fresh EVP_MD_CTX per
 * operation) and the bench's own keys.
 *
 *   floor CA_KEY.pem LOG_KEY.pem [SECONDS]
 *
 * Prints "sign_us=S verify_us=V floor_us=F ca_verify_us=C engine_us=E": CPU
 * time of this process per operation; F = 2S + 3V, the floor of issue 7; and
 * E = 2S + 2C + 7V, every signature operation ctca's design makes per
 * certificate (each CA signature verified after signing, 3 SCTs verified on
 * arrival and again in the release check, the CSR's P-256 self-signature; the
 * bench's subject and log keys are P-256 like LOG_KEY). Messages are 1,024
 * bytes, the size of a typical TBS or SCT signed input; hashing them costs
 * well under 1% of a signature. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MSG_LEN 1024

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (k == NULL)
        fprintf(stderr, "%s: not a PEM private key\n", path);
    return k;
}

static int sign(EVP_PKEY *key, const unsigned char *msg, unsigned char *sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, sig_len, msg, MSG_LEN) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static int verify(EVP_PKEY *key, const unsigned char *msg, const unsigned char *sig,
                  size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, msg, MSG_LEN) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* CPU microseconds per verification of sig by key, over budget seconds. */
static double time_verify(EVP_PKEY *key, const unsigned char *msg, const unsigned char *sig,
                          size_t sig_len, double budget)
{
    long n = 0;
    double t0 = cpu_s();
    while (cpu_s() - t0 < budget) {
        if (!verify(key, msg, sig, sig_len))
            return -1;
        n++;
    }
    return (cpu_s() - t0) * 1e6 / (double)n;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: floor CA_KEY.pem LOG_KEY.pem [SECONDS]\n");
        return 2;
    }
    double budget = argc == 4 ? atof(argv[3]) : 2.0;
    EVP_PKEY *ca = load_key(argv[1]), *log = load_key(argv[2]);
    unsigned char msg[MSG_LEN], sig[1024];
    size_t sig_len = sizeof sig;
    if (ca == NULL || log == NULL || RAND_bytes(msg, sizeof msg) != 1)
        return 1;

    long n_sign = 0;
    double t0 = cpu_s();
    while (cpu_s() - t0 < budget) {
        sig_len = sizeof sig;
        if (!sign(ca, msg, sig, &sig_len)) {
            fprintf(stderr, "CA signature failed\n");
            return 1;
        }
        n_sign++;
    }
    double sign_us = (cpu_s() - t0) * 1e6 / (double)n_sign;

    double ca_verify_us = time_verify(ca, msg, sig, sig_len, budget);
    sig_len = sizeof sig;
    if (!sign(log, msg, sig, &sig_len))
        return 1;
    double verify_us = time_verify(log, msg, sig, sig_len, budget);
    if (ca_verify_us < 0 || verify_us < 0) {
        fprintf(stderr, "a verification failed\n");
        return 1;
    }
    printf("sign_us=%.1f verify_us=%.1f floor_us=%.1f ca_verify_us=%.1f engine_us=%.1f\n",
           sign_us, verify_us, 2 * sign_us + 3 * verify_us, ca_verify_us,
           2 * sign_us + 2 * ca_verify_us + 7 * verify_us);
    EVP_PKEY_free(ca);
    EVP_PKEY_free(log);
    return 0;
}
