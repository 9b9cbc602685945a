/* Precertificate TBS reconstruction and embedded-list extraction on malformed
 * certificates: each is refused with its exact code. The certificates are the
 * upstream precert with its extensions list rewritten (signature untouched:
 * nothing here checks the CA's signature). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/sct.h"
#include "ctca/util.h"
#include "tests/helpers.h"

#define CT "certificate-transparency/"

static uint8_t *up_pem(const char *rel, size_t *len)
{
    char *p = th_upstream(rel);
    uint8_t *d = th_read_pem_der(p, len);
    free(p);
    return d;
}

/* Extension elements used to build the cases. */
static const uint8_t poison[] = {0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79,
                                 0x02, 0x04, 0x03, 0x01, 0x01, 0xff, 0x04, 0x02, 0x05, 0x00};
static const uint8_t poison_noncritical[] = {0x30, 0x10, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                             0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
                                             0x04, 0x02, 0x05, 0x00};
static const uint8_t poison_explicit_false[] = {0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                                0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
                                                0x01, 0x01, 0x00, 0x04, 0x02, 0x05, 0x00};
static const uint8_t poison_int_value[] = {0x30, 0x14, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                           0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01, 0x01,
                                           0xff, 0x04, 0x03, 0x02, 0x01, 0x00};
static const uint8_t poison_null_trailing[] = {0x30, 0x14, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                               0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
                                               0x01, 0x01, 0xff, 0x04, 0x03, 0x05, 0x00,
                                               0x00};
/* The same poison with a non-minimal (long-form) outer length. */
static const uint8_t poison_nonminimal[] = {0x30, 0x81, 0x13, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                            0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01,
                                            0x01, 0xff, 0x04, 0x02, 0x05, 0x00};
static const uint8_t poison_indefinite[] = {0x30, 0x80, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                            0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01, 0x01,
                                            0xff, 0x04, 0x02, 0x05, 0x00, 0x00, 0x00};
/* An SCT-list extension holding a one-byte "list" (its contents do not matter
 * where the cases stop earlier). */
static const uint8_t sct_list_junk[] = {0x30, 0x11, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                        0xd6, 0x79, 0x02, 0x04, 0x02, 0x04, 0x03, 0x04, 0x01,
                                        0x00};
/* SCT-list extnValue whose inner OCTET STRING is followed by a byte. */
static const uint8_t sct_list_trailing[] = {0x30, 0x14, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                            0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
                                            0x04, 0x06, 0x04, 0x03, 0x00, 0x01, 0x00,
                                            0x00};
/* SCT-list extnValue that is an INTEGER, not an OCTET STRING. */
static const uint8_t sct_list_not_octets[] = {0x30, 0x11, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                              0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
                                              0x04, 0x03, 0x02, 0x01, 0x00};
/* SCT-list whose inner list is empty (00 00). */
static const uint8_t sct_list_empty[] = {0x30, 0x12, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                         0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
                                         0x04, 0x04, 0x04, 0x02, 0x00, 0x00};

/* The upstream precert, split once. */
static uint8_t *g_pre;
static size_t g_pre_len;
static ctca_cert_parts g_parts;
static ctca_tbs_fields g_f;

static void setup(void)
{
    g_pre = up_pem(CT "test-embedded-pre-cert.pem", &g_pre_len);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(g_pre, g_pre_len), &g_parts, &g_f),
                 CTCA_OK);
}

static void teardown(void)
{
    free(g_pre);
}

/* The precert with its extensions list contents replaced by the concatenation
 * of exts (ending at a NULL data), and an optional version element override. */
static ctca_view make_cert(ctca_view version, const ctca_view *exts, bool drop_ext_field)
{
    ctca_builder b;
    ctca_builder_init(&b, 1 << 20);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_view(&b, version.data != NULL ? version : g_f.version);
    ctca_builder_add_view(&b, g_f.serial);
    ctca_builder_add_view(&b, g_f.signature);
    ctca_builder_add_view(&b, g_f.issuer);
    ctca_builder_add_view(&b, g_f.validity);
    ctca_builder_add_view(&b, g_f.subject);
    ctca_builder_add_view(&b, g_f.spki);
    if (!drop_ext_field) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(3));
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        for (size_t i = 0; exts[i].data != NULL; i++)
            ctca_builder_add_view(&b, exts[i]);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    ctca_builder_add_view(&b, g_parts.sig_alg);
    ctca_builder_add_der_bit_string(&b, g_parts.signature.data, g_parts.signature.len);
    ctca_builder_close(&b);
    uint8_t *out;
    size_t len;
    cr_assert_eq(ctca_builder_finish(&b, &out, &len), CTCA_OK);
    return ctca_view_make(out, len);
}

