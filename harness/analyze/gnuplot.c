/*
 * gnuplot.c: locate scripts/gnuplot and run gnuplot as a child process
 * (see gnuplot.h). Single-threaded; the only state is on the stack.
 */
#include "analyze/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#ifndef LOADGEN_DATADIR
#define LOADGEN_DATADIR "/usr/local/share/loadgen"
#endif

extern char **environ;

/* common.gp is loaded by every chart, so its presence marks the folder. */
static int has_scripts(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/common.gp", dir) >= (int)sizeof path)
        return 0;
    return access(path, R_OK) == 0;
}

static int pick(char *dir, size_t size, const char *candidate)
{
    char abs[PATH_MAX];
    if (!has_scripts(candidate) || !realpath(candidate, abs) || strlen(abs) >= size)
        return 0;
    strcpy(dir, abs);
    return 1;
}

int gnuplot_scripts_dir(char *dir, size_t size, char *err)
{
    const char *env = getenv("LOADGEN_GNUPLOT_DIR");
    if (env && *env) {
        if (pick(dir, size, env))
            return 0;
        return lg_err(err, -ENOENT, "LOADGEN_GNUPLOT_DIR=%s: no common.gp there; point it at "
                      "loadgen's scripts/gnuplot folder", env);
    }
    char exe[PATH_MAX], cand[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        const char *bindir = dirname(exe);
        /* A checkout built in place: ./loadgen, or obj/VARIANT/loadgen. */
        snprintf(cand, sizeof cand, "%s/scripts/gnuplot", bindir);
        if (pick(dir, size, cand))
            return 0;
        const char *variant = strrchr(bindir, '/');
        if (variant && variant - bindir >= 4 && strncmp(variant - 4, "/obj", 4) == 0) {
            snprintf(cand, sizeof cand, "%.*s/scripts/gnuplot", (int)(variant - 4 - bindir),
                     bindir);
            if (pick(dir, size, cand))
                return 0;
        }
        /* An install under any PREFIX: PREFIX/bin/loadgen finds
         * PREFIX/share/loadgen/gnuplot, whatever PREFIX it was built for. */
        snprintf(cand, sizeof cand, "%s/../share/loadgen/gnuplot", bindir);
        if (pick(dir, size, cand))
            return 0;
    }
    if (pick(dir, size, LOADGEN_DATADIR "/gnuplot"))
        return 0;
    return lg_err(err, -ENOENT, "cannot find the chart scripts (common.gp) next to the binary or in "
                  LOADGEN_DATADIR "/gnuplot; run `make install` or set LOADGEN_GNUPLOT_DIR");
}

/* gnuplot in an absolute folder of PATH (see gnuplot.h); 0 or -ENOENT. */
static int find_gnuplot(char *path, size_t size)
{
    const char *p = getenv("PATH");
    if (!p || !*p)
        p = "/usr/local/bin:/usr/bin:/bin";
    while (*p) {
        size_t n = strcspn(p, ":");
        if (n > 0 && p[0] == '/' && (size_t)snprintf(path, size, "%.*s/gnuplot", (int)n, p) < size &&
            access(path, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    return -ENOENT;
}

/* The first lines gnuplot printed, indented, for a multi-line message. */
static void first_lines(const char *errlog, char *out, size_t size)
{
    FILE *fp = fopen(errlog, "r");
    size_t used = 0;
    int lines = 0;
    char line[256];
    out[0] = '\0';
    if (!fp)
        return;
    while (lines < 6 && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        int w = snprintf(out + used, size - used, "\n    %s", line);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
        lines++;
    }
    fclose(fp);
}

int gnuplot_run(const char *const *files, size_t nfiles, const char *errlog, char *err)
{
    char *argv[16], exe[PATH_MAX];
    if (nfiles + 2 > sizeof argv / sizeof argv[0])
        return lg_err(err, -EINVAL, "too many gnuplot scripts (%zu)", nfiles);
    argv[0] = "gnuplot";
    for (size_t i = 0; i < nfiles; i++)
        argv[i + 1] = (char *)files[i];
    argv[nfiles + 1] = NULL;

    if (find_gnuplot(exe, sizeof exe) < 0)
        return lg_err(err, -ENOENT, "gnuplot not found; install it with: sudo apt-get install "
                      "gnuplot-nox");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* gnuplot reads stdin when a script ends without `exit`; give it none. */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return lg_err(err, -EIO, "cannot start gnuplot: %s", strerror(rc));

    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return lg_err(err, -EIO, "waiting for gnuplot: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char lines[LG_ERRLEN];
    first_lines(errlog, lines, sizeof lines - 80);
    if (WIFEXITED(status))
        lg_err(err, -EIO, "gnuplot failed on %s (exit %d):%s", files[nfiles - 1],
               WEXITSTATUS(status), lines);
    else
        lg_err(err, -EIO, "gnuplot was killed by signal %d on %s", WTERMSIG(status),
               files[nfiles - 1]);
    return -EIO;
}
