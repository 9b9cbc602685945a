/* OCSP responses carrying SCTs: responses built by OpenSSL's OCSP code (an
 * independent encoder) are found, matched and signature-checked; signers
 * that are not the issuer or its delegated responder are refused; malformed
 * structures get their exact error. */
#include <criterion/criterion.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/ocsp.h"
#include "ctca/sct.h"
#include "tests/helpers.h"

static char *dir;
static X509 *ca, *leaf, *other_leaf, *resp_ok, *resp_no_eku, *resp_foreign;
static EVP_PKEY *ca_key, *resp_ok_key, *resp_no_eku_key, *resp_foreign_key;
static uint8_t *ca_der, *leaf_der;
static size_t ca_len, leaf_len;
static uint8_t sct_list[200];
static size_t sct_list_len;

static X509 *load_cert(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.pem", dir, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(x, "%s", path);
    return x;
}

static EVP_PKEY *load_key(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(k, "%s", path);
    return k;
}

static uint8_t *to_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    cr_assert_gt(n, 0);
    *len = (size_t)n;
    return der;
}

/* A CA, two leaves, a delegated responder with and without the OCSPSigning
 * EKU, and a responder issued by another CA: P-256 keys, made by openssl. */
static void setup(void)
{
    dir = th_tmpdir();
    const char *key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    cr_assert_eq(th_run(NULL,
                        "cd '%s' && openssl req -x509 %s -keyout ca.key -out ca.pem -days 3650"
                        " -subj '/CN=OCSP Test CA' && openssl req -x509 %s -keyout other.key"
                        " -out other.pem -days 3650 -subj '/CN=Other CA'",
                        dir, key, key),
                 0);
    const struct {
        const char *name, *issuer, *ext;
    } certs[] = {
        {"leaf", "ca", "subjectAltName=DNS:leaf.example"},
        {"leaf2", "ca", "subjectAltName=DNS:leaf2.example"},
        {"resp_ok", "ca", "extendedKeyUsage=OCSPSigning"},
        {"resp_no_eku", "ca", "extendedKeyUsage=serverAuth"},
        {"resp_foreign", "other", "extendedKeyUsage=OCSPSigning"},
    };
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        cr_assert_eq(th_run(NULL,
                            "cd '%s' && openssl req -new %s -keyout %s.key -subj /CN=%s"
                            " -out %s.csr && printf '%%s\\n' '%s' > %s.ext && openssl x509"
                            " -req -in %s.csr -CA %s.pem -CAkey %s.key -set_serial %zu"
                            " -days 365 -extfile %s.ext -out %s.pem",
                            dir, key, certs[i].name, certs[i].name, certs[i].name, certs[i].ext,
                            certs[i].name, certs[i].name, certs[i].issuer, certs[i].issuer,
                            1000 + i, certs[i].name, certs[i].name),
                     0, "%s", certs[i].name);
    ca = load_cert("ca");
    leaf = load_cert("leaf");
    other_leaf = load_cert("leaf2");
    resp_ok = load_cert("resp_ok");
    resp_no_eku = load_cert("resp_no_eku");
    resp_foreign = load_cert("resp_foreign");
    ca_key = load_key("ca");
    resp_ok_key = load_key("resp_ok");
    resp_no_eku_key = load_key("resp_no_eku");
    resp_foreign_key = load_key("resp_foreign");
    ca_der = to_der(ca, &ca_len);
    leaf_der = to_der(leaf, &leaf_len);

    /* Any well-formed list: the upstream test log's SCT, one entry. */
    char *proof = th_upstream("certificate-transparency/test-cert.proof");
    size_t n = 0;
    uint8_t *sct = th_read_file(proof, &n);
    free(proof);
    cr_assert_lt(n + 4, sizeof sct_list);
    sct_list[0] = (uint8_t)((n + 2) >> 8);
    sct_list[1] = (uint8_t)(n + 2);
    sct_list[2] = (uint8_t)(n >> 8);
    sct_list[3] = (uint8_t)n;
    memcpy(sct_list + 4, sct, n);
    sct_list_len = n + 4;
    free(sct);
}

