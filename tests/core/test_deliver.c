/* Delivering stored SCTs (ctca/deliver.h): from the records of a real
 * unembedded issuance, the same bytes `ctca get` and `ctca ocsp respond`
 * delivered before the encoders moved into the library
 * (tests/data/deliver/README.md); which records are delivered, in what
 * order; the serverinfo and OCSP extension layouts byte by byte; and each
 * refusal with its exact code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/deliver.h"
#include "ctca/scheme.h"
#include "ctca/sct.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static uint8_t *data_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/deliver/%s", CTCA_SOURCE_DIR, name);
    return th_read_file(path, len);
}

static void expect_bytes(const uint8_t *got, size_t got_len, const uint8_t *want,
                         size_t want_len, const char *what)
{
    cr_assert_eq(got_len, want_len, "%s: %zu bytes, want %zu", what, got_len, want_len);
    cr_assert(memcmp(got, want, want_len) == 0, "%s differs", what);
}

/* got is byte for byte the file tests/data/deliver/name. */
static void expect_file(const uint8_t *got, size_t got_len, const char *name)
{
    size_t len = 0;
    uint8_t *want = data_file(name, &len);
    expect_bytes(got, got_len, want, len, name);
    free(want);
}

/* A DER length octets for len (< 65536), into out when not NULL; their count. */
static size_t der_length(uint8_t *out, size_t len)
{
    uint8_t tmp[3];
    uint8_t *p = out != NULL ? out : tmp;
    if (len < 0x80) {
        p[0] = (uint8_t)len;
        return 1;
    }
    if (len < 0x100) {
        p[0] = 0x81;
        p[1] = (uint8_t)len;
        return 2;
    }
    p[0] = 0x82;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    return 3;
}

/* Records as the store hands them out; the bytes are owned by the test. */
#define MAX_RECORDS 80
typedef struct records {
    ctca_store_sct items[MAX_RECORDS];
    ctca_store_sct_list list;
} records;

static void add_record(records *r, int entry_type, int ct_version, uint8_t *sct, size_t len)
{
    cr_assert_lt(r->list.count, MAX_RECORDS);
    ctca_store_sct *s = &r->items[r->list.count++];
    memset(s, 0, sizeof *s);
    s->entry_type = entry_type;
    s->ct_version = ct_version;
    s->sct = sct;
    s->sct_len = len;
    r->list.items = r->items;
}

static void add_file(records *r, int entry_type, int ct_version, const char *name)
{
    size_t len = 0;
    uint8_t *p = data_file(name, &len);
    add_record(r, entry_type, ct_version, p, len);
}

/* *d: the delivery of the x509_entry records in the files a and b, at ct_version. */
static void deliver_files(records *r, int ct_version, const char *a, const char *b,
                          ctca_delivery *d)
{
    add_file(r, CTCA_ENTRY_X509, ct_version, a);
    add_file(r, CTCA_ENTRY_X509, ct_version, b);
    cr_assert_eq(ctca_delivery_from_records(&r->list, ct_version, d), CTCA_OK);
    cr_expect_eq(d->ct_version, ct_version);
    cr_expect_eq(d->n, 2);
}

static void records_free(records *r)
{
    for (size_t i = 0; i < r->list.count; i++)
        free(r->items[i].sct);
}

/* A v1 SCT written out by hand (RFC 6962 3.2): version 0, log ID 32 x id,
 * timestamp, no extensions, SHA-256/ECDSA, a 2-byte "signature". 49 bytes. */
static uint8_t *hand_sct(uint8_t id, size_t *len)
{
    uint8_t *p = malloc(49);
    cr_assert_not_null(p);
    p[0] = 0;
    memset(p + 1, id, 32);
    const uint8_t tail[] = {0, 0, 1, 0x8b, 0, 0, 0, 0, /* timestamp */
                            0, 0,                      /* extensions */
                            4, 3, 0, 2, 0xaa, id};
    memcpy(p + 33, tail, sizeof tail);
    *len = 49;
    return p;
}

Test(deliver, the_v1_list_serverinfo_and_ocsp_extension_are_what_ctca_delivered_before)
{
    records r = {0};
    ctca_delivery d = {0};
    deliver_files(&r, 1, "sct-v1-1.bin", "sct-v1-2.bin", &d);
    expect_file(d.list, d.list_len, "scts-v1.bin");
    char *pem = NULL;
    cr_assert_eq(ctca_delivery_serverinfo_pem(&d, &pem), CTCA_OK);
    expect_file((const uint8_t *)pem, strlen(pem), "serverinfo-v1.pem");
    free(pem);
    uint8_t *ext = NULL;
    size_t ext_len = 0;
    cr_assert_eq(ctca_delivery_ocsp_extension(&d, &ext, &ext_len), CTCA_OK);
    expect_file(ext, ext_len, "ocsp-ext-v1.der");
    free(ext);
    ctca_delivery_cleanup(&d);
    cr_expect_null(d.list);
    ctca_delivery_cleanup(&d); /* a zeroed delivery may be cleaned again */
    records_free(&r);
}

