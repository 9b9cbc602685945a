/* The store's statement cache (st_prepare / st_release): a statement is
 * compiled once per connection and handed out again, reset and without its
 * bindings; a nested use of one already held gets its own; more distinct
 * statements than the cache holds still work. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctca/store.h"
#include "store/store_int.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

TestSuite(store_stmts, .init = store_setup, .fini = store_teardown);

static const char select_one[] = "SELECT ?1";

static int64_t step_value(sqlite3_stmt *st)
{
    bool row = false;
    cr_assert_eq(st_step_row(S, st, "stepping", &row), CTCA_OK, "%s", ctca_store_errmsg(S));
    cr_assert(row);
    return sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
}

Test(store_stmts, a_statement_is_compiled_once_and_handed_out_again_without_bindings)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    cr_assert_eq(st_prepare(S, select_one, &a), CTCA_OK);
    cr_assert_eq(st_bind_i64(S, a, 1, 42), CTCA_OK);
    cr_assert_eq(step_value(a), 42);
    st_release(S, a);
    cr_assert_eq(sqlite3_stmt_busy(a), 0, "released: reset, so it holds no read lock");
    cr_assert_eq(st_prepare(S, select_one, &b), CTCA_OK);
    cr_assert_eq(b, a, "the kept statement is handed out again");
    cr_assert_eq(step_value(b), -1, "its binding was cleared");
    st_release(S, b);
}

Test(store_stmts, a_nested_use_of_a_held_statement_gets_its_own)
{
    sqlite3_stmt *outer = NULL, *inner = NULL, *again = NULL;
    cr_assert_eq(st_prepare(S, select_one, &outer), CTCA_OK);
    cr_assert_eq(st_bind_i64(S, outer, 1, 1), CTCA_OK);
    cr_assert_eq(st_prepare(S, select_one, &inner), CTCA_OK);
    cr_assert_neq(inner, outer);
    cr_assert_eq(st_bind_i64(S, inner, 1, 2), CTCA_OK);
    cr_assert_eq(step_value(inner), 2);
    cr_assert_eq(step_value(outer), 1, "the nested use did not disturb the held one");
    st_release(S, inner); /* not kept: finalized */
    st_release(S, outer);
    cr_assert_eq(st_prepare(S, select_one, &again), CTCA_OK);
    cr_assert_eq(again, outer);
    st_release(S, again);
}

Test(store_stmts, more_distinct_statements_than_the_cache_holds_all_run)
{
    enum { N = ST_CACHE_MAX + 10 };
    char **sql = calloc(N, sizeof *sql); /* kept alive: the cache keys on them */
    cr_assert_not_null(sql);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            if (sql[i] == NULL) {
                sql[i] = malloc(32);
                cr_assert_not_null(sql[i]);
                snprintf(sql[i], 32, "SELECT %d", i);
            }
            sqlite3_stmt *st = NULL;
            cr_assert_eq(st_prepare(S, sql[i], &st), CTCA_OK, "%s", ctca_store_errmsg(S));
            cr_assert_eq(step_value(st), i);
            st_release(S, st);
        }
    }
    cr_assert_eq(S->n_cached, (size_t)ST_CACHE_MAX);
    ctca_store_close(S); /* the cache is finalized before the keys are freed */
    S = NULL;
    for (int i = 0; i < N; i++)
        free(sql[i]);
    free(sql);
}
