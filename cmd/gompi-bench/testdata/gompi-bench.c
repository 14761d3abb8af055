/* gompi-bench.c: the C twin of cmd/gompi-bench, against MPI, for the same measurement under
 * OpenMPI (scripts/benchcompare runs both). Same benchmarks, same arguments, same iteration
 * counts, data patterns and checks, same output; only the title says "gompi-bench-c" and names
 * the MPI library. Like the OSU micro-benchmarks it times with MPI_Wtime, uses separate send and
 * receive buffers aligned to the page size (posix_memalign), and for the collectives reports
 * the mean over ranks of each rank's mean time per call.
 *
 *   mpicc -O2 -o gompi-bench-c cmd/gompi-bench/testdata/gompi-bench.c
 *   mpirun -n 2 ./gompi-bench-c latency --sizes 1,65472,65600
 *   mpirun -n 4 ./gompi-bench-c allreduce --max 1M --full
 *
 * Benchmarks: latency, bw, bibw (ranks 0 and 1, others idle; at least 2 ranks), allreduce,
 * bcast, reduce, allgather, alltoall, barrier (any number of ranks). Options: --min, --max,
 * --sizes LIST, --iterations N (-i), --warmup N (-x), --window N (-W, bw and bibw), --full
 * (-f, collectives). See cmd/gompi-bench/main.go for what each measures. */
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 4096
#define LARGE_MESSAGE_SIZE 8192 /* OSU's: above it the large counts apply */
#define DEFAULT_MAX (4 << 20)
#define MAX_SIZES 64

enum kind { PT2PT, COLLECTIVE, BARRIER };

struct counts { int timed, warmup; };

struct bench;
typedef double (*run_fn)(const struct bench *b, int size, struct counts n);

struct bench {
  const char *name, *title, *column;
  enum kind kind;
  int elem; /* 4 for the float32 reductions, else 1 */
  struct counts small, large;
  run_fn run;
};

static struct {
  const struct bench *bench;
  int sizes[MAX_SIZES], nsizes;
  int iterations, warmup, window, full;
} cfg = {NULL, {0}, 0, 0, -1, 64, 0};

static int rank, nranks;
static char *sbuf, *rbuf;
static MPI_Request *sreqs, *rreqs;

/* ---- data patterns: the same as cmd/gompi-bench/pattern.go ---- */

static uint32_t seed(int key, int size) {
  return (uint32_t)size * 0x9e3779b1u ^ (uint32_t)(key + 1) * 0x85ebca77u;
}
static uint8_t body(uint32_t s, size_t i) { return (uint8_t)((s >> 24) + (uint32_t)i * 7u); }
static uint8_t stamp(uint32_t s, int iter) { return (uint8_t)((s >> 16) + (uint32_t)iter + 1u); }

static uint8_t expected(int key, int size, int iter, size_t i, size_t n) {
  uint32_t s = seed(key, size);
  return (i == 0 || i == n - 1) ? stamp(s, iter) : body(s, i);
}

static void fill(char *buf, size_t n, int key, int size) {
  uint32_t s = seed(key, size);
  for (size_t i = 0; i < n; i++) buf[i] = (char)body(s, i);
}

static void stamp_bytes(char *buf, size_t n, int key, int size, int iter) {
  if (n > 0) buf[0] = buf[n - 1] = (char)stamp(seed(key, size), iter);
}

static void poison(char *buf, size_t n) { memset(buf, 0xa5, n); }

static void fill_values(float *v, size_t n, int size) {
  uint32_t s = seed(0, size);
  for (size_t i = 0; i < n; i++) v[i] = (float)(((int)body(s, i) + 1) * (rank + 1));
}

static void stamp_values(float *v, size_t n, int size, int iter) {
  if (n > 0) v[0] = v[n - 1] = (float)(((int)stamp(seed(0, size), iter) + 1) * (rank + 1));
}

/* Tests build with -DGOMPI_BENCH_FLIP_RANK=R to flip one received byte on rank R just before
 * the check of each size, and expect the check to fail. */
#ifdef GOMPI_BENCH_FLIP_RANK
#define TEST_FLIP(buf, n) do { if (rank == GOMPI_BENCH_FLIP_RANK && (n) > 0) ((char *)(buf))[(n) / 2] ^= 0x10; } while (0)
#else
#define TEST_FLIP(buf, n) do { } while (0)
#endif

