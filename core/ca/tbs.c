/* TBSCertificates for precertificates and final certificates (RFC 5280 4.1,
 * RFC 6962 3.1), and serials. Everything is written with ctca_builder, so the
 * bytes are fixed before anything is signed and can be journaled. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/sct.h"
#include "ctca/util.h"

static const uint8_t oid_ku[] = {0x55, 0x1d, 0x0f};
static const uint8_t oid_eku[] = {0x55, 0x1d, 0x25};
static const uint8_t oid_bc[] = {0x55, 0x1d, 0x13};
static const uint8_t oid_ski[] = {0x55, 0x1d, 0x0e};
static const uint8_t oid_aki[] = {0x55, 0x1d, 0x23};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_cp[] = {0x55, 0x1d, 0x20};
static const uint8_t oid_crldp[] = {0x55, 0x1d, 0x1f};
static const uint8_t oid_aia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t oid_ad_ocsp[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t oid_ad_ca_issuers[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};

#define TBS_MAX ((size_t)256 * 1024)

/* ---- serials ---------------------------------------------------------------- */

static int default_rand(void *ctx, uint8_t *buf, size_t n)
{
    (void)ctx;
    return RAND_bytes(buf, (int)n);
}

ctca_err ctca_serial_generate(ctca_rand_fn rand, void *rand_ctx, uint8_t serial[CTCA_SERIAL_LEN])
{
    if (rand == NULL)
        rand = default_rand;
    /* An all-zero draw from a working CSPRNG has probability 2^-127; a source
     * that keeps giving one is broken, so give up after a few. */
    for (int attempt = 0; attempt < 4; attempt++) {
        if (rand(rand_ctx, serial, CTCA_SERIAL_LEN) != 1)
            return CTCA_ERR_CRYPTO;
        serial[0] &= 0x7f; /* positive: RFC 5280 4.1.2.2 */
        for (size_t i = 0; i < CTCA_SERIAL_LEN; i++)
            if (serial[i] != 0)
                return CTCA_OK;
    }
    return CTCA_ERR_CRYPTO;
}

ctca_err ctca_serial_to_hex(const uint8_t *serial, size_t len, char *buf, size_t buf_len)
{
    static const char hex[] = "0123456789abcdef";
    while (len > 0 && serial[0] == 0) {
        serial++;
        len--;
    }
    if (len == 0 || len > 20 || buf_len < 2 * len + 1)
        return CTCA_ERR_VALUE_RANGE;
    for (size_t i = 0; i < len; i++) {
        buf[2 * i] = hex[serial[i] >> 4];
        buf[2 * i + 1] = hex[serial[i] & 0x0f];
    }
    buf[2 * len] = '\0';
    return CTCA_OK;
}

/* ---- extensions ---------------------------------------------------------------- */

/* ext_open / ext_close bracket an Extension whose extnValue the caller writes. */
static void ext_open(ctca_builder *b, const uint8_t *oid, size_t oid_len, bool critical)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, oid, oid_len);
    if (critical) /* DEFAULT FALSE is never encoded (X.690 11.5) */
        ctca_builder_add_der_bool(b, true);
    ctca_builder_open_der(b, CTCA_DER_OCTET_STRING);
}

static void ext_close(ctca_builder *b)
{
    ctca_builder_close(b);
    ctca_builder_close(b);
}

/* add_key_usage: the named-bit BIT STRING of RFC 5280 4.2.1.3 in DER: bits
 * numbered from the most significant, trailing zero bits dropped (X.690 11.2.2). */
