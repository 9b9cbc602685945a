#include "tests/testlog/merkle.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void tl_merkle_init(tl_merkle *t)
{
    memset(t, 0, sizeof *t);
}

void tl_merkle_cleanup(tl_merkle *t)
{
    for (size_t k = 0; k < TL_MERKLE_LEVELS; k++)
        free(t->level[k]);
    memset(t, 0, sizeof *t);
}

size_t tl_merkle_size(const tl_merkle *t)
{
    return t->count[0];
}

static ctca_err sha256_parts(const uint8_t *prefix, size_t prefix_len, const uint8_t *a,
                             size_t a_len, const uint8_t *b, size_t b_len,
                             uint8_t out[TL_HASH_LEN])
{
    ctca_err rc = CTCA_ERR_CRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    unsigned int n = 0;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    if (prefix_len > 0 && EVP_DigestUpdate(ctx, prefix, prefix_len) != 1)
        goto out;
    if (a_len > 0 && EVP_DigestUpdate(ctx, a, a_len) != 1)
        goto out;
    if (b_len > 0 && EVP_DigestUpdate(ctx, b, b_len) != 1)
        goto out;
    if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != TL_HASH_LEN)
        goto out;
    rc = CTCA_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

ctca_err tl_leaf_hash(const uint8_t *leaf, size_t leaf_len, uint8_t out[TL_HASH_LEN])
{
    static const uint8_t zero = 0x00;
    return sha256_parts(&zero, 1, leaf, leaf_len, NULL, 0, out);
}

ctca_err tl_node_hash(const uint8_t left[TL_HASH_LEN], const uint8_t right[TL_HASH_LEN],
                      uint8_t out[TL_HASH_LEN])
{
    static const uint8_t one = 0x01;
    return sha256_parts(&one, 1, left, TL_HASH_LEN, right, TL_HASH_LEN, out);
}

static ctca_err level_push(tl_merkle *t, unsigned k, const uint8_t h[TL_HASH_LEN])
{
    if (k >= TL_MERKLE_LEVELS)
        return CTCA_ERR_VALUE_RANGE;
    if (t->count[k] == t->cap[k]) {
        size_t cap = t->cap[k] ? t->cap[k] * 2 : 64;
        uint8_t *p = realloc(t->level[k], cap * TL_HASH_LEN);
        if (p == NULL)
            return CTCA_ERR_NOMEM;
        t->level[k] = p;
        t->cap[k] = cap;
    }
    memcpy(t->level[k] + t->count[k] * TL_HASH_LEN, h, TL_HASH_LEN);
    t->count[k]++;
    return CTCA_OK;
}

ctca_err tl_merkle_append(tl_merkle *t, const uint8_t leaf_hash[TL_HASH_LEN])
{
    CTCA_GUARD(level_push(t, 0, leaf_hash));
    /* Each time a level gains an even count, a new complete subtree one level
     * up is finished. */
    for (unsigned k = 0; k + 1 < TL_MERKLE_LEVELS && t->count[k] % 2 == 0; k++) {
        uint8_t h[TL_HASH_LEN];
        const uint8_t *l = t->level[k] + (t->count[k] - 2) * TL_HASH_LEN;
        CTCA_GUARD(tl_node_hash(l, l + TL_HASH_LEN, h));
        CTCA_GUARD(level_push(t, k + 1, h));
    }
    return CTCA_OK;
}

static bool is_pow2(size_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

static unsigned log2_exact(size_t n)
{
    unsigned k = 0;
    while (((size_t)1 << k) < n)
        k++;
    return k;
}

/* The largest power of two smaller than n (n >= 2). */
static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* MTH(D[lo:lo+n]), n >= 1. Every power-of-two range the RFC recursion visits
 * starts at a multiple of its size, so it is a stored complete subtree. */
static ctca_err subtree_hash(const tl_merkle *t, size_t lo, size_t n, uint8_t out[TL_HASH_LEN])
{
    if (is_pow2(n)) {
        unsigned k = log2_exact(n);
        size_t i = lo >> k;
        if (k >= TL_MERKLE_LEVELS || (lo & (n - 1)) != 0 || i >= t->count[k])
            return CTCA_ERR_INTERNAL;
        memcpy(out, t->level[k] + i * TL_HASH_LEN, TL_HASH_LEN);
        return CTCA_OK;
    }
    size_t k = split_point(n);
    uint8_t l[TL_HASH_LEN], r[TL_HASH_LEN];
    CTCA_GUARD(subtree_hash(t, lo, k, l));
    CTCA_GUARD(subtree_hash(t, lo + k, n - k, r));
    return tl_node_hash(l, r, out);
}

ctca_err tl_merkle_root(const tl_merkle *t, size_t tree_size, uint8_t out[TL_HASH_LEN])
{
    if (tree_size > tl_merkle_size(t))
        return CTCA_ERR_VALUE_RANGE;
    if (tree_size == 0)
        return sha256_parts(NULL, 0, NULL, 0, NULL, 0, out);
    return subtree_hash(t, 0, tree_size, out);
}

static ctca_err proof_add(tl_proof *p, const tl_merkle *t, size_t lo, size_t n)
{
    if (p->n >= TL_MERKLE_MAX_PROOF)
        return CTCA_ERR_INTERNAL;
    CTCA_GUARD(subtree_hash(t, lo, n, p->hash[p->n]));
    p->n++;
    return CTCA_OK;
}

/* PATH(m, D[lo:lo+n]). */
static ctca_err path(const tl_merkle *t, size_t m, size_t lo, size_t n, tl_proof *out)
{
    if (n <= 1)
        return CTCA_OK;
    size_t k = split_point(n);
    if (m < k) {
        CTCA_GUARD(path(t, m, lo, k, out));
        return proof_add(out, t, lo + k, n - k);
    }
    CTCA_GUARD(path(t, m - k, lo + k, n - k, out));
    return proof_add(out, t, lo, k);
}

ctca_err tl_merkle_audit_path(const tl_merkle *t, size_t index, size_t tree_size, tl_proof *out)
{
    out->n = 0;
    if (tree_size > tl_merkle_size(t) || index >= tree_size)
        return CTCA_ERR_VALUE_RANGE;
    return path(t, index, 0, tree_size, out);
}

/* SUBPROOF(m, D[lo:lo+n], b). */
static ctca_err subproof(const tl_merkle *t, size_t m, size_t lo, size_t n, bool b,
                         tl_proof *out)
{
    if (m == n)
        return b ? CTCA_OK : proof_add(out, t, lo, n);
    size_t k = split_point(n);
    if (m <= k) {
        CTCA_GUARD(subproof(t, m, lo, k, b, out));
        return proof_add(out, t, lo + k, n - k);
    }
    CTCA_GUARD(subproof(t, m - k, lo + k, n - k, false, out));
    return proof_add(out, t, lo, k);
}

ctca_err tl_merkle_consistency(const tl_merkle *t, size_t first, size_t second, tl_proof *out)
{
    out->n = 0;
    if (first == 0 || first > second || second > tl_merkle_size(t))
        return CTCA_ERR_VALUE_RANGE;
    if (first == second)
        return CTCA_OK;
    return subproof(t, first, 0, second, true, out);
}
