/* Splitting certificates and editing TBSCertificates (core/x509/x509_int.h). Fields
 * that are not edited are copied as the exact bytes that were read, so an edit
 * never re-encodes (and so never silently normalizes) anything it was not asked
 * to change. */
#include "core/x509/x509_int.h"

#include <stdlib.h>
#include <string.h>

const uint8_t CTCA_OID_CT_POISON[10] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03};
const uint8_t CTCA_OID_CT_SCT_LIST[10] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};
const uint8_t CTCA_OID_CT_OCSP_SCT_LIST[10] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                               0xd6, 0x79, 0x02, 0x04, 0x05};
const uint8_t CTCA_OID_CT_PRECERT_SIGNING[10] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                                 0xd6, 0x79, 0x02, 0x04, 0x04};
const uint8_t CTCA_OID_TRANSPARENCY_INFO[3] = {0x2b, 0x65, 0x4b};
const uint8_t CTCA_OID_AKI[3] = {0x55, 0x1d, 0x23};
const uint8_t CTCA_OID_SKI[3] = {0x55, 0x1d, 0x0e};
const uint8_t CTCA_OID_EKU[3] = {0x55, 0x1d, 0x25};

const uint8_t CTCA_CT_POISON_EXT[21] = {0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06, 0x01,
                                        0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
                                        0x01, 0x01, 0xff, 0x04, 0x02, 0x05, 0x00};

/* Cap on the size of a TBS we build: any TBS we can read, plus room for the
 * few bytes a longer length field or an added extension needs. */
#define TBS_BUILD_MAX (CTCA_DER_MAX_LEN + 4096)

const char *ctca_sig_alg_md(ctca_view alg, bool *rsa)
{
    static const struct {
        uint8_t oid[9];
        size_t len;
        bool rsa;
        const char *md;
    } algs[] = {
        /* 1.2.840.113549.1.1.11/12/13 sha{256,384,512}WithRSAEncryption */
        {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, 9, true, "SHA256"},
        {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c}, 9, true, "SHA384"},
        {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d}, 9, true, "SHA512"},
        /* 1.2.840.10045.4.3.2/3/4 ecdsa-with-SHA{256,384,512} */
        {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, 8, false, "SHA256"},
        {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, 8, false, "SHA384"},
        {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, 8, false, "SHA512"},
    };
    ctca_view oid;
    if (ctca_der_get_oid(&alg, &oid) != CTCA_OK)
        return NULL;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        if (!ctca_oid_eq(oid, algs[i].oid, algs[i].len))
            continue;
        if (alg.len > 0 && (!algs[i].rsa || ctca_der_get_null(&alg) != CTCA_OK || alg.len > 0))
            return NULL;
        *rsa = algs[i].rsa;
        return algs[i].md;
    }
    return NULL;
}

ctca_err ctca_cert_split(ctca_view cert, ctca_cert_parts *out)
{
    ctca_view v = cert, body;
    ctca_cert_parts p;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_view_expect_empty(v));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &p.tbs));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &p.sig_alg));
    CTCA_GUARD(ctca_der_get_bit_string(&body, &p.signature));
    CTCA_GUARD(ctca_view_expect_empty(body));
    *out = p;
    return CTCA_OK;
}

ctca_err ctca_ext_next(ctca_view *list, ctca_ext *out)
{
    ctca_view c = *list, e, body;
    ctca_ext ext = {0};
    CTCA_GUARD(ctca_der_get_element(&c, CTCA_DER_SEQUENCE, &ext.element));
    e = ext.element;
    CTCA_GUARD(ctca_der_get(&e, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get_oid(&body, &ext.oid));
    if (ctca_der_peek(body, CTCA_DER_BOOLEAN)) {
        CTCA_GUARD(ctca_der_get_bool(&body, &ext.critical));
        /* X.690 11.5: a DEFAULT value (critical FALSE) is never encoded in DER. */
        if (!ext.critical)
            return CTCA_ERR_CERT_MALFORMED;
    }
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_OCTET_STRING, &ext.value));
    CTCA_GUARD(ctca_view_expect_empty(body));
    *out = ext;
    *list = c;
    return CTCA_OK;
}

