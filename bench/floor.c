/* The crypto floor of one CT issuance: what two CA signatures and three SCT
 * verifications cost on this machine, with the OpenSSL calls ctca makes
 * (EVP_DigestSign / EVP_DigestVerify over SHA-256, a fresh EVP_MD_CTX per
 * operation) and the bench's own keys.
 *
 *   floor CA_KEY.pem LOG_KEY.pem [SECONDS [FILES_DIR]]
 *
 * Prints "sign_us=S verify_us=V floor_us=F ca_verify_us=C engine_us=E": CPU
 * time of this process per operation; F = 2S + 3V, the floor of issue 7; and
 * E = 2S + 2C + 4V, every signature operation ctca's design makes per
 * certificate (each CA signature verified after signing, 3 SCTs verified on
 * arrival (the release check re-verifies only SCTs it has not seen verified),
 * the CSR's P-256 self-signature; the bench's subject and log keys are P-256
 * like LOG_KEY). Messages are 1,024 bytes, the size of a typical TBS or SCT
 * signed input; hashing them costs well under 1% of a signature.
 *
 * With FILES_DIR (a directory to create) it also prints " file_us=W": the
 * CPU (user+sys) of writing one certificate-sized file there the way ctca
 * batch writes each output (a temporary file, then a rename), which depends
 * on the filesystem more than on the machine. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define FILES 2000
#define FILE_LEN 1200 /* a PEM certificate with three embedded SCTs */

/* CPU microseconds per file written into dir (created) as ctca batch does. */
static double time_files(const char *dir)
{
    static char text[FILE_LEN];
    memset(text, 'A', sizeof text);
    if (mkdir(dir, 0755) != 0) {
        perror(dir);
        return -1;
    }
    double t0 = cpu_s();
    for (int i = 0; i < FILES; i++) {
        char path[4096], tmp[4200];
        snprintf(path, sizeof path, "%s/host-%05d.pem", dir, i);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fwrite(text, 1, sizeof text, f) != sizeof text || fclose(f) != 0 ||
            rename(tmp, path) != 0) {
            perror(tmp);
            return -1;
        }
    }
    return (cpu_s() - t0) * 1e6 / FILES;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: floor CA_KEY.pem LOG_KEY.pem [SECONDS [FILES_DIR]]\n");
        return 2;
    }
    double budget = argc >= 4 ? atof(argv[3]) : 2.0;
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
    printf("sign_us=%.1f verify_us=%.1f floor_us=%.1f ca_verify_us=%.1f engine_us=%.1f",
           sign_us, verify_us, 2 * sign_us + 3 * verify_us, ca_verify_us,
           2 * sign_us + 2 * ca_verify_us + 4 * verify_us);
    if (argc == 5) {
        double file_us = time_files(argv[4]);
        if (file_us < 0)
            return 1;
        printf(" file_us=%.1f", file_us);
    }
    printf("\n");
    EVP_PKEY_free(ca);
    EVP_PKEY_free(log);
    return 0;
}
