/* RFC 9162 3.2 CMS precertificates: OpenSSL's cms -verify accepts them and
 * outputs exactly the TBS, cms -cmsout -print shows the profile, the parser
 * and verifier accept what the builder makes and refuse every departure from
 * the profile and every tampered byte with an exact code. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "core/x509/x509_int.h"
#include "ctca/cms.h"
#include "tests/core/test_ca_helpers.h"

static char *dir;

static void setup(void)
{
    dir = th_tmpdir();
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

TestSuite(cms, .init = setup, .fini = teardown, .timeout = 120);

static void build(ctca_ca *ca, uint8_t **tbs, size_t *tbs_len, uint8_t **cms, size_t *cms_len)
{
    tca_v2_tbs(ca, dir, "leaf", tbs, tbs_len);
    cr_assert_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(*tbs, *tbs_len), cms, cms_len), CTCA_OK);
}

/* openssl cms -verify with the CA certificate given and chain checks off. */
static void openssl_verifies_and_outputs_the_tbs(ctca_key_type kt)
{
    ctca_ca *ca = tca_make_ca(dir, kt);
    uint8_t *tbs = NULL, *cms = NULL;
    size_t tbs_len = 0, cms_len = 0;
    build(ca, &tbs, &tbs_len, &cms, &cms_len);
    char *in = tca_path(dir, "precert.cms"), *out_path = tca_path(dir, "content.der");
    th_write_file(in, cms, cms_len);
    char *out = NULL;
    int st = th_run(&out,
                    "openssl cms -verify -inform DER -binary -noverify -certfile '%s/ca/ca.pem' "
                    "-in '%s' -out '%s'",
                    dir, in, out_path);
    cr_assert_eq(st, 0, "%s", out);
    cr_expect_not_null(strstr(out, "Verification successful"), "%s", out);
    free(out);
    size_t got_len = 0;
    uint8_t *got = th_read_file(out_path, &got_len);
    cr_expect(got_len == tbs_len && memcmp(got, tbs, tbs_len) == 0,
              "cms -verify outputs exactly the TBS");
    free(got);
    /* With the chain checked too: the CA as trust anchor, any key purpose. */
    st = th_run(&out,
                "openssl cms -verify -inform DER -binary -certfile '%s/ca/ca.pem' "
                "-CAfile '%s/ca/ca.pem' -purpose any -attime %lld -in '%s' -out /dev/null",
                dir, dir, (long long)TCA_NOW, in);
    cr_expect_eq(st, 0, "%s", out);
    free(out);
    free(in);
    free(out_path);
    free(tbs);
    free(cms);
    ctca_ca_free(ca);
}

Test(cms, openssl_cms_verify_accepts_p256_and_outputs_exactly_the_tbs)
{
    openssl_verifies_and_outputs_the_tbs(CTCA_KEY_EC_P256);
}

Test(cms, openssl_cms_verify_accepts_rsa_and_outputs_exactly_the_tbs)
{
    openssl_verifies_and_outputs_the_tbs(CTCA_KEY_RSA_2048);
}

Test(cms, openssl_cmsout_print_shows_the_rfc9162_profile)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    uint8_t *tbs = NULL, *cms = NULL;
    size_t tbs_len = 0, cms_len = 0;
    build(ca, &tbs, &tbs_len, &cms, &cms_len);
    char *in = tca_path(dir, "precert.cms");
    th_write_file(in, cms, cms_len);
    char *out = NULL;
    int st = th_run(&out, "openssl cms -cmsout -print -inform DER -in '%s'", in);
    cr_assert_eq(st, 0, "%s", out);
    static const char *const want[] = {
        "contentType: pkcs7-signedData (1.2.840.113549.1.7.2)",
        "version: 3",
        "algorithm: sha256 (2.16.840.1.101.3.4.2.1)",
        "eContentType: undefined (1.3.101.78)",
        "certificates:\n      <ABSENT>",
        "crls:\n      <ABSENT>",
        "d.subjectKeyIdentifier:",
        "object: contentType (1.2.840.113549.1.9.3)",
        "OBJECT:undefined (1.3.101.78)",
        "object: messageDigest (1.2.840.113549.1.9.4)",
        "algorithm: ecdsa-with-SHA256 (1.2.840.10045.4.3.2)",
        "unsignedAttrs:\n          <ABSENT>",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect_not_null(strstr(out, want[i]), "missing \"%s\" in:\n%s", want[i], out);
    /* One SignerInfo, two signed attributes. */
    size_t signers = 0, attrs = 0;
    for (const char *p = out; (p = strstr(p, "d.subjectKeyIdentifier")) != NULL; p++)
        signers++;
    for (const char *p = out; (p = strstr(p, "object: ")) != NULL; p++)
        attrs++;
    cr_expect_eq(signers, 1);
    cr_expect_eq(attrs, 2, "%s", out);
    free(out);
    free(in);
    free(tbs);
    free(cms);
    ctca_ca_free(ca);
}

