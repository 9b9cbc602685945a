#include "ctca/error.h"

#include <stdarg.h>
#include <stdio.h>

#define MSG_(code, cat, msg) [code] = msg,
static const char *const messages[] = {CTCA_ERROR_LIST(MSG_)};
#undef MSG_

#define NAME_(code, cat, msg) [code] = #code,
static const char *const names[] = {CTCA_ERROR_LIST(NAME_)};
#undef NAME_

#define CAT_(code, cat, msg) [code] = CTCA_CAT_##cat,
static const ctca_err_category categories[] = {CTCA_ERROR_LIST(CAT_)};
#undef CAT_

static int in_range(ctca_err code)
{
    return (int)code >= 0 && code < CTCA_ERR_COUNT_;
}

const char *ctca_err_str(ctca_err code)
{
    return in_range(code) ? messages[code] : "unknown error";
}

const char *ctca_err_name(ctca_err code)
{
    return in_range(code) ? names[code] : "CTCA_ERR_UNKNOWN";
}

ctca_err_category ctca_err_category_of(ctca_err code)
{
    return in_range(code) ? categories[code] : CTCA_CAT_INTERNAL;
}

ctca_err ctca_errbuf_set(ctca_errbuf *eb, ctca_err code, const char *fmt, ...)
{
    if (eb == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
    va_end(ap);
    return code;
}
