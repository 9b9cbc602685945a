/* ctca_tbs_replace_ext / ctca_tbs_edit: replace in place, remove (dropping an
 * emptied [3] field), absent, duplicate, append, issuer swap; and that untouched
 * fields come out byte for byte. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "tests/helpers.h"

#define CT "certificate-transparency/"
#define NONE ctca_view_make(NULL, 0)

static uint8_t *up_pem(const char *rel, size_t *len)
{
    char *p = th_upstream(rel);
    uint8_t *d = th_read_pem_der(p, len);
    free(p);
    return d;
}

static uint8_t *g_pre, *g_fin;
static size_t g_pre_len, g_fin_len;
static ctca_cert_parts g_pre_parts, g_fin_parts;
static ctca_tbs_fields g_pre_f, g_fin_f;

static void setup(void)
{
    g_pre = up_pem(CT "test-embedded-pre-cert.pem", &g_pre_len);
    g_fin = up_pem(CT "test-embedded-cert.pem", &g_fin_len);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(g_pre, g_pre_len), &g_pre_parts,
                                          &g_pre_f),
                 CTCA_OK);
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(g_fin, g_fin_len), &g_fin_parts,
                                          &g_fin_f),
                 CTCA_OK);
}

static void teardown(void)
{
    free(g_pre);
    free(g_fin);
}

static ctca_ext find(const ctca_tbs_fields *f, const uint8_t *oid, size_t n)
{
    ctca_ext e;
    bool found;
    cr_assert_eq(ctca_ext_find(f->ext_list, oid, n, &e, &found), CTCA_OK);
    cr_assert(found);
    return e;
}

/* A TBS like the precert's but with the given extensions list contents. */
static ctca_view tbs_with_exts(const ctca_view *exts, size_t n)
{
    ctca_builder b;
    ctca_builder_init(&b, 1 << 20);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_view(&b, g_pre_f.version);
    ctca_builder_add_view(&b, g_pre_f.serial);
    ctca_builder_add_view(&b, g_pre_f.signature);
    ctca_builder_add_view(&b, g_pre_f.issuer);
    ctca_builder_add_view(&b, g_pre_f.validity);
    ctca_builder_add_view(&b, g_pre_f.subject);
    ctca_builder_add_view(&b, g_pre_f.spki);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(3));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    for (size_t i = 0; i < n; i++)
        ctca_builder_add_view(&b, exts[i]);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    uint8_t *out;
    size_t len;
    cr_assert_eq(ctca_builder_finish(&b, &out, &len), CTCA_OK);
    return ctca_view_make(out, len);
}

TestSuite(x509, .init = setup, .fini = teardown);

Test(x509, split_and_parse_find_every_field_of_the_upstream_precert)
{
    cr_expect_eq(g_pre_f.version_num, 2);
    cr_expect_eq(g_pre_f.serial.data[0], CTCA_DER_INTEGER);
    cr_expect_eq(g_pre_f.issuer_uid.len, 0);
    cr_expect_eq(g_pre_f.subject_uid.len, 0);
    cr_expect_eq(g_pre_f.extensions.data[0], CTCA_DER_CTX_C(3));
    /* The fields tile the TBS contents exactly. */
    size_t sum = g_pre_f.version.len + g_pre_f.serial.len + g_pre_f.signature.len +
                 g_pre_f.issuer.len + g_pre_f.validity.len + g_pre_f.subject.len +
                 g_pre_f.spki.len + g_pre_f.extensions.len;
    ctca_view v = g_pre_parts.tbs, body;
    cr_assert_eq(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body), CTCA_OK);
    cr_expect_eq(sum, body.len);
    /* The poison is the exact RFC 6962 encoding and the last extension. */
    ctca_ext p = find(&g_pre_f, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON);
    cr_expect(ctca_view_eq(p.element, ctca_view_make(CTCA_CT_POISON_EXT,
                                                     sizeof CTCA_CT_POISON_EXT)));
    cr_expect(ctca_ext_is_valid_poison(&p));
    cr_expect_eq(p.element.data + p.element.len, g_pre_f.ext_list.data + g_pre_f.ext_list.len);
}

