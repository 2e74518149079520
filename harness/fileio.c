/*
 * fileio.c: whole-file reads, atomic writes, and the check that outputs do
 * not spoil each other. See fileio.h. No shared state; callable from any
 * thread.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define NAME(what, path) (what) ? (what) : "", (what) ? " " : "", (path)

const char *fileio_type_name(mode_t m)
{
    return S_ISDIR(m) ? "a folder" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

int fileio_read(const char *what, const char *path, size_t max_bytes, char **text, size_t *len,
                char *err)
{
    *text = NULL;
    /* O_NONBLOCK: opening a FIFO with no writer would wait forever, and
     * the fstat below refuses it anyway; a regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return lg_err(err, -errno, "%s%s%s: cannot open: %s", NAME(what, path), strerror(errno));
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = lg_err(err, -errno, "%s%s%s: cannot stat: %s", NAME(what, path), strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = lg_err(err, -EINVAL, "%s%s%s: is a folder; give a file", NAME(what, path));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = lg_err(err, -EINVAL, "%s%s%s: not a regular file (%s); give a file", NAME(what, path),
                    fileio_type_name(st.st_mode));
        goto fail;
    }
    if (max_bytes && (size_t)st.st_size > max_bytes) {
        rc = lg_err(err, -EFBIG, "%s%s%s: %lld bytes; at most %zu are read", NAME(what, path),
                    (long long)st.st_size, max_bytes);
        goto fail;
    }
    for (;;) {
        if (cap - n < 65536 + 1) {
            cap = cap ? cap * 2 : 131072;
            char *p = realloc(buf, cap);
            if (!p) {
                rc = lg_err(err, -ENOMEM, "%s%s%s: out of memory", NAME(what, path));
                goto fail;
            }
            buf = p;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = lg_err(err, -errno, "%s%s%s: read error: %s", NAME(what, path), strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (max_bytes && n > max_bytes) { /* a file that grew while read */
            rc = lg_err(err, -EFBIG, "%s%s%s: more than %zu bytes", NAME(what, path), max_bytes);
            goto fail;
        }
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    close(fd);
    return rc;
}

static int write_all(int fd, const char *what, const char *path, const char *text, size_t len,
                     char *err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return lg_err(err, n < 0 ? -errno : -ENOSPC, "%s%s%s: write failed: %s", NAME(what, path),
                          n < 0 ? strerror(errno) : "no space written");
        off += (size_t)n;
    }
    return 0;
}

/* The object at st is what fd 1 already writes to: `--json /dev/stdout`,
 * or the file the shell redirected stdout to. Writing through fd 1 keeps
 * what was printed before; a rename would orphan it. */