Test(cms, parse_and_verify_what_the_builder_makes)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    uint8_t *tbs = NULL, *cms = NULL;
    size_t tbs_len = 0, cms_len = 0;
    build(ca, &tbs, &tbs_len, &cms, &cms_len);
    ctca_cms_precert p;
    cr_assert_eq(ctca_cms_precert_parse(ctca_view_make(cms, cms_len), &p), CTCA_OK);
    cr_expect(ctca_view_eq(p.tbs, ctca_view_make(tbs, tbs_len)));
    cr_expect(ctca_view_eq(p.sig_alg, ctca_ca_get0_sig_alg(ca)));
    cr_expect_eq(p.signer_key_id.len, 20);
    uint8_t digest[32];
    EVP_Digest(tbs, tbs_len, digest, NULL, EVP_sha256(), NULL);
    cr_expect(ctca_view_eq(p.message_digest, ctca_view_make(digest, 32)));
    cr_expect_eq(ctca_cms_precert_verify(&p, ctca_ca_get0_cert(ca)), CTCA_OK);

    /* Every tampered byte fails: the TBS (digest), the signature, the attributes. */
    cms[p.tbs.data - cms + p.tbs.len - 1] ^= 1;
    cr_expect_eq(ctca_cms_precert_verify(&p, ctca_ca_get0_cert(ca)), CTCA_ERR_SIG_INVALID, "TBS");
    cms[p.tbs.data - cms + p.tbs.len - 1] ^= 1;
    cms[p.signature.data - cms + 10] ^= 1;
    cr_expect_eq(ctca_cms_precert_verify(&p, ctca_ca_get0_cert(ca)), CTCA_ERR_SIG_INVALID, "sig");
    cms[p.signature.data - cms + 10] ^= 1;
    cms[p.message_digest.data - cms] ^= 1;
    cr_expect_eq(ctca_cms_precert_verify(&p, ctca_ca_get0_cert(ca)), CTCA_ERR_SIG_INVALID, "md");
    cms[p.message_digest.data - cms] ^= 1;
    cr_expect_eq(ctca_cms_precert_verify(&p, ctca_ca_get0_cert(ca)), CTCA_OK);

    /* Another CA (same subject, other key) did not sign it. */
    char *other_dir = tca_path(dir, "other");
    cr_assert_eq(mkdir(other_dir, 0700), 0);
    ctca_ca *other = tca_make_ca(other_dir, CTCA_KEY_EC_P256);
    cr_expect_eq(ctca_cms_precert_verify(&p, ctca_ca_get0_cert(other)), CTCA_ERR_ISSUER_MISMATCH);
    ctca_ca_free(other);
    free(other_dir);
    free(tbs);
    free(cms);
    ctca_ca_free(ca);
}

Test(cms, builder_refuses_p384_cas_and_tbs_it_must_not_wrap)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P384);
    uint8_t *tbs = NULL, *cms = NULL;
    size_t tbs_len = 0, cms_len = 0;
    tca_v2_tbs(ca, dir, "leaf", &tbs, &tbs_len);
    cr_expect_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(tbs, tbs_len), &cms, &cms_len),
                 CTCA_ERR_KEY_UNSUPPORTED, "ecdsa-with-SHA384 cannot pair with SHA-256 digests");
    cr_expect_null(cms);
    free(tbs);
    ctca_ca_free(ca);

    char *d2 = tca_path(dir, "p256");
    cr_assert_eq(mkdir(d2, 0700), 0);
    ca = tca_make_ca(d2, CTCA_KEY_EC_P256);
    tca_v2_tbs(ca, dir, "leaf2", &tbs, &tbs_len);
    /* With the Transparency Information extension, or the v1 poison: refused. */
    static const uint8_t ti[] = {0x30, 0x0b, 0x06, 0x03, 0x2b, 0x65, 0x4b,
                                 0x04, 0x04, 0x04, 0x02, 0x00, 0x00};
    ctca_ext_edit add_ti = {CTCA_OID_TRANSPARENCY_INFO, sizeof CTCA_OID_TRANSPARENCY_INFO,
                            ctca_view_make(ti, sizeof ti), CTCA_OK};
    uint8_t *with = NULL;
    size_t with_len = 0;
    cr_assert_eq(ctca_tbs_edit(ctca_view_make(tbs, tbs_len), ctca_view_make(NULL, 0), &add_ti, 1,
                               &with, &with_len),
                 CTCA_OK);
    cr_expect_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(with, with_len), &cms, &cms_len),
                 CTCA_ERR_CMS_MALFORMED);
    free(with);
    ctca_ext_edit add_poison = {CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON,
                                ctca_view_make(CTCA_CT_POISON_EXT, sizeof CTCA_CT_POISON_EXT),
                                CTCA_OK};
    cr_assert_eq(ctca_tbs_edit(ctca_view_make(tbs, tbs_len), ctca_view_make(NULL, 0), &add_poison,
                               1, &with, &with_len),
                 CTCA_OK);
    cr_expect_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(with, with_len), &cms, &cms_len),
                 CTCA_ERR_CMS_MALFORMED);
    free(with);
    /* Not a TBSCertificate. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    cr_expect_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(junk, sizeof junk), &cms, &cms_len),
                 CTCA_ERR_CMS_MALFORMED);
    free(tbs);
    free(d2);
    ctca_ca_free(ca);
}

/* ---- departures from the profile ----------------------------------------------- */