Test(x509, replacing_the_poison_by_the_sct_list_in_place_gives_the_final_tbs)
{
    ctca_ext sct = find(&g_fin_f, CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST);
    uint8_t *out = NULL;
    size_t len;
    cr_assert_eq(ctca_tbs_replace_ext(g_pre_parts.tbs, CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, sct.element,
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_OK);
    cr_expect(ctca_view_eq(ctca_view_make(out, len), g_fin_parts.tbs),
              "precert TBS with poison -> SCT list must equal the final TBS byte for byte");
    free(out);
}

Test(x509, removing_from_precert_and_final_gives_the_same_tbs)
{
    uint8_t *a = NULL, *b = NULL;
    size_t al, bl;
    cr_assert_eq(ctca_tbs_replace_ext(g_pre_parts.tbs, CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, NONE, CTCA_ERR_NOT_PRECERT, &a,
                                      &al),
                 CTCA_OK);
    cr_assert_eq(ctca_tbs_replace_ext(g_fin_parts.tbs, CTCA_OID_CT_SCT_LIST,
                                      sizeof CTCA_OID_CT_SCT_LIST, NONE, CTCA_ERR_NO_SCT_LIST, &b,
                                      &bl),
                 CTCA_OK);
    cr_expect_eq(al, 567);
    cr_expect(ctca_view_eq(ctca_view_make(a, al), ctca_view_make(b, bl)));
    free(a);
    free(b);
}

Test(x509, absent_extension_returns_if_absent_or_an_unchanged_copy)
{
    uint8_t *out = NULL;
    size_t len;
    cr_expect_eq(ctca_tbs_replace_ext(g_fin_parts.tbs, CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, NONE, CTCA_ERR_NOT_PRECERT, &out,
                                      &len),
                 CTCA_ERR_NOT_PRECERT);
    cr_expect_null(out);
    cr_assert_eq(ctca_tbs_replace_ext(g_fin_parts.tbs, CTCA_OID_EKU, sizeof CTCA_OID_EKU,
                                      ctca_view_make(CTCA_CT_POISON_EXT,
                                                     sizeof CTCA_CT_POISON_EXT),
                                      CTCA_OK, &out, &len),
                 CTCA_OK);
    cr_expect(ctca_view_eq(ctca_view_make(out, len), g_fin_parts.tbs));
    free(out);
}

Test(x509, duplicated_extension_is_refused_by_every_entry_point)
{
    ctca_ext ski = find(&g_pre_f, CTCA_OID_SKI, sizeof CTCA_OID_SKI);
    ctca_ext poison = find(&g_pre_f, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON);
    ctca_view exts[] = {ski.element, poison.element, ski.element};
    ctca_view tbs = tbs_with_exts(exts, 3);
    uint8_t *out = NULL;
    size_t len;
    ctca_tbs_fields f;
    cr_expect_eq(ctca_tbs_parse(tbs, &f), CTCA_ERR_EXT_DUPLICATE);
    cr_expect_eq(ctca_tbs_replace_ext(tbs, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON, NONE,
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_ERR_EXT_DUPLICATE);
    cr_expect_eq(ctca_tbs_replace_ext(tbs, CTCA_OID_SKI, sizeof CTCA_OID_SKI, NONE,
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_ERR_EXT_DUPLICATE);
    /* ctca_ext_find alone (on an unchecked list) also refuses a repeat. */
    ctca_view list = tbs, body, ext3, seq;
    cr_assert_eq(ctca_der_get(&list, CTCA_DER_SEQUENCE, &body), CTCA_OK);
    while (!ctca_der_peek(body, CTCA_DER_CTX_C(3))) {
        uint8_t t;
        ctca_view c;
        cr_assert_eq(ctca_der_get_any(&body, &t, &c, NULL), CTCA_OK);
    }
    cr_assert_eq(ctca_der_get(&body, CTCA_DER_CTX_C(3), &ext3), CTCA_OK);
    cr_assert_eq(ctca_der_get(&ext3, CTCA_DER_SEQUENCE, &seq), CTCA_OK);
    ctca_ext e;
    bool found;
    cr_expect_eq(ctca_ext_find(seq, CTCA_OID_SKI, sizeof CTCA_OID_SKI, &e, &found),
                 CTCA_ERR_EXT_DUPLICATE);
    free((void *)tbs.data);

    /* An edit that would create a duplicate is refused too. */
    cr_expect_eq(ctca_tbs_replace_ext(g_pre_parts.tbs, CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, ski.element,
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_ERR_EXT_DUPLICATE);
}

Test(x509, removing_the_only_extension_drops_the_extensions_field)
{
    ctca_view exts[] = {ctca_view_make(CTCA_CT_POISON_EXT, sizeof CTCA_CT_POISON_EXT)};
    ctca_view tbs = tbs_with_exts(exts, 1);
    uint8_t *out = NULL;
    size_t len;
    cr_assert_eq(ctca_tbs_replace_ext(tbs, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON, NONE,
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_OK);
    ctca_tbs_fields f;
    cr_assert_eq(ctca_tbs_parse(ctca_view_make(out, len), &f), CTCA_OK);
    cr_expect_eq(f.extensions.len, 0);
    cr_expect_eq(f.ext_list.len, 0);
    cr_expect_eq(f.version_num, 2);
    cr_expect(ctca_view_eq(f.spki, g_pre_f.spki));
    /* Exactly the TBS minus the 4+2+21 bytes of [3] { SEQUENCE { poison } }. */
    cr_expect_eq(len + 2 + 2 + 21, tbs.len);
    free(out);
    free((void *)tbs.data);
}

Test(x509, malformed_replacement_is_refused)
{
    uint8_t bad[sizeof CTCA_CT_POISON_EXT + 1];
    memcpy(bad, CTCA_CT_POISON_EXT, sizeof CTCA_CT_POISON_EXT);
    bad[sizeof CTCA_CT_POISON_EXT] = 0;
    uint8_t *out = NULL;
    size_t len;
    cr_expect_eq(ctca_tbs_replace_ext(g_pre_parts.tbs, CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, ctca_view_make(bad, sizeof bad),
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_ERR_TRAILING_DATA);
    cr_expect_eq(ctca_tbs_replace_ext(g_pre_parts.tbs, CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, ctca_view_make(bad, 5),
                                      CTCA_ERR_NOT_PRECERT, &out, &len),
                 CTCA_ERR_TRUNCATED);
    cr_expect_null(out);
}

Test(x509, edit_appends_when_absent_and_swaps_the_issuer)
{
    ctca_ext sct = find(&g_fin_f, CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST);
    ctca_ext_edit edits[] = {
        {CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON, NONE, CTCA_ERR_NOT_PRECERT},
        {CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST, sct.element, CTCA_OK},
    };
    uint8_t *out = NULL;
    size_t len;
    /* Remove the poison and append the SCT list: the final TBS again. */
    cr_assert_eq(ctca_tbs_edit(g_pre_parts.tbs, NONE, edits, 2, &out, &len), CTCA_OK);
    cr_expect(ctca_view_eq(ctca_view_make(out, len), g_fin_parts.tbs));
    free(out);
    /* A required extension that is absent. */
    edits[1].if_absent = CTCA_ERR_NO_SCT_LIST;
    cr_expect_eq(ctca_tbs_edit(g_pre_parts.tbs, NONE, edits, 2, &out, &len),
                 CTCA_ERR_NO_SCT_LIST);
    /* Two edits of one extension are a caller bug. */
    ctca_ext_edit twice[] = {edits[0], edits[0]};
    cr_expect_eq(ctca_tbs_edit(g_pre_parts.tbs, NONE, twice, 2, &out, &len), CTCA_ERR_INTERNAL);
    /* Issuer swap: the subject as issuer; everything else unchanged. */
    cr_assert_eq(ctca_tbs_edit(g_pre_parts.tbs, g_pre_f.subject, NULL, 0, &out, &len), CTCA_OK);
    ctca_tbs_fields f;
    cr_assert_eq(ctca_tbs_parse(ctca_view_make(out, len), &f), CTCA_OK);
    cr_expect(ctca_view_eq(f.issuer, g_pre_f.subject));
    cr_expect(ctca_view_eq(f.ext_list, g_pre_f.ext_list));
    cr_expect(ctca_view_eq(f.validity, g_pre_f.validity));
    free(out);
    /* An issuer that is not a Name SEQUENCE. */
    static const uint8_t not_name[] = {0x04, 0x00};
    cr_expect_eq(ctca_tbs_edit(g_pre_parts.tbs, ctca_view_make(not_name, 2), NULL, 0, &out, &len),
                 CTCA_ERR_DER_TAG);
}

Test(x509, cert_split_refuses_bad_framing)
{
    ctca_cert_parts p;
    uint8_t buf[2048];
    cr_assert_lt(g_pre_len, sizeof buf);
    memcpy(buf, g_pre, g_pre_len);
    buf[g_pre_len] = 0;
    cr_expect_eq(ctca_cert_split(ctca_view_make(buf, g_pre_len + 1), &p), CTCA_ERR_TRAILING_DATA);
    cr_expect_eq(ctca_cert_split(ctca_view_make(buf, g_pre_len - 1), &p), CTCA_ERR_TRUNCATED);
    /* A TBS alone is not a Certificate (its first child is [0], not a SEQUENCE). */
    cr_expect_eq(ctca_cert_split(g_pre_parts.tbs, &p), CTCA_ERR_DER_TAG);
}
