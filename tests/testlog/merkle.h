/* tests/testlog/merkle.h - an in-memory RFC 6962 section 2.1 Merkle tree.
 *
 * Leaves are appended as their leaf hashes (SHA-256(0x00 || MerkleTreeLeaf)).
 * Every complete, aligned subtree of 2^k leaves is kept (level k), which is all
 * RFC 6962 ever needs: the left child of any node is such a subtree, so MTH,
 * audit paths and consistency proofs for any tree size up to the current one
 * cost O(log n) hashes. Not thread-safe: the log's mutex guards it. */
#ifndef CTCA_TESTLOG_MERKLE_H
#define CTCA_TESTLOG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "ctca/error.h"

#define TL_HASH_LEN 32
#define TL_MERKLE_LEVELS 48 /* 2^48 leaves: far beyond an in-memory log */
#define TL_MERKLE_MAX_PROOF (2 * TL_MERKLE_LEVELS)

typedef struct tl_merkle {
    uint8_t *level[TL_MERKLE_LEVELS]; /* level[k]: count[k] hashes of 2^k-leaf subtrees */
    size_t count[TL_MERKLE_LEVELS];
    size_t cap[TL_MERKLE_LEVELS];
} tl_merkle;

/* A proof: up to TL_MERKLE_MAX_PROOF hashes, in the order RFC 6962 lists them. */
typedef struct tl_proof {
    uint8_t hash[TL_MERKLE_MAX_PROOF][TL_HASH_LEN];
    size_t n;
} tl_proof;

/* tl_merkle_init / tl_merkle_cleanup: a zeroed tree; cleanup frees and re-zeroes. */
void tl_merkle_init(tl_merkle *t);
void tl_merkle_cleanup(tl_merkle *t);
/* tl_merkle_size: the number of leaves. */
size_t tl_merkle_size(const tl_merkle *t);

/* tl_leaf_hash: SHA-256(0x00 || leaf). */
CTCA_RESULT tl_leaf_hash(const uint8_t *leaf, size_t leaf_len, uint8_t out[TL_HASH_LEN]);
/* tl_node_hash: SHA-256(0x01 || left || right). */
CTCA_RESULT tl_node_hash(const uint8_t left[TL_HASH_LEN], const uint8_t right[TL_HASH_LEN],
                         uint8_t out[TL_HASH_LEN]);

/* tl_merkle_append: appends one leaf hash. */
CTCA_RESULT tl_merkle_append(tl_merkle *t, const uint8_t leaf_hash[TL_HASH_LEN]);
/* tl_merkle_root: MTH of the first tree_size leaves (tree_size <= size; the
 * empty tree's hash is SHA-256 of the empty string). */
CTCA_RESULT tl_merkle_root(const tl_merkle *t, size_t tree_size, uint8_t out[TL_HASH_LEN]);
/* tl_merkle_audit_path: PATH(index, D[tree_size]) of RFC 6962 2.1.1. */
CTCA_RESULT tl_merkle_audit_path(const tl_merkle *t, size_t index, size_t tree_size,
                                 tl_proof *out);
/* tl_merkle_consistency: PROOF(first, D[second]) of RFC 6962 2.1.2
 * (0 < first <= second <= size; first == second gives an empty proof). */
CTCA_RESULT tl_merkle_consistency(const tl_merkle *t, size_t first, size_t second,
                                  tl_proof *out);

#endif
