/* SCT and SCT-list codec: byte-exact round trips of the upstream proofs and of
 * the lists embedded in the upstream final certificates, and a table of
 * malformed inputs each refused with its exact error code. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/sct.h"
#include "tests/helpers.h"

static const char *const proofs[] = {
    "certificate-transparency/test-cert.proof",
    "certificate-transparency/rsa/test-cert-rsa.proof",
    "certificate-transparency/test-intermediate-cert.proof",
    "certificate-transparency/test-embedded-pre-cert.proof",
    "certificate-transparency/rsa/test-embedded-pre-cert-rsa.proof",
    "certificate-transparency/test-embedded-with-preca-pre-cert.proof",
    "certificate-transparency/test-embedded-with-intermediate-pre-cert.proof",
    "certificate-transparency/test-embedded-with-intermediate-preca-pre-cert.proof",
};

static const char *const finals[][2] = {
    {"certificate-transparency/test-embedded-cert.pem",
     "certificate-transparency/test-embedded-pre-cert.proof"},
    {"certificate-transparency/test-embedded-with-preca-cert.pem",
     "certificate-transparency/test-embedded-with-preca-pre-cert.proof"},
    {"certificate-transparency/test-embedded-with-intermediate-cert.pem",
     "certificate-transparency/test-embedded-with-intermediate-pre-cert.proof"},
    {"certificate-transparency/test-embedded-with-intermediate-preca-cert.pem",
     "certificate-transparency/test-embedded-with-intermediate-preca-pre-cert.proof"},
};

static uint8_t *read_upstream(const char *rel, size_t *len)
{
    char *path = th_upstream(rel);
    uint8_t *d = th_read_file(path, len);
    free(path);
    return d;
}

static uint8_t *read_upstream_pem(const char *rel, size_t *len)
{
    char *path = th_upstream(rel);
    uint8_t *d = th_read_pem_der(path, len);
    free(path);
    return d;
}

Test(sct_codec, every_upstream_proof_round_trips_byte_exact)
{
    for (size_t i = 0; i < sizeof proofs / sizeof proofs[0]; i++) {
        size_t len, out_len;
        uint8_t *in = read_upstream(proofs[i], &len), *out = NULL;
        ctca_sct sct;
        cr_assert_eq(ctca_sct_parse(ctca_view_make(in, len), &sct), CTCA_OK, "%s", proofs[i]);
        cr_expect_eq(sct.version, 0);
        cr_expect_eq(sct.extensions_len, 0, "upstream proofs carry no extensions");
        cr_expect_eq(sct.hash_alg, CTCA_HASH_SHA256);
        cr_assert_eq(ctca_sct_serialize(&sct, &out, &out_len), CTCA_OK);
        cr_expect_eq(out_len, len, "%s", proofs[i]);
        cr_expect(memcmp(out, in, len) == 0, "%s re-encodes differently", proofs[i]);
        ctca_sct_cleanup(&sct);
        free(out);
        free(in);
    }
}

Test(sct_codec, parsed_fields_match_the_readme)
{
    size_t len;
    uint8_t *in = read_upstream("certificate-transparency/test-embedded-pre-cert.proof", &len);
    ctca_sct sct;
    cr_assert_eq(ctca_sct_parse(ctca_view_make(in, len), &sct), CTCA_OK);
    cr_expect_eq(sct.timestamp, 1365181456275ull);
    cr_expect_eq(sct.sig_alg, CTCA_SIGALG_ECDSA);
    cr_expect_eq(sct.log_id[0], 0xdf);
    cr_expect_eq(sct.log_id[31], 0x64);
    cr_expect_eq(sct.signature_len, len - 47);
    ctca_sct_cleanup(&sct);
    ctca_sct_cleanup(&sct); /* cleanup of a zeroed SCT is allowed */
    free(in);
}

