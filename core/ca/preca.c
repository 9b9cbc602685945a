/* The Precertificate Signing Certificate (RFC 6962 3.1): making one for ctca
 * init --preca, checking a configured one when the CA opens, and issuing
 * precertificates through it (ctca/ca.h). */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/sct.h"
#include "ctca/util.h"

static const uint8_t oid_bc[] = {0x55, 0x1d, 0x13};
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};
static const uint8_t oid_ou[] = {0x55, 0x04, 0x0b};

#define PRECA_LABEL "Precertificate Signing"
#define UB_NAME 64 /* ub-common-name and ub-organizational-unit-name (RFC 5280 A.1) */
#define PRECA_TBS_MAX ((size_t)64 * 1024)

/* ---- making one ------------------------------------------------------------------ */

/* keygen_like: a fresh key of ca_key's algorithm and size. */
static EVP_PKEY *keygen_like(EVP_PKEY *ca_key)
{
    if (EVP_PKEY_get_base_id(ca_key) == EVP_PKEY_RSA)
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)EVP_PKEY_get_bits(ca_key));
    char group[64] = "";
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(ca_key) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(ca_key, group, sizeof group, &glen) != 1)
        return NULL;
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
}

/* cn_rdn_fits: rdn (a RelativeDistinguishedName element) is one commonName
 * whose string (UTF8String or PrintableString) has room for the label. */
static bool cn_rdn_fits(ctca_view rdn, ctca_view *value)
{
    ctca_view set, atv, oid;
    uint8_t tag = 0;
    if (ctca_der_get(&rdn, CTCA_DER_SET, &set) != CTCA_OK ||
        ctca_der_get(&set, CTCA_DER_SEQUENCE, &atv) != CTCA_OK || set.len != 0 ||
        ctca_der_get_oid(&atv, &oid) != CTCA_OK || !ctca_oid_eq(oid, oid_cn, sizeof oid_cn) ||
        ctca_der_get_any(&atv, &tag, value, NULL) != CTCA_OK || atv.len != 0)
        return false;
    return (tag == CTCA_DER_UTF8_STRING || tag == CTCA_DER_PRINTABLE_STRING) &&
           value->len + 1 + sizeof PRECA_LABEL - 1 <= UB_NAME;
}

static void add_rdn(ctca_builder *b, const uint8_t *oid, size_t oid_len, const char *a, size_t a_len,
                    const char *c)
{
    ctca_builder_open_der(b, CTCA_DER_SET);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, oid, oid_len);
    ctca_builder_open_der(b, CTCA_DER_UTF8_STRING);
    ctca_builder_add_bytes(b, (const uint8_t *)a, a_len);
    ctca_builder_add_bytes(b, (const uint8_t *)c, strlen(c));
    ctca_builder_close(b);
    ctca_builder_close(b);
    ctca_builder_close(b);
}

/* add_preca_subject: the CA's subject with its last commonName extended by the
 * label, or with an OU of the label appended when no CN has room: named after
 * the CA, and never equal to its name. */
static ctca_err add_preca_subject(ctca_builder *b, ctca_view ca_subject)
{
    ctca_view rdns, walk, rdn, value;
    CTCA_GUARD(ctca_der_get(&ca_subject, CTCA_DER_SEQUENCE, &rdns));
    CTCA_GUARD(ctca_view_expect_empty(ca_subject));
    size_t i = 0, cn_at = SIZE_MAX;
    for (walk = rdns; walk.len > 0; i++) {
        CTCA_GUARD(ctca_der_get_element(&walk, CTCA_DER_SET, &rdn));
        if (cn_rdn_fits(rdn, &value))
            cn_at = i;
    }
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    for (i = 0, walk = rdns; walk.len > 0; i++) {
        CTCA_GUARD(ctca_der_get_element(&walk, CTCA_DER_SET, &rdn));
        if (i == cn_at && cn_rdn_fits(rdn, &value))
            add_rdn(b, oid_cn, sizeof oid_cn, (const char *)value.data, value.len, " " PRECA_LABEL);
        else
            ctca_builder_add_view(b, rdn);
    }
    if (cn_at == SIZE_MAX)
        add_rdn(b, oid_ou, sizeof oid_ou, "", 0, PRECA_LABEL);
    ctca_builder_close(b);
    return CTCA_OK;
}

