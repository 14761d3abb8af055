/* pingpong.c: the C twin of examples/pingpong, for OpenMPI. Measured the OSU way (osu_latency):
 * separate page-aligned send and receive buffers, 10,000 timed round trips after 100 untimed
 * ones up to 8 KiB and 1,000 after 10 above, one-way latency = half the mean round trip, timed
 * with MPI_Wtime on rank 0. Ranks beyond 1 idle; ranks 0 and 1 check what they received.
 * Prints "SIZE LATENCY_US" per size, like the Go program. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pattern is byte i of the n-byte message rank sends; main.go uses the same. */
static unsigned char pattern(int rank, int n, int i) { return (unsigned char)(i * 7 + n + 31 * rank + 1); }

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, p;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  if (p < 2) {
    fprintf(stderr, "pingpong needs 2 ranks, got %d\n", p);
    MPI_Finalize();
    return 1;
  }
  int sizes[] = {1, 1024, 65536, 1048576}, peer = 1 - rank;
  void *s = NULL, *r = NULL;
  if (posix_memalign(&s, 4096, 1048576) != 0 || posix_memalign(&r, 4096, 1048576) != 0) {
    fprintf(stderr, "rank %d: out of memory\n", rank);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  unsigned char *sbuf = s, *rbuf = r;
  for (int k = 0; k < 4; k++) {
    int n = sizes[k], iters = n > 8192 ? 1000 : 10000, skip = n > 8192 ? 10 : 100;
    double t0 = 0, t1;
    for (int i = 0; i < n; i++) sbuf[i] = pattern(rank, n, i);
    memset(rbuf, 0, n);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank > 1) continue; /* idle */
    for (int i = 0; i < iters + skip; i++) {
      if (i == skip) t0 = MPI_Wtime();
      if (rank == 0) {
        MPI_Send(sbuf, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
        MPI_Recv(rbuf, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(rbuf, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(sbuf, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
      }
    }
    t1 = MPI_Wtime();
    for (int i = 0; i < n; i++)
      if (rbuf[i] != pattern(peer, n, i)) {
        fprintf(stderr, "pingpong, %d bytes, rank %d: received byte %d = 0x%02x, want 0x%02x\n", n, rank, i, rbuf[i], pattern(peer, n, i));
        fflush(stderr);
        exit(1);
      }
    if (rank == 0) printf("%d %.2f\n", n, (t1 - t0) * 1e6 / (2.0 * iters));
  }
  free(s);
  free(r);
  MPI_Finalize();
  return 0;
}