/* check_failed reports a difference and ends the rank with status 1; mpirun then ends the job.
 * Not MPI_Abort: with OpenMPI 4.1.4 on the development machine mpirun crashed or hung after
 * MPI_Abort in 4 of 7 runs, and hung after a plain exit in 1 of 24. */
static void check_failed(const char *what, int size, size_t index, const char *from, const char *got, const char *want) {
  fprintf(stderr, "gompi-bench-c: %s, size %d, rank %d: data check failed: %s %zu%s%s%s is %s, want %s\n",
          cfg.bench->name, size, rank, what, index, from ? " (" : "", from ? from : "", from ? ")" : "", got, want);
  fflush(stderr);
  exit(1);
}

/* check compares buf with the pattern key sent at iteration iter; offset is buf's place in the
 * whole receive buffer and from names a block's sender, for the message. */
static void check(const char *buf, size_t n, int key, int size, int iter, size_t offset, const char *from) {
  for (size_t i = 0; i < n; i++) {
    uint8_t got = (uint8_t)buf[i], want = expected(key, size, iter, i, n);
    if (got != want) {
      char g[8], w[8];
      snprintf(g, sizeof g, "0x%02x", got);
      snprintf(w, sizeof w, "0x%02x", want);
      check_failed("byte", size, offset + i, from, g, w);
    }
  }
}

/* check_sums compares a float32 Sum over all ranks with its closed form: exact while the sums
 * stay below 2^24 (up to 361 ranks), within float32 rounding above. */
static void check_sums(const float *v, size_t n, int size, int iter) {
  double ranks = (double)nranks * (nranks + 1) / 2, tol_scale = (double)nranks / 16777216.0;
  int exact = ranks * 256 <= 16777216.0;
  for (size_t i = 0; i < n; i++) {
    double want = ((double)expected(0, size, iter, i, n) + 1) * ranks, d = (double)v[i] - want;
    if (d != 0 && (exact || d > want * tol_scale || -d > want * tol_scale)) {
      char g[32], w[32];
      snprintf(g, sizeof g, "%g", (double)v[i]);
      snprintf(w, sizeof w, "%g", want);
      check_failed("element", size, i, NULL, g, w);
    }
  }
}

/* ---- point to point: osu_latency.c, osu_bw.c, osu_bibw.c ---- */