static void add_ext_open(ctca_builder *b, const uint8_t *oid, size_t oid_len, bool critical)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, oid, oid_len);
    if (critical)
        ctca_builder_add_der_bool(b, true);
    ctca_builder_open_der(b, CTCA_DER_OCTET_STRING);
}

static void add_ext_close(ctca_builder *b)
{
    ctca_builder_close(b);
    ctca_builder_close(b);
}

/* add_aki: authorityKeyIdentifier { keyIdentifier [0] id } as tbs.c writes it
 * for end-entity certificates, so a precertificate's AKI rewritten to the
 * PreCA's is byte for byte what a directly signed one carries. */
static void add_aki(ctca_builder *b, const uint8_t *id, size_t id_len)
{
    add_ext_open(b, CTCA_OID_AKI, sizeof CTCA_OID_AKI, false);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der(b, CTCA_DER_CTX(0), id, id_len);
    ctca_builder_close(b);
    add_ext_close(b);
}

static ctca_err build_preca_tbs(const ctca_signer *ca_signer, ctca_view ca_cert, EVP_PKEY *key,
                                int64_t now,
                                const uint8_t serial[CTCA_SERIAL_LEN], uint8_t **tbs,
                                size_t *tbs_len, ctca_errbuf *eb)
{
    ctca_cert_parts parts;
    ctca_tbs_fields ca;
    uint8_t ca_id[CTCA_KEY_ID_MAX], ski[20], *spki = NULL;
    size_t ca_id_len = 0, spki_len = 0;
    int64_t ca_not_before = 0, ca_not_after = 0;
    CTCA_GUARD(ctca_cert_get_tbs_fields(ca_cert, &parts, &ca));
    ctca_view validity = ca.validity, times;
    CTCA_GUARD(ctca_der_get(&validity, CTCA_DER_SEQUENCE, &times));
    CTCA_GUARD(ctca_der_get_time(&times, &ca_not_before));
    CTCA_GUARD(ctca_der_get_time(&times, &ca_not_after));
    if (now >= ca_not_after)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "the CA certificate has expired");
    CTCA_GUARD(ctca_tbs_key_id(&ca, ca_id, &ca_id_len));
    CTCA_GUARD(ctca_key_spki(key, &spki, &spki_len));
    ctca_err rc = ctca_key_id(ctca_view_make(spki, spki_len), ski);
    ctca_builder b;
    ctca_builder_init(&b, PRECA_TBS_MAX);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_add_der_u64(&b, 2);
    ctca_builder_close(&b);
    ctca_builder_add_der_uint_bytes(&b, serial, CTCA_SERIAL_LEN);
    ctca_builder_add_view(&b, ctca_signer_get0_alg(ca_signer));
    ctca_builder_add_view(&b, ca.subject);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_time(&b, now);
    ctca_builder_add_der_time(&b, ca_not_after);
    ctca_builder_close(&b);
    if (rc == CTCA_OK)
        rc = add_preca_subject(&b, ca.subject);
    ctca_builder_add_bytes(&b, spki, spki_len);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(3));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    /* RFC 6962 3.1: CA:true. pathLen 0: it certifies precertificates only. */
    add_ext_open(&b, oid_bc, sizeof oid_bc, true);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_bool(&b, true);
    ctca_builder_add_der_u64(&b, 0);
    ctca_builder_close(&b);
    add_ext_close(&b);
    ctca_tbs_add_key_usage(&b, 1u << 5); /* keyCertSign: it signs (pre)certificates */
    add_ext_open(&b, CTCA_OID_EKU, sizeof CTCA_OID_EKU, false);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, CTCA_OID_CT_PRECERT_SIGNING, sizeof CTCA_OID_CT_PRECERT_SIGNING);
    ctca_builder_close(&b);
    add_ext_close(&b);
    ctca_tbs_add_ski(&b, ski);
    add_aki(&b, ca_id, ca_id_len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    if (rc == CTCA_OK)
        rc = ctca_builder_finish(&b, tbs, tbs_len);
    ctca_builder_cleanup(&b);
    free(spki);
    return rc;
}