/* Knobs for a hand-assembled CMS precertificate made from a real one's parts. */
typedef struct knobs {
    uint64_t sd_version, si_version;
    bool two_digest_algs, with_certs, with_crls, two_signers, issuer_serial_sid;
    bool unsigned_attrs, extra_attr, unsorted_attrs, wrong_content_type, no_econtent;
    bool other_sig_alg, trailing;
} knobs;

static const uint8_t sha256_alg[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x01};

static void attr(ctca_builder *b, const uint8_t *oid, size_t oid_len, uint8_t tag,
                 ctca_view value)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, oid, oid_len);
    ctca_builder_open_der(b, CTCA_DER_SET);
    ctca_builder_add_der(b, tag, value.data, value.len);
    ctca_builder_close(b);
    ctca_builder_close(b);
}

static void assemble(const ctca_cms_precert *p, const knobs *k, uint8_t **out, size_t *out_len)
{
    static const uint8_t oid_sd[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
    static const uint8_t oid_tbs[] = {0x2b, 0x65, 0x4e}, oid_data[] = {0x2a, 0x86, 0x48, 0x86,
                                                                        0xf7, 0x0d, 0x01, 0x07,
                                                                        0x01};
    static const uint8_t oid_ct[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03};
    static const uint8_t oid_md[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04};
    static const uint8_t oid_time[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05};
    static const uint8_t alg384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
                                     0x03, 0x03};
    ctca_builder b;
    ctca_builder_init(&b, 1 << 20);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, oid_sd, sizeof oid_sd);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_u64(&b, k->sd_version);
    ctca_builder_open_der(&b, CTCA_DER_SET);
    ctca_builder_add_bytes(&b, sha256_alg, sizeof sha256_alg);
    if (k->two_digest_algs)
        ctca_builder_add_bytes(&b, alg384, sizeof alg384);
    ctca_builder_close(&b);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    if (k->wrong_content_type)
        ctca_builder_add_der_oid(&b, oid_data, sizeof oid_data);
    else
        ctca_builder_add_der_oid(&b, oid_tbs, sizeof oid_tbs);
    if (!k->no_econtent) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, p->tbs.data, p->tbs.len);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    if (k->with_certs)
        ctca_builder_add_der(&b, CTCA_DER_CTX_C(0), NULL, 0);
    if (k->with_crls)
        ctca_builder_add_der(&b, CTCA_DER_CTX_C(1), NULL, 0);
    ctca_builder_open_der(&b, CTCA_DER_SET);
    for (int s = 0; s < (k->two_signers ? 2 : 1); s++) {
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_u64(&b, k->si_version);
        if (k->issuer_serial_sid) {
            ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
            ctca_builder_add_der(&b, CTCA_DER_SEQUENCE, NULL, 0);
            ctca_builder_add_der_u64(&b, 1);
            ctca_builder_close(&b);
        } else {
            ctca_builder_add_der(&b, CTCA_DER_CTX(0), p->signer_key_id.data,
                                 p->signer_key_id.len);
        }
        ctca_builder_add_bytes(&b, sha256_alg, sizeof sha256_alg);
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        if (k->unsorted_attrs)
            attr(&b, oid_md, sizeof oid_md, CTCA_DER_OCTET_STRING, p->message_digest);
        attr(&b, oid_ct, sizeof oid_ct, CTCA_DER_OID, ctca_view_make(oid_tbs, sizeof oid_tbs));
        if (!k->unsorted_attrs)
            attr(&b, oid_md, sizeof oid_md, CTCA_DER_OCTET_STRING, p->message_digest);
        if (k->extra_attr)
            attr(&b, oid_time, sizeof oid_time, CTCA_DER_UTC_TIME,
                 ctca_view_make((const uint8_t *)"260101000000Z", 13));
        ctca_builder_close(&b);
        if (k->other_sig_alg)
            ctca_builder_add_bytes(&b, alg384, sizeof alg384);
        else
            ctca_builder_add_view(&b, p->sig_alg);
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, p->signature.data, p->signature.len);
        if (k->unsigned_attrs)
            ctca_builder_add_der(&b, CTCA_DER_CTX_C(1), NULL, 0);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    if (k->trailing)
        ctca_builder_add_u8(&b, 0);
    cr_assert_eq(ctca_builder_finish(&b, out, out_len), CTCA_OK);
}

