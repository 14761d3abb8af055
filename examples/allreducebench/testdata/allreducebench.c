/* allreducebench.c: the C twin of examples/allreducebench, for OpenMPI. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, p;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  int sizes[] = {8, 1024, 65536, 1048576}, iters[] = {10000, 10000, 1000, 200};
  int max = 1048576 / 8;
  double *send = malloc(max * sizeof(double)), *recv = malloc(max * sizeof(double));
  for (int i = 0; i < max; i++) send[i] = rank + i;
  for (int k = 0; k < 4; k++) {
    int n = sizes[k] / 8, it = iters[k], warm = it / 10 > 0 ? it / 10 : 1;
    for (int i = 0; i < warm; i++) MPI_Allreduce(send, recv, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < it; i++) MPI_Allreduce(send, recv, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double t = MPI_Wtime() - t0;
    double want = p * (p - 1) / 2.0 + p * (double)(n - 1);
    if (recv[n - 1] != want) { fprintf(stderr, "rank %d: wrong sum %g, want %g\n", rank, recv[n - 1], want); MPI_Abort(MPI_COMM_WORLD, 1); }
    if (rank == 0) printf("%d %.2f\n", sizes[k], t / it * 1e6);
  }
  MPI_Finalize();
  return 0;
}
