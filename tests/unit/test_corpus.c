/*
 * test_corpus.c: the three corpus sources on real files in a temporary
 * directory (nested folders, a text file, a PNG, a truncated JPEG, a FIFO,
 * a symlink loop), their error messages, the synthetic JPEGs decoded back
 * with libjpeg, the seeded shuffle, and --save-synthetic round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#include "common.h"
#include "corpus.h"

static const unsigned char png_bytes[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A,
                                          0, 0, 0, 13, 'I', 'H', 'D', 'R'};
static const unsigned char truncated_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F'};

static void write_bytes(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s", path);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void make_dir(const char *dir, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void remove_tree(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static struct corpus *load_ok(const struct corpus_options *opt)
{
    struct corpus *c = NULL;
    char err[LG_ERRLEN] = "";
    if (corpus_load(&c, opt, err) != 0)
        fail_msg("corpus_load: %s", err);
    return c;
}

static void load_fails(const struct corpus_options *opt, const char *needle)
{
    struct corpus *c = (struct corpus *)1;
    char err[LG_ERRLEN] = "";
    assert_true(corpus_load(&c, opt, err) < 0);
    assert_null(c);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

/* Root of a fixture tree: b.jpg (3 bytes), notes.txt, empty, pipe (FIFO),
 * sub/a.png, sub/z.txt, sub/deeper/c.jpg (truncated), sub/loop -> .. ,
 * sub/links/broken -> nowhere (alone in its folder, so readdir ends right
 * after the failed stat, whatever its order). */
