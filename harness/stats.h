/*
 * stats.h: one level's result: counts by error class, phase histograms,
 * bytes, late sends and a per-second timeline.
 *
 * Each event-loop thread owns a struct stats and records into it without
 * locks; after pthread_join the run merges them with stats_merge. Recording
 * never allocates, except that the timeline grows by doubling when a run
 * outlasts its preallocated seconds (amortised: once per many seconds).
 */
#ifndef LOADGEN_STATS_H
#define LOADGEN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

enum stats_class {
    CLASS_OK,
    CLASS_HTTP_4XX,
    CLASS_HTTP_5XX,
    CLASS_TIMEOUT,
    CLASS_CONNECT,
    CLASS_TLS,
    CLASS_RESET,    /* send/receive failure, connection closed mid-reply */
    CLASS_INVALID,  /* reply failed an --expect-* check, or was not HTTP */
    CLASS_GRPC,     /* HTTP 200 with a non-zero grpc-status (reply.h) */
    CLASS_COUNT
};

/* The histograms of a level, all in microseconds. */
enum stats_hist {
    STATS_LATENCY,             /* from the intended send time (open loop) */
    STATS_LATENCY_UNCORRECTED, /* from the actual send time */
    STATS_TTFB,
    STATS_CONNECT,             /* new connections only */
    STATS_SERVER,              /* --server-time-header/json, when given */
    STATS_NETWORK,             /* latency - server time, when given */
    STATS_HIST_COUNT
};

/* Precision of the per-second histograms: 1 significant digit (buckets
 * about 6% wide) costs 4 KiB a second per event loop, so an hour-long level
 * holds tens of MB, not hundreds; a timeline's p50/p99 need no more. */
#define STATS_TIMELINE_SIG 1

/* One second of the run: completions and their latency percentiles. */
struct stats_second {
    uint64_t completions;
    uint64_t errors;
    struct hist *latency;   /* STATS_TIMELINE_SIG */
};

/* One request as --requests-log writes it; recorded only when asked. */
struct stats_request {
    int64_t offset_us;      /* completion time from the level start */
    uint32_t image;         /* request index (image i = corpus item i mod size) */
    uint16_t status;        /* HTTP status, 0 when none */
    uint8_t class_;         /* enum stats_class */
    uint8_t grpc;           /* gRPC replies: the code + 1 (STATS_GRPC_OTHER + 1
                             * past 16); 0 when not gRPC or no reply */
    uint32_t latency_us;
    uint32_t ttfb_us;
    uint32_t connect_us;
    uint64_t bytes_sent;
    uint64_t bytes_recv;
};

/* Replies counted by status: 0 is no reply (connect, timeout, reset), and a
 * status past 999 (not HTTP) is counted as 999. */
#define STATS_STATUSES 1000
/* The first few distinct error messages (what the transport said), so a
 * failing run names its cause ("Connection refused", "certificate verify
 * failed") instead of only counting it. */
#define STATS_MAX_ERRMSG 4
#define STATS_ERRMSG_LEN 160

/* gRPC codes counted: 0..16, and [STATS_GRPC_OTHER] for any code past 16
 * a server sent. */
#define STATS_GRPC_OTHER 17
#define STATS_GRPC_CODES (STATS_GRPC_OTHER + 1)

struct stats_errmsg {
    char text[STATS_ERRMSG_LEN];
    uint64_t count;
};

struct stats {
    uint64_t requests;               /* completed, every class */
    uint64_t by_status[STATS_STATUSES]; /* replies by HTTP status; [0]: no reply */
    struct stats_errmsg errmsg[STATS_MAX_ERRMSG]; /* in the order first seen */
    size_t nerrmsg;
    uint64_t errmsg_more;            /* errors whose message was not kept */
    uint64_t images;                 /* images carried by completed requests */
    uint64_t images_ok;              /* images carried by CLASS_OK requests */
    uint64_t by_class[CLASS_COUNT];
    uint64_t by_grpc[STATS_GRPC_CODES]; /* gRPC replies by code (OK included) */
    uint64_t late_sends;             /* open loop: sends that started > 1 ms late */
    uint64_t bytes_sent, bytes_recv;
    int64_t first_start_us;          /* monotonic; INT64_MAX until the first send */
    int64_t last_end_us;             /* monotonic; 0 until the first completion */
    struct hist *h[STATS_HIST_COUNT];/* all in us, sig 3 */
    int64_t origin_us;               /* monotonic level start: timeline second 0 */
    struct stats_second *seconds;
    size_t nseconds, capseconds;
    uint64_t slot_min, slot_max;     /* requests per slot; set by the engine */
    struct stats_request *log;       /* NULL unless --requests-log */
    size_t nlog, caplog;
};

struct stats *stats_create(int keep_log, size_t expected_requests);
void stats_destroy(struct stats *s);
void stats_reset(struct stats *s, int64_t origin_us);
/* dst += src (counts, histograms, timeline aligned on origin, log). */
int stats_merge(struct stats *dst, const struct stats *src);

/* Record one completed request. `now_us` is the monotonic completion time. */
int stats_record(struct stats *s, const struct stats_request *r, unsigned images,
                 uint64_t latency_uncorrected_us, int64_t now_us);
/* An error's message, kept when it is one of the first STATS_MAX_ERRMSG
 * distinct ones, else counted in errmsg_more. Called on errors only: no
 * allocation, a few string compares. */
void stats_note_error(struct stats *s, const char *msg);
/* Record a server-reported compute time for a request of `latency_us`. */
void stats_record_server_time(struct stats *s, uint64_t server_us, uint64_t latency_us);
const char *stats_hist_name(enum stats_hist h);     /* "latency", "ttfb", ... */

uint64_t stats_errors(const struct stats *s);       /* requests - ok */
double stats_duration_s(const struct stats *s);     /* last end - first start */
const char *stats_class_name(enum stats_class c);   /* "ok", "http_4xx", ... */
/* The JSON key of a gRPC code's count: "OK", "UNAVAILABLE", ..., and
 * "OTHER" for STATS_GRPC_OTHER. */
const char *stats_grpc_name(unsigned code);

#endif