/* The precert's own extensions other than the poison (SKI, AKI, BC). */
static size_t own_exts(ctca_view *out)
{
    ctca_view list = g_f.ext_list;
    size_t n = 0;
    while (list.len > 0) {
        ctca_ext e;
        cr_assert_eq(ctca_ext_next(&list, &e), CTCA_OK);
        if (!ctca_oid_eq(e.oid, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON))
            out[n++] = e.element;
    }
    return n;
}

#define V(a) ctca_view_make(a, sizeof a)
#define NONE ctca_view_make(NULL, 0)

typedef enum { FROM_PRECERT, FROM_FINAL, GET_LIST } op;

typedef struct ccase {
    const char *name;
    op what;
    ctca_view extra[4]; /* appended after SKI, AKI, BC */
    ctca_err want;
} ccase;

static ctca_err run(op what, ctca_view cert)
{
    uint8_t *tbs = NULL;
    size_t len;
    ctca_err rc;
    ctca_sct_list list;
    switch (what) {
    case FROM_PRECERT:
        rc = ctca_precert_tbs_from_precert(cert, &tbs, &len);
        break;
    case FROM_FINAL:
        rc = ctca_precert_tbs_from_final(cert, &tbs, &len);
        break;
    default:
        rc = ctca_cert_get_sct_list(cert, &list);
        ctca_sct_list_cleanup(&list);
        break;
    }
    free(tbs);
    return rc;
}

Test(precert, malformed_certificates_are_refused_with_exact_codes, .init = setup,
     .fini = teardown)
{
    const ccase cases[] = {
        {"control: SKI AKI BC poison", FROM_PRECERT, {V(poison)}, CTCA_OK},
        {"no poison", FROM_PRECERT, {NONE}, CTCA_ERR_NOT_PRECERT},
        {"duplicate poison", FROM_PRECERT, {V(poison), V(poison)}, CTCA_ERR_EXT_DUPLICATE},
        {"poison and SCT list", FROM_PRECERT, {V(poison), V(sct_list_junk)},
         CTCA_ERR_POISON_AND_SCT_LIST},
        {"SCT list and poison (final path)", FROM_FINAL, {V(sct_list_junk), V(poison)},
         CTCA_ERR_POISON_AND_SCT_LIST},
        {"poison and SCT list (list path)", GET_LIST, {V(poison), V(sct_list_junk)},
         CTCA_ERR_POISON_AND_SCT_LIST},
        {"non-critical poison", FROM_PRECERT, {V(poison_noncritical)},
         CTCA_ERR_POISON_MALFORMED},
        {"poison with an INTEGER value", FROM_PRECERT, {V(poison_int_value)},
         CTCA_ERR_POISON_MALFORMED},
        {"poison NULL with a trailing byte", FROM_PRECERT, {V(poison_null_trailing)},
         CTCA_ERR_POISON_MALFORMED},
        {"critical FALSE encoded explicitly", FROM_PRECERT, {V(poison_explicit_false)},
         CTCA_ERR_CERT_MALFORMED},
        {"non-minimal length inside an extension", FROM_PRECERT, {V(poison_nonminimal)},
         CTCA_ERR_DER_LENGTH_NONMINIMAL},
        {"indefinite length inside an extension", FROM_PRECERT, {V(poison_indefinite)},
         CTCA_ERR_DER_LENGTH_INDEFINITE},
        {"final without SCT list", FROM_FINAL, {NONE}, CTCA_ERR_NO_SCT_LIST},
        {"precert has no SCT list", GET_LIST, {V(poison)}, CTCA_ERR_NO_SCT_LIST},
        {"duplicate SCT list", FROM_FINAL, {V(sct_list_junk), V(sct_list_junk)},
         CTCA_ERR_EXT_DUPLICATE},
        {"SCT list inner OCTET STRING with a trailing byte", GET_LIST, {V(sct_list_trailing)},
         CTCA_ERR_TRAILING_DATA},
        {"SCT list extnValue not an OCTET STRING", GET_LIST, {V(sct_list_not_octets)},
         CTCA_ERR_DER_TAG},
        {"embedded list empty", GET_LIST, {V(sct_list_empty)}, CTCA_ERR_SCT_LIST_EMPTY},
        {"embedded list one byte", GET_LIST, {V(sct_list_junk)}, CTCA_ERR_TRUNCATED},
    };
    ctca_view base[8];
    size_t nb = own_exts(base);
    cr_assert_eq(nb, 3);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_view exts[8];
        size_t n = 0;
        for (size_t j = 0; j < nb; j++)
            exts[n++] = base[j];
        for (size_t j = 0; j < 4 && cases[i].extra[j].data != NULL; j++)
            exts[n++] = cases[i].extra[j];
        exts[n] = NONE;
        ctca_view cert = make_cert(NONE, exts, false);
        ctca_err got = run(cases[i].what, cert);
        cr_expect_eq(got, cases[i].want, "%s: got %s, want %s", cases[i].name,
                     ctca_err_name(got), ctca_err_name(cases[i].want));
        free((void *)cert.data);
    }
}