static void add_key_usage(ctca_builder *b, unsigned bits)
{
    uint8_t octets[2] = {0, 0};
    for (unsigned i = 0; i < 9; i++)
        if (bits & (1u << i))
            octets[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    size_t n = octets[1] != 0 ? 2 : 1;
    uint8_t last = octets[n - 1];
    uint8_t unused = 0;
    while (unused < 7 && (last & (1u << unused)) == 0)
        unused++;
    ext_open(b, oid_ku, sizeof oid_ku, true);
    ctca_builder_open_der(b, CTCA_DER_BIT_STRING);
    ctca_builder_add_u8(b, unused);
    ctca_builder_add_bytes(b, octets, n);
    ctca_builder_close(b);
    ext_close(b);
}

void ctca_tbs_add_key_usage(ctca_builder *b, unsigned bits)
{
    add_key_usage(b, bits);
}

void ctca_tbs_add_ski(ctca_builder *b, const uint8_t id[20])
{
    ext_open(b, oid_ski, sizeof oid_ski, false);
    ctca_builder_add_der(b, CTCA_DER_OCTET_STRING, id, 20);
    ext_close(b);
}

static void add_eku(ctca_builder *b, const ctca_profile *pr)
{
    ext_open(b, oid_eku, sizeof oid_eku, false);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    for (size_t i = 0; i < pr->eku_count; i++)
        ctca_builder_add_der_oid(b, pr->eku[i].der, pr->eku[i].len);
    ctca_builder_close(b);
    ext_close(b);
}

static void add_basic_constraints_leaf(ctca_builder *b)
{
    ext_open(b, oid_bc, sizeof oid_bc, true);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE); /* cA DEFAULT FALSE: empty */
    ctca_builder_close(b);
    ext_close(b);
}

static void add_aki(ctca_builder *b, const uint8_t *id, size_t id_len)
{
    ext_open(b, oid_aki, sizeof oid_aki, false);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der(b, CTCA_DER_CTX(0), id, id_len); /* keyIdentifier [0] IMPLICIT */
    ctca_builder_close(b);
    ext_close(b);
}

static void add_uri_name(ctca_builder *b, const char *url)
{
    ctca_builder_add_der(b, CTCA_DER_CTX(6), (const uint8_t *)url, strlen(url));
}

static void add_aia(ctca_builder *b, const ctca_profile *pr)
{
    ext_open(b, oid_aia, sizeof oid_aia, false);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    if (pr->ocsp_url != NULL) {
        ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(b, oid_ad_ocsp, sizeof oid_ad_ocsp);
        add_uri_name(b, pr->ocsp_url);
        ctca_builder_close(b);
    }
    if (pr->ca_issuers_url != NULL) {
        ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(b, oid_ad_ca_issuers, sizeof oid_ad_ca_issuers);
        add_uri_name(b, pr->ca_issuers_url);
        ctca_builder_close(b);
    }
    ctca_builder_close(b);
    ext_close(b);
}

static void add_san(ctca_builder *b, const ctca_csr *csr, bool critical)
{
    ext_open(b, oid_san, sizeof oid_san, critical);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    for (size_t i = 0; i < csr->san_count; i++) {
        const ctca_san *san = &csr->sans[i];
        uint8_t tag = san->type == CTCA_SAN_DNS     ? CTCA_DER_CTX(2)
                      : san->type == CTCA_SAN_IP    ? CTCA_DER_CTX(7)
                      : san->type == CTCA_SAN_EMAIL ? CTCA_DER_CTX(1)
                                                    : CTCA_DER_CTX(6);
        ctca_builder_add_der(b, tag, san->value, san->len);
    }
    ctca_builder_close(b);
    ext_close(b);
}

static void add_policies(ctca_builder *b, const ctca_profile *pr)
{
    ext_open(b, oid_cp, sizeof oid_cp, false);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    for (size_t i = 0; i < pr->policy_count; i++) {
        ctca_builder_open_der(b, CTCA_DER_SEQUENCE); /* PolicyInformation, no qualifiers */
        ctca_builder_add_der_oid(b, pr->policies[i].der, pr->policies[i].len);
        ctca_builder_close(b);
    }
    ctca_builder_close(b);
    ext_close(b);
}

static void add_crl_dp(ctca_builder *b, const ctca_profile *pr)
{
    ext_open(b, oid_crldp, sizeof oid_crldp, false);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);  /* DistributionPoint */
    ctca_builder_open_der(b, CTCA_DER_CTX_C(0));  /* distributionPoint [0] */
    ctca_builder_open_der(b, CTCA_DER_CTX_C(0));  /* fullName [0] GeneralNames */
    add_uri_name(b, pr->crl_url);
    ctca_builder_close(b);
    ctca_builder_close(b);
    ctca_builder_close(b);
    ctca_builder_close(b);
    ext_close(b);
}

/* ---- subject ------------------------------------------------------------------ */

