/* Fuzz target: the Chrome v3 log list parser (ctca_log_list_parse over
 * asn1/json.c). A list it accepts keeps the header's promises: at most
 * CTCA_LOG_LIST_MAX_LOGS logs, each with its operator, a URL, a known state,
 * a log ID that is the SHA-256 of its key for RFC 6962 logs, and no log ID
 * twice; a refused one is CTCA_ERR_JSON or CTCA_ERR_LOG_LIST with a message.
 * A second parse agrees. */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/loglist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_log_list *a = NULL, *b = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_log_list_parse((const char *)data, size, &a, &eb);
    if (rc != CTCA_OK) {
        if (a != NULL || eb.msg[0] == '\0' ||
            (rc != CTCA_ERR_JSON && rc != CTCA_ERR_LOG_LIST && rc != CTCA_ERR_NOMEM))
            abort();
        return 0;
    }
    if (a->n_logs > CTCA_LOG_LIST_MAX_LOGS)
        abort();
    for (size_t i = 0; i < a->n_logs; i++) {
        const ctca_log_info *li = &a->logs[i];
        uint8_t digest[SHA256_DIGEST_LENGTH];
        if (li->operator_name == NULL || li->url == NULL || li->operator_index >= a->n_operators ||
            li->state > CTCA_LOG_STATE_REJECTED || li->mmd_s < 0 ||
            ctca_log_list_find(a, li->log_id) != li)
            abort();
        SHA256(li->key_der, li->key_len, digest);
        if (li->ct_version == 1 && memcmp(digest, li->log_id, CTCA_LOG_ID_LEN) != 0)
            abort();
    }
    if (ctca_log_list_parse((const char *)data, size, &b, NULL) != CTCA_OK ||
        a->n_logs != b->n_logs || a->n_operators != b->n_operators ||
        a->timestamp_ms != b->timestamp_ms)
        abort();
    ctca_log_list_free(a);
    ctca_log_list_free(b);
    return 0;
}