ctca_err ctca_preca_make(const ctca_signer *ca_signer, ctca_view ca_cert, int64_t now,
                         ctca_rand_fn rand, void *rand_ctx, EVP_PKEY **key, uint8_t **cert,
                         size_t *cert_len, ctca_errbuf *eb)
{
    uint8_t serial[CTCA_SERIAL_LEN], *tbs = NULL;
    size_t tbs_len = 0;
    *cert = NULL;
    *cert_len = 0;
    CTCA_GUARD(ctca_serial_generate(rand, rand_ctx, serial));
    if ((*key = keygen_like(ctca_signer_get0_public(ca_signer))) == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_CRYPTO, "generating the PreCA key failed");
    ctca_err rc = build_preca_tbs(ca_signer, ca_cert, *key, now, serial, &tbs, &tbs_len, eb);
    if (rc == CTCA_OK)
        rc = ctca_signer_sign_tbs(ca_signer, ctca_view_make(tbs, tbs_len), cert, cert_len);
    if (rc != CTCA_OK && eb != NULL && eb->msg[0] == '\0')
        ctca_errbuf_set(eb, rc, "making the PreCA certificate: %s", ctca_err_str(rc));
    free(tbs);
    return rc;
}

/* ---- checking a configured one ------------------------------------------------------ */

/* check_eku: the CT EKU is the PreCA's one and only EKU. */
static ctca_err check_eku(const ctca_tbs_fields *f, const char *path, ctca_errbuf *eb)
{
    ctca_ext ext;
    bool found = false, ct = false;
    size_t n = 0;
    CTCA_GUARD(ctca_ext_find(f->ext_list, CTCA_OID_EKU, sizeof CTCA_OID_EKU, &ext, &found));
    ctca_view v = ext.value, seq, oid;
    if (found && (ctca_der_get(&v, CTCA_DER_SEQUENCE, &seq) != CTCA_OK ||
                  ctca_view_expect_empty(v) != CTCA_OK))
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: malformed extKeyUsage", path);
    while (found && seq.len > 0) {
        if (ctca_der_get_oid(&seq, &oid) != CTCA_OK)
            return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: malformed extKeyUsage", path);
        n++;
        ct |= ctca_oid_eq(oid, CTCA_OID_CT_PRECERT_SIGNING, sizeof CTCA_OID_CT_PRECERT_SIGNING);
    }
    if (!ct)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "%s: lacks the Certificate Transparency EKU "
                               "1.3.6.1.4.1.11129.2.4.4 (RFC 6962 3.1)",
                               path);
    if (n != 1)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "%s: has extended key usages besides 1.3.6.1.4.1.11129.2.4.4; a "
                               "PreCA must have that one only, so nothing it signs is trusted "
                               "for anything else",
                               path);
    return CTCA_OK;
}

/* check_aki: the PreCA has an AKI naming the CA's key: RFC 6962 3.2 rewrites
 * the precertificate's AKI to it, and the final certificate names the CA. */
static ctca_err check_aki(ctca_ca *ca, const char *path, ctca_errbuf *eb)
{
    ctca_ext ext;
    bool found = false, has_id = false;
    CTCA_GUARD(ctca_ext_find(ca->preca_tbs.ext_list, CTCA_OID_AKI, sizeof CTCA_OID_AKI, &ext,
                             &found));
    ctca_view v = ext.value, seq, id = {NULL, 0};
    if (!found || ctca_der_get(&v, CTCA_DER_SEQUENCE, &seq) != CTCA_OK ||
        ctca_view_expect_empty(v) != CTCA_OK ||
        ctca_der_get_optional(&seq, CTCA_DER_CTX(0), &id, &has_id) != CTCA_OK || !has_id || !ctca_view_eq(id, ctca_view_make(ca->key_id, ca->key_id_len)))
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "%s: its authorityKeyIdentifier does not name the CA's key (RFC "
                               "6962 3.2 gives the final certificate the PreCA's AKI)",
                               path);
    ca->preca_aki = ext.element;
    return CTCA_OK;
}

/* check_issued: the PreCA is a CA certificate the CA issued directly. */
static ctca_err check_issued(ctca_ca *ca, X509 *x, const char *path, ctca_errbuf *eb)
{
    if (!ctca_view_eq(ca->preca_tbs.issuer, ca->tbs.subject) ||
        X509_verify(x, ctca_signer_get0_public(ca->signer)) != 1)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "%s: not issued by this CA (its issuer must be the CA "
                               "certificate's subject and its signature the CA key's; RFC 6962 "
                               "3.1: directly certified by the CA that signs the final "
                               "certificate)",
                               path);
    if (ctca_view_eq(ca->preca_tbs.subject, ca->tbs.subject))
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: its subject is the CA's own", path);
    uint32_t flags = X509_get_extension_flags(x);
    if ((flags & EXFLAG_INVALID) != 0 || (flags & EXFLAG_CA) == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "%s: not a CA certificate; RFC 6962 3.1 makes a PreCA CA:TRUE, "
                               "and logs validate precertificate, PreCA and CA as a path",
                               path);
    if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: its keyUsage lacks keyCertSign", path);
    return CTCA_OK;
}

