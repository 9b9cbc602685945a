/* Fuzz target: the ctca.json parser (ctca_config_parse over asn1/json.c). A
 * configuration it accepts has 1..CTCA_CONFIG_MAX_PROFILES profiles, each
 * named and with its validity, usages and SAN types in range, and settings
 * that agree with each other; a refused one is CTCA_ERR_JSON or
 * CTCA_ERR_CONFIG with a message. A second parse agrees. */
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_config *a = NULL, *b = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_config_parse((const char *)data, size, &a, &eb);
    if (rc != CTCA_OK) {
        if (a != NULL || eb.msg[0] == '\0' ||
            (rc != CTCA_ERR_JSON && rc != CTCA_ERR_CONFIG && rc != CTCA_ERR_NOMEM))
            abort();
        return 0;
    }
    size_t n = ctca_config_profile_count(a);
    if (n == 0 || n > CTCA_CONFIG_MAX_PROFILES || ctca_config_get0_store(a) == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        const ctca_profile *p = ctca_config_get0_profile_at(a, i);
        if (p == NULL || p->name == NULL || ctca_config_get0_profile(a, p->name) != p ||
            p->validity_days < 1 || p->validity_days > CTCA_PROFILE_MAX_VALIDITY_DAYS ||
            p->key_usage == 0 || p->eku_count == 0 || p->allowed_san_types == 0 ||
            (p->ct_version != 1 && p->ct_version != 2))
            abort();
    }
    const ctca_ct_settings *ct = ctca_config_get0_ct(a);
    if (ct->min_operators > ct->min_scts || ct->deadline_ms == 0)
        abort();
    if (ctca_config_parse((const char *)data, size, &b, NULL) != CTCA_OK ||
        ctca_config_profile_count(b) != n ||
        ctca_config_get0_ct(b)->deadline_ms != ct->deadline_ms)
        abort();
    ctca_config_free(a);
    ctca_config_free(b);
    return 0;
}