Test(sct_codec, lists_embedded_in_final_certs_round_trip_and_hold_the_proof)
{
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        size_t cert_len, proof_len, out_len;
        uint8_t *cert = read_upstream_pem(finals[i][0], &cert_len);
        uint8_t *proof = read_upstream(finals[i][1], &proof_len), *out = NULL;
        ctca_cert_parts parts;
        ctca_tbs_fields f;
        ctca_ext ext;
        bool found;
        cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(cert, cert_len), &parts, &f),
                     CTCA_OK);
        cr_assert_eq(ctca_ext_find(f.ext_list, CTCA_OID_CT_SCT_LIST,
                                   sizeof CTCA_OID_CT_SCT_LIST, &ext, &found),
                     CTCA_OK);
        cr_assert(found);
        cr_expect_not(ext.critical);
        ctca_view v = ext.value, raw_list;
        cr_assert_eq(ctca_der_get(&v, CTCA_DER_OCTET_STRING, &raw_list), CTCA_OK);

        ctca_sct_list list;
        cr_assert_eq(ctca_sct_list_parse(raw_list, &list), CTCA_OK, "%s", finals[i][0]);
        cr_assert_eq(list.n, 1);
        cr_assert_eq(ctca_sct_list_serialize(list.scts, list.n, &out, &out_len), CTCA_OK);
        cr_expect(ctca_view_eq(ctca_view_make(out, out_len), raw_list), "%s", finals[i][0]);
        /* The list is u16 total, u16 per SCT, then exactly the proof's bytes. */
        cr_expect_eq(raw_list.len, proof_len + 4);
        cr_expect(memcmp(raw_list.data + 4, proof, proof_len) == 0, "%s", finals[i][0]);

        ctca_sct_list via_api;
        cr_assert_eq(ctca_cert_get_sct_list(ctca_view_make(cert, cert_len), &via_api), CTCA_OK);
        cr_expect_eq(via_api.n, 1);
        cr_expect_eq(via_api.scts[0].timestamp, list.scts[0].timestamp);
        ctca_sct_list_cleanup(&via_api);
        ctca_sct_list_cleanup(&list);
        free(out);
        free(proof);
        free(cert);
    }
}

Test(sct_codec, serialize_refuses_what_cannot_be_written)
{
    size_t len;
    uint8_t *in = read_upstream("certificate-transparency/test-cert.proof", &len), *out = NULL;
    size_t out_len;
    ctca_sct sct;
    cr_assert_eq(ctca_sct_parse(ctca_view_make(in, len), &sct), CTCA_OK);
    cr_expect_eq(ctca_sct_list_serialize(&sct, 0, &out, &out_len), CTCA_ERR_SCT_LIST_EMPTY);
    sct.version = 1;
    cr_expect_eq(ctca_sct_serialize(&sct, &out, &out_len), CTCA_ERR_SCT_VERSION);
    sct.version = 0;
    ctca_sct many[CTCA_SCT_LIST_MAX + 1];
    for (size_t i = 0; i < CTCA_SCT_LIST_MAX + 1; i++)
        many[i] = sct;
    cr_expect_eq(ctca_sct_list_serialize(many, CTCA_SCT_LIST_MAX + 1, &out, &out_len),
                 CTCA_ERR_SCT_LIST_TOO_LONG);
    cr_assert_eq(ctca_sct_list_serialize(many, CTCA_SCT_LIST_MAX, &out, &out_len), CTCA_OK);
    ctca_sct_list list;
    cr_expect_eq(ctca_sct_list_parse(ctca_view_make(out, out_len), &list), CTCA_OK);
    cr_expect_eq(list.n, CTCA_SCT_LIST_MAX);
    ctca_sct_list_cleanup(&list);
    free(out);
    ctca_sct_cleanup(&sct);
    free(in);
}

/* ---- malformed inputs ----------------------------------------------------- */

/* Offsets in a v1 SCT with empty extensions. */
enum {
    OFF_LOG_ID = 1,
    OFF_TS = 33,
    OFF_EXT_LEN = 41,
    OFF_HASH = 43,
    OFF_SIG_ALG = 44,
    OFF_SIG_LEN = 45,
    OFF_SIG = 47
};

typedef enum { AS_SCT, AS_LIST } parse_as;

typedef struct mcase {
    const char *name;
    parse_as as;
    ctca_err want;
    uint8_t buf[9000];
    size_t len;
} mcase;

