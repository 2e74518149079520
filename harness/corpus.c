/*
 * corpus.c: the images a run sends. Three sources, one result: every image's
 * bytes in memory, in a reproducible order.
 *   --images DIR       recursive walk, sorted by relative path (strcmp);
 *                      JPEG (FF D8 FF) and PNG (89 50 4E 47 0D 0A 1A 0A) are
 *                      told by their first bytes, never by the file name;
 *                      other files are counted in `skipped`.
 *   --images-list FILE one path per line, relative to the current directory.
 *   neither            N JPEGs synthesized with libjpeg from the seed.
 *
 * Ownership: the corpus owns the items array, every name, and one block that
 * holds every image's bytes back to back (see struct block); corpus_destroy
 * frees them. Threading: corpus_load runs once on the main thread before the
 * engine starts; the corpus is read-only afterwards (and may be destroyed
 * once payload_build has copied what it needs).
 */
#include "corpus.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#include "common.h"
#include "jpegfail.h"
#include "fileio.h"
#include "sbuf.h"

#define SIG_LEN 8 /* bytes read to tell JPEG and PNG apart */
#define JPEG_QUALITY 90

static const unsigned char png_sig[SIG_LEN] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

/* ---- random numbers: splitmix64 to spread a seed, xorshift64* to draw --- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* The state must never be 0 (xorshift's fixed point): splitmix64 of any
 * seed is 0 for exactly one input, which we nudge. */
static uint64_t rng_init(uint64_t seed)
{
    uint64_t s = splitmix64(seed);
    return s ? s : 1;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Du;
}

/* Uniform in [0, n). Modulo bias is below n / 2^64: irrelevant here. */
static size_t rng_below(uint64_t *s, size_t n) { return (size_t)(rng_next(s) % n); }

/* Uniform in [lo, hi). */
static float rng_float(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(rng_next(s) >> 40) / (float)(1u << 24);
}

/* ---- image bytes and the item list --------------------------------------- */

/* Every image's bytes, back to back, in one growing allocation. One large
 * block is an mmap that free() hands back to the system at once; a
 * thousand 100 KB buffers would sit in malloc's heap after corpus_destroy
 * and keep the whole corpus resident next to the payloads for the run. */
struct block {
    unsigned char *p;
    size_t len, cap; /* bytes */
    size_t max;      /* bytes it may hold: corpus_options.max_total_bytes */
};

/* Room for n more bytes; realloc of a large block is an mremap, no copy. */
static int block_reserve(struct block *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : (size_t)1 << 20;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Adds an item whose len bytes were just appended to the block; its data
 * pointer is set by corpus_load once the block stops moving. */
static int push_item(struct corpus *c, size_t *cap, char *name, size_t len, enum corpus_kind kind)
{
    if (c->count == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        struct corpus_item *v = realloc(c->items, n * sizeof *v);
        if (!v)
            return -ENOMEM;
        c->items = v;
        *cap = n;
    }
    c->items[c->count++] = (struct corpus_item){name, NULL, len, kind};
    c->total_bytes += len;
    return 0;
}

/* ---- reading files ------------------------------------------------------ */

static int kind_of(const unsigned char *sig, size_t n, enum corpus_kind *kind)
{
    if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) {
        *kind = CORPUS_JPEG;
        return 1;
    }
    if (n >= SIG_LEN && memcmp(sig, png_sig, SIG_LEN) == 0) {
        *kind = CORPUS_PNG;
        return 1;
    }
    return 0;
}

/* Reads until n bytes or the end: the count, or a negative errno. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

#define WHY_LEN 160
/* read_image refused the file; `why` says why and what to do. */
#define REFUSED (-ECANCELED)

/* Appends the bytes of path to the block when it is a JPEG or PNG. Returns
 * 1 with *len, 0 when the file is something else (the block unchanged),
 * REFUSED with `why` (not a regular file, over CORPUS_MAX_IMAGE_BYTES, or
 * past the block's max), or -errno. The signature is read first so a large
 * non-image file is never read whole, and the size is checked before a
 * byte is allocated, so a sparse 2 GB "photo" costs nothing. A file with a
 * valid signature is kept even when truncated: judging the image is the
 * server's job. */
