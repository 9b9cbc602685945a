/* The fixture the store tests share: a fresh store S at path in a temporary
 * directory, closed and removed after each test, and assertions that print
 * the store's last error. Static, so each test file includes it once:
 *   TestSuite(name, .init = store_setup, .fini = store_teardown); */
#ifndef CTCA_TESTS_STORE_FIXTURE_H
#define CTCA_TESTS_STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctca/store.h"
#include "tests/helpers.h"

static char *dir;
static char path[512];
static ctca_store *S;

static void store_setup(void)
{
    dir = th_tmpdir();
    snprintf(path, sizeof path, "%s/ctca.db", dir);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_create(path, &S, &eb), CTCA_OK, "open: %s", eb.msg);
}

static void store_teardown(void)
{
    ctca_store_close(S);
    S = NULL;
    th_rmdir(dir);
    free(dir);
}

/* expr on store s returns code; OK on S returns CTCA_OK. */
#define EXPECT_ON(s, code, expr)                                                        \
    do {                                                                                \
        ctca_err e_ = (expr);                                                           \
        cr_assert_eq(e_, (code), "%s: got %s, want %s (%s)", #expr, ctca_err_name(e_),  \
                     ctca_err_name(code), ctca_store_errmsg(s));                        \
    } while (0)
#define EXPECT(code, expr) EXPECT_ON(S, code, expr)
#define OK(expr) EXPECT(CTCA_OK, expr)

#endif