static void teardown(void)
{
    X509 *xs[] = {ca, leaf, other_leaf, resp_ok, resp_no_eku, resp_foreign};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        X509_free(xs[i]);
    EVP_PKEY *ks[] = {ca_key, resp_ok_key, resp_no_eku_key, resp_foreign_key};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        EVP_PKEY_free(ks[i]);
    OPENSSL_free(ca_der);
    OPENSSL_free(leaf_der);
    th_rmdir(dir);
    free(dir);
}

TestSuite(ocsp, .init = setup, .fini = teardown, .timeout = 60);

typedef struct build_opts {
    X509 *subject;      /* the certificate the response is about */
    const EVP_MD *id_md;
    int status;         /* V_OCSP_CERTSTATUS_* */
    bool with_scts;
    X509 *signer;       /* NULL: the CA */
    EVP_PKEY *signer_key;
    bool by_key;        /* responder ID byKey */
    bool no_certs;      /* leave the signer's certificate out */
} build_opts;

/* A DER OCSPResponse made by OpenSSL; caller frees with OPENSSL_free. */
static uint8_t *build(build_opts o, size_t *len)
{
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(o.id_md ? o.id_md : EVP_sha1(), o.subject ? o.subject : leaf,
                                      ca);
    ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
    cr_assert(bs && id && now);
    ASN1_TIME *rev = o.status == V_OCSP_CERTSTATUS_REVOKED ? now : NULL;
    OCSP_SINGLERESP *single = OCSP_basic_add1_status(bs, id, o.status, -1, rev, now, NULL);
    cr_assert_not_null(single);
    if (o.with_scts) {
        /* extnValue: an OCTET STRING holding the TLS list (RFC 6962 3.3). */
        ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
        cr_assert(ASN1_OCTET_STRING_set(inner, sct_list, (int)sct_list_len));
        unsigned char *enc = NULL;
        int enc_len = i2d_ASN1_OCTET_STRING(inner, &enc);
        ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
        cr_assert(ASN1_OCTET_STRING_set(value, enc, enc_len));
        ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.11129.2.4.5", 1);
        X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value);
        cr_assert(ext && OCSP_SINGLERESP_add_ext(single, ext, -1));
        X509_EXTENSION_free(ext);
        ASN1_OBJECT_free(oid);
        ASN1_OCTET_STRING_free(value);
        ASN1_OCTET_STRING_free(inner);
        OPENSSL_free(enc);
    }
    X509 *signer = o.signer ? o.signer : ca;
    EVP_PKEY *key = o.signer ? o.signer_key : ca_key;
    STACK_OF(X509) *certs = sk_X509_new_null();
    unsigned long flags = o.signer && !o.no_certs ? 0 : OCSP_NOCERTS;
    flags |= o.by_key ? OCSP_RESPID_KEY : 0;
    cr_assert_eq(OCSP_basic_sign(bs, signer, key, EVP_sha256(), certs, flags), 1);
    OCSP_RESPONSE *resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(resp, &der);
    cr_assert_gt(n, 0);
    *len = (size_t)n;
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(now);
    sk_X509_free(certs);
    return der;
}

static ctca_err check(const uint8_t *der, size_t len, ctca_ocsp_info *info, ctca_view *scts,
                      ctca_errbuf *eb)
{
    return ctca_ocsp_response_check(ctca_view_make(der, len), ctca_view_make(leaf_der, leaf_len),
                                    ctca_view_make(ca_der, ca_len), info, scts, eb);
}

