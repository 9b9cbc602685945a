#include "tests/engine_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

int64_t th_clock_ms(void *arg)
{
    return ((const th_clock *)arg)->now_ms;
}

ctca_err th_queue_run_at(const char *ca_dir, int64_t at_ms, ctca_queue_stats *stats,
                         char **progress)
{
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    th_clock clock = {.now_ms = at_ms};
    ctca_queue_run_opts o = {.once = true, .progress = f, .clock_ms = th_clock_ms,
                             .clock_arg = &clock};
    ctca_err rc = ctca_queue_run(ca, &o, stats, &eb);
    if (rc != CTCA_OK)
        fprintf(f, "queue run: %s\n", eb.msg);
    fclose(f);
    ctca_ca_free(ca);
    if (progress)
        *progress = text;
    else
        free(text);
    return rc;
}

ctca_store *th_ca_store(const th_ca *c)
{
    ctca_store *store = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", c->ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    return store;
}

size_t th_ca_records_in(const th_ca *c, ctca_store_state st)
{
    ctca_store *store = th_ca_store(c);
    ctca_store_serial_list l;
    cr_assert_eq(ctca_store_list_serials(store, st, INT64_MAX, NULL, 10, &l), CTCA_OK);
    size_t n = l.count;
    ctca_store_serial_list_cleanup(&l);
    ctca_store_close(store);
    return n;
}