Test(precert, malformed_certificate_framing_is_refused_with_exact_codes, .init = setup,
     .fini = teardown)
{
    uint8_t buf[4096];
    cr_assert_lt(g_pre_len + 1, sizeof buf);
    memcpy(buf, g_pre, g_pre_len);
    uint8_t *tbs = NULL;
    size_t len;
    /* Truncated, with a trailing byte, indefinite outer length. */
    cr_expect_eq(ctca_precert_tbs_from_precert(ctca_view_make(buf, g_pre_len - 1), &tbs, &len),
                 CTCA_ERR_TRUNCATED);
    buf[g_pre_len] = 0;
    cr_expect_eq(ctca_precert_tbs_from_precert(ctca_view_make(buf, g_pre_len + 1), &tbs, &len),
                 CTCA_ERR_TRAILING_DATA);
    static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
    cr_expect_eq(ctca_precert_tbs_from_precert(V(indefinite), &tbs, &len),
                 CTCA_ERR_DER_LENGTH_INDEFINITE);
    static const uint8_t not_seq[] = {0x04, 0x00};
    cr_expect_eq(ctca_precert_tbs_from_precert(V(not_seq), &tbs, &len), CTCA_ERR_DER_TAG);
    cr_expect_eq(ctca_precert_tbs_from_precert(NONE, &tbs, &len), CTCA_ERR_TRUNCATED);

    /* Extensions list present but empty (SIZE (1..MAX)). */
    ctca_view none[1] = {NONE};
    ctca_view cert = make_cert(NONE, none, false);
    cr_expect_eq(ctca_precert_tbs_from_precert(cert, &tbs, &len), CTCA_ERR_CERT_MALFORMED);
    free((void *)cert.data);

    /* Extensions in a v1 certificate; v1 written explicitly (DER omits DEFAULT); v4. */
    static const uint8_t v1[] = {0xa0, 0x03, 0x02, 0x01, 0x00};
    static const uint8_t v4[] = {0xa0, 0x03, 0x02, 0x01, 0x03};
    static const uint8_t v3_nonminimal_int[] = {0xa0, 0x04, 0x02, 0x02, 0x00, 0x02};
    ctca_view exts[5];
    size_t n = own_exts(exts);
    exts[n++] = V(poison);
    exts[n] = NONE;
    cert = make_cert(V(v1), exts, false);
    cr_expect_eq(ctca_precert_tbs_from_precert(cert, &tbs, &len), CTCA_ERR_CERT_MALFORMED);
    free((void *)cert.data);
    cert = make_cert(V(v4), exts, false);
    cr_expect_eq(ctca_precert_tbs_from_precert(cert, &tbs, &len), CTCA_ERR_CERT_MALFORMED);
    free((void *)cert.data);
    cert = make_cert(V(v3_nonminimal_int), exts, false);
    cr_expect_eq(ctca_precert_tbs_from_precert(cert, &tbs, &len), CTCA_ERR_DER_INTEGER);
    free((void *)cert.data);
    /* No extensions at all: a valid v3 certificate that is not a precert. */
    cert = make_cert(NONE, exts, true);
    cr_expect_eq(ctca_precert_tbs_from_precert(cert, &tbs, &len), CTCA_ERR_NOT_PRECERT);
    free((void *)cert.data);
}