static uint8_t *g_sct;
static size_t g_sct_len;

static void sct_variant(mcase *c, const char *name, size_t len, ctca_err want)
{
    c->name = name;
    c->as = AS_SCT;
    c->want = want;
    cr_assert(len <= sizeof c->buf);
    memset(c->buf, 0, sizeof c->buf);
    memcpy(c->buf, g_sct, len < g_sct_len ? len : g_sct_len);
    c->len = len;
}

/* A list of count copies of the SCT, with the given outer and per-SCT lengths
 * (SIZE_MAX: the correct value). */
static void list_variant(mcase *c, const char *name, size_t count, size_t outer, size_t each,
                         ctca_err want)
{
    c->name = name;
    c->as = AS_LIST;
    c->want = want;
    size_t body = count * (2 + g_sct_len);
    cr_assert(2 + body <= sizeof c->buf);
    size_t o = outer == SIZE_MAX ? body : outer, e = each == SIZE_MAX ? g_sct_len : each;
    c->buf[0] = (uint8_t)(o >> 8);
    c->buf[1] = (uint8_t)o;
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = c->buf + 2 + i * (2 + g_sct_len);
        p[0] = (uint8_t)(e >> 8);
        p[1] = (uint8_t)e;
        memcpy(p + 2, g_sct, g_sct_len);
    }
    c->len = 2 + body;
}

