/* RFC 9162 TransItems: byte-exact layouts and round trips of every type,
 * TransItemLists, log IDs as OIDs, the v2 SCT signed input and its
 * verification with a real P-256 key, inclusion proofs against an independent
 * Merkle tree, and a table of malformed inputs each refused with its exact
 * error code. */
#include <criterion/criterion.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/transitem.h"

/* Hex with spaces between tokens; a token "ab*31" is 31 bytes 0xab. Returns
 * the number of bytes written to out. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned b;
        cr_assert_eq(sscanf(s, "%2x", &b), 1, "bad hex at %s", s);
        s += 2;
        size_t rep = 1;
        if (*s == '*') {
            rep = strtoul(s + 1, (char **)&s, 10);
        }
        for (size_t i = 0; i < rep; i++) {
            cr_assert_lt(n, cap);
            out[n++] = (uint8_t)b;
        }
    }
    return n;
}

/* A precert_sct_v2 from log 1.3.101.8192 at 0x018b00000000 ms, no extensions,
 * a 3-byte signature. */
#define SCT_HEX "0103 04 2b65c000 0000018b00000000 0000 0003 aabbcc"

Test(transitem, precert_sct_v2_layout_and_round_trip)
{
    uint8_t in[64], *out = NULL;
    size_t len = unhex(SCT_HEX, in, sizeof in), out_len = 0;
    ctca_transitem it;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &it), CTCA_OK);
    cr_expect_eq(it.type, CTCA_TT_PRECERT_SCT_V2);
    cr_expect(ctca_transitem_is_sct(&it));
    char text[64];
    cr_assert_eq(ctca_log_id_v2_to_string(&it.log_id, text, sizeof text), CTCA_OK);
    cr_expect_str_eq(text, "1.3.101.8192");
    cr_expect_eq(it.timestamp, 0x018b00000000ull);
    cr_expect_eq(it.extensions_len, 0);
    cr_expect_not_null(it.extensions, "present-but-empty stays non-NULL");
    cr_expect_eq(it.signature_len, 3);
    cr_assert_eq(ctca_transitem_serialize(&it, &out, &out_len), CTCA_OK);
    cr_expect(out_len == len && memcmp(out, in, len) == 0);
    free(out);
    ctca_transitem_cleanup(&it);
    ctca_transitem_cleanup(&it); /* a zeroed item may be cleaned again */
}

/* One well-formed item of every type, with extensions where the type has them. */
static const char *const every_type[] = {
    /* x509_entry_v2: timestamp, issuer_key_hash<32..255> (1-byte length), TBS
     * (3-byte length), extensions */
    "0100 0000000000000001 20 11*32 000003 300100 0000",
    "0101 0000000000000002 20 22*32 000002 3000 0009 0001 0001 ff 00f0 0000",
    "0102 03 2b0601 0000000000000003 0004 e000 0000 0001 01",
    SCT_HEX,
    /* signed_tree_head_v2: log ID, TreeHeadDataV2, signature */
    "0104 04 2b65c000 0000000000000004 0000000000000007 20 33*32 0000 0002 abcd",
    /* consistency_proof_v2 with two nodes */
    "0105 04 2b65c000 0000000000000003 0000000000000007 0042 20 44*32 20 55*32",
    /* inclusion_proof_v2 with an empty path */
    "0106 04 2b65c000 0000000000000001 0000000000000000 0000",
};

Test(transitem, every_type_round_trips_byte_exact)
{
    for (size_t i = 0; i < sizeof every_type / sizeof *every_type; i++) {
        uint8_t in[256], *out = NULL;
        size_t len = unhex(every_type[i], in, sizeof in), out_len = 0;
        ctca_transitem it;
        cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &it), CTCA_OK, "item %zu", i);
        cr_expect_eq((unsigned)it.type, 0x0100u + i);
        cr_expect_str_neq((char *)ctca_trans_type_name(it.type), "unknown");
        cr_assert_eq(ctca_transitem_serialize(&it, &out, &out_len), CTCA_OK, "item %zu", i);
        cr_expect(out_len == len && memcmp(out, in, len) == 0, "item %zu re-encodes differently",
                  i);
        free(out);
        ctca_transitem_cleanup(&it);
    }
}