static double latency(const struct bench *b, int size, struct counts n) {
  (void)b;
  char *s = sbuf, *r = rbuf;
  double t0 = 0, t1;
  fill(s, size, rank, size);
  poison(r, size);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank > 1) return 0;
  for (int i = 0; i < n.warmup + n.timed; i++) {
    if (i == n.warmup) t0 = MPI_Wtime();
    stamp_bytes(s, size, rank, size, i);
    if (rank == 0) {
      MPI_Send(s, size, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(r, size, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(r, size, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(s, size, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
    }
  }
  t1 = MPI_Wtime();
  TEST_FLIP(r, size);
  check(r, size, 1 - rank, size, n.warmup + n.timed - 1, 0, NULL);
  return (t1 - t0) * 1e6 / (2.0 * n.timed);
}

static double bw(const struct bench *b, int size, struct counts n) {
  (void)b;
  int w = cfg.window;
  double t0 = 0, t1;
  if (rank == 0) {
    fill(sbuf, size, 0, size);
    poison(rbuf, 4);
  } else {
    fill(sbuf, 4, 1, size); /* the 4-byte acknowledgement */
    poison(rbuf, size);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank > 1) return 0;
  for (int i = 0; i < n.warmup + n.timed; i++) {
    if (i == n.warmup) t0 = MPI_Wtime();
    if (rank == 0) {
      stamp_bytes(sbuf, size, 0, size, i);
      for (int j = 0; j < w; j++) MPI_Isend(sbuf, size, MPI_CHAR, 1, 100, MPI_COMM_WORLD, &sreqs[j]);
      MPI_Waitall(w, sreqs, MPI_STATUSES_IGNORE);
      MPI_Recv(rbuf, 4, MPI_CHAR, 1, 101, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      for (int j = 0; j < w; j++) MPI_Irecv(rbuf, size, MPI_CHAR, 0, 100, MPI_COMM_WORLD, &rreqs[j]);
      MPI_Waitall(w, rreqs, MPI_STATUSES_IGNORE);
      stamp_bytes(sbuf, 4, 1, size, i);
      MPI_Send(sbuf, 4, MPI_CHAR, 0, 101, MPI_COMM_WORLD);
    }
  }
  t1 = MPI_Wtime();
  TEST_FLIP(rbuf, rank == 0 ? 4 : size);
  if (rank == 0)
    check(rbuf, 4, 1, size, n.warmup + n.timed - 1, 0, "acknowledgement");
  else
    check(rbuf, size, 0, size, n.warmup + n.timed - 1, 0, NULL);
  return size / 1e6 * n.timed * w / (t1 - t0);
}

static double bibw(const struct bench *b, int size, struct counts n) {
  (void)b;
  int w = cfg.window, peer = 1 - rank, stag = rank == 0 ? 100 : 10, rtag = rank == 0 ? 10 : 100;
  double t0 = 0, t1;
  fill(sbuf, size, rank, size);
  poison(rbuf, size);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank > 1) return 0;
  for (int i = 0; i < n.warmup + n.timed; i++) {
    if (i == n.warmup) t0 = MPI_Wtime();
    stamp_bytes(sbuf, size, rank, size, i);
    for (int j = 0; j < w; j++) MPI_Irecv(rbuf, size, MPI_CHAR, peer, rtag, MPI_COMM_WORLD, &rreqs[j]);
    for (int j = 0; j < w; j++) MPI_Isend(sbuf, size, MPI_CHAR, peer, stag, MPI_COMM_WORLD, &sreqs[j]);
    MPI_Waitall(w, sreqs, MPI_STATUSES_IGNORE);
    MPI_Waitall(w, rreqs, MPI_STATUSES_IGNORE);
  }
  t1 = MPI_Wtime();
  TEST_FLIP(rbuf, size);
  check(rbuf, size, peer, size, n.warmup + n.timed - 1, 0, NULL);
  return size / 1e6 * n.timed * w * 2 / (t1 - t0);
}

/* ---- collectives: osu_allreduce.c and friends ---- */

/* The collective under test, called between two clock readings. */
enum op { ALLREDUCE, REDUCE, BCAST, ALLGATHER, ALLTOALL };

static void prepare(enum op op, int size, int iter) {
  int p = nranks;
  switch (op) {
  case ALLREDUCE:
  case REDUCE:
    stamp_values((float *)sbuf, size / 4, size, iter);
    break;
  case BCAST:
    if (rank == 0) stamp_bytes(sbuf, size, 0, size, iter);
    break;
  case ALLGATHER:
    stamp_bytes(sbuf, size, rank, size, iter);
    break;
  case ALLTOALL:
    for (int d = 0; d < p; d++) stamp_bytes(sbuf + (size_t)d * size, size, rank * p + d, size, iter);
    break;
  }
}

static void call(enum op op, int size) {
  switch (op) {
  case ALLREDUCE:
    MPI_Allreduce(sbuf, rbuf, size / 4, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    break;
  case REDUCE:
    MPI_Reduce(sbuf, rbuf, size / 4, MPI_FLOAT, MPI_SUM, 0, MPI_COMM_WORLD);
    break;
  case BCAST:
    MPI_Bcast(sbuf, size, MPI_CHAR, 0, MPI_COMM_WORLD);
    break;
  case ALLGATHER:
    MPI_Allgather(sbuf, size, MPI_CHAR, rbuf, size, MPI_CHAR, MPI_COMM_WORLD);
    break;
  case ALLTOALL:
    MPI_Alltoall(sbuf, size, MPI_CHAR, rbuf, size, MPI_CHAR, MPI_COMM_WORLD);
    break;
  }
}

/* collective times op at size bytes and returns this rank's mean time per call in µs. */
static double collective(enum op op, int size, struct counts n) {
  int p = nranks, last = n.warmup + n.timed - 1;
  double timer = 0;
  switch (op) {
  case ALLREDUCE:
  case REDUCE:
    fill_values((float *)sbuf, size / 4, size);
    poison(rbuf, size);
    break;
  case BCAST:
    if (rank == 0) fill(sbuf, size, 0, size); else poison(sbuf, size);
    break;
  case ALLGATHER:
    fill(sbuf, size, rank, size);
    poison(rbuf, (size_t)p * size);
    break;
  case ALLTOALL:
    for (int d = 0; d < p; d++) fill(sbuf + (size_t)d * size, size, rank * p + d, size);
    poison(rbuf, (size_t)p * size);
    break;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i <= last; i++) {
    prepare(op, size, i);
    double t0 = MPI_Wtime();
    call(op, size);
    double t1 = MPI_Wtime();
    if (i >= n.warmup) timer += t1 - t0;
    MPI_Barrier(MPI_COMM_WORLD);
  }
  TEST_FLIP(op == BCAST ? sbuf : rbuf, op == ALLGATHER || op == ALLTOALL ? (size_t)p * size : (size_t)size);
  switch (op) {
  case ALLREDUCE:
    check_sums((float *)rbuf, size / 4, size, last);
    break;
  case REDUCE:
    if (rank == 0) check_sums((float *)rbuf, size / 4, size, last);
    break;
  case BCAST:
    if (rank != 0) check(sbuf, size, 0, size, last, 0, NULL);
    break;
  case ALLGATHER:
  case ALLTOALL:
    for (int s = 0; s < p; s++) {
      char from[48];
      int key = op == ALLGATHER ? s : s * p + rank;
      snprintf(from, sizeof from, op == ALLGATHER ? "block of rank %d" : "block from rank %d", s);
      check(rbuf + (size_t)s * size, size, key, size, last, (size_t)s * size, from);
    }
    break;
  }
  return timer * 1e6 / n.timed;
}

static double allreduce(const struct bench *b, int size, struct counts n) { (void)b; return collective(ALLREDUCE, size, n); }
static double reduce(const struct bench *b, int size, struct counts n) { (void)b; return collective(REDUCE, size, n); }
static double bcast(const struct bench *b, int size, struct counts n) { (void)b; return collective(BCAST, size, n); }
static double allgather(const struct bench *b, int size, struct counts n) { (void)b; return collective(ALLGATHER, size, n); }
static double alltoall(const struct bench *b, int size, struct counts n) { (void)b; return collective(ALLTOALL, size, n); }

/* barrier: like osu_barrier, nothing between the calls. */
static double barrier(const struct bench *b, int size, struct counts n) {
  (void)b, (void)size;
  double timer = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i < n.warmup + n.timed; i++) {
    double t0 = MPI_Wtime();
    MPI_Barrier(MPI_COMM_WORLD);
    double t1 = MPI_Wtime();
    if (i >= n.warmup) timer += t1 - t0;
  }
  return timer * 1e6 / n.timed;
}

/* The OSU iteration counts (osu-micro-benchmarks 7, c/util/osu_util.h), as in benchmarks.go. */
static const struct bench benches[] = {
    {"latency", "Latency Test", "Latency (us)", PT2PT, 1, {10000, 100}, {1000, 10}, latency},
    {"bw", "Bandwidth Test", "Bandwidth (MB/s)", PT2PT, 1, {100, 10}, {20, 2}, bw},
    {"bibw", "Bi-Directional Bandwidth Test", "Bandwidth (MB/s)", PT2PT, 1, {100, 10}, {20, 2}, bibw},
    {"allreduce", "Allreduce Latency Test", NULL, COLLECTIVE, 4, {1000, 100}, {100, 10}, allreduce},
    {"bcast", "Broadcast Latency Test", NULL, COLLECTIVE, 1, {1000, 100}, {100, 10}, bcast},
    {"reduce", "Reduce Latency Test", NULL, COLLECTIVE, 4, {1000, 100}, {100, 10}, reduce},
    {"allgather", "Allgather Latency Test", NULL, COLLECTIVE, 1, {1000, 100}, {100, 10}, allgather},
    {"alltoall", "All-to-All Personalized Exchange Latency Test", NULL, COLLECTIVE, 1, {1000, 100}, {100, 10}, alltoall},
    {"barrier", "Barrier Latency Test", NULL, BARRIER, 1, {1000, 100}, {1000, 100}, barrier},
};

static struct counts counts_for(int size) {
  const struct bench *b = cfg.bench;
  struct counts n = size / b->elem > LARGE_MESSAGE_SIZE ? b->large : b->small;
  if (cfg.iterations > 0) n.timed = cfg.iterations;
  if (cfg.warmup >= 0) n.warmup = cfg.warmup;
  return n;
}

/* ---- command line ---- */

static void usage_error(const char *fmt, ...) {
  if (rank == 0) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gompi-bench-c: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: mpirun -n N gompi-bench-c latency|bw|bibw|allreduce|bcast|reduce|allgather|alltoall|barrier"
                    " [--min N] [--max N] [--sizes LIST] [--iterations N] [--warmup N] [--window N] [--full]\n");
  }
  MPI_Finalize();
  exit(2);
}

/* parse_size reads a byte count with an optional K or M suffix (KiB, MiB). */
static int parse_size(const char *s) {
  char *end;
  long v = strtol(s, &end, 10), mult = 1;
  if (end == s) usage_error("size %s: want a number of bytes", s);
  if (*end == 'K' || *end == 'k') mult = 1 << 10, end++;
  else if (*end == 'M' || *end == 'm') mult = 1 << 20, end++;
  if (*end != '\0' || v < 0 || v > (1L << 30) / mult) usage_error("size %s: want a number of bytes from 0 to 1G, optionally with a K or M suffix", s);
  return (int)(v * mult);
}

static int parse_count(const char *s, int least) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < least || v > 1000000000) usage_error("%s: want a whole number in range", s);
  return (int)v;
}