static void make_tree(char *dir)
{
    assert_non_null(mkdtemp(dir));
    static const unsigned char jpeg3[] = {0xFF, 0xD8, 0xFF};
    write_bytes(dir, "b.jpg", jpeg3, sizeof jpeg3);
    write_bytes(dir, "notes.txt", "not an image\n", 13);
    write_bytes(dir, "empty", "", 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/pipe", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    make_dir(dir, "sub");
    make_dir(dir, "sub/deeper");
    write_bytes(dir, "sub/a.png", png_bytes, sizeof png_bytes);
    write_bytes(dir, "sub/z.txt", "zzz", 3);
    write_bytes(dir, "sub/deeper/c.jpg", truncated_jpeg, sizeof truncated_jpeg);
    snprintf(path, sizeof path, "%s/sub/loop", dir);
    assert_int_equal(symlink("..", path), 0);
    make_dir(dir, "sub/links");
    snprintf(path, sizeof path, "%s/sub/links/broken", dir);
    assert_int_equal(symlink("nowhere", path), 0);
}

static void dir_walk_is_recursive_sorted_and_sniffs_signatures(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    make_tree(dir);
    struct corpus_options opt = {.dir = dir};
    struct corpus *c = load_ok(&opt);
    assert_int_equal(c->count, 3);
    assert_string_equal(c->items[0].name, "b.jpg");
    assert_string_equal(c->items[1].name, "sub/a.png");
    assert_string_equal(c->items[2].name, "sub/deeper/c.jpg");
    assert_int_equal(c->items[0].kind, CORPUS_JPEG);
    assert_int_equal(c->items[1].kind, CORPUS_PNG);
    assert_int_equal(c->items[2].kind, CORPUS_JPEG); /* truncated: the server judges it */
    assert_int_equal(c->items[1].len, sizeof png_bytes);
    assert_memory_equal(c->items[2].data, truncated_jpeg, sizeof truncated_jpeg);
    assert_int_equal(c->total_bytes, 3 + sizeof png_bytes + sizeof truncated_jpeg);
    /* notes.txt, empty, pipe, sub/z.txt, sub/links/broken; the loop back
     * to the root is not entered. */
    assert_int_equal(c->skipped, 5);
    corpus_destroy(c);
    remove_tree(dir);
}

static void dir_errors_name_the_folder_and_the_fix(void **state)
{
    (void)state;
    struct corpus_options opt = {.dir = "/nonexistent/loadgen-images"};
    load_fails(&opt, "--images /nonexistent/loadgen-images: no such directory; give a folder");

    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    assert_non_null(mkdtemp(dir));
    opt.dir = dir;
    load_fails(&opt, "the folder is empty");
    write_bytes(dir, "readme.md", "# hi\n", 5);
    write_bytes(dir, "data.csv", "a,b\n", 4);
    load_fails(&opt, "no JPEG or PNG files (2 other files skipped)");

    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/readme.md", dir);
    opt.dir = file;
    load_fails(&opt, "not a directory");
    remove_tree(dir);

    opt = (struct corpus_options){.dir = "/tmp", .list_file = "/tmp/x"};
    load_fails(&opt, "give one of them");
}

static void list_file_skips_comments_and_blanks_relative_to_cwd(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    make_tree(dir);
    char list[PATH_MAX], line[2 * PATH_MAX];
    snprintf(list, sizeof list, "%s/list.txt", dir);
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    snprintf(line, sizeof line,
             "# images for the demo\n"
             "\n"
             "sub/a.png\r\n"             /* relative to the current directory */
             "   %s/b.jpg  \n"           /* absolute, padded */
             "#sub/deeper/c.jpg\n"
             "   \t\n"
             "sub/deeper/c.jpg",         /* no final newline */
             dir);
    fputs(line, f);
    fclose(f);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    struct corpus_options opt = {.list_file = list};
    struct corpus *c = load_ok(&opt);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(c->count, 3);
    assert_string_equal(c->items[0].name, "sub/a.png"); /* list order, names as written */
    assert_int_equal(c->items[0].kind, CORPUS_PNG);
    assert_int_equal(c->items[1].len, 3);
    assert_string_equal(c->items[2].name, "sub/deeper/c.jpg");
    assert_int_equal(c->skipped, 0);
    corpus_destroy(c);
    remove_tree(dir);
}

static void list_file_errors_name_the_line(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    make_tree(dir);
    char list[PATH_MAX], body[2 * PATH_MAX];
    snprintf(list, sizeof list, "%s/list.txt", dir);
    struct corpus_options opt = {.list_file = list};

    snprintf(body, sizeof body, "%s/b.jpg\n%s/missing.jpg\n", dir, dir);
    write_bytes(dir, "list.txt", body, strlen(body));
    load_fails(&opt, "line 2: cannot read");
    load_fails(&opt, "missing.jpg (No such file or directory)");

    snprintf(body, sizeof body, "# one\n%s/notes.txt\n", dir);
    write_bytes(dir, "list.txt", body, strlen(body));
    load_fails(&opt, "line 2: ");
    load_fails(&opt, "notes.txt is not a JPEG or PNG file");

    write_bytes(dir, "list.txt", "# nothing\n\n", 11);
    load_fails(&opt, "no image paths");

    opt.list_file = "/nonexistent/list.txt";
    load_fails(&opt, "--images-list /nonexistent/list.txt: cannot open");
    remove_tree(dir);
}

/* A list or image that is /dev/zero, a FIFO, a sparse giant or one endless
 * line: refused at once, with bounded memory (alarm: a blocked open fails
 * the test instead of hanging it). */
static void list_file_must_be_a_bounded_regular_file(void **state)
{
    (void)state;
    alarm(20);
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    make_tree(dir);
    char list[PATH_MAX], path[PATH_MAX], body[2 * PATH_MAX];
    snprintf(list, sizeof list, "%s/list.txt", dir);
    struct corpus_options opt = {.list_file = "/dev/zero"};
    load_fails(&opt, "--images-list /dev/zero: not a regular file (a character device)");
    snprintf(path, sizeof path, "%s/pipe", dir);
    opt.list_file = path;
    load_fails(&opt, "pipe: not a regular file (a FIFO)");

    opt.list_file = list;
    snprintf(body, sizeof body, "%s/b.jpg\n%s/pipe\n", dir, dir);
    write_bytes(dir, "list.txt", body, strlen(body));
    load_fails(&opt, "line 2: ");
    load_fails(&opt, "/pipe: not a regular file (a FIFO); give image files only");

    char *line = malloc(PATH_MAX + 100);
    memset(line, 'a', PATH_MAX + 99);
    line[PATH_MAX + 99] = '\0';
    write_bytes(dir, "list.txt", line, strlen(line));
    free(line);
    load_fails(&opt, "line 1: longer than");

    assert_int_equal(truncate(list, CORPUS_MAX_LIST_BYTES + 1), 0); /* sparse */
    load_fails(&opt, "over the limit of 64 MiB for a list");
    alarm(0);
    remove_tree(dir);
}

static void images_are_capped_one_by_one_and_in_total(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const unsigned char jpeg3[] = {0xFF, 0xD8, 0xFF};
    char path[PATH_MAX], list[PATH_MAX], body[2 * PATH_MAX];
    make_dir(dir, "big");
    write_bytes(dir, "big/x.jpg", jpeg3, sizeof jpeg3);
    snprintf(path, sizeof path, "%s/big/x.jpg", dir);
    /* 2 GiB on paper, nothing on disk: must be refused by its size, not
     * read (the old reader took 7.7 GB for one). */
    assert_int_equal(truncate(path, (off_t)2 << 30), 0);
    snprintf(path, sizeof path, "%s/big", dir);
    struct corpus_options opt = {.dir = path};
    load_fails(&opt, "x.jpg: 2147483648 bytes or more, over the limit of 64 MiB for one image");
    snprintf(list, sizeof list, "%s/list.txt", dir);
    snprintf(body, sizeof body, "%s/big/x.jpg\n", dir);
    write_bytes(dir, "list.txt", body, strlen(body));
    opt = (struct corpus_options){.list_file = list};
    load_fails(&opt, "line 1: ");
    load_fails(&opt, "over the limit of 64 MiB for one image");

    make_dir(dir, "two");
    write_bytes(dir, "two/a.jpg", truncated_jpeg, sizeof truncated_jpeg);
    write_bytes(dir, "two/b.jpg", truncated_jpeg, sizeof truncated_jpeg);
    snprintf(path, sizeof path, "%s/two", dir);
    opt = (struct corpus_options){.dir = path, .max_total_bytes = 2 * sizeof truncated_jpeg};
    struct corpus *c = load_ok(&opt);
    assert_int_equal(c->count, 2);
    corpus_destroy(c);
    opt.max_total_bytes = 2 * sizeof truncated_jpeg - 1;
    load_fails(&opt, "b.jpg: the images so far and this one pass the corpus limit");
    remove_tree(dir);
}

static void folders_nested_too_deep_are_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char rel[PATH_MAX] = "d";
    for (int i = 0; i <= CORPUS_MAX_DEPTH + 1; i++) {
        make_dir(dir, rel);
        strcat(rel, "/d");
    }
    strcat(rel, ".jpg");
    write_bytes(dir, rel, truncated_jpeg, sizeof truncated_jpeg);
    struct corpus_options opt = {.dir = dir};
    load_fails(&opt, "folders nested more than 64 deep");
    remove_tree(dir);
}