Test(ocsp, issuer_signed_response_yields_its_sct_list)
{
    size_t len;
    uint8_t *der = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD, .with_scts = true}, &len);
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(check(der, len, &info, &scts, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect(ctca_view_eq(scts, ctca_view_make(sct_list, sct_list_len)));
    cr_expect_eq(info.cert_status, CTCA_OCSP_GOOD);
    cr_expect_not(info.delegated);
    cr_expect_gt(info.produced_at_ms, 1700000000000LL);
    ctca_sct_list parsed = {NULL, 0};
    cr_expect_eq(ctca_sct_list_parse(scts, &parsed), CTCA_OK);
    cr_expect_eq(parsed.n, 1);
    ctca_sct_list_cleanup(&parsed);
    OPENSSL_free(der);
}

Test(ocsp, sha256_cert_id_responder_by_key_and_revoked_status)
{
    size_t len;
    uint8_t *der = build((build_opts){.id_md = EVP_sha256(),
                                      .status = V_OCSP_CERTSTATUS_REVOKED,
                                      .with_scts = true,
                                      .by_key = true},
                         &len);
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(check(der, len, &info, &scts, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_eq(info.cert_status, CTCA_OCSP_REVOKED);
    cr_expect_str_eq(ctca_ocsp_cert_status_name(info.cert_status), "revoked");
    cr_expect_eq(scts.len, sct_list_len);
    OPENSSL_free(der);
}

Test(ocsp, response_without_sct_extension_is_fine)
{
    size_t len;
    uint8_t *der = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD}, &len);
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(check(der, len, &info, &scts, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_eq(scts.len, 0);
    OPENSSL_free(der);
}

Test(ocsp, delegated_responder_with_ocsp_signing_eku_is_accepted)
{
    size_t len;
    uint8_t *der = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD,
                                      .with_scts = true,
                                      .signer = resp_ok,
                                      .signer_key = resp_ok_key},
                         &len);
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(check(der, len, &info, &scts, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect(info.delegated);
    OPENSSL_free(der);
}

Test(ocsp, signers_that_are_not_the_issuer_or_its_responder_are_refused)
{
    const struct {
        X509 *signer;
        EVP_PKEY **key;
        const char *why;
    } cases[] = {
        {resp_no_eku, &resp_no_eku_key, "id-kp-OCSPSigning"},
        {resp_foreign, &resp_foreign_key, "not issued by the issuer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *der = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD,
                                          .signer = cases[i].signer,
                                          .signer_key = *cases[i].key},
                             &len);
        ctca_ocsp_info info;
        ctca_view scts;
        ctca_errbuf eb = {{0}};
        cr_expect_eq(check(der, len, &info, &scts, &eb), CTCA_ERR_OCSP_SIGNER, "case %zu", i);
        cr_expect(strstr(eb.msg, cases[i].why) != NULL, "case %zu: %s", i, eb.msg);
        OPENSSL_free(der);
    }
    /* A responder certificate signed by the issuer, but left out of the
     * response: the responder ID names nothing ctca can check. */
    size_t len;
    uint8_t *der = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD,
                                      .signer = resp_ok,
                                      .signer_key = resp_ok_key,
                                      .no_certs = true},
                         &len);
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(check(der, len, &info, &scts, &eb), CTCA_ERR_OCSP_SIGNER);
    cr_expect(strstr(eb.msg, "names neither") != NULL, "%s", eb.msg);
    OPENSSL_free(der);
}

Test(ocsp, bad_signature_wrong_certificate_and_wrong_issuer)
{
    size_t len;
    uint8_t *der = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD, .with_scts = true}, &len);
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    der[len - 5] ^= 0x01; /* inside the signature, the last field */
    cr_expect_eq(check(der, len, &info, &scts, &eb), CTCA_ERR_SIG_INVALID, "%s", eb.msg);
    cr_expect(strstr(eb.msg, "issuer's key") != NULL, "%s", eb.msg);
    OPENSSL_free(der);

    der = build((build_opts){.subject = other_leaf, .status = V_OCSP_CERTSTATUS_GOOD}, &len);
    cr_expect_eq(check(der, len, &info, &scts, &eb), CTCA_ERR_OCSP_NO_MATCH, "%s", eb.msg);
    cr_expect(strstr(eb.msg, "serial") != NULL, "%s", eb.msg);
    size_t other_len;
    uint8_t *other = to_der(resp_foreign, &other_len);
    cr_expect_eq(ctca_ocsp_response_check(ctca_view_make(der, len),
                                          ctca_view_make(leaf_der, leaf_len),
                                          ctca_view_make(other, other_len), &info, &scts, &eb),
                 CTCA_ERR_ISSUER_MISMATCH);
    OPENSSL_free(other);
    OPENSSL_free(der);
}

/* ---- malformed structures, built raw (they fail before any signature) ---- */

static const uint8_t OID_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_SCT[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x05};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};

/* How a raw response deviates from a well-formed one. */
typedef enum {
    RAW_OK_SHAPE,      /* well-formed, with a dummy signature */
    RAW_VERSION,       /* tbsResponseData carries the DEFAULT version */
    RAW_RESPONDER_TAG, /* ResponderID [3] */
    RAW_KEY_HASH_19,   /* byKey with 19 bytes */
    RAW_UTC_PRODUCED,  /* producedAt as UTCTime */
    RAW_NO_RESPONSES,
    RAW_STATUS_TAG,    /* certStatus [3] */
    RAW_EMPTY_EXTS,    /* singleExtensions with no extension */
    RAW_SCT_TWICE,
    RAW_SCT_NOT_OCTETS,
    RAW_SCT_EMPTY,
    RAW_TOO_MANY_CERTS,
    RAW_TYPE_NOT_BASIC,
} raw_kind;