static void parse_args(int argc, char **argv) {
  int lo = -1, hi = -1, have_sizes = 0;
  if (argc < 2) usage_error("no benchmark given");
  for (size_t k = 0; k < sizeof benches / sizeof benches[0]; k++)
    if (strcmp(argv[1], benches[k].name) == 0) cfg.bench = &benches[k];
  if (!cfg.bench) usage_error("unknown benchmark \"%s\"", argv[1]);
  for (int a = 2; a < argc; a++) {
    char *name = argv[a], *val = NULL, *eq;
    if (name[0] != '-') usage_error("unexpected argument \"%s\"", name);
    while (*name == '-') name++;
    if ((eq = strchr(name, '=')) != NULL) *eq = '\0', val = eq + 1;
    if (strcmp(name, "full") == 0 || strcmp(name, "f") == 0) {
      if (cfg.bench->kind == PT2PT) usage_error("%s takes no --full", cfg.bench->name);
      cfg.full = 1;
      continue;
    }
    if (!val) {
      if (a + 1 >= argc) usage_error("flag --%s needs a value", name);
      val = argv[++a];
    }
    if (strcmp(name, "iterations") == 0 || strcmp(name, "i") == 0) cfg.iterations = parse_count(val, 1);
    else if (strcmp(name, "warmup") == 0 || strcmp(name, "x") == 0) cfg.warmup = parse_count(val, 0);
    else if ((strcmp(name, "window") == 0 || strcmp(name, "W") == 0) && cfg.bench->kind == PT2PT && strcmp(cfg.bench->name, "latency") != 0) cfg.window = parse_count(val, 1);
    else if (cfg.bench->kind == BARRIER) usage_error("barrier takes no --%s", name);
    else if (strcmp(name, "min") == 0) lo = parse_size(val);
    else if (strcmp(name, "max") == 0) hi = parse_size(val);
    else if (strcmp(name, "sizes") == 0) {
      have_sizes = 1;
      for (char *tok = strtok(val, ","); tok; tok = strtok(NULL, ",")) {
        if (cfg.nsizes == MAX_SIZES) usage_error("%s: too many sizes", val);
        cfg.sizes[cfg.nsizes++] = parse_size(tok);
      }
    } else usage_error("unknown flag --%s", name);
  }
  if (cfg.bench->kind == BARRIER) {
    cfg.sizes[0] = 0, cfg.nsizes = 1;
    return;
  }
  if (have_sizes && (lo >= 0 || hi >= 0)) usage_error("--sizes replaces --min and --max: give one or the other");
  if (!have_sizes) {
    if (lo < 0) lo = cfg.bench->kind == COLLECTIVE ? cfg.bench->elem : 1;
    if (hi < 0) hi = DEFAULT_MAX;
    if (lo > hi) usage_error("--min %d is above --max %d", lo, hi);
    for (long s = lo; s <= hi; s = s ? s * 2 : 1) cfg.sizes[cfg.nsizes++] = (int)s;
  }
  if (cfg.nsizes == 0) usage_error("no sizes to run");
  for (int k = 0; k < cfg.nsizes; k++) {
    if (cfg.bench->kind == COLLECTIVE && cfg.sizes[k] == 0) usage_error("%s: size 0: collectives start at 1 byte", cfg.bench->name);
    if (cfg.sizes[k] % cfg.bench->elem != 0) usage_error("%s sums float32 elements: size %d is not a multiple of 4 bytes", cfg.bench->name, cfg.sizes[k]);
  }
}