static int read_image(const char *path, struct block *b, size_t *len, enum corpus_kind *kind,
                      char *why)
{
    /* O_NONBLOCK: a FIFO named like an image must not block the open; the
     * fstat then refuses it. A regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc;
    struct stat st;
    unsigned char sig[SIG_LEN];
    ssize_t n;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    rc = REFUSED;
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, WHY_LEN, "not a regular file (%s); give image files only",
                 fileio_type_name(st.st_mode));
        goto out;
    }
    if ((n = read_full(fd, sig, sizeof sig)) < 0) {
        rc = (int)n;
        goto out;
    }
    rc = 0;
    if (!kind_of(sig, (size_t)n, kind))
        goto out;
    /* st_size is a hint (+1 to see EOF without growing): read to EOF in
     * case the file grew meanwhile, within the same limits. */
    size_t got = (size_t)n, limit = b->max - b->len;
    if (limit > CORPUS_MAX_IMAGE_BYTES)
        limit = CORPUS_MAX_IMAGE_BYTES;
    if ((uint64_t)st.st_size > limit)
        goto refuse;
    if ((rc = block_reserve(b, (size_t)st.st_size + 1)) != 0)
        goto out;
    memcpy(b->p + b->len, sig, got);
    for (;;) {
        if (b->cap - b->len == got && (rc = block_reserve(b, got + 1)) != 0)
            goto out;
        ssize_t r = read_full(fd, b->p + b->len + got, b->cap - b->len - got);
        if (r < 0) {
            rc = (int)r;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > limit)
            goto refuse;
    }
    b->len += got;
    *len = got;
    rc = 1;
    goto out;
refuse:
    rc = REFUSED;
    if (limit == CORPUS_MAX_IMAGE_BYTES)
        snprintf(why, WHY_LEN, "%lld bytes or more, over the limit of %u MiB for one image; "
                 "use smaller images", (long long)(got > (size_t)st.st_size ? got : (size_t)st.st_size),
                 CORPUS_MAX_IMAGE_BYTES >> 20);
    else
        snprintf(why, WHY_LEN, "the images so far and this one pass the corpus limit of %zu MB "
                 "(a fifth of this machine's RAM); use fewer or smaller images", b->max >> 20);
out:
    close(fd);
    return rc;
}

/* ---- --images DIR -------------------------------------------------------- */

struct path_list {
    char **v;
    size_t n, cap;
};

static int push_path(struct path_list *l, const char *rel)
{
    if (l->n == CORPUS_MAX_ITEMS)
        return -E2BIG;
    if (sbuf_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0)
        return -ENOMEM;
    if (!(l->v[l->n] = strdup(rel)))
        return -ENOMEM;
    l->n++;
    return 0;
}

/* The directories from the root down to the one being walked: a symlink
 * back to one of them would loop forever, so it is not entered. */