Test(sct_codec, malformed_scts_and_lists_are_refused_with_exact_codes)
{
    g_sct = read_upstream("certificate-transparency/test-embedded-pre-cert.proof", &g_sct_len);
    cr_assert_eq(g_sct_len, 118);
    static mcase cs[64];
    size_t n = 0;

    /* Truncated at every field boundary and inside each field. */
    sct_variant(&cs[n++], "empty", 0, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "only the version", OFF_LOG_ID, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "inside the log ID", 20, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "after the log ID", OFF_TS, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "inside the timestamp", OFF_TS + 4, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "after the timestamp", OFF_EXT_LEN, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "inside the extensions length", OFF_EXT_LEN + 1, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "after the extensions", OFF_HASH, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "after the hash algorithm", OFF_SIG_ALG, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "after the signature algorithm", OFF_SIG_LEN, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "inside the signature length", OFF_SIG_LEN + 1, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "after the signature length", OFF_SIG, CTCA_ERR_TRUNCATED);
    sct_variant(&cs[n++], "one byte of signature short", 117, CTCA_ERR_TRUNCATED);
    /* Over-long and wrong lengths. */
    sct_variant(&cs[n++], "one trailing byte", 119, CTCA_ERR_TRAILING_DATA);
    sct_variant(&cs[n], "signature length one too big", 118, CTCA_ERR_TRUNCATED);
    cs[n++].buf[OFF_SIG_LEN + 1]++;
    sct_variant(&cs[n], "signature length one too small", 118, CTCA_ERR_TRAILING_DATA);
    cs[n++].buf[OFF_SIG_LEN + 1]--;
    sct_variant(&cs[n], "extensions length 1 with no extension", 118, CTCA_ERR_TRUNCATED);
    cs[n++].buf[OFF_EXT_LEN + 1] = 1;
    sct_variant(&cs[n], "extensions length 0xffff", 118, CTCA_ERR_TRUNCATED);
    cs[n].buf[OFF_EXT_LEN] = 0xff;
    cs[n++].buf[OFF_EXT_LEN + 1] = 0xff;
    sct_variant(&cs[n], "signature length 0xffff", 118, CTCA_ERR_TRUNCATED);
    cs[n].buf[OFF_SIG_LEN] = 0xff;
    cs[n++].buf[OFF_SIG_LEN + 1] = 0xff;
    /* Versions. */
    sct_variant(&cs[n], "version 1 (v2 is not a v1 SCT)", 118, CTCA_ERR_SCT_VERSION);
    cs[n++].buf[0] = 1;
    sct_variant(&cs[n], "version 255", 118, CTCA_ERR_SCT_VERSION);
    cs[n++].buf[0] = 0xff;
    sct_variant(&cs[n], "version 1 alone", 1, CTCA_ERR_SCT_VERSION);
    cs[n++].buf[0] = 1;

    /* Lists. */
    list_variant(&cs[n++], "well-formed list (control)", 1, SIZE_MAX, SIZE_MAX, CTCA_OK);
    list_variant(&cs[n++], "list of two (control)", 2, SIZE_MAX, SIZE_MAX, CTCA_OK);
    list_variant(&cs[n], "empty input", 0, 0, 0, CTCA_ERR_TRUNCATED);
    cs[n++].len = 0;
    list_variant(&cs[n], "one byte", 0, 0, 0, CTCA_ERR_TRUNCATED);
    cs[n++].len = 1;
    list_variant(&cs[n++], "empty list", 0, SIZE_MAX, SIZE_MAX, CTCA_ERR_SCT_LIST_EMPTY);
    list_variant(&cs[n], "empty list then a byte", 0, SIZE_MAX, SIZE_MAX,
                 CTCA_ERR_TRAILING_DATA);
    cs[n++].len = 3;
    list_variant(&cs[n++], "outer length one too big", 1, 121, SIZE_MAX, CTCA_ERR_TRUNCATED);
    list_variant(&cs[n++], "outer length one too small", 1, 119, SIZE_MAX,
                 CTCA_ERR_TRAILING_DATA);
    list_variant(&cs[n], "trailing byte after the list", 1, SIZE_MAX, SIZE_MAX,
                 CTCA_ERR_TRAILING_DATA);
    cs[n++].len++;
    list_variant(&cs[n], "per-SCT length 0", 1, 2, 0, CTCA_ERR_TLS_LENGTH_RANGE);
    cs[n++].len = 4;
    list_variant(&cs[n++], "per-SCT length one too big", 1, SIZE_MAX, 119, CTCA_ERR_TRUNCATED);
    list_variant(&cs[n++], "per-SCT length one too small", 1, SIZE_MAX, 117,
                 CTCA_ERR_TRUNCATED);
    list_variant(&cs[n], "SCT with a trailing byte inside its vector", 1, 121, 119,
                 CTCA_ERR_TRAILING_DATA);
    cs[n++].len++;
    list_variant(&cs[n], "v2 SCT inside a list", 1, SIZE_MAX, SIZE_MAX, CTCA_ERR_SCT_VERSION);
    cs[n++].buf[4] = 1;
    list_variant(&cs[n++], "more SCTs than the cap", CTCA_SCT_LIST_MAX + 1, SIZE_MAX, SIZE_MAX,
                 CTCA_ERR_SCT_LIST_TOO_LONG);
    list_variant(&cs[n], "second SCT truncated", 2, SIZE_MAX, SIZE_MAX, CTCA_ERR_TRUNCATED);
    cs[n].len--;
    cs[n].buf[1]--;
    n++;

    size_t rejected = 0;
    for (size_t i = 0; i < n; i++) {
        ctca_err got;
        if (cs[i].as == AS_SCT) {
            ctca_sct sct;
            memset(&sct, 0xa5, sizeof sct);
            got = ctca_sct_parse(ctca_view_make(cs[i].buf, cs[i].len), &sct);
            if (got != CTCA_OK)
                cr_expect(sct.signature == NULL && sct.extensions == NULL,
                          "%s: output not zeroed on failure", cs[i].name);
            ctca_sct_cleanup(&sct);
        } else {
            ctca_sct_list list;
            got = ctca_sct_list_parse(ctca_view_make(cs[i].buf, cs[i].len), &list);
            if (got != CTCA_OK)
                cr_expect(list.scts == NULL && list.n == 0, "%s: output not zeroed",
                          cs[i].name);
            ctca_sct_list_cleanup(&list);
        }
        cr_expect_eq(got, cs[i].want, "%s: got %s, want %s", cs[i].name, ctca_err_name(got),
                     ctca_err_name(cs[i].want));
        rejected += cs[i].want != CTCA_OK;
    }
    cr_expect_geq(rejected, 30);
    free(g_sct);
}