/* Walks a whole Extensions list: every extension well-formed, at least one
 * (SIZE (1..MAX)), at most the cap, no extnID twice (RFC 5280 4.2). */
static ctca_err check_ext_list(ctca_view list)
{
    ctca_view oids[CTCA_X509_MAX_EXTENSIONS];
    size_t n = 0;
    if (list.len == 0)
        return CTCA_ERR_CERT_MALFORMED;
    while (list.len > 0) {
        ctca_ext ext;
        CTCA_GUARD(ctca_ext_next(&list, &ext));
        if (n == CTCA_X509_MAX_EXTENSIONS)
            return CTCA_ERR_CERT_MALFORMED;
        for (size_t i = 0; i < n; i++)
            if (ctca_view_eq(oids[i], ext.oid))
                return CTCA_ERR_EXT_DUPLICATE;
        oids[n++] = ext.oid;
    }
    return CTCA_OK;
}

static ctca_err check_validity(ctca_view validity)
{
    ctca_view v = validity, body;
    int64_t not_before, not_after;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get_time(&body, &not_before));
    CTCA_GUARD(ctca_der_get_time(&body, &not_after));
    return ctca_view_expect_empty(body);
}

static ctca_err check_spki(ctca_view spki)
{
    ctca_view v = spki, body, alg, key;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg));
    CTCA_GUARD(ctca_der_get_bit_string(&body, &key));
    return ctca_view_expect_empty(body);
}

static ctca_err get_version(ctca_view *body, ctca_tbs_fields *f)
{
    f->version_num = 0;
    if (!ctca_der_peek(*body, CTCA_DER_CTX_C(0)))
        return CTCA_OK;
    ctca_view c = *body, el, outer, inner;
    uint64_t n;
    CTCA_GUARD(ctca_der_get_element(&c, CTCA_DER_CTX_C(0), &el));
    outer = el;
    CTCA_GUARD(ctca_der_get(&outer, CTCA_DER_CTX_C(0), &inner));
    CTCA_GUARD(ctca_der_get_u64(&inner, &n));
    CTCA_GUARD(ctca_view_expect_empty(inner));
    /* v1 is the DEFAULT and so is never encoded in DER; only v2 and v3 exist. */
    if (n < 1 || n > 2)
        return CTCA_ERR_CERT_MALFORMED;
    f->version = el;
    f->version_num = (unsigned)n;
    *body = c;
    return CTCA_OK;
}

static ctca_err get_optional_element(ctca_view *body, uint8_t tag, ctca_view *el)
{
    *el = ctca_view_make(NULL, 0);
    if (!ctca_der_peek(*body, tag))
        return CTCA_OK;
    return ctca_der_get_element(body, tag, el);
}

ctca_err ctca_tbs_parse(ctca_view tbs, ctca_tbs_fields *out)
{
    ctca_tbs_fields f;
    memset(&f, 0, sizeof f);
    ctca_view v = tbs, body, tmp, serial;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_view_expect_empty(v));
    CTCA_GUARD(get_version(&body, &f));

    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_INTEGER, &f.serial));
    tmp = f.serial;
    CTCA_GUARD(ctca_der_get_integer(&tmp, &serial));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &f.signature));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &f.issuer));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &f.validity));
    CTCA_GUARD(check_validity(f.validity));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &f.subject));
    CTCA_GUARD(ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &f.spki));
    CTCA_GUARD(check_spki(f.spki));

    CTCA_GUARD(get_optional_element(&body, CTCA_DER_CTX(1), &f.issuer_uid));
    CTCA_GUARD(get_optional_element(&body, CTCA_DER_CTX(2), &f.subject_uid));
    CTCA_GUARD(get_optional_element(&body, CTCA_DER_CTX_C(3), &f.extensions));
    CTCA_GUARD(ctca_view_expect_empty(body));
    /* RFC 5280 4.1.2.8-9: unique IDs need v2 or v3, extensions need v3. */
    if ((f.issuer_uid.len > 0 || f.subject_uid.len > 0) && f.version_num < 1)
        return CTCA_ERR_CERT_MALFORMED;
    if (f.extensions.len > 0) {
        if (f.version_num != 2)
            return CTCA_ERR_CERT_MALFORMED;
        ctca_view outer = f.extensions, ext, seq;
        CTCA_GUARD(ctca_der_get(&outer, CTCA_DER_CTX_C(3), &ext));
        CTCA_GUARD(ctca_der_get(&ext, CTCA_DER_SEQUENCE, &seq));
        CTCA_GUARD(ctca_view_expect_empty(ext));
        CTCA_GUARD(check_ext_list(seq));
        f.ext_list = seq;
    }
    *out = f;
    return CTCA_OK;
}