static void add_ext(ctca_builder *b, const uint8_t *inner, size_t n, uint8_t inner_tag)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, OID_SCT, sizeof OID_SCT);
    ctca_builder_open_der(b, CTCA_DER_OCTET_STRING);
    ctca_builder_add_der(b, inner_tag, inner, n);
    ctca_builder_close(b);
    ctca_builder_close(b);
}

static uint8_t *raw(raw_kind k, size_t *len)
{
    ctca_builder b;
    ctca_builder_init(&b, 1 << 20);
    uint8_t zeros[32] = {0};
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der(&b, CTCA_DER_ENUMERATED, zeros, 1);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    if (k == RAW_TYPE_NOT_BASIC)
        ctca_builder_add_der_oid(&b, OID_SHA1, sizeof OID_SHA1);
    else
        ctca_builder_add_der_oid(&b, OID_BASIC, sizeof OID_BASIC);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* BasicOCSPResponse */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* tbsResponseData */
    if (k == RAW_VERSION) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        ctca_builder_add_der_u64(&b, 0);
        ctca_builder_close(&b);
    }
    ctca_builder_open_der(&b, k == RAW_RESPONDER_TAG ? CTCA_DER_CTX_C(3) : CTCA_DER_CTX_C(2));
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, zeros, k == RAW_KEY_HASH_19 ? 19 : 20);
    ctca_builder_close(&b);
    if (k == RAW_UTC_PRODUCED)
        ctca_builder_add_der(&b, CTCA_DER_UTC_TIME, (const uint8_t *)"250101000000Z", 13);
    else
        ctca_builder_add_der(&b, CTCA_DER_GENERALIZED_TIME, (const uint8_t *)"20250101000000Z",
                             15);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* responses */
    if (k != RAW_NO_RESPONSES) {
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* CertID */
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(&b, OID_SHA1, sizeof OID_SHA1);
        ctca_builder_add_der_null(&b);
        ctca_builder_close(&b);
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, zeros, 20);
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, zeros, 20);
        ctca_builder_add_der_u64(&b, 1000);
        ctca_builder_close(&b);
        ctca_builder_add_der(&b, k == RAW_STATUS_TAG ? CTCA_DER_CTX(3) : CTCA_DER_CTX(0), NULL,
                             0);
        ctca_builder_add_der(&b, CTCA_DER_GENERALIZED_TIME, (const uint8_t *)"20250101000000Z",
                             15);
        if (k >= RAW_EMPTY_EXTS && k <= RAW_SCT_EMPTY) {
            ctca_builder_open_der(&b, CTCA_DER_CTX_C(1));
            ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
            if (k == RAW_SCT_TWICE || k == RAW_SCT_NOT_OCTETS)
                add_ext(&b, sct_list, sct_list_len,
                        k == RAW_SCT_TWICE ? CTCA_DER_OCTET_STRING : CTCA_DER_UTF8_STRING);
            if (k == RAW_SCT_TWICE)
                add_ext(&b, sct_list, sct_list_len, CTCA_DER_OCTET_STRING);
            if (k == RAW_SCT_EMPTY)
                add_ext(&b, NULL, 0, CTCA_DER_OCTET_STRING);
            ctca_builder_close(&b);
            ctca_builder_close(&b);
        }
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b); /* responses */
    ctca_builder_close(&b); /* tbsResponseData */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, OID_SHA1, sizeof OID_SHA1);
    ctca_builder_close(&b);
    ctca_builder_add_der_bit_string(&b, zeros, 8);
    if (k == RAW_TOO_MANY_CERTS) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        for (int i = 0; i < CTCA_OCSP_MAX_CERTS + 1; i++)
            ctca_builder_add_view(&b, ctca_view_make(ca_der, ca_len));
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b); /* BasicOCSPResponse */
    ctca_builder_close(&b); /* OCTET STRING */
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    uint8_t *out = NULL;
    cr_assert_eq(ctca_builder_finish(&b, &out, len), CTCA_OK);
    return out;
}