static int is_stdout(const struct stat *st)
{
    struct stat o;
    return fstat(1, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

int fileio_is_stdout(const char *path)
{
    struct stat st;
    return strcmp(path, "-") == 0 || (stat(path, &st) == 0 && is_stdout(&st));
}

static int write_stdout(const char *what, const char *path, const char *text, size_t len,
                        char *err)
{
    fflush(stdout); /* the caller's buffered text goes first */
    return write_all(1, what, path, text, len, err);
}

/* Write real.tmp.PID and rename it over real (the path itself, or a
 * symlink's target; `path` is what the user typed, for messages). `old` is
 * the file being replaced, whose mode is kept, or NULL. */
static int replace_file(const char *what, const char *path, const char *real,
                        const struct stat *old, const char *text, size_t len, char *err)
{
    size_t plen = strlen(real) + 32;
    char *tmp = malloc(plen);
    if (!tmp)
        return lg_err(err, -ENOMEM, "%s%s%s: out of memory", NAME(what, path));
    snprintf(tmp, plen, "%s.tmp.%ld", real, (long)getpid());
    /* O_EXCL|O_NOFOLLOW: never write through a link planted at the
     * temporary name. One left by an earlier run with the same pid (pid 1
     * in a container) is ours to remove. */
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0666);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, 0666);
    int rc = 0;
    if (fd < 0) {
        rc = lg_err(err, -errno, "%s%s%s: cannot create %s: %s", NAME(what, path), tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    /* Best effort: a private result stays private; failing to copy the
     * mode is no reason to lose the result. */
    if (old)
        (void)fchmod(fd, old->st_mode & 07777);
    rc = write_all(fd, what, path, text, len, err);
    if (rc == 0 && fsync(fd) != 0 && errno != EINVAL)
        rc = lg_err(err, -errno, "%s%s%s: cannot flush to disk: %s", NAME(what, path), strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = lg_err(err, -errno, "%s%s%s: close failed: %s", NAME(what, path), strerror(errno));
    if (rc == 0 && rename(tmp, real) != 0)
        rc = lg_err(err, -errno, "%s%s%s: cannot rename into place: %s", NAME(what, path), strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* A character device or a FIFO: written in place, as a shell's `>` would,
 * with no truncation and no rename. The open does not wait for a FIFO's
 * reader; the writes do wait for a slow one. */
static int write_in_place(const char *what, const char *path, const struct stat *st,
                          const char *text, size_t len, char *err)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && errno == ENXIO)
        return lg_err(err, -EINVAL, "%s%s%s: a FIFO with no reader; start the reader first or give a file",
                      NAME(what, path));
    if (fd < 0)
        return lg_err(err, -errno, "%s%s%s: cannot open: %s", NAME(what, path), strerror(errno));
    struct stat now;
    int rc = 0;
    if (fstat(fd, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
        rc = lg_err(err, -EAGAIN, "%s%s%s: replaced while being opened; try again", NAME(what, path));
        goto out;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        rc = lg_err(err, -errno, "%s%s%s: cannot set blocking writes: %s", NAME(what, path), strerror(errno));
        goto out;
    }
    rc = write_all(fd, what, path, text, len, err);
out:
    if (close(fd) != 0 && rc == 0)
        rc = lg_err(err, -errno, "%s%s%s: close failed: %s", NAME(what, path), strerror(errno));
    return rc;
}

int fileio_write_atomic(const char *what, const char *path, const char *text, size_t len,
                        char *err)
{
    if (strcmp(path, "-") == 0)
        return write_stdout(what, "- (standard output)", text, len, err);
    struct stat lst, st;
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT)
            return lg_err(err, -errno, "%s%s%s: cannot stat: %s", NAME(what, path), strerror(errno));
        return replace_file(what, path, path, NULL, text, len, err);
    }
    if (stat(path, &st) != 0) {
        if (S_ISLNK(lst.st_mode) && errno == ENOENT)
            return lg_err(err, -EINVAL, "%s%s%s: a symlink to a file that does not exist; create the "
                               "target first or give another path", NAME(what, path));
        return lg_err(err, -errno, "%s%s%s: cannot stat: %s", NAME(what, path), strerror(errno));
    }
    if (is_stdout(&st))
        return write_stdout(what, path, text, len, err);
    if (S_ISREG(st.st_mode)) {
        if (!S_ISLNK(lst.st_mode))
            return replace_file(what, path, path, &st, text, len, err);
        /* Replace the link's target, beside it; the link stays. */
        char *real = realpath(path, NULL);
        if (!real)
            return lg_err(err, -errno, "%s%s%s: cannot resolve the symlink: %s", NAME(what, path),
                          strerror(errno));
        int rc = replace_file(what, path, real, &st, text, len, err);
        free(real);
        return rc;
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
        return write_in_place(what, path, &st, text, len, err);
    return lg_err(err, -EINVAL, "%s%s%s: is %s; give a file", NAME(what, path), fileio_type_name(st.st_mode));
}

/* ---- outputs that spoil each other ----------------------------------------- */

/* The first bytes of each kind, as output.c writes them: JSON starts with
 * '{', each CSV with its header's first two columns (a header that grows
 * columns at its end still matches). */
static const char *const kind_start[] = {
    [FILEIO_JSON] = "{",
    [FILEIO_CSV_SUMMARY] = "run_id,timestamp,",
    [FILEIO_CSV_REQUESTS] = "offset_ms,level,",
    [FILEIO_CSV_HISTORY] = "TestNo,TestCountTotal,",
    [FILEIO_HTML] = "<!DOCTYPE html>",
};
static const char *const kind_desc[] = {
    [FILEIO_JSON] = "a JSON result",
    [FILEIO_CSV_SUMMARY] = "a summary CSV (--out)",
    [FILEIO_CSV_REQUESTS] = "a per-request CSV (--requests-log)",
    [FILEIO_CSV_HISTORY] = "a history CSV (--history)",
    [FILEIO_HTML] = "an HTML report (loadgen report)",
};
#define NKINDS (sizeof kind_start / sizeof kind_start[0])

/* Written whole and renamed into place, rather than appended to. */
static int whole_file(enum fileio_kind kind)
{
    return kind == FILEIO_JSON || kind == FILEIO_HTML;
}

/* The kind an existing file holds, or -1 when none of ours (or unreadable,
 * which the writer reports). */
static int sniff(const char *path)
{
    char head[64];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, head, sizeof head - 1);
    close(fd);
    if (n <= 0)
        return -1;
    head[n] = '\0';
    const char *p = head;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    p += strspn(p, " \t\r\n");
    for (size_t k = 0; k < NKINDS; k++)
        if (strncmp(p, kind_start[k], strlen(kind_start[k])) == 0)
            return (int)k;
    return -1;
}

/* Where an output goes, to compare two outputs by. */
struct out_id {
    int dash;         /* "-": standard output */
    int exists;       /* dev/ino are set */
    int shareable;    /* a character device: two writers spoil nothing */
    dev_t dev;
    ino_t ino;
    char norm[PATH_MAX * 2]; /* a new file: realpath(folder) "/" basename */
};

static int identify(const char *flag, const char *path, enum fileio_kind kind,
                    struct out_id *id, char *err)
{
    memset(id, 0, sizeof *id);
    struct stat st, lst;
    if (strcmp(path, "-") == 0) {
        id->dash = 1;
        if (fstat(1, &st) == 0) {
            id->exists = 1;
            id->dev = st.st_dev;
            id->ino = st.st_ino;
        }
        return 0;
    }
    if (stat(path, &st) == 0) {
        id->exists = 1;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        id->shareable = S_ISCHR(st.st_mode);
        if (S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
            return lg_err(err, -EINVAL, "%s %s: is %s; give a file", flag, path, fileio_type_name(st.st_mode));
        if (S_ISREG(st.st_mode) && st.st_size > 0) {
            int has = sniff(path);
            if (has != (int)kind && has >= 0)
                return lg_err(err, -EINVAL, "%s %s: holds %s, which %s would %s; give %s its own file",
                              flag, path, kind_desc[has], flag,
                              whole_file(kind) ? "replace" : "append rows of another format to",
                              flag);
            if (has < 0)
                return lg_err(err, -EINVAL, "%s %s: the file exists and does not hold %s; give a new file "
                                   "or one that %s wrote", flag, path, kind_desc[kind], flag);
        }
        return 0;
    }
    if (whole_file(kind) && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        return lg_err(err, -EINVAL, "%s %s: a symlink to a file that does not exist; create the target "
                           "first or give another path", flag, path);
    /* A new file: the same folder reached two ways is one folder. A
     * folder that cannot be resolved is left to the folder check. */
    char buf[PATH_MAX], dirbuf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return 0;
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    char real[PATH_MAX];
    if (!realpath(dirname(dirbuf), real))
        return 0;
    snprintf(id->norm, sizeof id->norm, "%s/%s", real, basename(buf));
    return 0;
}

static int same_output(const struct out_id *a, const struct out_id *b)
{
    if (a->dash && b->dash)
        return 1;
    if (a->exists && b->exists)
        return a->dev == b->dev && a->ino == b->ino && !(a->shareable && b->shareable);
    return a->norm[0] && strcmp(a->norm, b->norm) == 0;
}

int fileio_check_outputs(const char *const flags[], const char *const paths[],
                         const enum fileio_kind kinds[], size_t n, char *err)
{
    struct out_id *ids = calloc(n ? n : 1, sizeof *ids);
    if (!ids)
        return lg_err(err, -ENOMEM, "out of memory checking the output files");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!paths[i])
            continue;
        if ((rc = identify(flags[i], paths[i], kinds[i], &ids[i], err)) != 0)
            break;
        for (size_t j = 0; j < i; j++)
            if (paths[j] && same_output(&ids[j], &ids[i])) {
                rc = lg_err(err, -EINVAL, "%s %s and %s %s name the same file; give each output its own file",
                            flags[j], paths[j], flags[i], paths[i]);
                break;
            }
    }
    free(ids);
    return rc;
}