ctca_err ctca_cert_get_tbs_fields(ctca_view cert, ctca_cert_parts *parts, ctca_tbs_fields *fields)
{
    CTCA_GUARD(ctca_cert_split(cert, parts));
    return ctca_tbs_parse(parts->tbs, fields);
}

ctca_err ctca_ext_find(ctca_view ext_list, const uint8_t *oid, size_t oid_len, ctca_ext *out,
                       bool *found)
{
    *found = false;
    while (ext_list.len > 0) {
        ctca_ext ext;
        CTCA_GUARD(ctca_ext_next(&ext_list, &ext));
        if (!ctca_oid_eq(ext.oid, oid, oid_len))
            continue;
        if (*found)
            return CTCA_ERR_EXT_DUPLICATE;
        *out = ext;
        *found = true;
    }
    return CTCA_OK;
}

bool ctca_ext_is_valid_poison(const ctca_ext *ext)
{
    static const uint8_t der_null[2] = {0x05, 0x00};
    return ext->critical && ctca_view_eq(ext->value, ctca_view_make(der_null, sizeof der_null));
}

/* A replacement must be exactly one well-formed Extension. */
static ctca_err check_replacement(ctca_view r)
{
    ctca_ext ext;
    if (r.len == 0)
        return CTCA_OK;
    CTCA_GUARD(ctca_ext_next(&r, &ext));
    return ctca_view_expect_empty(r);
}

#define MAX_EDITS 16

/* Writes the edited Extensions contents into lb; used[i] tells whether edit i
 * found its extension. */
static ctca_err build_ext_list(ctca_builder *lb, ctca_view list, const ctca_ext_edit *edits,
                               size_t n_edits, bool *used)
{
    while (list.len > 0) {
        ctca_ext ext;
        CTCA_GUARD(ctca_ext_next(&list, &ext));
        size_t i = 0;
        while (i < n_edits && !ctca_oid_eq(ext.oid, edits[i].oid, edits[i].oid_len))
            i++;
        if (i == n_edits) {
            ctca_builder_add_view(lb, ext.element);
            continue;
        }
        used[i] = true;
        ctca_builder_add_view(lb, edits[i].replacement);
    }
    for (size_t i = 0; i < n_edits; i++)
        if (!used[i] && edits[i].if_absent == CTCA_OK)
            ctca_builder_add_view(lb, edits[i].replacement);
    return CTCA_OK;
}

static void build_tbs(ctca_builder *b, const ctca_tbs_fields *f, ctca_view issuer,
                      ctca_view ext_list)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_view(b, f->version);
    ctca_builder_add_view(b, f->serial);
    ctca_builder_add_view(b, f->signature);
    ctca_builder_add_view(b, issuer);
    ctca_builder_add_view(b, f->validity);
    ctca_builder_add_view(b, f->subject);
    ctca_builder_add_view(b, f->spki);
    ctca_builder_add_view(b, f->issuer_uid);
    ctca_builder_add_view(b, f->subject_uid);
    /* RFC 5280 4.1: Extensions ::= SEQUENCE SIZE (1..MAX), so an emptied list
     * drops the whole [3] field. */
    if (ext_list.len > 0) {
        ctca_builder_open_der(b, CTCA_DER_CTX_C(3));
        ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
        ctca_builder_add_view(b, ext_list);
        ctca_builder_close(b);
        ctca_builder_close(b);
    }
    ctca_builder_close(b);
}

