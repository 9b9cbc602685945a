/* ctca/util.h - reading files and certificates, and time, for the library and
 * the CLI. The wall clock is read only by ctca_now_ms; everything else takes the
 * time as a parameter. */
#ifndef CTCA_UTIL_H
#define CTCA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"

/* Default cap for files ctca reads (certificates, CSRs, keys, configs). */
#define CTCA_FILE_MAX ((size_t)4 * 1024 * 1024)

/* ctca_file_read: the whole of path, refusing files larger than cap
 * (CTCA_ERR_IO with the reason in eb). *out is malloc'd (NUL-terminated for
 * convenience, the NUL not counted in *len); caller frees. */
CTCA_RESULT ctca_file_read(const char *path, size_t cap, uint8_t **out, size_t *len,
                           ctca_errbuf *eb);
/* Flags of ctca_file_write. */
#define CTCA_WRITE_NO_FSYNC 0x1u /* the data is kept durably elsewhere (the store) */

/* ctca_file_write: writes data to path, whole or not at all: through a new
 * temporary file in path's directory (mkostemp, so a name planted there is
 * never written through), then fsync (unless CTCA_WRITE_NO_FSYNC) and rename,
 * with the given mode (e.g. 0644, 0600). A path that exists and is not a
 * regular file (a device, FIFO, directory or symbolic link) is refused with
 * CTCA_ERR_IO naming it, and left as it is. Every output file of ctca is
 * written by this one function. */
CTCA_RESULT ctca_file_write(const char *path, const void *data, size_t len, unsigned mode,
                            unsigned flags, ctca_errbuf *eb);
/* ctca_file_write_atomic: ctca_file_write with an fsync (flags 0). */
CTCA_RESULT ctca_file_write_atomic(const char *path, const void *data, size_t len,
                                   unsigned mode, ctca_errbuf *eb);

/* ctca_pem_decode: the first PEM block labelled label (e.g. "CERTIFICATE",
 * "CERTIFICATE REQUEST") in in; *der malloc'd, caller frees. CTCA_ERR_PEM when
 * there is none or it is malformed. */
CTCA_RESULT ctca_pem_decode(const uint8_t *in, size_t in_len, const char *label, uint8_t **der,
                            size_t *der_len);
/* ctca_pem_count_blocks: how many well-formed PEM blocks (any label) in
 * holds; 0 for none or an input over CTCA_FILE_MAX. */
size_t ctca_pem_count_blocks(const uint8_t *in, size_t in_len);
/* ctca_pem_encode: one PEM block; *out is a malloc'd NUL-terminated string. */
CTCA_RESULT ctca_pem_encode(const uint8_t *der, size_t der_len, const char *label, char **out);

/* ctca_pem_encode_certs: n certificates (DER views) as consecutive
 * "CERTIFICATE" PEM blocks; *out is a malloc'd NUL-terminated string. */
CTCA_RESULT ctca_pem_encode_certs(const ctca_view *certs, size_t n, char **out);

/* ctca_der_or_pem_load: reads path and returns the DER of its first block with
 * label when the file is PEM, or the file itself when it is a single DER
 * SEQUENCE with no trailing bytes. *der malloc'd, caller frees. Errors name the
 * file in eb. */
CTCA_RESULT ctca_der_or_pem_load(const char *path, const char *label, uint8_t **der,
                                 size_t *der_len, ctca_errbuf *eb);

/* ctca_time_parse_rfc3339: "2024-05-01T12:00:00Z" or with a numeric offset and
 * optional fractional seconds; *ms is milliseconds since the epoch. */
CTCA_RESULT ctca_time_parse_rfc3339(const char *s, int64_t *ms);
/* ctca_time_format_rfc3339: "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 32 bytes). */
void ctca_time_format_rfc3339(int64_t ms, char *buf, size_t buf_len);
/* ctca_now_ms: the wall clock in ms since the epoch. */
int64_t ctca_now_ms(void);

#endif