Test(deliver, the_v2_transitem_list_is_what_ctca_get_wrote_before_and_has_no_serverinfo)
{
    records r = {0};
    ctca_delivery d = {0};
    deliver_files(&r, 2, "transitem-v2-1.bin", "transitem-v2-2.bin", &d);
    expect_file(d.list, d.list_len, "transitems-v2.bin");

    cr_expect(ctca_ct_scheme_for(1)->tls_extension);
    cr_expect_not(ctca_ct_scheme_for(2)->tls_extension);
    cr_expect_null(ctca_ct_scheme_for(3));
    char *pem = (char *)1;
    cr_expect_eq(ctca_delivery_serverinfo_pem(&d, &pem), CTCA_ERR_USAGE);
    cr_expect_null(pem);

    /* RFC 9162 7.1.1: 1.3.101.75, non-critical, the list wrapped in an
     * OCTET STRING inside the extnValue OCTET STRING. */
    uint8_t *ext = NULL;
    size_t ext_len = 0;
    cr_assert_eq(ctca_delivery_ocsp_extension(&d, &ext, &ext_len), CTCA_OK);
    size_t inner = 1 + der_length(NULL, d.list_len) + d.list_len; /* OCTET STRING { list } */
    size_t outer = 1 + der_length(NULL, inner) + inner;             /* extnValue */
    uint8_t head[16];
    size_t n = 0;
    head[n++] = 0x30;
    n += der_length(head + n, 5 + outer);
    memcpy(head + n, "\x06\x03\x2b\x65\x4b", 5);
    n += 5;
    head[n++] = 0x04;
    n += der_length(head + n, inner);
    head[n++] = 0x04;
    n += der_length(head + n, d.list_len);
    cr_assert_eq(ext_len, n + d.list_len);
    cr_expect(memcmp(ext, head, n) == 0);
    cr_expect(memcmp(ext + n, d.list, d.list_len) == 0);
    free(ext);
    ctca_delivery_cleanup(&d);
    records_free(&r);
}

Test(deliver, only_the_certificates_own_scts_of_its_ct_version_are_delivered_in_store_order)
{
    records r = {0};
    size_t la = 0, lb = 0, lc = 0, ld = 0;
    uint8_t *a = hand_sct(0xa1, &la), *b = hand_sct(0xb2, &lb);
    uint8_t *pre = hand_sct(0xc3, &lc), *v2 = hand_sct(0xd4, &ld);
    add_record(&r, CTCA_ENTRY_X509, 1, b, lb);
    add_record(&r, CTCA_ENTRY_PRECERT, 1, pre, lc); /* embedded, or never enough */
    add_record(&r, CTCA_ENTRY_X509, 2, v2, ld);     /* another CT version's */
    add_record(&r, CTCA_ENTRY_X509, 1, a, la);
    ctca_delivery d = {0};
    cr_assert_eq(ctca_delivery_from_records(&r.list, 1, &d), CTCA_OK);
    cr_expect_eq(d.n, 2);
    /* SignedCertificateTimestampList: a 2-byte length, then each SCT with its own. */
    uint8_t want[2 + 2 * (2 + 49)];
    want[0] = 0;
    want[1] = 2 * (2 + 49);
    want[2] = 0;
    want[3] = 49;
    memcpy(want + 4, b, 49);
    want[53] = 0;
    want[54] = 49;
    memcpy(want + 55, a, 49);
    expect_bytes(d.list, d.list_len, want, sizeof want, "b then a");

    /* ServerInfoFile: context 0x000011c0, extension 18, the list's length, the list. */
    char *pem = NULL;
    cr_assert_eq(ctca_delivery_serverinfo_pem(&d, &pem), CTCA_OK);
    static const char begin[] = "-----BEGIN SERVERINFOV2 FOR signed_certificate_timestamp-----\n";
    cr_expect(strncmp(pem, begin, sizeof begin - 1) == 0, "%s", pem);
    uint8_t *block = NULL;
    size_t block_len = 0;
    cr_assert_eq(ctca_pem_decode((const uint8_t *)pem, strlen(pem),
                                 "SERVERINFOV2 FOR signed_certificate_timestamp", &block,
                                 &block_len),
                 CTCA_OK);
    const uint8_t head[] = {0, 0, 0x11, 0xc0, 0, 18, 0, sizeof want};
    cr_assert_eq(block_len, sizeof head + sizeof want);
    cr_expect(memcmp(block, head, sizeof head) == 0);
    cr_expect(memcmp(block + sizeof head, want, sizeof want) == 0);
    free(block);
    free(pem);

    /* The OCSP extension: 1.3.6.1.4.1.11129.2.4.5, non-critical, the list
     * inside an OCTET STRING inside the extnValue (RFC 6962 3.3). */
    uint8_t *ext = NULL;
    size_t ext_len = 0;
    cr_assert_eq(ctca_delivery_ocsp_extension(&d, &ext, &ext_len), CTCA_OK);
    const uint8_t ext_head[] = {0x30, 12 + 4 + sizeof want, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                0x01, 0xd6, 0x79, 0x02, 0x04, 0x05, 0x04, 2 + sizeof want,
                                0x04, sizeof want};
    cr_assert_eq(ext_len, sizeof ext_head + sizeof want);
    cr_expect(memcmp(ext, ext_head, sizeof ext_head) == 0);
    cr_expect(memcmp(ext + sizeof ext_head, want, sizeof want) == 0);
    free(ext);
    ctca_delivery_cleanup(&d);
    records_free(&r);
}