/* check_key: the PreCA's signer holds its key and signs with the CA's
 * AlgorithmIdentifier. */
static ctca_err check_key(const ctca_ca *ca, X509 *x, const ctca_signer *key, const char *path,
                          const char *key_path, ctca_errbuf *eb)
{
    if (X509_get0_pubkey(x) == NULL ||
        EVP_PKEY_eq(X509_get0_pubkey(x), ctca_signer_get0_public(key)) != 1)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: its public key does not match %s", path,
                               key_path);
    if (!ctca_view_eq(ctca_signer_get0_alg(key), ctca_signer_get0_alg(ca->signer)))
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "%s: its key does not sign with the CA key's algorithm; RFC 6962 "
                               "3.2 needs one for the precertificate and the final certificate",
                               key_path);
    return CTCA_OK;
}

ctca_err ctca_preca_open(ctca_ca *ca, const char *cert_path, const char *key_path,
                         ctca_errbuf *eb)
{
    X509 *x = NULL;
    ctca_cert_parts parts;
    CTCA_GUARD(ctca_der_or_pem_load(cert_path, "CERTIFICATE", &ca->preca_cert,
                                    &ca->preca_cert_len, eb));
    ctca_view der = ctca_view_make(ca->preca_cert, ca->preca_cert_len);
    const unsigned char *p = ca->preca_cert;
    ctca_err rc = ctca_cert_get_tbs_fields(der, &parts, &ca->preca_tbs);
    if (rc != CTCA_OK || (x = d2i_X509(NULL, &p, (long)der.len)) == NULL ||
        p != der.data + der.len) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: not a certificate", cert_path);
        goto out;
    }
    ctca_view validity = ca->preca_tbs.validity, times;
    if ((rc = check_issued(ca, x, cert_path, eb)) != CTCA_OK ||
        (rc = check_eku(&ca->preca_tbs, cert_path, eb)) != CTCA_OK ||
        (rc = check_aki(ca, cert_path, eb)) != CTCA_OK)
        goto out;
    if (ctca_der_get(&validity, CTCA_DER_SEQUENCE, &times) != CTCA_OK ||
        ctca_der_get_time(&times, &ca->preca_not_before) != CTCA_OK ||
        ctca_der_get_time(&times, &ca->preca_not_after) != CTCA_OK ||
        ctca_tbs_key_id(&ca->preca_tbs, ca->preca_key_id, &ca->preca_key_id_len) != CTCA_OK) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_PRECA, "%s: malformed validity or SKI", cert_path);
        goto out;
    }
    if ((rc = ctca_signer_load_file(key_path, true, &ca->preca_signer, eb)) != CTCA_OK)
        goto out;
    rc = check_key(ca, x, ca->preca_signer, cert_path, key_path, eb);
out:
    X509_free(x);
    return rc;
}

/* ---- issuing through it ---------------------------------------------------------- */