static void *aligned(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, PAGE_SIZE, n ? n : 1) != 0) {
    fprintf(stderr, "gompi-bench-c: rank %d: cannot allocate %zu bytes\n", rank, n);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return p;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  parse_args(argc, argv);
  const struct bench *b = cfg.bench;
  if (b->kind == PT2PT && nranks < 2) {
    if (rank == 0) fprintf(stderr, "gompi-bench-c: %s needs at least 2 ranks (ranks 0 and 1 measure, the others idle), got %d\n", b->name, nranks);
    MPI_Finalize();
    return 1;
  }
  size_t max = 0;
  for (int k = 0; k < cfg.nsizes; k++) if ((size_t)cfg.sizes[k] > max) max = cfg.sizes[k];
  if (b->kind == PT2PT && max < 4) max = 4; /* bw's acknowledgement */
  size_t blocks = strcmp(b->name, "allgather") == 0 || strcmp(b->name, "alltoall") == 0 ? (size_t)nranks : 1;
  sbuf = aligned(strcmp(b->name, "alltoall") == 0 ? blocks * max : max);
  rbuf = aligned(blocks * max);
  sreqs = malloc(cfg.window * sizeof *sreqs);
  rreqs = malloc(cfg.window * sizeof *rreqs);

  if (rank == 0) {
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0'; /* "Open MPI v4.1.4" */
    if (b->kind != PT2PT) printf("\n");
    printf("# gompi-bench-c %s (%s)\n", b->title, lib);
    if (b->elem == 4) printf("# Datatype: float32 (MPI_FLOAT), Sum\n");
    if (b->kind != PT2PT) printf("# Algorithm: the MPI library's choice\n");
    if (b->kind == PT2PT) printf("%-*s%*s\n", 10, "# Size", 20, b->column);
    else {
      if (b->kind == COLLECTIVE) printf("%-*s%*s", 10, "# Size", 20, "Avg Latency(us)");
      else printf("# Avg Latency(us)");
      if (cfg.full) printf("%*s%*s%*s", 20, "Min Latency(us)", 20, "Max Latency(us)", 12, "Iterations");
      printf("\n");
    }
    fflush(stdout);
  }
  /* OSU's latency test starts at 0 bytes, which warms up the path for the next row; when the
     sizes start higher, the same round runs first, untimed and not printed (as in gompi-bench). */
  if (strcmp(b->name, "latency") == 0 && cfg.sizes[0] > 0) b->run(b, 0, counts_for(0));
  for (int k = 0; k < cfg.nsizes; k++) {
    int size = cfg.sizes[k];
    struct counts n = counts_for(size);
    double v = b->run(b, size, n);
    if (b->kind == PT2PT) {
      if (rank == 0) printf("%-*d%*.*f\n", 10, size, 20, 2, v);
    } else {
      double lo, hi, sum;
      MPI_Reduce(&v, &lo, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
      MPI_Reduce(&v, &hi, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
      MPI_Reduce(&v, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
      if (rank == 0) {
        if (b->kind == BARRIER) printf("%*.*f", 17, 2, sum / nranks);
        else printf("%-*d%*.*f", 10, size, 20, 2, sum / nranks);
        if (cfg.full) printf("%*.*f%*.*f%*d", 20, 2, lo, 20, 2, hi, 12, n.timed);
        printf("\n");
      }
    }
    if (rank == 0) fflush(stdout);
  }
  free(sbuf), free(rbuf), free(sreqs), free(rreqs);
  MPI_Finalize();
  return 0;
}