Test(deliver, no_scts_is_an_empty_delivery_whose_encodings_refuse)
{
    records r = {0};
    size_t len = 0;
    add_record(&r, CTCA_ENTRY_PRECERT, 1, hand_sct(1, &len), len);
    ctca_delivery d = {0};
    cr_assert_eq(ctca_delivery_from_records(&r.list, 1, &d), CTCA_OK);
    cr_expect_eq(d.n, 0);
    cr_expect_null(d.list);
    char *pem = NULL;
    cr_expect_eq(ctca_delivery_serverinfo_pem(&d, &pem), CTCA_ERR_SCT_LIST_EMPTY);
    uint8_t *ext = NULL;
    size_t ext_len = 0;
    cr_expect_eq(ctca_delivery_ocsp_extension(&d, &ext, &ext_len), CTCA_ERR_SCT_LIST_EMPTY);
    cr_expect_null(ext);
    cr_assert_eq(ctca_delivery_from_records(&r.list, 2, &d), CTCA_OK);
    cr_expect_eq(ctca_delivery_ocsp_extension(&d, &ext, &ext_len), CTCA_ERR_TRANSITEM_LIST_EMPTY);
    ctca_store_sct_list none = {0};
    cr_expect_eq(ctca_delivery_from_records(&none, 1, &d), CTCA_OK);
    cr_expect_eq(d.n, 0);
    cr_expect_eq(ctca_delivery_from_records(&none, 3, &d), CTCA_ERR_USAGE);
    records_free(&r);
}

Test(deliver, a_record_that_does_not_parse_or_too_many_are_refused_with_the_codec_error)
{
    records r = {0};
    size_t len = 0;
    uint8_t *good = hand_sct(1, &len), *trailing = hand_sct(2, &len);
    uint8_t *longer = realloc(trailing, len + 1);
    cr_assert_not_null(longer);
    longer[len] = 0;
    add_record(&r, CTCA_ENTRY_X509, 1, good, len);
    add_record(&r, CTCA_ENTRY_X509, 1, longer, len + 1);
    ctca_delivery d = {0};
    cr_expect_eq(ctca_delivery_from_records(&r.list, 1, &d), CTCA_ERR_TRAILING_DATA);
    cr_expect_null(d.list);
    cr_expect_eq(d.n, 0);
    records_free(&r);

    records many = {0};
    for (size_t i = 0; i <= CTCA_SCT_LIST_MAX; i++)
        add_record(&many, CTCA_ENTRY_X509, 1, hand_sct((uint8_t)i, &len), len);
    cr_expect_eq(ctca_delivery_from_records(&many.list, 1, &d), CTCA_ERR_SCT_LIST_TOO_LONG);
    cr_expect_null(d.list);
    records_free(&many);
}

Test(deliver, a_list_longer_than_a_tls_extension_has_no_serverinfo)
{
    /* Within the list's own bound (2 + 65535 bytes), not within extension_data's. */
    ctca_delivery d = {.ct_version = 1, .n = 1, .list_len = 0x10000};
    d.list = calloc(1, d.list_len);
    cr_assert_not_null(d.list);
    char *pem = NULL;
    cr_expect_eq(ctca_delivery_serverinfo_pem(&d, &pem), CTCA_ERR_VALUE_RANGE);
    cr_expect_null(pem);
    ctca_delivery_cleanup(&d);
}

Test(deliver, loading_an_unknown_serial_is_not_found)
{
    char *dir = th_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/ctca.db", dir);
    ctca_store *store = NULL;
    cr_assert_eq(ctca_store_create(path, &store, NULL), CTCA_OK);
    ctca_delivery d = {0};
    cr_expect_eq(ctca_delivery_load(store, "0102", 1, &d), CTCA_ERR_STORE_NOT_FOUND);
    cr_expect_null(d.list);
    ctca_store_close(store);
    th_rmdir(dir);
    free(dir);
}