struct visit {
    dev_t dev;
    ino_t ino;
    const struct visit *up;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the relative paths of the regular files under root/rel into
 * files (rel is "" at the top). Symlinks are followed, to files and to
 * directories, except into a directory already on the walk's path. Other
 * entries (sockets, FIFOs, broken links) count as skipped: opening a FIFO
 * would block. */
static int walk(const char *root, const char *rel, const struct visit *up, int depth,
                struct path_list *files, size_t *skipped, char *err)
{
    char path[PATH_MAX];
    /* Each level holds two PATH_MAX buffers on the stack: a folder nested
     * thousands deep must get an error, not a stack overflow. */
    if (depth > CORPUS_MAX_DEPTH)
        return lg_err(err, -EINVAL, "--images %s: folders nested more than %d deep under %s; use a "
                      "shallower folder", root, CORPUS_MAX_DEPTH, rel);
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel) >= sizeof path)
        return lg_err(err, -EINVAL, "--images %s: path too long under %s; use a shallower folder", root, rel);
    DIR *d = opendir(path);
    if (!d) {
        if (!*rel && errno == ENOENT)
            return lg_err(err, -EINVAL, "--images %s: no such directory; give a folder of .jpg/.png files", root);
        if (!*rel && errno == ENOTDIR)
            return lg_err(err, -EINVAL, "--images %s: not a directory; give a folder of .jpg/.png files "
                          "(or a list of paths with --images-list)", root);
        return lg_err(err, -errno, "--images %s: cannot open %s (%s); fix its permissions or give another folder",
                      root, *rel ? rel : "it", strerror(errno));
    }
    struct stat dst;
    struct visit here = {0, 0, up};
    if (fstat(dirfd(d), &dst) == 0) {
        here.dev = dst.st_dev;
        here.ino = dst.st_ino;
    }
    int rc = 0;
    struct dirent *e;
    char sub[PATH_MAX];
    /* readdir returns NULL at the end and on error; only errno tells. */
    while ((errno = 0, e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= sizeof sub) {
            rc = lg_err(err, -EINVAL, "--images %s: path too long under %s; use a shallower folder", root, rel);
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0) {
            (*skipped)++;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int loop = 0;
            for (const struct visit *v = &here; v; v = v->up)
                loop |= v->dev == st.st_dev && v->ino == st.st_ino;
            if (!loop && (rc = walk(root, sub, &here, depth + 1, files, skipped, err)) != 0)
                break;
        } else if (S_ISREG(st.st_mode)) {
            int r = push_path(files, sub);
            if (r == -E2BIG) {
                rc = lg_err(err, -EINVAL, "--images %s: more than %d files; use a smaller folder", root,
                            CORPUS_MAX_ITEMS);
                break;
            }
            if (r != 0) {
                rc = lg_err(err, -ENOMEM, "--images %s: out of memory listing files; use a smaller folder", root);
                break;
            }
        } else {
            (*skipped)++;
        }
    }
    if (rc == 0 && errno != 0)
        rc = lg_err(err, -errno, "--images %s: cannot list %s (%s); fix its permissions or give another folder",
                    root, *rel ? rel : "it", strerror(errno));
    closedir(d);
    return rc;
}

static int load_dir(struct corpus *c, struct block *b, const char *dir, char *err)
{
    struct path_list files = {0};
    size_t cap = 0;
    int rc = walk(dir, "", NULL, 0, &files, &c->skipped, err);
    if (rc == 0 && files.n > 0) /* qsort of a NULL array is undefined, even for 0 items */
        qsort(files.v, files.n, sizeof *files.v, cmp_str);
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, files.v[i]); /* length checked by walk */
        size_t len;
        enum corpus_kind kind;
        char why[WHY_LEN];
        int r = read_image(path, b, &len, &kind, why);
        if (r == REFUSED) {
            rc = lg_err(err, -EINVAL, "--images %s: %s: %s", dir, files.v[i], why);
        } else if (r < 0 && r != -ENOMEM) {
            rc = lg_err(err, r, "--images %s: cannot read %s (%s); fix its permissions or remove it",
                        dir, files.v[i], strerror(-r));
        } else if (r == 0) {
            c->skipped++;
        } else if (r == -ENOMEM || push_item(c, &cap, files.v[i], len, kind) != 0) {
            rc = lg_err(err, -ENOMEM, "--images %s: out of memory after %zu images (%zu MB); use fewer images",
                        dir, c->count, c->total_bytes >> 20);
        } else {
            files.v[i] = NULL; /* the item owns the name now */
        }
    }
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    if (rc == 0 && c->count == 0) {
        if (c->skipped)
            return lg_err(err, -EINVAL, "--images %s: no JPEG or PNG files (%zu other file%s skipped); "
                          "give a folder of .jpg/.png files", dir, c->skipped, c->skipped == 1 ? "" : "s");
        return lg_err(err, -EINVAL, "--images %s: the folder is empty; give a folder of .jpg/.png files", dir);
    }
    return rc;
}

/* ---- --images-list FILE --------------------------------------------------- */