Test(transitem, parsed_fields_of_entries_sth_and_proofs)
{
    uint8_t in[256];
    size_t len = unhex(every_type[1], in, sizeof in);
    ctca_transitem it;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &it), CTCA_OK);
    cr_expect_eq(it.timestamp, 2);
    cr_expect_eq(it.issuer_key_hash[0], 0x22);
    cr_expect_eq(it.tbs_len, 2);
    cr_expect_eq(it.extensions_len, 9);
    ctca_transitem_cleanup(&it);

    len = unhex(every_type[4], in, sizeof in);
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &it), CTCA_OK);
    cr_expect_eq(it.timestamp, 4);
    cr_expect_eq(it.tree_size, 7);
    cr_expect_eq(it.root_hash[31], 0x33);
    cr_expect_eq(it.signature_len, 2);
    ctca_transitem_cleanup(&it);

    len = unhex(every_type[5], in, sizeof in);
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &it), CTCA_OK);
    cr_expect_eq(it.tree_size, 3);
    cr_expect_eq(it.tree_size_2, 7);
    cr_assert_eq(it.path_len, 2);
    cr_expect_eq(it.path[1][0], 0x55);
    ctca_transitem_cleanup(&it);
}

Test(transitem, parse_as_refuses_other_types)
{
    uint8_t in[256];
    size_t len = unhex(every_type[4], in, sizeof in);
    ctca_transitem it;
    cr_expect_eq(ctca_transitem_parse_as(ctca_view_make(in, len), CTCA_TT_X509_SCT_V2,
                                         CTCA_TT_PRECERT_SCT_V2, &it),
                 CTCA_ERR_TRANSITEM_WRONG_TYPE);
    cr_expect_null(it.signature, "zeroed on failure");
    cr_expect_eq(ctca_transitem_parse_as(ctca_view_make(in, len), CTCA_TT_STH_V2, CTCA_TT_STH_V2,
                                         &it),
                 CTCA_OK);
    ctca_transitem_cleanup(&it);
}

