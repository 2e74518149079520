/*
 * bench_payload.c: time and memory of building a corpus and its payloads,
 * one format per process (peak RSS is per process).
 *
 * Build (from the repository root):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Iharness tests/bench/bench_payload.c harness/corpus.c harness/payload.c harness/base64.c -o obj/bench_payload -ljpeg -lcjson -lm
 * Run: obj/bench_payload FORMAT [N [WxH [BATCH]]]   (defaults: 1000 224x224 1)
 * or tests/bench/bench_payload.sh for every format at 224x224 and 480x480.
 *
 * Prints one line of key=value: synth_s (corpus synthesis), encode_s
 * (payload_build), each as wall time and as this process's CPU time
 * (_cpu_s: steadier on a shared machine), corpus_mb, encoded_mb (sum of bodies), arena_mb,
 * peak_rss_mb (the whole process: corpus, payloads and libjpeg at once),
 * payload_rss_mb (RSS growth that remains once the corpus is freed, i.e.
 * what the run holds while it sends) and its ratio to encoded_mb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common.h"
#include "corpus.h"
#include "payload.h"

static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FORMAT [N [WxH [BATCH]]]\n", argv[0]);
        return 2;
    }
    struct corpus_options co = {.synthetic = 1000, .width = 224, .height = 224, .seed = 1};
    struct payload_options po = {.batch = 1};
    if (payload_parse_format(argv[1], &po.format) != 0) {
        fprintf(stderr, "unknown format %s\n", argv[1]);
        return 2;
    }
    if (argc > 2)
        co.synthetic = strtoul(argv[2], NULL, 10);
    if (argc > 3 && sscanf(argv[3], "%dx%d", &co.width, &co.height) != 2) {
        fprintf(stderr, "bad size %s\n", argv[3]);
        return 2;
    }
    if (argc > 4)
        po.batch = (unsigned)strtoul(argv[4], NULL, 10);

    char err[LG_ERRLEN];
    double base = rss_mb();
    int64_t t0 = lg_now_us();
    double c0 = cpu_s();
    struct corpus *c;
    if (corpus_load(&c, &co, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int64_t t1 = lg_now_us();
    double c1 = cpu_s();
    struct payload_set *s;
    if (payload_build(&s, c, &po, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int64_t t2 = lg_now_us();
    double c2 = cpu_s();
    double corpus_mb = (double)c->total_bytes / 1048576.0;
    corpus_destroy(c);
    double held = rss_mb() - base, encoded = (double)s->total_bytes / 1048576.0;
    printf("format=%s images=%zu size=%dx%d batch=%u synth_s=%.3f synth_cpu_s=%.3f encode_s=%.3f encode_cpu_s=%.3f corpus_mb=%.1f "
           "encoded_mb=%.1f arena_mb=%.1f peak_rss_mb=%.1f payload_rss_mb=%.1f payload_rss_ratio=%.3f\n",
           argv[1], co.synthetic, co.width, co.height, po.batch, (double)(t1 - t0) / 1e6, c1 - c0,
           (double)(t2 - t1) / 1e6, c2 - c1, corpus_mb, encoded, (double)s->arena_len / 1048576.0,
           peak_rss_mb(), held, held / encoded);
    payload_destroy(s);
    return 0;
}
