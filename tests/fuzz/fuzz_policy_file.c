/* Fuzz target: the custom CT policy parser (ctca_policy_parse over
 * asn1/json.c), whose number handling was undefined for huge values before
 * (issue 12). A policy it accepts has 1..CTCA_POLICY_MAX_BANDS bands in
 * increasing order of lifetime, each asking for 1..CTCA_SCT_LIST_MAX SCTs, and
 * counted states; a refused one is CTCA_ERR_JSON or CTCA_ERR_CONFIG with a
 * message. A second parse gives the same policy. */
#include <stdlib.h>
#include <string.h>

#include "ctca/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_policy a, b;
    ctca_errbuf eb = {{0}};
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ctca_err rc = ctca_policy_parse((const char *)data, size, &a, &eb);
    if (rc != CTCA_OK) {
        if (eb.msg[0] == '\0' || (rc != CTCA_ERR_JSON && rc != CTCA_ERR_CONFIG))
            abort();
        return 0;
    }
    if (a.n_bands < 1 || a.n_bands > CTCA_POLICY_MAX_BANDS || a.counted_states == 0 ||
        a.min_operators < 1 || a.name[0] == '\0')
        abort();
    for (size_t i = 0; i < a.n_bands; i++) {
        if (a.bands[i].scts < 1 || a.bands[i].scts > CTCA_SCT_LIST_MAX ||
            (i > 0 && a.bands[i].max_lifetime_ms <= a.bands[i - 1].max_lifetime_ms))
            abort();
    }
    if (ctca_policy_parse((const char *)data, size, &b, NULL) != CTCA_OK ||
        strcmp(a.name, b.name) != 0 || a.n_bands != b.n_bands ||
        a.counted_states != b.counted_states || a.current_states != b.current_states ||
        a.min_current != b.min_current || a.max_list_age_ms != b.max_list_age_ms ||
        a.tls_scts != b.tls_scts || a.require_rfc6962 != b.require_rfc6962)
        abort();
    return 0;
}