/* Malformed TransItems. The bytes are inline (hex), as the table is data. */
static const struct {
    const char *name;
    const char *hex;
    ctca_err want;
} malformed[] = {
    {"empty", "", CTCA_ERR_TRUNCATED},
    {"one byte of type", "01", CTCA_ERR_TRUNCATED},
    {"v1 SCT (version 0)", "00 df*32 0000000000000001 0000 0403 0000", CTCA_ERR_TRANSITEM_RFC6962},
    {"top of the RFC 6962 range", "00ff", CTCA_ERR_TRANSITEM_RFC6962},
    {"unassigned 0x0107", "0107 04 2b65c000", CTCA_ERR_TRANSITEM_TYPE},
    {"experimental 0xe000", "e000", CTCA_ERR_TRANSITEM_TYPE},
    {"private 0xffff", "ffff", CTCA_ERR_TRANSITEM_TYPE},
    {"type only", "0103", CTCA_ERR_TRUNCATED},
    {"log ID of 1 octet", "0103 01 2b 0000000000000001 0000 0001 aa", CTCA_ERR_TLS_LENGTH_RANGE},
    {"log ID of 128 octets", "0103 80 2b*128", CTCA_ERR_TLS_LENGTH_RANGE},
    {"log ID not an OID", "0103 02 2b86 0000000000000001 0000 0001 aa", CTCA_ERR_DER_OID},
    {"log ID padded arc", "0103 03 2b8001 0000000000000001 0000 0001 aa", CTCA_ERR_DER_OID},
    {"timestamp cut", "0103 04 2b65c000 00000000", CTCA_ERR_TRUNCATED},
    {"empty signature", "0103 04 2b65c000 0000018b00000000 0000 0000", CTCA_ERR_TLS_LENGTH_RANGE},
    {"signature cut", "0103 04 2b65c000 0000018b00000000 0000 0004 aabbcc", CTCA_ERR_TRUNCATED},
    {"trailing byte", SCT_HEX " 00", CTCA_ERR_TRAILING_DATA},
    {"extensions out of order", "0103 04 2b65c000 0000000000000001 0009 0005 0001 aa 0001 0000 0001 aa",
     CTCA_ERR_TRANSITEM_EXTENSIONS},
    {"extension repeated", "0103 04 2b65c000 0000000000000001 0008 0001 0000 0001 0000 0001 aa",
     CTCA_ERR_TRANSITEM_EXTENSIONS},
    {"extension cut inside its vector", "0103 04 2b65c000 0000000000000001 0003 0001 00 0001 aa",
     CTCA_ERR_TRUNCATED},
    {"issuer key hash of 31 bytes", "0101 0000000000000001 1f 11*31 000001 30 0000",
     CTCA_ERR_TLS_LENGTH_RANGE},
    {"issuer key hash of 33 bytes", "0101 0000000000000001 21 11*33 000001 30 0000",
     CTCA_ERR_HASH_LEN},
    {"empty TBS", "0101 0000000000000001 20 11*32 000000 0000", CTCA_ERR_TLS_LENGTH_RANGE},
    {"TBS longer than the item", "0100 0000000000000001 20 11*32 0000ff 30", CTCA_ERR_TRUNCATED},
    {"STH root of 48 bytes",
     "0104 04 2b65c000 0000000000000001 0000000000000001 30 33*48 0000 0001 aa", CTCA_ERR_HASH_LEN},
    {"proof node of 20 bytes", "0106 04 2b65c000 0000000000000002 0000000000000000 0015 14 44*20",
     CTCA_ERR_TLS_LENGTH_RANGE},
    {"proof path cut", "0106 04 2b65c000 0000000000000002 0000000000000000 0021 20 44*31",
     CTCA_ERR_TRUNCATED},
};

Test(transitem, malformed_items_are_refused_with_exact_codes)
{
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        uint8_t in[512];
        size_t len = unhex(malformed[i].hex, in, sizeof in);
        ctca_transitem it;
        ctca_err rc = ctca_transitem_parse(ctca_view_make(in, len), &it);
        cr_expect_eq(rc, malformed[i].want, "%s: got %s, want %s", malformed[i].name,
                     ctca_err_name(rc), ctca_err_name(malformed[i].want));
        if (rc == CTCA_OK)
            ctca_transitem_cleanup(&it);
    }
}

Test(transitem, proof_of_65_nodes_is_too_long)
{
    uint8_t in[2 + 5 + 16 + 2 + 65 * 33];
    size_t n = unhex("0106 04 2b65c000 0000000000000002 0000000000000000", in, sizeof in);
    in[n++] = (uint8_t)((65 * 33) >> 8);
    in[n++] = (uint8_t)(65 * 33);
    for (int i = 0; i < 65; i++) {
        in[n++] = 32;
        memset(in + n, i, 32);
        n += 32;
    }
    ctca_transitem it;
    cr_expect_eq(ctca_transitem_parse(ctca_view_make(in, n), &it), CTCA_ERR_PROOF_TOO_LONG);
    /* 64 nodes is the most a proof needs, and is accepted. */
    in[23] = (uint8_t)((64 * 33) >> 8);
    in[24] = (uint8_t)(64 * 33);
    cr_expect_eq(ctca_transitem_parse(ctca_view_make(in, n - 33), &it), CTCA_OK);
    cr_expect_eq(it.path_len, 64);
    ctca_transitem_cleanup(&it);
}