/* libjpeg's default error handler exits: jump back instead. */
struct decode_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
};

static void decode_error(j_common_ptr cinfo) { longjmp(((struct decode_fail *)cinfo->err)->jump, 1); }
static void decode_quiet(j_common_ptr cinfo) { (void)cinfo; }

/* Decodes a whole JPEG; 0 when it decodes without a warning at w x h x 3. */
static int decode(const unsigned char *data, size_t len, int w, int h)
{
    struct jpeg_decompress_struct d;
    struct decode_fail jf;
    d.err = jpeg_std_error(&jf.pub);
    jf.pub.error_exit = decode_error;
    jf.pub.output_message = decode_quiet;
    unsigned char *row = malloc((size_t)w * 3);
    if (setjmp(jf.jump)) {
        jpeg_destroy_decompress(&d);
        free(row);
        return -1;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)len);
    jpeg_read_header(&d, TRUE);
    jpeg_start_decompress(&d);
    int ok = (int)d.output_width == w && (int)d.output_height == h && d.output_components == 3;
    while (ok && d.output_scanline < d.output_height)
        jpeg_read_scanlines(&d, &row, 1);
    if (ok)
        jpeg_finish_decompress(&d);
    ok = ok && jf.pub.num_warnings == 0;
    jpeg_destroy_decompress(&d);
    free(row);
    return ok ? 0 : -1;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void synthetic_jpegs_are_distinct_decodable_and_photo_sized(void **state)
{
    (void)state;
    struct corpus_options opt = {.synthetic = 100, .width = 224, .height = 224, .seed = 1};
    struct corpus *c = load_ok(&opt);
    assert_int_equal(c->count, 100);
    assert_string_equal(c->items[0].name, "synthetic-0001.jpg");
    assert_string_equal(c->items[99].name, "synthetic-0100.jpg");
    size_t sizes[100];
    for (size_t i = 0; i < c->count; i++) {
        const struct corpus_item *it = &c->items[i];
        assert_int_equal(it->kind, CORPUS_JPEG);
        if (decode(it->data, it->len, 224, 224) != 0)
            fail_msg("%s does not decode cleanly at 224x224", it->name);
        for (size_t j = 0; j < i; j++)
            if (c->items[j].len == it->len && memcmp(c->items[j].data, it->data, it->len) == 0)
                fail_msg("%s and %s are identical", c->items[j].name, it->name);
        sizes[i] = it->len;
    }
    /* Tens of KB, like a 224x224 photo at quality 90. */
    qsort(sizes, 100, sizeof sizes[0], cmp_size);
    if (sizes[0] < 10000 || sizes[99] > 60000)
        fail_msg("sizes %zu..%zu bytes, want within 10..60 KB", sizes[0], sizes[99]);
    corpus_destroy(c);

    opt = (struct corpus_options){.synthetic = 2, .width = 33, .height = 17, .seed = 9};
    c = load_ok(&opt);
    assert_int_equal(decode(c->items[1].data, c->items[1].len, 33, 17), 0);
    corpus_destroy(c);
}