ctca_err ctca_tbs_edit(ctca_view tbs, ctca_view new_issuer, const ctca_ext_edit *edits,
                       size_t n_edits, uint8_t **out, size_t *out_len)
{
    ctca_err rc;
    ctca_tbs_fields f, check;
    ctca_builder lb, b;
    bool used[MAX_EDITS] = {false};
    uint8_t *list = NULL, *res = NULL;
    size_t list_len = 0, res_len = 0;
    ctca_builder_init(&lb, TBS_BUILD_MAX);
    ctca_builder_init(&b, TBS_BUILD_MAX);

    rc = n_edits > MAX_EDITS ? CTCA_ERR_INTERNAL : CTCA_OK;
    for (size_t i = 0; rc == CTCA_OK && i < n_edits; i++) {
        rc = check_replacement(edits[i].replacement);
        for (size_t j = 0; rc == CTCA_OK && j < i; j++)
            if (ctca_oid_eq(ctca_view_make(edits[i].oid, edits[i].oid_len), edits[j].oid,
                            edits[j].oid_len))
                rc = CTCA_ERR_INTERNAL; /* two edits of one extension: a caller bug */
    }
    if (rc != CTCA_OK)
        goto out;
    if (new_issuer.len > 0) {
        ctca_view v = new_issuer, ignored;
        if ((rc = ctca_der_get(&v, CTCA_DER_SEQUENCE, &ignored)) != CTCA_OK ||
            (rc = ctca_view_expect_empty(v)) != CTCA_OK)
            goto out;
    }
    if ((rc = ctca_tbs_parse(tbs, &f)) != CTCA_OK)
        goto out;

    if ((rc = build_ext_list(&lb, f.ext_list, edits, n_edits, used)) != CTCA_OK)
        goto out;
    for (size_t i = 0; i < n_edits; i++) {
        if (!used[i] && edits[i].if_absent != CTCA_OK) {
            rc = edits[i].if_absent;
            goto out;
        }
    }
    if ((rc = ctca_builder_finish(&lb, &list, &list_len)) != CTCA_OK)
        goto out;
    if (list_len > 0 && f.version_num != 2) {
        rc = CTCA_ERR_CERT_MALFORMED; /* extensions need a v3 certificate */
        goto out;
    }
    build_tbs(&b, &f, new_issuer.len > 0 ? new_issuer : f.issuer,
              ctca_view_make(list, list_len));
    if ((rc = ctca_builder_finish(&b, &res, &res_len)) != CTCA_OK)
        goto out;
    /* Whatever the edits did, the result is a valid TBS with no duplicate. */
    if ((rc = ctca_tbs_parse(ctca_view_make(res, res_len), &check)) != CTCA_OK)
        goto out;
    *out = res;
    *out_len = res_len;
    res = NULL;
out:
    free(res);
    free(list);
    ctca_builder_cleanup(&lb);
    ctca_builder_cleanup(&b);
    return rc;
}

ctca_err ctca_tbs_replace_ext(ctca_view tbs, const uint8_t *oid, size_t oid_len,
                              ctca_view replacement, ctca_err if_absent, uint8_t **out,
                              size_t *out_len)
{
    ctca_tbs_fields f;
    ctca_ext ext;
    bool found;
    CTCA_GUARD(ctca_tbs_parse(tbs, &f));
    CTCA_GUARD(ctca_ext_find(f.ext_list, oid, oid_len, &ext, &found));
    if (!found) {
        if (if_absent != CTCA_OK)
            return if_absent;
        /* Nothing to replace: an unchanged copy. */
        replacement = ctca_view_make(NULL, 0);
    }
    ctca_ext_edit edit = {oid, oid_len, replacement, CTCA_OK};
    return ctca_tbs_edit(tbs, ctca_view_make(NULL, 0), &edit, 1, out, out_len);
}