Test(transitem, writer_refuses_what_the_reader_refuses)
{
    uint8_t in[64], *out = NULL;
    size_t len = unhex(SCT_HEX, in, sizeof in), out_len = 0;
    ctca_transitem it;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &it), CTCA_OK);
    it.type = (ctca_trans_type)0x0107;
    cr_expect_eq(ctca_transitem_serialize(&it, &out, &out_len), CTCA_ERR_TRANSITEM_TYPE);
    it.type = CTCA_TT_PRECERT_SCT_V2;
    it.log_id.len = 1;
    cr_expect_eq(ctca_transitem_serialize(&it, &out, &out_len), CTCA_ERR_DER_OID);
    it.log_id.len = 4;
    size_t sig_len = it.signature_len;
    it.signature_len = 0;
    cr_expect_eq(ctca_transitem_serialize(&it, &out, &out_len), CTCA_ERR_VALUE_RANGE,
                 "signature<1..2^16-1>");
    it.signature_len = sig_len;
    uint8_t bad_ext[] = {0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    free(it.extensions);
    it.extensions = malloc(sizeof bad_ext);
    memcpy(it.extensions, bad_ext, sizeof bad_ext);
    it.extensions_len = sizeof bad_ext;
    cr_expect_eq(ctca_transitem_serialize(&it, &out, &out_len), CTCA_ERR_TRANSITEM_EXTENSIONS);
    ctca_transitem_cleanup(&it);
}

/* ---- lists ------------------------------------------------------------------- */

Test(transitem, list_round_trips_and_keeps_order)
{
    ctca_transitem items[3];
    for (size_t i = 0; i < 3; i++) {
        uint8_t in[256];
        size_t len = unhex(every_type[i + 2], in, sizeof in);
        cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &items[i]), CTCA_OK);
    }
    uint8_t *out = NULL, *again = NULL;
    size_t out_len = 0, again_len = 0;
    cr_assert_eq(ctca_transitem_list_serialize(items, 3, &out, &out_len), CTCA_OK);
    ctca_transitem_list list;
    cr_assert_eq(ctca_transitem_list_parse(ctca_view_make(out, out_len), &list), CTCA_OK);
    cr_assert_eq(list.n, 3);
    cr_expect_eq(list.items[0].type, CTCA_TT_X509_SCT_V2);
    cr_expect_eq(list.items[1].type, CTCA_TT_PRECERT_SCT_V2);
    cr_expect_eq(list.items[2].type, CTCA_TT_STH_V2);
    /* u16 total, then per item a u16 length and the item. */
    cr_expect_eq(out[0] << 8 | out[1], out_len - 2);
    cr_assert_eq(ctca_transitem_list_serialize(list.items, list.n, &again, &again_len), CTCA_OK);
    cr_expect(again_len == out_len && memcmp(again, out, out_len) == 0);
    ctca_transitem_list_cleanup(&list);
    ctca_transitem_list_cleanup(&list);
    for (size_t i = 0; i < 3; i++)
        ctca_transitem_cleanup(&items[i]);
    free(out);
    free(again);
}

static const struct {
    const char *name;
    const char *hex;
    ctca_err want;
} bad_lists[] = {
    {"empty input", "", CTCA_ERR_TRUNCATED},
    {"empty list", "0000", CTCA_ERR_TRANSITEM_LIST_EMPTY},
    {"list longer than its bytes", "0010 0002 0106", CTCA_ERR_TRUNCATED},
    {"trailing bytes after the list", "0018 0016 " SCT_HEX " 00", CTCA_ERR_TRAILING_DATA},
    {"empty item", "0002 0000", CTCA_ERR_TLS_LENGTH_RANGE},
    {"item with trailing bytes", "0018 0017 " SCT_HEX " 00", CTCA_ERR_TRAILING_DATA},
    {"v1 SCT inside", "0004 0002 0000", CTCA_ERR_TRANSITEM_RFC6962},
    {"unknown type inside", "0004 0002 0200", CTCA_ERR_TRANSITEM_TYPE},
};