static void synthetic_corpus_is_a_function_of_the_seed(void **state)
{
    (void)state;
    struct corpus_options opt = {.synthetic = 10, .width = 64, .height = 48, .seed = 42};
    struct corpus *a = load_ok(&opt), *b = load_ok(&opt);
    opt.seed = 43;
    struct corpus *d = load_ok(&opt);
    assert_int_equal(a->total_bytes, b->total_bytes);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(a->items[i].len, b->items[i].len);
        assert_memory_equal(a->items[i].data, b->items[i].data, a->items[i].len);
        assert_false(a->items[i].len == d->items[i].len &&
                     memcmp(a->items[i].data, d->items[i].data, a->items[i].len) == 0);
    }
    corpus_destroy(a);
    corpus_destroy(b);
    corpus_destroy(d);
}

static void synthetic_options_are_checked(void **state)
{
    (void)state;
    struct corpus_options opt = {.synthetic = 0, .width = 224, .height = 224};
    load_fails(&opt, "--synthetic 0");
    opt = (struct corpus_options){.synthetic = 1, .width = 0, .height = 224};
    load_fails(&opt, "--image-size 0x224");
    opt = (struct corpus_options){.synthetic = 1, .width = 224, .height = 100000};
    load_fails(&opt, "--image-size 224x100000");
}

/* Names in corpus order, to compare permutations. */
static void names_of(const struct corpus *c, const char **out)
{
    for (size_t i = 0; i < c->count; i++)
        out[i] = c->items[i].name;
}

