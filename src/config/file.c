/* Whole-file reads with a size cap, so a wrong path (a device, a huge log)
 * cannot make the library allocate without bound, and only of regular
 * files, so a FIFO or a device cannot block it forever. This is the one
 * place the library reads a file. */
#include "config/file.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int klease__file_read(const char *path, size_t max, char **out, size_t *out_len, struct stat *st)
{
    int e = 0;
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    struct stat sb;

    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer, forever. Reads of regular files ignore it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;
    if (fstat(fd, &sb) != 0) {
        e = errno;
        goto out;
    }
    /* A pipe (including /dev/fd/N from a shell's <(...)) can be read only
     * once and may block, a device may never end: refuse them all. */
    if (!S_ISREG(sb.st_mode)) {
        e = S_ISDIR(sb.st_mode)    ? EISDIR
            : S_ISFIFO(sb.st_mode) ? ESPIPE
            : S_ISSOCK(sb.st_mode) ? ENXIO
                                   : ENODEV;
        goto out;
    }
    /* Start from the size fstat reports but keep reading to EOF: files in
     * /proc or on some FUSE mounts report 0. */
    cap = sb.st_size > 0 && (size_t)sb.st_size <= max ? (size_t)sb.st_size + 1 : 4096;
    for (;;) {
        if (len + 1 >= cap || buf == NULL) {
            size_t ncap = buf == NULL ? cap : cap * 2;
            if (ncap > max + 1)
                ncap = max + 2; /* room to notice one byte too many */
            char *nbuf = klease__realloc(buf, ncap);
            if (nbuf == NULL) {
                e = ENOMEM;
                goto out;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            e = EFBIG;
            goto out;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
    if (st != NULL)
        *st = sb;
out:
    klease__free(buf);
    close(fd);
    return e;
}

const char *klease__file_strerror(int e)
{
    switch (e) {
    case EFBIG: return "file is larger than the limit";
    case EISDIR: return "is a directory";
    case ESPIPE: return "is a FIFO or a pipe, not a regular file";
    case ENXIO: return "is a socket, not a regular file";
    case ENODEV: return "is a device, not a regular file";
    case ENOMEM: return "out of memory";
    default: return strerror(e);
    }
}