Test(transitem, malformed_lists_are_refused_with_exact_codes)
{
    for (size_t i = 0; i < sizeof bad_lists / sizeof *bad_lists; i++) {
        uint8_t in[128];
        size_t len = unhex(bad_lists[i].hex, in, sizeof in);
        ctca_transitem_list list;
        ctca_err rc = ctca_transitem_list_parse(ctca_view_make(in, len), &list);
        cr_expect_eq(rc, bad_lists[i].want, "%s: got %s", bad_lists[i].name, ctca_err_name(rc));
        cr_expect_null(list.items);
    }
}

Test(transitem, oversized_lists_are_refused_on_both_sides)
{
    uint8_t one[64];
    size_t one_len = unhex(SCT_HEX, one, sizeof one);
    size_t n = CTCA_TRANSITEM_LIST_MAX + 1;
    size_t total = n * (2 + one_len);
    uint8_t *in = malloc(2 + total);
    in[0] = (uint8_t)(total >> 8);
    in[1] = (uint8_t)total;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = in + 2 + i * (2 + one_len);
        p[0] = 0;
        p[1] = (uint8_t)one_len;
        memcpy(p + 2, one, one_len);
    }
    ctca_transitem_list list;
    cr_expect_eq(ctca_transitem_list_parse(ctca_view_make(in, 2 + total), &list),
                 CTCA_ERR_TRANSITEM_LIST_TOO_LONG);
    /* One fewer is fine. */
    total -= 2 + one_len;
    in[0] = (uint8_t)(total >> 8);
    in[1] = (uint8_t)total;
    cr_expect_eq(ctca_transitem_list_parse(ctca_view_make(in, 2 + total), &list), CTCA_OK);
    cr_expect_eq(list.n, CTCA_TRANSITEM_LIST_MAX);

    ctca_transitem *many = calloc(n, sizeof *many);
    for (size_t i = 0; i < n; i++)
        many[i] = list.items[i % list.n];
    uint8_t *out = NULL;
    size_t out_len = 0;
    cr_expect_eq(ctca_transitem_list_serialize(many, n, &out, &out_len),
                 CTCA_ERR_TRANSITEM_LIST_TOO_LONG);
    cr_expect_eq(ctca_transitem_list_serialize(many, 0, &out, &out_len),
                 CTCA_ERR_TRANSITEM_LIST_EMPTY);
    free(many);
    ctca_transitem_list_cleanup(&list);
    free(in);
}

/* ---- log IDs ------------------------------------------------------------------ */

Test(transitem, log_ids_from_and_to_text)
{
    ctca_log_id_v2 a, b;
    char text[512];
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.80.127", &a), CTCA_OK);
    cr_expect_eq(a.len, 4, "RFC 9162 10.2.5: 1.3.101.80.0-127 encode in 4 octets");
    cr_assert_eq(ctca_log_id_v2_to_string(&a, text, sizeof text), CTCA_OK);
    cr_expect_str_eq(text, "1.3.101.80.127");
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.80.128", &b), CTCA_OK);
    cr_expect_eq(b.len, 5);
    cr_expect_not(ctca_log_id_v2_eq(&a, &b));
    cr_expect_eq(ctca_log_id_v2_from_string("1.3", &a), CTCA_ERR_VALUE_RANGE, "one octet");
    cr_expect_eq(ctca_log_id_v2_from_string("1.3.x", &a), CTCA_ERR_DER_OID);
    /* 127 octets is the cap; 128 is refused. */
    char big[1024] = "1.3";
    for (int i = 0; i < 63; i++)
        strcat(big, ".16383"); /* two octets per arc: 1 + 126 = 127 */
    cr_expect_eq(ctca_log_id_v2_from_string(big, &a), CTCA_OK);
    cr_expect_eq(a.len, 127);
    strcat(big, ".1");
    cr_expect_eq(ctca_log_id_v2_from_string(big, &a), CTCA_ERR_VALUE_RANGE);
}

/* ---- signed input, signatures ---------------------------------------------------- */

