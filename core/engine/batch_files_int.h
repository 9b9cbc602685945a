/* core/engine/batch_files_int.h - the files of ctca batch (ctca/batch.h):
 * the CSR directory and its files, output names, the output certificates
 * and summary.json. The batch coordinator asks; this module touches the
 * file system. */
#ifndef CTCA_CORE_BATCH_FILES_INT_H
#define CTCA_CORE_BATCH_FILES_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/batch.h"
#include "ctca/error.h"

/* The longest CSR file name taken (NAME_MAX on Linux); longer ones are
 * skipped. */
#define CTCA_BATCH_MAX_NAME 255

/* ctca_batch_dirs_check: csr_dir is a directory, out_dir is one (created,
 * mode 0755, when missing) and they are not the same directory. */
CTCA_RESULT ctca_batch_dirs_check(const char *csr_dir, const char *out_dir, ctca_errbuf *eb);

/* A pass over the CSR files of a directory: regular files (symlinks
 * followed) whose name does not start with '.' and is at most MAX_NAME
 * bytes. Zeroed, or after ctca_batch_csrs_close, it holds nothing. */
typedef struct ctca_batch_csrs {
    DIR *dir;
} ctca_batch_csrs;

/* ctca_batch_csrs_open: starts a pass over csr_dir (the error names it). */
CTCA_RESULT ctca_batch_csrs_open(const char *csr_dir, ctca_batch_csrs *c, ctca_errbuf *eb);
/* ctca_batch_csrs_next: the next CSR file's name (borrowed until the next
 * call); false at the end. */
bool ctca_batch_csrs_next(ctca_batch_csrs *c, const char **name);
/* ctca_batch_csrs_close: ends the pass; safe on a zeroed one. */
void ctca_batch_csrs_close(ctca_batch_csrs *c);

/* ctca_batch_stem: the output name of CSR file name, without ".pem": its
 * name without the last extension ("a.b.csr" -> "a.b", "a" -> "a"). */
void ctca_batch_stem(const char *name, char *out, size_t len);

/* The output names two or more CSR files of one directory share (a.csr and
 * a.der both go to a.pem): neither is issued. */
typedef struct ctca_batch_names {
    uint64_t *dup_stems; /* hashes of the shared names, sorted */
    size_t n_dup_stems;
} ctca_batch_names;

/* ctca_batch_names_scan: counts the CSR files of csr_dir into *total (at
 * most CTCA_BATCH_MAX_FILES, else CTCA_ERR_VALUE_RANGE) and finds their
 * shared output names; *out (zeroed first) is released with
 * ctca_batch_names_cleanup. */
CTCA_RESULT ctca_batch_names_scan(const char *csr_dir, ctca_batch_names *out, size_t *total,
                                  ctca_errbuf *eb);
/* ctca_batch_names_shared: whether CSR file name's output name is another
 * CSR file's too. */
bool ctca_batch_names_shared(const ctca_batch_names *n, const char *name);
/* ctca_batch_names_cleanup: frees n and zeroes it. */
void ctca_batch_names_cleanup(ctca_batch_names *n);

/* ctca_batch_csr_digest: SHA-256 of the DER of csr_dir/name (PEM or DER),
 * the digest ctca_csr_get0_digest gives the store's journal. */
CTCA_RESULT ctca_batch_csr_digest(const char *csr_dir, const char *name, uint8_t digest[32],
                                  ctca_errbuf *eb);

/* ctca_batch_write_output: writes out_dir/<stem of name>.pem, the
 * certificate der as PEM, unless it holds exactly that already. */
CTCA_RESULT ctca_batch_write_output(const char *out_dir, const char *name, const uint8_t *der,
                                    size_t len, ctca_errbuf *eb);

/* ctca_batch_write_summary: writes OUT_DIR/summary.json for sum (the format
 * is in ctca/batch.h). */
CTCA_RESULT ctca_batch_write_summary(const ctca_batch_options *opt,
                                     const ctca_batch_summary *sum, ctca_errbuf *eb);

#endif
