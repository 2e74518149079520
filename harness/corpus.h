/*
 * corpus.h: the images a run sends, owned in memory for the whole run.
 *
 * Loaded once at start from a directory (recursive, sorted by path, JPEG and
 * PNG recognised by signature), from a list file (one path per line), or
 * synthesized with libjpeg from a seed: distinct, decodable JPEGs whose sizes
 * resemble real photos. Read-only after corpus_load; shared by all threads.
 */
#ifndef LOADGEN_CORPUS_H
#define LOADGEN_CORPUS_H

#include <stddef.h>
#include <stdint.h>

enum corpus_kind { CORPUS_JPEG, CORPUS_PNG };

struct corpus_item {
    char *name;            /* file name (relative to --images) or "synthetic-0001.jpg" */
    unsigned char *data;   /* image bytes, inside the corpus's block */
    size_t len;            /* bytes */
    enum corpus_kind kind;
};

struct corpus {
    struct corpus_item *items;
    size_t count;
    size_t total_bytes;    /* sum of items[i].len */
    size_t skipped;        /* files under --images that were not JPEG/PNG */
    unsigned char *block;  /* every item's bytes back to back, one allocation, so
                            * that corpus_destroy returns them to the system */
};

struct corpus_options {
    const char *dir;        /* --images DIR, or NULL */
    const char *list_file;  /* --images-list FILE, or NULL */
    size_t synthetic;       /* --synthetic N (default 1000) when no dir/list */
    int width, height;      /* --image-size WxH (default 224x224) */
    uint64_t seed;          /* --seed (default 1) */
    int shuffle;            /* --shuffle: permute items with the seed */
    size_t max_total_bytes; /* the whole corpus at most (0: a fifth of the RAM,
                             * so that images and the bodies built from them
                             * fit in half of it, as --synthetic's check) */
};

/* Limits on what --images and --images-list load; each is refused with a
 * one-line error that names the file and the limit. */
#define CORPUS_MAX_ITEMS 1000000           /* images, as --synthetic */
#define CORPUS_MAX_IMAGE_BYTES (64u << 20) /* one image */
#define CORPUS_MAX_LIST_BYTES (64u << 20)  /* the --images-list file */
#define CORPUS_MAX_DEPTH 64                /* folders nested under --images */

/* 0, or a negative errno with a one-line message in err naming the path
 * and the fix. */
int corpus_load(struct corpus **out, const struct corpus_options *opt, char *err);
void corpus_destroy(struct corpus *c);
/* --save-synthetic DIR: write every item as DIR/<name>. */
int corpus_save(const struct corpus *c, const char *dir, char *err);
/* "image/jpeg" or "image/png" */
const char *corpus_mime(enum corpus_kind kind);

#endif