static EVP_PKEY *new_key(const char *curve_or_rsa)
{
    EVP_PKEY *k = strcmp(curve_or_rsa, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                                   : EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_or_rsa);
    cr_assert_not_null(k);
    return k;
}

static ctca_log_key *log_key_of(EVP_PKEY *k)
{
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(k, &spki);
    cr_assert_gt(n, 0);
    ctca_log_key *lk = NULL;
    cr_assert_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)n), &lk), CTCA_OK);
    OPENSSL_free(spki);
    return lk;
}

static void sign(EVP_PKEY *k, const uint8_t *msg, size_t len, ctca_transitem *item)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = 0;
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    cr_assert_eq(EVP_DigestSign(ctx, NULL, &sig_len, msg, len), 1);
    free(item->signature);
    item->signature = malloc(sig_len);
    cr_assert_eq(EVP_DigestSign(ctx, item->signature, &sig_len, msg, len), 1);
    item->signature_len = sig_len;
    EVP_MD_CTX_free(ctx);
}

static const uint8_t tbs_bytes[] = {0x30, 0x03, 0x02, 0x01, 0x05};

static void make_sct(ctca_transitem *sct, ctca_trans_type type, const char *log_id)
{
    memset(sct, 0, sizeof *sct);
    sct->type = type;
    cr_assert_eq(ctca_log_id_v2_from_string(log_id, &sct->log_id), CTCA_OK);
    sct->timestamp = 1700000000000ull;
    /* One extension, type 0x0001, two bytes of data. */
    static const uint8_t ext[] = {0x00, 0x01, 0x00, 0x02, 0xbe, 0xef};
    sct->extensions = malloc(sizeof ext);
    memcpy(sct->extensions, ext, sizeof ext);
    sct->extensions_len = sizeof ext;
}

Test(transitem, signed_input_is_the_entry_transitem_with_a_one_byte_hash_length)
{
    ctca_transitem sct;
    make_sct(&sct, CTCA_TT_PRECERT_SCT_V2, "1.3.101.8192");
    ctca_entry_v2 entry = {.tbs = ctca_view_make(tbs_bytes, sizeof tbs_bytes)};
    memset(entry.issuer_key_hash, 0x7e, CTCA_HASH_LEN);
    uint8_t *in = NULL;
    size_t len = 0;
    cr_assert_eq(ctca_sct_v2_signed_input(&sct, &entry, &in, &len), CTCA_OK);
    uint8_t want[128];
    size_t want_len = unhex("0101 0000018bcfe56800 20 7e*32 000005 3003020105 0006 0001 0002 beef",
                            want, sizeof want);
    cr_expect(len == want_len && memcmp(in, want, len) == 0, "precert_entry_v2 layout");
    /* It is itself a TransItem that parses as precert_entry_v2 and round-trips. */
    ctca_transitem entry_item;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(in, len), &entry_item), CTCA_OK);
    cr_expect_eq(entry_item.type, CTCA_TT_PRECERT_ENTRY_V2);
    cr_expect_eq(entry_item.timestamp, sct.timestamp);
    ctca_transitem_cleanup(&entry_item);
    free(in);

    sct.type = CTCA_TT_X509_SCT_V2;
    cr_assert_eq(ctca_sct_v2_signed_input(&sct, &entry, &in, &len), CTCA_OK);
    cr_expect_eq(in[0] << 8 | in[1], CTCA_TT_X509_ENTRY_V2);
    free(in);
    sct.type = CTCA_TT_STH_V2;
    cr_expect_eq(ctca_sct_v2_signed_input(&sct, &entry, &in, &len), CTCA_ERR_TRANSITEM_WRONG_TYPE);
    ctca_transitem_cleanup(&sct);
}

