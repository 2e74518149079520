/*
 * fileio.c: whole-file reads and atomic writes. See fileio.h. No shared
 * state; callable from any thread.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define NAME(what, path) (what) ? (what) : "", (what) ? " " : "", (path)

char *fileio_read(const char *what, const char *path, size_t max_bytes, size_t *len, char *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lg_err(err, "%s%s%s: cannot open: %s", NAME(what, path), strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        lg_err(err, "%s%s%s: is a folder; give a file", NAME(what, path));
        return NULL;
    }
    if (max_bytes && S_ISREG(st.st_mode) && (size_t)st.st_size > max_bytes) {
        close(fd);
        lg_err(err, "%s%s%s: %lld bytes; at most %zu are read", NAME(what, path),
               (long long)st.st_size, max_bytes);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 65536 + 1) {
            cap = cap ? cap * 2 : 131072;
            char *p = realloc(buf, cap);
            if (!p) {
                lg_err(err, "%s%s%s: out of memory", NAME(what, path));
                goto fail;
            }
            buf = p;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            lg_err(err, "%s%s%s: read error: %s", NAME(what, path), strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (max_bytes && n > max_bytes) { /* a pipe or a file that grew */
            lg_err(err, "%s%s%s: more than %zu bytes", NAME(what, path), max_bytes);
            goto fail;
        }
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

int fileio_write_atomic(const char *what, const char *path, const char *text, size_t len,
                        char *err)
{
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    if (!tmp)
        return lg_err(err, "%s%s%s: out of memory", NAME(what, path));
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int rc = 0;
    if (fd < 0) {
        rc = lg_err(err, "%s%s%s: cannot create %s: %s", NAME(what, path), tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = lg_err(err, "%s%s%s: write failed: %s", NAME(what, path),
                        n < 0 ? strerror(errno) : "no space written");
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0 && errno != EINVAL)
        rc = lg_err(err, "%s%s%s: cannot flush to disk: %s", NAME(what, path), strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = lg_err(err, "%s%s%s: close failed: %s", NAME(what, path), strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = lg_err(err, "%s%s%s: cannot rename into place: %s", NAME(what, path), strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}
