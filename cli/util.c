/* Helpers shared by the subcommands (declared in cli.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/asn1.h"

bool cli_normalize_serial(const char *s, char out[CTCA_STORE_SERIAL_MAX + 3])
{
    size_t n = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s != '\0'; s++) {
        if (*s == ':')
            continue;
        if (!isxdigit((unsigned char)*s) || n == CTCA_STORE_SERIAL_MAX + 2)
            return false;
        out[n++] = (char)tolower((unsigned char)*s);
    }
    if (n == 0)
        return false;
    out[n] = '\0';
    size_t skip = 0;
    while (n - skip > 1 && out[skip] == '0')
        skip++;
    /* Whole octets: an odd digit count gets one leading zero back. */
    size_t lead = (n - skip) % 2;
    memmove(out + lead, out + skip, n - skip + 1);
    if (lead)
        out[0] = '0';
    return strlen(out) <= CTCA_STORE_SERIAL_MAX;
}

const ctca_log_info *cli_find_log(const ctca_log_list *list, const char *name)
{
    uint8_t *id = NULL;
    size_t id_len = 0;
    const ctca_log_info *log = NULL;
    if (ctca_base64_decode(name, strlen(name), &id, &id_len) == CTCA_OK &&
        id_len == CTCA_LOG_ID_LEN)
        log = ctca_log_list_find(list, id);
    free(id);
    for (size_t i = 0; log == NULL && i < list->n_logs; i++) {
        const ctca_log_info *l = &list->logs[i];
        if (strcmp(l->url, name) == 0 || (l->description && strcmp(l->description, name) == 0))
            log = l;
    }
    return log;
}

json_t *cli_json_str(const char *s)
{
    json_t *v = json_string(s);
    if (v != NULL || s == NULL)
        return v;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *q = copy; *q != '\0'; q++)
        if ((unsigned char)*q >= 0x80)
            *q = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

bool cli_json_set(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

bool cli_json_print(const json_t *root)
{
    char *text = json_dumps(root, JSON_COMPACT);
    if (text == NULL)
        return false;
    printf("%s\n", text);
    free(text);
    return true;
}