Test(transitem, v2_sct_verifies_and_every_tampering_fails)
{
    EVP_PKEY *k = new_key("P-256");
    ctca_log_key *lk = log_key_of(k);
    ctca_log_v2 log = {.key = lk};
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8192", &log.log_id), CTCA_OK);
    ctca_entry_v2 entry = {.tbs = ctca_view_make(tbs_bytes, sizeof tbs_bytes)};
    memset(entry.issuer_key_hash, 0x7e, CTCA_HASH_LEN);

    ctca_transitem sct;
    make_sct(&sct, CTCA_TT_PRECERT_SCT_V2, "1.3.101.8192");
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    cr_assert_eq(ctca_sct_v2_signed_input(&sct, &entry, &msg, &msg_len), CTCA_OK);
    sign(k, msg, msg_len, &sct);
    free(msg);
    uint64_t now = sct.timestamp;
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, now), CTCA_OK);

    /* Round trip through bytes keeps it valid. */
    uint8_t *ser = NULL;
    size_t ser_len = 0;
    cr_assert_eq(ctca_transitem_serialize(&sct, &ser, &ser_len), CTCA_OK);
    ctca_transitem back;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(ser, ser_len), &back), CTCA_OK);
    cr_expect_eq(ctca_sct_v2_verify(&back, &log, &entry, now), CTCA_OK);
    ctca_transitem_cleanup(&back);

    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, now - 1), CTCA_ERR_SCT_FUTURE);
    uint8_t tbs2[sizeof tbs_bytes];
    memcpy(tbs2, tbs_bytes, sizeof tbs2);
    tbs2[4] ^= 1;
    ctca_entry_v2 other = entry;
    other.tbs = ctca_view_make(tbs2, sizeof tbs2);
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &other, now), CTCA_ERR_SIG_INVALID, "TBS byte");
    other = entry;
    other.issuer_key_hash[0] ^= 1;
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &other, now), CTCA_ERR_SIG_INVALID, "issuer");
    sct.extensions[5] ^= 1;
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, now), CTCA_ERR_SIG_INVALID, "extension");
    sct.extensions[5] ^= 1;
    sct.type = CTCA_TT_X509_SCT_V2;
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, now), CTCA_ERR_SIG_INVALID, "entry type");
    sct.type = CTCA_TT_PRECERT_SCT_V2;
    sct.signature[sct.signature_len - 1] ^= 1;
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, now), CTCA_ERR_SIG_INVALID, "signature");
    sct.signature[sct.signature_len - 1] ^= 1;
    cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, now), CTCA_OK);

    ctca_log_v2 wrong_id = log;
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8193", &wrong_id.log_id), CTCA_OK);
    cr_expect_eq(ctca_sct_v2_verify(&sct, &wrong_id, &entry, now), CTCA_ERR_SCT_LOG_ID_MISMATCH);
    EVP_PKEY *k2 = new_key("P-256");
    ctca_log_key *lk2 = log_key_of(k2);
    ctca_log_v2 wrong_key = {.log_id = log.log_id, .key = lk2};
    cr_expect_eq(ctca_sct_v2_verify(&sct, &wrong_key, &entry, now), CTCA_ERR_SIG_INVALID);
    EVP_PKEY *rsa = new_key("RSA");
    ctca_log_key *lrsa = log_key_of(rsa);
    ctca_log_v2 rsa_log = {.log_id = log.log_id, .key = lrsa};
    cr_expect_eq(ctca_sct_v2_verify(&sct, &rsa_log, &entry, now), CTCA_ERR_KEY_UNSUPPORTED);

    free(ser);
    ctca_transitem_cleanup(&sct);
    ctca_log_key_free(lk);
    ctca_log_key_free(lk2);
    ctca_log_key_free(lrsa);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(rsa);
}

/* ---- Merkle: an independent MTH and PATH (RFC 9162 2.1.1, 2.1.3.1) ----------------- */

static void node(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    EVP_Digest(buf, sizeof buf, out, NULL, EVP_sha256(), NULL);
}

static size_t split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void mth(uint8_t leaves[][32], size_t n, uint8_t *out)
{
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    size_t k = split(n);
    uint8_t l[32], r[32];
    mth(leaves, k, l);
    mth(leaves + k, n - k, r);
    node(l, r, out);
}