static int load_list(struct corpus *c, struct block *b, const char *list, char *err)
{
    /* A FIFO or /dev/zero given as the list would block the open or never
     * end: only a regular file of bounded size is read. */
    int fd = open(list, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return lg_err(err, -errno, "--images-list %s: cannot open (%s); give a file with one image path per line",
                      list, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lg_err(err, -e, "--images-list %s: cannot stat (%s); give a file with one image path per line",
                      list, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > CORPUS_MAX_LIST_BYTES) {
        close(fd);
        if (!S_ISREG(st.st_mode))
            return lg_err(err, -EINVAL, "--images-list %s: not a regular file (%s); give a file with one image "
                          "path per line", list, fileio_type_name(st.st_mode));
        return lg_err(err, -EINVAL, "--images-list %s: %lld bytes, over the limit of %u MiB for a list; "
                      "list fewer images", list, (long long)st.st_size, CORPUS_MAX_LIST_BYTES >> 20);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return lg_err(err, -ENOMEM, "--images-list %s: out of memory", list);
    }
    /* One line at most PATH_MAX (+ CR LF + NUL): memory stays bounded
     * whatever the file holds, and a longer line is no path. */
    char line[PATH_MAX + 3];
    size_t lineno = 0, cap = 0, read_bytes = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        read_bytes += n;
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            rc = lg_err(err, -EINVAL, "--images-list %s line %zu: longer than %d bytes; write one path per line",
                        list, lineno, PATH_MAX);
            break;
        }
        if (read_bytes > CORPUS_MAX_LIST_BYTES) { /* it grew while read */
            rc = lg_err(err, -EINVAL, "--images-list %s: over the limit of %u MiB for a list; list fewer images",
                        list, CORPUS_MAX_LIST_BYTES >> 20);
            break;
        }
        /* Trim both ends: CRLF files and stray spaces are common in lists. */
        char *p = line, *end = line + n;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        if (p == end || *p == '#')
            continue;
        if (c->count == CORPUS_MAX_ITEMS) {
            rc = lg_err(err, -EINVAL, "--images-list %s line %zu: more than %d images; list fewer", list,
                        lineno, CORPUS_MAX_ITEMS);
            break;
        }
        size_t len;
        enum corpus_kind kind;
        char why[WHY_LEN];
        int r = read_image(p, b, &len, &kind, why);
        char *name = r > 0 ? strdup(p) : NULL;
        if (r == REFUSED)
            rc = lg_err(err, -EINVAL, "--images-list %s line %zu: %s: %s", list, lineno, p, why);
        else if (r < 0 && r != -ENOMEM)
            rc = lg_err(err, r, "--images-list %s line %zu: cannot read %s (%s); fix the path (relative "
                        "to the current directory)", list, lineno, p, strerror(-r));
        else if (r == 0)
            rc = lg_err(err, -EINVAL, "--images-list %s line %zu: %s is not a JPEG or PNG file; list only images",
                        list, lineno, p);
        else if (!name || push_item(c, &cap, name, len, kind) != 0) {
            free(name);
            rc = lg_err(err, -ENOMEM, "--images-list %s: out of memory after %zu images (%zu MB); list fewer images",
                        list, c->count, c->total_bytes >> 20);
        }
    }
    if (rc == 0 && ferror(f))
        rc = lg_err(err, -errno, "--images-list %s: read error (%s); check the file", list, strerror(errno));
    fclose(f);
    if (rc == 0 && c->count == 0)
        return lg_err(err, -EINVAL, "--images-list %s: no image paths (only blank lines and # comments); "
                      "write one path per line", list);
    return rc;
}

/* ---- synthetic JPEGs ------------------------------------------------------ */

/* Grain amplitude in levels and the per-image strength range: with the
 * shape count, the knobs of the compressed size. As tuned, 224x224 at
 * quality 90 comes out at 15-30 KB (mean ~23 KB), as photos do, and
 * 480x480 at ~100 KB. */
#define GRAIN_LUMA 32
#define GRAIN_CHROMA 8
#define GRAIN_MIN 6  /* per-image strength range, in 1/16 of the table */
#define GRAIN_MAX 24
#define GRAIN_TRIPLES 65536