/* subject_cn: the CN the profile's mode gives (NULL: empty subject). */
static const char *subject_cn(const ctca_profile *pr, const ctca_csr *csr, size_t *len)
{
    if (pr->subject == CTCA_SUBJECT_CN_FROM_CSR && csr->cn != NULL) {
        *len = strlen(csr->cn);
        return csr->cn;
    }
    if (pr->subject == CTCA_SUBJECT_CN_FIRST_DNS) {
        for (size_t i = 0; i < csr->san_count; i++) {
            if (csr->sans[i].type != CTCA_SAN_DNS)
                continue;
            /* ub-common-name is 64 (RFC 5280 A.1); a longer name stays in the SAN only. */
            if (csr->sans[i].len > 64)
                return NULL;
            *len = csr->sans[i].len;
            return (const char *)csr->sans[i].value;
        }
    }
    return NULL;
}

static void add_subject(ctca_builder *b, const char *cn, size_t cn_len)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    if (cn != NULL) {
        ctca_builder_open_der(b, CTCA_DER_SET);
        ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(b, oid_cn, sizeof oid_cn);
        ctca_builder_add_der(b, CTCA_DER_UTF8_STRING, (const uint8_t *)cn, cn_len);
        ctca_builder_close(b);
        ctca_builder_close(b);
    }
    ctca_builder_close(b);
}

/* ---- the precertificate TBS ----------------------------------------------------- */

static bool serial_ok(const uint8_t *serial, size_t len)
{
    if (serial == NULL || len == 0 || len > 20)
        return false;
    for (size_t i = 0; i < len; i++)
        if (serial[i] != 0)
            return true;
    return false;
}

ctca_err ctca_tbs_build_precert(const ctca_ca *ca, const ctca_profile *profile,
                                const ctca_csr *csr, const uint8_t *serial, size_t serial_len,
                                int64_t now, uint8_t **out, size_t *out_len, ctca_errbuf *eb)
{
    *out = NULL;
    *out_len = 0;
    CTCA_GUARD(ctca_csr_check_profile(csr, profile, eb));
    if (!serial_ok(serial, serial_len))
        return ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE, "the serial must be 1..20 octets, not zero");
    /* A certificate outside its issuer's validity would fail path validation
     * (RFC 5280 6.1.3) for part of its life; refuse it rather than sign it. */
    int64_t not_after = now + (int64_t)profile->validity_days * 86400 - 1;
    if (now < ca->not_before || not_after > ca->not_after) {
        char nb[32], na[32];
        ctca_time_format_rfc3339(ca->not_before * 1000, nb, sizeof nb);
        ctca_time_format_rfc3339(ca->not_after * 1000, na, sizeof na);
        return ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                               "a %u-day certificate from now would fall outside the CA "
                               "certificate's validity (%s to %s)",
                               profile->validity_days, nb, na);
    }
    /* keyEncipherment is for RSA key transport; BR 7.1.2.7.11 forbids it for ECDSA keys. */
    unsigned ku = profile->key_usage;
    if (!csr->key_is_rsa)
        ku &= ~(unsigned)CTCA_KU_KEY_ENCIPHERMENT;
    if (ku == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                               "profile %s leaves no key usage for an ECDSA key", profile->name);
    uint8_t ski[20];
    CTCA_GUARD(ctca_key_id(csr->spki, ski));
    size_t cn_len = 0;
    const char *cn = subject_cn(profile, csr, &cn_len);

    ctca_builder b;
    ctca_builder_init(&b, TBS_MAX);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0)); /* version v3 */
    ctca_builder_add_der_u64(&b, 2);
    ctca_builder_close(&b);
    ctca_builder_add_der_uint_bytes(&b, serial, serial_len);
    ctca_builder_add_view(&b, ctca_signer_get0_alg(ca->signer));
    ctca_builder_add_view(&b, ca->tbs.subject); /* issuer: the CA's subject, verbatim */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_time(&b, now);
    ctca_builder_add_der_time(&b, not_after);
    ctca_builder_close(&b);
    add_subject(&b, cn, cn_len);
    ctca_builder_add_view(&b, csr->spki); /* verbatim */
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(3));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    add_key_usage(&b, ku);
    add_eku(&b, profile);
    add_basic_constraints_leaf(&b);
    ctca_tbs_add_ski(&b, ski);
    add_aki(&b, ca->key_id, ca->key_id_len);
    if (profile->ocsp_url != NULL || profile->ca_issuers_url != NULL)
        add_aia(&b, profile);
    add_san(&b, csr, cn == NULL); /* RFC 5280 4.2.1.6: critical when the subject is empty */
    if (profile->policy_count > 0)
        add_policies(&b, profile);
    if (profile->crl_url != NULL)
        add_crl_dp(&b, profile);
    ctca_builder_add_bytes(&b, CTCA_CT_POISON_EXT, sizeof CTCA_CT_POISON_EXT); /* RFC 6962 3.1: last */
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_err rc = ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "building the TBSCertificate");
    return CTCA_OK;
}