static void path(uint8_t leaves[][32], size_t n, size_t m, uint8_t (*out)[32], size_t *len)
{
    if (n == 1)
        return;
    size_t k = split(n);
    if (m < k) {
        path(leaves, k, m, out, len);
        mth(leaves + k, n - k, out[(*len)++]);
    } else {
        path(leaves + k, n - k, m - k, out, len);
        mth(leaves, k, out[(*len)++]);
    }
}

Test(transitem, inclusion_proofs_verify_for_every_leaf_of_small_trees)
{
    uint8_t leaves[9][32];
    for (int i = 0; i < 9; i++) {
        uint8_t b[2] = {0, (uint8_t)i};
        EVP_Digest(b, 2, leaves[i], NULL, EVP_sha256(), NULL);
    }
    for (size_t n = 1; n <= 9; n++) {
        ctca_transitem sth = {.type = CTCA_TT_STH_V2, .tree_size = n};
        cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8192", &sth.log_id), CTCA_OK);
        mth(leaves, n, sth.root_hash);
        for (size_t m = 0; m < n; m++) {
            uint8_t nodes[CTCA_PROOF_MAX_NODES][32];
            ctca_transitem proof = {.type = CTCA_TT_INCLUSION_PROOF_V2, .log_id = sth.log_id,
                                    .tree_size = n, .leaf_index = m, .path = nodes};
            path(leaves, n, m, nodes, &proof.path_len);
            cr_expect_eq(ctca_inclusion_v2_verify(&proof, &sth, leaves[m]), CTCA_OK,
                         "leaf %zu of %zu", m, n);
            cr_expect_eq(ctca_inclusion_v2_verify(&proof, &sth, leaves[(m + 1) % 9]),
                         CTCA_ERR_PROOF_INVALID, "wrong leaf %zu of %zu", m, n);
            if (proof.path_len > 0) {
                nodes[0][0] ^= 1;
                cr_expect_eq(ctca_inclusion_v2_verify(&proof, &sth, leaves[m]),
                             CTCA_ERR_PROOF_INVALID);
                nodes[0][0] ^= 1;
                proof.path_len--;
                cr_expect_eq(ctca_inclusion_v2_verify(&proof, &sth, leaves[m]),
                             CTCA_ERR_PROOF_INVALID, "short path");
                proof.path_len++;
            }
            proof.leaf_index = n;
            cr_expect_eq(ctca_inclusion_v2_verify(&proof, &sth, leaves[m]),
                         CTCA_ERR_PROOF_INVALID, "index beyond the tree");
        }
    }
}

Test(transitem, sth_signature_verifies_over_the_tree_head)
{
    EVP_PKEY *k = new_key("P-256");
    ctca_log_key *lk = log_key_of(k);
    ctca_log_v2 log = {.key = lk};
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8192", &log.log_id), CTCA_OK);
    ctca_transitem sth = {.type = CTCA_TT_STH_V2, .log_id = log.log_id, .timestamp = 5,
                          .tree_size = 3};
    memset(sth.root_hash, 9, 32);
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    cr_assert_eq(ctca_sth_v2_signed_input(&sth, &msg, &msg_len), CTCA_OK);
    uint8_t want[64];
    size_t want_len = unhex("0000000000000005 0000000000000003 20 09*32 0000", want, sizeof want);
    cr_expect(msg_len == want_len && memcmp(msg, want, msg_len) == 0, "TreeHeadDataV2 layout");
    sign(k, msg, msg_len, &sth);
    free(msg);
    cr_expect_eq(ctca_sth_v2_verify(&sth, &log), CTCA_OK);
    sth.tree_size = 4;
    cr_expect_eq(ctca_sth_v2_verify(&sth, &log), CTCA_ERR_SIG_INVALID);
    ctca_transitem_cleanup(&sth);
    ctca_log_key_free(lk);
    EVP_PKEY_free(k);
}