static void shuffle_is_a_reproducible_permutation(void **state)
{
    (void)state;
    struct corpus_options opt = {.synthetic = 50, .width = 16, .height = 16, .seed = 7};
    struct corpus *plain = load_ok(&opt);
    opt.shuffle = 1;
    struct corpus *a = load_ok(&opt), *b = load_ok(&opt);
    opt.seed = 8;
    struct corpus *d = load_ok(&opt);
    const char *np[50], *na[50], *nb[50], *nd[50];
    names_of(plain, np);
    names_of(a, na);
    names_of(b, nb);
    names_of(d, nd);
    size_t moved = 0, same_as_d = 0;
    for (size_t i = 0; i < 50; i++) {
        assert_string_equal(na[i], nb[i]);
        moved += strcmp(na[i], np[i]) != 0;
        same_as_d += strcmp(na[i], nd[i]) == 0;
        /* A permutation: every name once. */
        size_t seen = 0;
        for (size_t j = 0; j < 50; j++)
            seen += strcmp(np[i], na[j]) == 0;
        assert_int_equal(seen, 1);
    }
    assert_true(moved > 25);
    assert_true(same_as_d < 25);
    assert_int_equal(a->total_bytes, plain->total_bytes);
    corpus_destroy(plain);
    corpus_destroy(a);
    corpus_destroy(b);
    corpus_destroy(d);
}

static void saved_synthetic_corpus_loads_back_identically(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-corpus.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/new/nested", dir); /* created on demand */
    struct corpus_options opt = {.synthetic = 12, .width = 40, .height = 30, .seed = 3};
    struct corpus *c = load_ok(&opt);
    char err[LG_ERRLEN];
    assert_int_equal(corpus_save(c, out, err), 0);
    struct corpus_options back = {.dir = out};
    struct corpus *d = load_ok(&back);
    assert_int_equal(d->count, 12);
    assert_int_equal(d->skipped, 0);
    for (size_t i = 0; i < 12; i++) {
        assert_string_equal(d->items[i].name, c->items[i].name);
        assert_int_equal(d->items[i].len, c->items[i].len);
        assert_memory_equal(d->items[i].data, c->items[i].data, c->items[i].len);
    }
    snprintf(out, sizeof out, "%s/new/nested/synthetic-0001.jpg/x", dir);
    assert_int_equal(corpus_save(c, out, err), -ENOTDIR);
    if (!strstr(err, "--save-synthetic"))
        fail_msg("error \"%s\" does not name the flag", err);
    corpus_destroy(c);
    corpus_destroy(d);
    corpus_destroy(NULL);
    remove_tree(dir);
}

static void mime_follows_the_kind(void **state)
{
    (void)state;
    assert_string_equal(corpus_mime(CORPUS_JPEG), "image/jpeg");
    assert_string_equal(corpus_mime(CORPUS_PNG), "image/png");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dir_walk_is_recursive_sorted_and_sniffs_signatures),
        cmocka_unit_test(dir_errors_name_the_folder_and_the_fix),
        cmocka_unit_test(list_file_skips_comments_and_blanks_relative_to_cwd),
        cmocka_unit_test(list_file_errors_name_the_line),
        cmocka_unit_test(list_file_must_be_a_bounded_regular_file),
        cmocka_unit_test(images_are_capped_one_by_one_and_in_total),
        cmocka_unit_test(folders_nested_too_deep_are_refused),
        cmocka_unit_test(synthetic_jpegs_are_distinct_decodable_and_photo_sized),
        cmocka_unit_test(synthetic_corpus_is_a_function_of_the_seed),
        cmocka_unit_test(synthetic_options_are_checked),
        cmocka_unit_test(shuffle_is_a_reproducible_permutation),
        cmocka_unit_test(saved_synthetic_corpus_loads_back_identically),
        cmocka_unit_test(mime_follows_the_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
