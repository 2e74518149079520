/*
 * test_fileio.c: the whole-file reader and the atomic writer against what a
 * path can name besides a regular file (a symlink, a dangling one, a FIFO
 * with and without a reader, a character device, standard output), and the
 * check that run's outputs do not name one file or a file of another kind.
 * Works in a temporary folder; the device is a private node of /dev/full
 * made there (the tests run as root), never the system's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "fileio.h"

static char dir[] = "/tmp/loadgen-fileio.XXXXXX";

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/loadgen-fileio.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* A FIFO that blocks the test must fail it, not hang make test. */
    alarm(20);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
    /* A ring of buffers: a test uses at most four paths in one call. */
    static char path[4][PATH_MAX];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_err_has(const char *err, const char *needle)
{
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void folder_holds_only(size_t n)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq %zu", dir, n);
    if (system(cmd) != 0)
        fail_msg("%s holds other than %zu entries (a temporary file left?)", dir, n);
}

static void write_over_a_symlink_replaces_its_target_and_keeps_the_link(void **state)
{
    (void)state;
    const char *target = in_dir("target.json"), *link = in_dir("link.json");
    put(target, "{\"old\": 1}");
    chmod(target, 0600);
    assert_int_equal(symlink("target.json", link), 0);
    char err[LG_ERRLEN] = "";
    assert_int_equal(fileio_write_atomic("--json", link, "{\"new\": 2}", 10, err), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(slurp(target), "{\"new\": 2}");
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* a private result stays private */
    folder_holds_only(2);
}

static void write_through_a_dangling_symlink_is_refused(void **state)
{
    (void)state;
    const char *link = in_dir("dangling.json");
    assert_int_equal(symlink("nowhere/x.json", link), 0);
    char err[LG_ERRLEN] = "";
    assert_int_equal(fileio_write_atomic("--json", link, "{}", 2, err), -EINVAL);
    assert_err_has(err, "--json ");
    assert_err_has(err, "a symlink to a file that does not exist");
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

static void write_to_a_full_device_fails_in_place_and_keeps_the_device(void **state)
{
    (void)state;
    const char *full = in_dir("full");
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0)
        skip(); /* not root: no device node of our own */
    char err[LG_ERRLEN] = "";
    assert_int_equal(fileio_write_atomic("--json", full, "{}", 2, err), -ENOSPC);
    assert_err_has(err, "--json ");
    assert_err_has(err, strerror(ENOSPC));
    struct stat st;
    assert_int_equal(lstat(full, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    folder_holds_only(1);
}

static void write_to_a_fifo_without_reader_fails_at_once(void **state)
{
    (void)state;
    const char *fifo = in_dir("fifo");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    char err[LG_ERRLEN] = "";
    assert_int_equal(fileio_write_atomic("-o", fifo, "{}", 2, err), -EINVAL);
    assert_err_has(err, "a FIFO with no reader");
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    folder_holds_only(1);
}

static void write_to_a_fifo_with_a_reader_sends_the_bytes(void **state)
{
    (void)state;
    const char *fifo = in_dir("fifo");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    char err[LG_ERRLEN] = "";
    assert_int_equal(fileio_write_atomic("-o", fifo, "{\"a\": 1}", 8, err), 0);
    char buf[16] = "";
    assert_int_equal(read(rd, buf, sizeof buf), 8);
    assert_memory_equal(buf, "{\"a\": 1}", 8);
    close(rd);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
}

/* fd 1 pointed at a file while f runs; what reached it is returned. */
static char *capture_stdout(const char *what, const char *path)
{
    const char *out = in_dir("stdout.txt");
    fflush(stdout);
    int saved = dup(1), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    printf("text first\n"); /* buffered: must come out before the JSON */
    char err[LG_ERRLEN] = "";
    int rc = fileio_write_atomic(what, path, "{\"s\": 1}\n", 9, err);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    if (rc != 0)
        fail_msg("fileio_write_atomic %s: %s", path, err);
    return slurp(out);
}

static void dash_and_dev_stdout_write_to_fd_1(void **state)
{
    (void)state;
    assert_string_equal(capture_stdout("--json", "-"), "text first\n{\"s\": 1}\n");
    /* /dev/stdout names the very file fd 1 writes to: written through fd 1,
     * after the text, and the file is not replaced. */
    assert_string_equal(capture_stdout("--json", "/dev/stdout"), "text first\n{\"s\": 1}\n");
    struct stat st;
    assert_int_equal(lstat("/dev/stdout", &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

static void write_to_a_folder_is_refused(void **state)
{
    (void)state;
    char err[LG_ERRLEN] = "";
    assert_int_equal(fileio_write_atomic("-o", dir, "{}", 2, err), -EINVAL);
    assert_err_has(err, "is a folder");
}

static void read_refuses_a_fifo_without_blocking(void **state)
{
    (void)state;
    const char *fifo = in_dir("results.csv");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    size_t len;
    char err[LG_ERRLEN] = "";
    char *text;
    assert_int_equal(fileio_read(NULL, fifo, 1 << 20, &text, &len, err), -EINVAL);
    assert_null(text);
    assert_err_has(err, "not a regular file (a FIFO)");
    assert_int_equal(fileio_read("--scenario", "/dev/zero", 1 << 20, &text, &len, err), -EINVAL);
    assert_err_has(err, "--scenario /dev/zero: not a regular file (a character device)");
}

static void read_caps_a_regular_file(void **state)
{
    (void)state;
    const char *big = in_dir("big.json");
    put(big, "{\"0123456789\": 1}");
    size_t len;
    char err[LG_ERRLEN] = "";
    char *text;
    assert_int_equal(fileio_read(NULL, big, 8, &text, &len, err), -EFBIG);
    assert_null(text);
    assert_err_has(err, "at most 8 are read");
    assert_int_equal(fileio_read(NULL, big, 0, &text, &len, err), 0);
    assert_non_null(text);
    assert_int_equal(len, 17);
    free(text);
}

/* ---- fileio_check_outputs ------------------------------------------------ */

static const char *const flags[] = {"--out", "--json", "--requests-log", "--history"};
static const enum fileio_kind kinds[] = {FILEIO_CSV_SUMMARY, FILEIO_JSON, FILEIO_CSV_REQUESTS,
                                         FILEIO_CSV_HISTORY};

static int check4(const char *out, const char *json, const char *req, const char *hist, char *err)
{
    const char *const paths[] = {out, json, req, hist};
    return fileio_check_outputs(flags, paths, kinds, 4, err);
}

static void one_file_given_to_two_outputs_is_refused(void **state)
{
    (void)state;
    char err[LG_ERRLEN] = "";
    char same[PATH_MAX];
    snprintf(same, sizeof same, "%s/./sub/../x.csv", dir);
    mkdir(in_dir("sub"), 0755);
    /* New files: the same once the folder is resolved. */
    assert_int_equal(check4(in_dir("x.csv"), same, NULL, NULL, err), -EINVAL);
    assert_err_has(err, "name the same file");
    assert_err_has(err, "--out ");
    assert_err_has(err, "--json ");
    /* Existing: the same inode under two names. */
    put(in_dir("h.csv"), "");
    assert_int_equal(link(in_dir("h.csv"), in_dir("h2.csv")), 0);
    assert_int_equal(check4(NULL, NULL, in_dir("h.csv"), in_dir("h2.csv"), err), -EINVAL);
    assert_err_has(err, "--requests-log ");
    assert_int_equal(check4(NULL, "-", "-", NULL, err), -EINVAL);
    assert_err_has(err, "name the same file");
    /* A character device keeps nothing to spoil. */
    assert_int_equal(check4("/dev/null", "/dev/null", NULL, NULL, err), 0);
    assert_int_equal(check4(in_dir("a.csv"), in_dir("a.json"), in_dir("a.req"), in_dir("a.hist"), err), 0);
}

static void an_existing_file_of_another_kind_is_refused(void **state)
{
    (void)state;
    char err[LG_ERRLEN] = "";
    char summary[PATH_MAX], json[PATH_MAX];
    snprintf(summary, sizeof summary, "%s", in_dir("summary.csv"));
    snprintf(json, sizeof json, "%s", in_dir("r.json"));
    put(summary, "run_id,timestamp,label\nr1,t,x\n");
    put(json, "{\n\t\"run_id\": \"r1\"\n}\n");
    put(in_dir("req.csv"), "offset_ms,level,image\n1,1,a\n");
    put(in_dir("hist.csv"), "TestNo,TestCountTotal,ThreadCount\n1,2,3\n");
    put(in_dir("rc"), "export PATH=/bin\n");

    assert_int_equal(check4(NULL, summary, NULL, NULL, err), -EINVAL);
    assert_err_has(err, "--json ");
    assert_err_has(err, "holds a summary CSV (--out), which --json would replace");
    assert_int_equal(check4(json, NULL, NULL, NULL, err), -EINVAL);
    assert_err_has(err, "holds a JSON result");
    assert_int_equal(check4(NULL, NULL, NULL, summary, err), -EINVAL);
    assert_err_has(err, "--history ");
    assert_int_equal(check4(NULL, NULL, json, NULL, err), -EINVAL);
    assert_err_has(err, "--requests-log ");
    assert_int_equal(check4(NULL, in_dir("rc"), NULL, NULL, err), -EINVAL);
    assert_err_has(err, "does not hold a JSON result");
    /* Each onto its own kind, and onto empty files, is fine. */
    put(in_dir("empty"), "");
    assert_int_equal(check4(summary, json, in_dir("req.csv"), in_dir("hist.csv"), err), 0);
    assert_int_equal(check4(NULL, in_dir("empty"), NULL, NULL, err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write_over_a_symlink_replaces_its_target_and_keeps_the_link, setup, teardown),
        cmocka_unit_test_setup_teardown(write_through_a_dangling_symlink_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_a_full_device_fails_in_place_and_keeps_the_device, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_a_fifo_without_reader_fails_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_a_fifo_with_a_reader_sends_the_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(dash_and_dev_stdout_write_to_fd_1, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_a_folder_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(read_refuses_a_fifo_without_blocking, setup, teardown),
        cmocka_unit_test_setup_teardown(read_caps_a_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(one_file_given_to_two_outputs_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(an_existing_file_of_another_kind_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
