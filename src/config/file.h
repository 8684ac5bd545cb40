/* Reading small configuration files (kubeconfigs, PEM files, tokens). */
#ifndef KLEASE_CONFIG_FILE_H
#define KLEASE_CONFIG_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Reads the whole file at `path` into a new NUL-terminated buffer (freed with
 * klease__free; the NUL is not counted in *out_len). When `st` is not NULL it
 * receives the fstat of the very file that was read, so a caller can tell
 * later whether the file changed. Only regular files are read, and opening
 * never blocks. Returns 0, or an errno value: ENOENT, EACCES..., EISDIR for
 * a directory, ESPIPE for a FIFO or pipe (process substitution's /dev/fd/N
 * too), ENXIO for a socket, ENODEV for a device, EFBIG when the file is
 * larger than `max` bytes, ENOMEM. */
int klease__file_read(const char *path, size_t max, char **out, size_t *out_len, struct stat *st);

/* A description of a klease__file_read error for messages, e.g. "file is
 * larger than the limit". Static string. */
const char *klease__file_strerror(int e);

#endif