Test(cms, every_departure_from_the_profile_is_refused)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    uint8_t *tbs = NULL, *cms = NULL;
    size_t tbs_len = 0, cms_len = 0;
    build(ca, &tbs, &tbs_len, &cms, &cms_len);
    ctca_cms_precert p;
    cr_assert_eq(ctca_cms_precert_parse(ctca_view_make(cms, cms_len), &p), CTCA_OK);

    const knobs base = {.sd_version = 3, .si_version = 3};
    /* The assembler itself reproduces the builder's bytes. */
    uint8_t *re = NULL;
    size_t re_len = 0;
    assemble(&p, &base, &re, &re_len);
    cr_assert(re_len == cms_len && memcmp(re, cms, cms_len) == 0, "assembler is faithful");
    free(re);

    static const struct {
        const char *name;
        knobs k;
        ctca_err want;
    } cases[] = {
        {"SignedData v1", {.sd_version = 1, .si_version = 3}, CTCA_ERR_CMS_MALFORMED},
        {"SignerInfo v1", {.sd_version = 3, .si_version = 1}, CTCA_ERR_CMS_MALFORMED},
        {"two digest algorithms", {3, 3, .two_digest_algs = true}, CTCA_ERR_CMS_MALFORMED},
        {"certificates present", {3, 3, .with_certs = true}, CTCA_ERR_CMS_MALFORMED},
        {"crls present", {3, 3, .with_crls = true}, CTCA_ERR_CMS_MALFORMED},
        {"two signers", {3, 3, .two_signers = true}, CTCA_ERR_CMS_MALFORMED},
        {"issuerAndSerialNumber sid", {3, 3, .issuer_serial_sid = true}, CTCA_ERR_CMS_MALFORMED},
        {"unsigned attributes", {3, 3, .unsigned_attrs = true}, CTCA_ERR_CMS_MALFORMED},
        {"a third signed attribute", {3, 3, .extra_attr = true}, CTCA_ERR_CMS_MALFORMED},
        {"signed attributes out of DER order", {3, 3, .unsorted_attrs = true},
         CTCA_ERR_CMS_MALFORMED},
        {"id-data content", {3, 3, .wrong_content_type = true}, CTCA_ERR_CMS_MALFORMED},
        {"detached content", {3, 3, .no_econtent = true}, CTCA_ERR_CMS_MALFORMED},
        {"signature algorithm not the TBS's", {3, 3, .other_sig_alg = true},
         CTCA_ERR_SIG_ALG_MISMATCH},
        {"trailing byte", {3, 3, .trailing = true}, CTCA_ERR_TRAILING_DATA},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *bad = NULL;
        size_t bad_len = 0;
        assemble(&p, &cases[i].k, &bad, &bad_len);
        ctca_cms_precert q;
        ctca_err rc = ctca_cms_precert_parse(ctca_view_make(bad, bad_len), &q);
        cr_expect_eq(rc, cases[i].want, "%s: got %s", cases[i].name, ctca_err_name(rc));
        cr_expect_null(q.tbs.data, "%s: zeroed", cases[i].name);
        free(bad);
    }
    /* Truncated anywhere: a DER error, never a crash. */
    for (size_t n = 0; n < cms_len; n += 7) {
        ctca_cms_precert q;
        cr_expect_neq(ctca_cms_precert_parse(ctca_view_make(cms, n), &q), CTCA_OK, "%zu bytes", n);
    }
    free(tbs);
    free(cms);
    ctca_ca_free(ca);
}