struct canvas {
    unsigned char *rgb; /* w * h * 3 */
    int *wave_x;        /* w: brightness offset per column, in levels */
    int *wave_y;        /* h: brightness offset per row, in levels */
    signed char *grain; /* (GRAIN_TRIPLES + w) * 3, from make_grain */
    int w, h;
};

static unsigned char clamp8(int v) { return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v); }

static void fill_wave(int *wave, int n, uint64_t *s)
{
    /* Two octaves of a sine along one axis: the slow shading a scene has. */
    float f1 = rng_float(s, 0.5f, 3.0f), p1 = rng_float(s, 0.0f, 6.2832f), a1 = rng_float(s, 6.0f, 20.0f);
    float f2 = rng_float(s, 4.0f, 12.0f), p2 = rng_float(s, 0.0f, 6.2832f), a2 = rng_float(s, 2.0f, 8.0f);
    for (int i = 0; i < n; i++) {
        float t = 6.2832f * (float)i / (float)n;
        wave[i] = (int)lrintf(a1 * sinf(f1 * t + p1) + a2 * sinf(f2 * t + p2));
    }
}

/* A shaded ellipse or rectangle blended over the canvas: edges, which a
 * gradient lacks and every photo has. Fixed point (alpha and shade in
 * 1/256) because this loop and paint's run 50 M times for 1000 images. */
static void paint_shape(const struct canvas *cv, uint64_t *s)
{
    int ellipse = rng_next(s) & 1;
    float cx = rng_float(s, 0.0f, (float)cv->w), cy = rng_float(s, 0.0f, (float)cv->h);
    float rx = rng_float(s, 0.05f, 0.3f) * (float)cv->w + 1.0f, ry = rng_float(s, 0.05f, 0.3f) * (float)cv->h + 1.0f;
    unsigned alpha = (unsigned)rng_below(s, 128) + 128, col[3]; /* col premultiplied by alpha */
    for (int ch = 0; ch < 3; ch++)
        col[ch] = (unsigned)rng_below(s, 256) * alpha;
    /* Half the shapes carry stripes (a triangle wave of period 3 px or more,
     * in any direction): fabric, foliage, the mid frequencies that cost a JPEG
     * most of its bytes. Phase is 16.16 fixed point. */
    unsigned stripe = rng_next(s) & 1 ? (unsigned)rng_below(s, 128) : 0;
    int fx = (int)rng_below(s, 43691) - 21845, fy = (int)rng_below(s, 43691) - 21845;
    int x0 = cx - rx < 0 ? 0 : (int)(cx - rx), x1 = cx + rx > cv->w ? cv->w : (int)(cx + rx);
    int y0 = cy - ry < 0 ? 0 : (int)(cy - ry), y1 = cy + ry > cv->h ? cv->h : (int)(cy + ry);
    float inv_rx = 1.0f / rx, inv_ry = 1.0f / ry;
    for (int y = y0; y < y1; y++) {
        float dy = ((float)y - cy) * inv_ry;
        unsigned char *px = cv->rgb + ((size_t)y * (size_t)cv->w + (size_t)x0) * 3;
        for (int x = x0; x < x1; x++, px += 3) {
            float dx = ((float)x - cx) * inv_rx, d = ellipse ? dx * dx + dy * dy : dy * 0.5f + 0.5f;
            if (d > 1.0f)
                continue;
            /* Darker towards the rim (ellipse) or the bottom (rectangle). */
            int phase = (x * fx + y * fy) & 0xFFFF;
            unsigned tri = (unsigned)abs(phase - 32768) >> 8; /* 0..128 */
            unsigned shade = 256 - (unsigned)(d * 100.0f) - (tri * stripe >> 7);
            /* At most (255 * (256 - alpha) + 255 * alpha) / 256: no clamp. */
            for (int ch = 0; ch < 3; ch++)
                px[ch] = (unsigned char)((px[ch] * (256 - alpha) + (col[ch] * shade >> 8)) >> 8);
        }
    }
}