ctca_err ctca_tbs_to_preca(const ctca_ca *ca, ctca_view tbs, uint8_t **out, size_t *out_len,
                           ctca_errbuf *eb)
{
    ctca_tbs_fields f;
    int64_t not_before = 0, not_after = 0;
    *out = NULL;
    *out_len = 0;
    if (ca->preca_cert == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA, "this CA has no PreCA");
    CTCA_GUARD(ctca_tbs_parse(tbs, &f));
    ctca_view validity = f.validity, times;
    CTCA_GUARD(ctca_der_get(&validity, CTCA_DER_SEQUENCE, &times));
    CTCA_GUARD(ctca_der_get_time(&times, &not_before));
    CTCA_GUARD(ctca_der_get_time(&times, &not_after));
    /* As for the CA (ctca_tbs_build_precert): a precertificate outside its
     * issuer's validity is not a path a log or a verifier should accept. */
    if (not_before < ca->preca_not_before || not_after > ca->preca_not_after) {
        char nb[32], na[32];
        ctca_time_format_rfc3339(ca->preca_not_before * 1000, nb, sizeof nb);
        ctca_time_format_rfc3339(ca->preca_not_after * 1000, na, sizeof na);
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "the certificate's validity falls outside the PreCA's (%s to %s)",
                               nb, na);
    }
    uint8_t *aki = NULL;
    size_t aki_len = 0;
    ctca_builder b;
    ctca_builder_init(&b, 1024);
    add_aki(&b, ca->preca_key_id, ca->preca_key_id_len);
    ctca_err rc = ctca_builder_finish(&b, &aki, &aki_len);
    ctca_builder_cleanup(&b);
    if (rc != CTCA_OK)
        return rc;
    ctca_ext_edit edit = {CTCA_OID_AKI, sizeof CTCA_OID_AKI, ctca_view_make(aki, aki_len),
                          CTCA_ERR_CERT_MALFORMED};
    rc = ctca_tbs_edit(tbs, ca->preca_tbs.subject, &edit, 1, out, out_len);
    free(aki);
    return rc;
}

ctca_err ctca_tbs_from_preca(const ctca_ca *ca, ctca_view tbs, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (ca->preca_cert == NULL)
        return CTCA_ERR_PRECA;
    ctca_ext_edit edit = {CTCA_OID_AKI, sizeof CTCA_OID_AKI, ca->preca_aki, CTCA_OK};
    return ctca_tbs_edit(tbs, ca->preca_tbs.issuer, &edit, 1, out, out_len);
}

ctca_err ctca_preca_sign_tbs(const ctca_ca *ca, ctca_view tbs, uint8_t **cert, size_t *cert_len)
{
    ctca_tbs_fields f;
    *cert = NULL;
    *cert_len = 0;
    if (ca->preca_cert == NULL)
        return CTCA_ERR_PRECA;
    CTCA_GUARD(ctca_tbs_parse(tbs, &f));
    if (!ctca_view_eq(f.issuer, ca->preca_tbs.subject))
        return CTCA_ERR_ISSUER_MISMATCH;
    return ctca_signer_sign_tbs(ca->preca_signer, tbs, cert, cert_len);
}

/* signed_by_preca: the PreCA's key verifies precert's signature. */
static bool signed_by_preca(const ctca_ca *ca, const ctca_cert_parts *parts)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const ctca_signer *s = ca->preca_signer;
    bool ok = ctx != NULL && ctca_view_eq(parts->sig_alg, ctca_signer_get0_alg(s)) &&
              EVP_DigestVerifyInit(ctx, NULL, ctca_signer_get0_md(s), NULL,
                                   ctca_signer_get0_public(s)) == 1 &&
              EVP_DigestVerify(ctx, parts->signature.data, parts->signature.len, parts->tbs.data,
                               parts->tbs.len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

ctca_err ctca_ca_precert_entry(const ctca_ca *ca, ctca_view precert, uint8_t **entry_tbs,
                               size_t *entry_tbs_len, ctca_view *chain, size_t *chain_len,
                               bool *via_preca)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    *entry_tbs = NULL;
    *entry_tbs_len = 0;
    *chain_len = 0;
    CTCA_GUARD(ctca_cert_get_tbs_fields(precert, &parts, &f));
    bool preca = !ctca_view_eq(f.issuer, ca->tbs.subject);
    if (preca && (ca->preca_cert == NULL || !ctca_view_eq(f.issuer, ca->preca_tbs.subject) ||
                  !signed_by_preca(ca, &parts)))
        return CTCA_ERR_ISSUER_MISMATCH;
    ctca_view preca_cert = ctca_ca_get0_preca_cert(ca);
    CTCA_GUARD(preca ? ctca_precert_tbs_from_preca_precert(precert, preca_cert, entry_tbs,
                                                           entry_tbs_len)
                     : ctca_precert_tbs_from_precert(precert, entry_tbs, entry_tbs_len));
    size_t n = 0;
    chain[n++] = precert;
    if (preca)
        chain[n++] = preca_cert;
    for (size_t i = 0; i < ca->chain.n; i++)
        chain[n++] = ctca_view_make(ca->chain.der[i], ca->chain.len[i]);
    *chain_len = n;
    if (via_preca != NULL)
        *via_preca = preca;
    return CTCA_OK;
}