/* ---- the final TBS ------------------------------------------------------------ */

/* check_sct_list_shape: opaque SerializedSCT<1..2^16-1>; list<1..2^16-1>
 * (RFC 6962 3.3), at most CTCA_SCT_LIST_MAX entries. The SCTs themselves are
 * verified by the caller before they get here. */
static ctca_err check_sct_list_shape(ctca_view in)
{
    ctca_view list, sct;
    CTCA_GUARD(ctca_tls_get_vec(&in, 2, 1, 65535, &list));
    CTCA_GUARD(ctca_view_expect_empty(in));
    size_t n = 0;
    while (list.len > 0) {
        CTCA_GUARD(ctca_tls_get_vec(&list, 2, 1, 65535, &sct));
        if (++n > CTCA_SCT_LIST_MAX)
            return CTCA_ERR_SCT_LIST_TOO_LONG;
    }
    return CTCA_OK;
}

/* last_ext_is_poison: true when the extension list ends with the exact poison. */
static ctca_err last_ext_is_poison(ctca_view tbs, bool *yes)
{
    ctca_tbs_fields f;
    CTCA_GUARD(ctca_tbs_parse(tbs, &f));
    ctca_view list = f.ext_list;
    ctca_ext ext = {0};
    while (list.len > 0)
        CTCA_GUARD(ctca_ext_next(&list, &ext));
    *yes = ctca_view_eq(ext.element, ctca_view_make(CTCA_CT_POISON_EXT, sizeof CTCA_CT_POISON_EXT));
    return CTCA_OK;
}

ctca_err ctca_tbs_build_v2(const ctca_ca *ca, const ctca_profile *profile, const ctca_csr *csr,
                           const uint8_t *serial, size_t serial_len, int64_t now, uint8_t **out,
                           size_t *out_len, ctca_errbuf *eb)
{
    uint8_t *pre = NULL;
    size_t pre_len = 0;
    CTCA_GUARD(ctca_tbs_build_precert(ca, profile, csr, serial, serial_len, now, &pre, &pre_len,
                                      eb));
    ctca_err rc = ctca_tbs_replace_ext(ctca_view_make(pre, pre_len), CTCA_OID_CT_POISON,
                                       sizeof CTCA_OID_CT_POISON, ctca_view_make(NULL, 0),
                                       CTCA_ERR_NOT_PRECERT, out, out_len);
    free(pre);
    return rc;
}

ctca_err ctca_tbs_precert_to_final(ctca_view precert_tbs, ctca_view sct_list, uint8_t **out,
                                   size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    bool poison_last = false;
    CTCA_GUARD(last_ext_is_poison(precert_tbs, &poison_last));
    if (!poison_last)
        return CTCA_ERR_NOT_PRECERT;
    CTCA_GUARD(check_sct_list_shape(sct_list));

    uint8_t *ext = NULL;
    size_t ext_len = 0;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ext_open(&b, CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST, false);
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, sct_list.data, sct_list.len);
    ext_close(&b);
    ctca_err rc = ctca_builder_finish(&b, &ext, &ext_len);
    ctca_builder_cleanup(&b);
    if (rc != CTCA_OK)
        return rc;
    rc = ctca_tbs_replace_ext(precert_tbs, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON,
                              ctca_view_make(ext, ext_len), CTCA_ERR_NOT_PRECERT, out, out_len);
    free(ext);
    return rc;
}