static void paint(const struct canvas *cv, uint64_t seed)
{
    uint64_t s = rng_init(seed);
    float corner[4][3];
    for (int k = 0; k < 4; k++)
        for (int ch = 0; ch < 3; ch++)
            corner[k][ch] = rng_float(&s, 20.0f, 235.0f);
    fill_wave(cv->wave_x, cv->w, &s);
    fill_wave(cv->wave_y, cv->h, &s);
    /* A gradient between the four corner colours, in 16.16 fixed point. */
    unsigned char *px = cv->rgb;
    for (int y = 0; y < cv->h; y++) {
        float t = cv->h > 1 ? (float)y / (float)(cv->h - 1) : 0.0f;
        int acc[3], step[3];
        for (int ch = 0; ch < 3; ch++) {
            float left = corner[0][ch] + (corner[2][ch] - corner[0][ch]) * t;
            float right = corner[1][ch] + (corner[3][ch] - corner[1][ch]) * t;
            acc[ch] = (int)(left * 65536.0f);
            step[ch] = cv->w > 1 ? (int)((right - left) * 65536.0f / (float)(cv->w - 1)) : 0;
        }
        for (int x = 0; x < cv->w; x++, px += 3) {
            int light = cv->wave_x[x] + cv->wave_y[y];
            for (int ch = 0; ch < 3; ch++) {
                px[ch] = clamp8((acc[ch] >> 16) + light);
                acc[ch] += step[ch];
            }
        }
    }
    for (size_t k = 4 + rng_below(&s, 10); k > 0; k--)
        paint_shape(cv, &s);
    /* Grain last, over everything, at a strength drawn per image (in 1/16
     * of the table's) so that sizes spread as photos' do. Drawing grain per
     * pixel is the slowest part of an image, so each row adds a run of a
     * shared table of grain triples, starting at a random triple. */
    int strength = GRAIN_MIN + (int)rng_below(&s, GRAIN_MAX - GRAIN_MIN + 1);
    for (int y = 0; y < cv->h; y++) {
        const signed char *g = cv->grain + rng_below(&s, GRAIN_TRIPLES) * 3;
        unsigned char *row = cv->rgb + (size_t)y * (size_t)cv->w * 3;
        for (int k = 0; k < cv->w * 3; k++)
            row[k] = clamp8(row[k] + (g[k] * strength >> 4));
    }
}

/* Grain triples: a triangular luma term (two bytes summed) shared by the
 * three channels, plus a small uniform term per channel. The table holds
 * GRAIN_TRIPLES starting points plus one row. */
static signed char *make_grain(int w, uint64_t seed)
{
    size_t n = (GRAIN_TRIPLES + (size_t)w) * 3;
    signed char *g = malloc(n);
    if (!g)
        return NULL;
    uint64_t s = rng_init(seed ^ 0x475241494Eu); /* "GRAIN" */
    for (size_t i = 0; i < n; i += 3) {
        uint64_t r = rng_next(&s);
        int luma = ((int)(r & 255) + (int)(r >> 8 & 255) - 255) * GRAIN_LUMA / 255;
        for (int ch = 0; ch < 3; ch++)
            g[i + (size_t)ch] = (signed char)(luma + ((int)(r >> (16 + 8 * ch) & 255) - 128) * GRAIN_CHROMA / 128);
    }
    return g;
}

/* Compresses one canvas into *out, of *size bytes on entry. Should that
 * not be enough, libjpeg moves the output to a buffer of its own (*out
 * changes; the caller frees it, even on failure). setjmp lives here, apart
 * from the caller's locals, so no local is modified between setjmp and a
 * longjmp. */
static int compress_one(struct jpeg_compress_struct *cinfo, struct jpeg_fail *jf,
                        const struct canvas *cv, unsigned char **out, unsigned long *size)
{
    if (setjmp(jf->jump))
        return -EIO;
    jpeg_mem_dest(cinfo, out, size);
    jpeg_start_compress(cinfo, TRUE);
    while (cinfo->next_scanline < cinfo->image_height) {
        JSAMPROW row = cv->rgb + (size_t)cinfo->next_scanline * (size_t)cv->w * 3;
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    return 0;
}

static int setup_compress(struct jpeg_compress_struct *cinfo, struct jpeg_fail *jf, int w, int h)
{
    cinfo->err = jpeg_fail_init(jf);
    if (setjmp(jf->jump))
        return -EIO;
    jpeg_create_compress(cinfo);
    cinfo->image_width = (JDIMENSION)w;
    cinfo->image_height = (JDIMENSION)h;
    cinfo->input_components = 3;
    cinfo->in_color_space = JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, JPEG_QUALITY, TRUE);
    return 0;
}