Test(precert, preca_rewrite_swaps_issuer_and_aki_and_drops_poison)
{
    size_t pre_len, preca_len, fin_len, ca_len, tbs_len;
    uint8_t *pre = up_pem(CT "test-embedded-with-preca-pre-cert.pem", &pre_len);
    uint8_t *preca = up_pem(CT "ca-pre-cert.pem", &preca_len);
    uint8_t *fin = up_pem(CT "test-embedded-with-preca-cert.pem", &fin_len);
    uint8_t *ca = up_pem(CT "ca-cert.pem", &ca_len), *tbs = NULL;
    cr_assert_eq(ctca_precert_tbs_from_preca_precert(ctca_view_make(pre, pre_len),
                                                     ctca_view_make(preca, preca_len), &tbs,
                                                     &tbs_len),
                 CTCA_OK);
    ctca_tbs_fields got, pre_f, preca_f, fin_f, ca_f;
    ctca_cert_parts parts;
    cr_assert_eq(ctca_tbs_parse(ctca_view_make(tbs, tbs_len), &got), CTCA_OK);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(pre, pre_len), &parts, &pre_f),
                 CTCA_OK);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(preca, preca_len), &parts, &preca_f),
                 CTCA_OK);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(fin, fin_len), &parts, &fin_f),
                 CTCA_OK);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(ca, ca_len), &parts, &ca_f), CTCA_OK);
    /* The precert names the PreCA as issuer; the rewrite names the final issuer. */
    cr_expect(ctca_view_eq(pre_f.issuer, preca_f.subject));
    cr_expect(ctca_view_eq(got.issuer, preca_f.issuer));
    cr_expect(ctca_view_eq(got.issuer, ca_f.subject));
    ctca_ext got_aki, preca_aki, fin_aki, pre_aki, poison_ext;
    bool found;
    cr_assert_eq(ctca_ext_find(got.ext_list, CTCA_OID_AKI, 3, &got_aki, &found), CTCA_OK);
    cr_assert(found);
    cr_assert_eq(ctca_ext_find(preca_f.ext_list, CTCA_OID_AKI, 3, &preca_aki, &found), CTCA_OK);
    cr_assert(found);
    cr_assert_eq(ctca_ext_find(fin_f.ext_list, CTCA_OID_AKI, 3, &fin_aki, &found), CTCA_OK);
    cr_assert_eq(ctca_ext_find(pre_f.ext_list, CTCA_OID_AKI, 3, &pre_aki, &found), CTCA_OK);
    cr_expect(ctca_view_eq(got_aki.element, preca_aki.element));
    cr_expect(ctca_view_eq(got_aki.element, fin_aki.element));
    cr_expect_not(ctca_view_eq(got_aki.element, pre_aki.element));
    cr_assert_eq(ctca_ext_find(got.ext_list, CTCA_OID_CT_POISON, 10, &poison_ext, &found),
                 CTCA_OK);
    cr_expect_not(found);
    /* Using the plain reconstruction on a PreCA precert gives a different TBS. */
    uint8_t *plain = NULL;
    size_t plain_len;
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, pre_len), &plain, &plain_len),
                 CTCA_OK);
    cr_expect_not(ctca_view_eq(ctca_view_make(plain, plain_len), ctca_view_make(tbs, tbs_len)));
    /* A PreCA rewrite of a certificate that is not a precert. */
    uint8_t *t2 = NULL;
    size_t t2_len;
    cr_expect_eq(ctca_precert_tbs_from_preca_precert(ctca_view_make(fin, fin_len),
                                                     ctca_view_make(preca, preca_len), &t2,
                                                     &t2_len),
                 CTCA_ERR_NOT_PRECERT);
    /* The final issuer passed as the PreCA: it did not issue this precert. */
    cr_expect_eq(ctca_precert_tbs_from_preca_precert(ctca_view_make(pre, pre_len),
                                                     ctca_view_make(ca, ca_len), &t2, &t2_len),
                 CTCA_ERR_ISSUER_MISMATCH);
    free(plain);
    free(tbs);
    free(pre);
    free(preca);
    free(fin);
    free(ca);
}

Test(precert, issuer_check_compares_names_byte_for_byte)
{
    size_t a, b, c;
    uint8_t *cert = up_pem(CT "test-embedded-cert.pem", &a);
    uint8_t *ca = up_pem(CT "ca-cert.pem", &b);
    uint8_t *inter = up_pem(CT "intermediate-cert.pem", &c);
    cr_expect_eq(ctca_cert_check_issuer(ctca_view_make(cert, a), ctca_view_make(ca, b)), CTCA_OK);
    cr_expect_eq(ctca_cert_check_issuer(ctca_view_make(cert, a), ctca_view_make(inter, c)),
                 CTCA_ERR_ISSUER_MISMATCH);
    free(cert);
    free(ca);
    free(inter);
}

Test(precert, real_world_precerts_reconstruct_without_poison)
{
    static const char *const files[] = {
        "certificate-transparency-go/submission/hammer/testdata/precert.der",
        "certificate-transparency-go/trillian/testdata/subleaf-pre.cert",
    };
    for (size_t i = 0; i < 2; i++) {
        char *path = th_upstream(files[i]);
        uint8_t *der = NULL, *tbs = NULL;
        size_t len, tbs_len;
        ctca_errbuf eb = {{0}};
        cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &der, &len, &eb), CTCA_OK, "%s",
                     eb.msg);
        cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(der, len), &tbs, &tbs_len),
                     CTCA_OK, "%s", files[i]);
        ctca_cert_parts parts;
        ctca_tbs_fields orig, got;
        cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(der, len), &parts, &orig), CTCA_OK);
        cr_assert_eq(ctca_tbs_parse(ctca_view_make(tbs, tbs_len), &got), CTCA_OK);
        /* Exactly the poison's 21 bytes are gone (both TBSs use a 2-byte length). */
        cr_expect_eq(tbs_len + sizeof CTCA_CT_POISON_EXT, parts.tbs.len, "%s", files[i]);
        cr_expect(ctca_view_eq(got.subject, orig.subject));
        cr_expect(ctca_view_eq(got.serial, orig.serial));
        free(tbs);
        free(der);
        free(path);
    }
}