Test(ocsp, malformed_structures_get_exact_errors)
{
    const struct {
        raw_kind kind;
        ctca_err want;
    } cases[] = {
        {RAW_OK_SHAPE, CTCA_ERR_OCSP_NO_MATCH}, /* well-formed: only the CertID is wrong */
        {RAW_VERSION, CTCA_ERR_OCSP_MALFORMED},
        {RAW_RESPONDER_TAG, CTCA_ERR_OCSP_MALFORMED},
        {RAW_KEY_HASH_19, CTCA_ERR_OCSP_MALFORMED},
        {RAW_UTC_PRODUCED, CTCA_ERR_OCSP_MALFORMED},
        {RAW_NO_RESPONSES, CTCA_ERR_OCSP_MALFORMED},
        {RAW_STATUS_TAG, CTCA_ERR_OCSP_MALFORMED},
        {RAW_EMPTY_EXTS, CTCA_ERR_OCSP_MALFORMED},
        {RAW_SCT_TWICE, CTCA_ERR_EXT_DUPLICATE},
        {RAW_SCT_NOT_OCTETS, CTCA_ERR_DER_TAG},
        {RAW_SCT_EMPTY, CTCA_ERR_SCT_LIST_EMPTY},
        {RAW_TOO_MANY_CERTS, CTCA_ERR_OCSP_MALFORMED},
        {RAW_TYPE_NOT_BASIC, CTCA_ERR_OCSP_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *der = raw(cases[i].kind, &len);
        ctca_ocsp_info info;
        ctca_view scts;
        ctca_errbuf eb = {{0}};
        ctca_err rc = check(der, len, &info, &scts, &eb);
        cr_expect_eq(rc, cases[i].want, "case %zu: got %s (%s)", i, ctca_err_name(rc), eb.msg);
        free(der);
    }
}

Test(ocsp, malformed_bytes_get_exact_errors)
{
    static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
    static const uint8_t no_bytes[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
    static const uint8_t status_4[] = {0x30, 0x03, 0x0a, 0x01, 0x04};
    static const uint8_t status_long[] = {0x30, 0x04, 0x0a, 0x02, 0x00, 0x00};
    static const uint8_t integer_status[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    static const uint8_t indefinite[] = {0x30, 0x80, 0x0a, 0x01, 0x00, 0x00, 0x00};
    size_t good_len;
    uint8_t *good = build((build_opts){.status = V_OCSP_CERTSTATUS_GOOD, .with_scts = true},
                          &good_len);
    uint8_t *trailing = malloc(good_len + 1);
    cr_assert_not_null(trailing);
    memcpy(trailing, good, good_len);
    trailing[good_len] = 0;
    const struct {
        const uint8_t *der;
        size_t len;
        ctca_err want;
    } cases[] = {
        {try_later, sizeof try_later, CTCA_ERR_OCSP_STATUS},
        {no_bytes, sizeof no_bytes, CTCA_ERR_OCSP_MALFORMED},
        {status_4, sizeof status_4, CTCA_ERR_OCSP_MALFORMED},
        {status_long, sizeof status_long, CTCA_ERR_OCSP_MALFORMED},
        {integer_status, sizeof integer_status, CTCA_ERR_DER_TAG},
        {indefinite, sizeof indefinite, CTCA_ERR_DER_LENGTH_INDEFINITE},
        {good, 0, CTCA_ERR_TRUNCATED},
        {good, good_len - 1, CTCA_ERR_TRUNCATED},
        {good, good_len / 2, CTCA_ERR_TRUNCATED},
        {trailing, good_len + 1, CTCA_ERR_TRAILING_DATA},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_ocsp_info info;
        ctca_view scts;
        ctca_errbuf eb = {{0}};
        ctca_err rc = check(cases[i].der, cases[i].len, &info, &scts, &eb);
        cr_expect_eq(rc, cases[i].want, "case %zu: got %s (%s)", i, ctca_err_name(rc), eb.msg);
    }
    ctca_ocsp_info info;
    ctca_view scts;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(check(try_later, sizeof try_later, &info, &scts, &eb), CTCA_ERR_OCSP_STATUS);
    cr_expect(strstr(eb.msg, "tryLater") != NULL, "%s", eb.msg);
    free(trailing);
    OPENSSL_free(good);
}