/* Largest side accepted: libjpeg's limit is 65500, but a corpus of such
 * images would not fit in memory anyway. */
#define SYNTH_MAX_SIDE 8192

static int synthesize(struct corpus *c, struct block *b, const struct corpus_options *opt, char *err)
{
    size_t n = opt->synthetic;
    int w = opt->width, h = opt->height;
    if (n == 0)
        return lg_err(err, -EINVAL, "--synthetic 0: need at least one image; give N >= 1 or --images DIR");
    if (w < 1 || h < 1 || w > SYNTH_MAX_SIDE || h > SYNTH_MAX_SIDE)
        return lg_err(err, -EINVAL, "--image-size %dx%d: each side must be 1..%d; e.g. --image-size 224x224",
                      w, h, SYNTH_MAX_SIDE);
    size_t cap = n;
    if (!(c->items = calloc(n, sizeof *c->items)))
        return lg_err(err, -ENOMEM, "--synthetic %zu: out of memory for the image list; use fewer images", n);
    struct canvas cv = {malloc((size_t)w * (size_t)h * 3), malloc((size_t)w * sizeof(int)),
                        malloc((size_t)h * sizeof(int)), make_grain(w, opt->seed), w, h};
    struct jpeg_compress_struct cinfo = {0}; /* destroyable even if never set up */
    struct jpeg_fail jf;
    int rc = 0;
    if (!cv.rgb || !cv.wave_x || !cv.wave_y || !cv.grain) {
        rc = lg_err(err, -ENOMEM, "--image-size %dx%d: out of memory for one image; use a smaller size", w, h);
        goto out;
    }
    if (setup_compress(&cinfo, &jf, w, h) != 0) {
        rc = lg_err(err, -EINVAL, "--image-size %dx%d: libjpeg setup failed; use a smaller size", w, h);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        paint(&cv, opt->seed * 1000003u + i);
        /* Straight into the block, with room for the raw pixels: JPEG at
         * quality 90 stays far below that, so libjpeg never reallocates
         * and nothing is copied (if it did, its buffer is copied here). */
        size_t room = (size_t)w * (size_t)h * 3 + 1024;
        if (block_reserve(b, room) != 0) {
            rc = lg_err(err, -ENOMEM, "--synthetic %zu: out of memory after %zu images (%zu MB); use fewer or "
                        "smaller images", n, i, b->len >> 20);
            goto out;
        }
        unsigned char *tail = b->p + b->len, *jpeg = tail;
        unsigned long len = room;
        int bad = compress_one(&cinfo, &jf, &cv, &jpeg, &len) != 0;
        int nomem = !bad && jpeg != tail && block_reserve(b, len) != 0;
        if (!bad && !nomem && jpeg != tail)
            memcpy(b->p + b->len, jpeg, len);
        if (jpeg != tail)
            free(jpeg);
        char name[48], *dup = NULL;
        snprintf(name, sizeof name, "synthetic-%04zu.jpg", i + 1);
        if (bad || nomem || !(dup = strdup(name)) || push_item(c, &cap, dup, len, CORPUS_JPEG) != 0) {
            free(dup);
            rc = lg_err(err, -ENOMEM, "--synthetic %zu: %s after %zu images; use fewer or smaller images",
                        n, bad ? "libjpeg failed" : "out of memory", i);
            goto out;
        }
        b->len += len;
    }
out:
    jpeg_destroy_compress(&cinfo); /* zeroed or set up: both are safe */
    free(cv.rgb);
    free(cv.wave_x);
    free(cv.wave_y);
    free(cv.grain);
    return rc;
}

/* ---- shuffle, load, destroy, save ------------------------------------------ */

/* Fisher-Yates with its own stream (the seed mixed with a constant), so the
 * order does not repeat the draws that painted the synthetic images. */
static void shuffle(struct corpus *c, uint64_t seed)
{
    uint64_t s = rng_init(seed ^ 0x53485546464C45u); /* "SHUFFLE" */
    for (size_t i = c->count; i > 1; i--) {
        size_t j = rng_below(&s, i);
        struct corpus_item t = c->items[i - 1];
        c->items[i - 1] = c->items[j];
        c->items[j] = t;
    }
}

int corpus_load(struct corpus **out, const struct corpus_options *opt, char *err)
{
    *out = NULL;
    if (opt->dir && opt->list_file)
        return lg_err(err, -EINVAL, "--images %s and --images-list %s: give one of them", opt->dir, opt->list_file);
    struct corpus *c = calloc(1, sizeof *c);
    if (!c)
        return lg_err(err, -ENOMEM, "out of memory loading images");
    /* Images and the bodies built from them (base64 adds a third) must
     * fit in half the RAM, as cli.c asks of a synthetic corpus. */
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    struct block b = {NULL, 0, 0, opt->max_total_bytes};
    if (!b.max)
        b.max = ram > 0 && ram / 5 < (double)SIZE_MAX ? (size_t)(ram / 5) : SIZE_MAX;
    int rc = opt->dir ? load_dir(c, &b, opt->dir, err)
           : opt->list_file ? load_list(c, &b, opt->list_file, err)
           : synthesize(c, &b, opt, err);
    /* Give back the doubling's slack (an mremap: no copy), then point the
     * items into the block, which no longer moves. */
    unsigned char *fit = b.len && b.len < b.cap ? realloc(b.p, b.len) : NULL;
    c->block = fit ? fit : b.p;
    size_t off = 0;
    for (size_t i = 0; i < c->count; i++) {
        c->items[i].data = c->block + off;
        off += c->items[i].len;
    }
    if (rc != 0) {
        corpus_destroy(c);
        return rc;
    }
    if (opt->shuffle)
        shuffle(c, opt->seed);
    *out = c;
    return 0;
}

void corpus_destroy(struct corpus *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++)
        free(c->items[i].name);
    free(c->items);
    free(c->block);
    free(c);
}

/* mkdir -p for the directories in path up to (not including) its last
 * component when `parents_only`, else the whole path. */
static int make_dirs(char *path, int parents_only)
{
    char *end = parents_only ? strrchr(path, '/') : path + strlen(path);
    if (!end)
        return 0;
    for (char *p = path + 1; p <= end; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int r = mkdir(path, 0755);
        *p = saved;
        if (r != 0 && errno != EEXIST)
            return -errno;
        if (p == end)
            break;
    }
    return 0;
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
    /* O_NOFOLLOW, O_NONBLOCK: a link or a FIFO planted in the folder under
     * an image's name is an error, not a place to write to or wait on. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        done += (size_t)w;
    }
    return close(fd) == 0 ? 0 : -errno;
}

int corpus_save(const struct corpus *c, const char *dir, char *err)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s", dir) >= sizeof path)
        return lg_err(err, -EINVAL, "--save-synthetic %s: path too long; use a shorter one", dir);
    int r = make_dirs(path, 0);
    if (r != 0)
        return lg_err(err, r, "--save-synthetic %s: cannot create it (%s); give a writable folder", dir, strerror(-r));
    for (size_t i = 0; i < c->count; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, c->items[i].name) >= sizeof path)
            return lg_err(err, -EINVAL, "--save-synthetic %s: path too long for %s; use a shorter folder",
                          dir, c->items[i].name);
        if ((r = make_dirs(path, 1)) != 0 || (r = write_file(path, c->items[i].data, c->items[i].len)) != 0)
            return lg_err(err, r, "--save-synthetic %s: cannot write %s (%s); give a writable folder with space",
                          dir, path, strerror(-r));
    }
    return 0;
}

const char *corpus_mime(enum corpus_kind kind)
{
    return kind == CORPUS_PNG ? "image/png" : "image/jpeg";
}
