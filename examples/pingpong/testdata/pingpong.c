#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank; MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int sizes[] = {1, 1024, 65536, 1048576};
  char *buf = malloc(1048576);
  for (int s = 0; s < 4; s++) {
    int n = sizes[s], iters = n >= 65536 ? 2000 : 20000;
    for (int i = 0; i < 100; i++) {
      if (rank == 0) { MPI_Send(buf, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD); MPI_Recv(buf, n, MPI_BYTE, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE); }
      else { MPI_Recv(buf, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE); MPI_Send(buf, n, MPI_BYTE, 0, 2, MPI_COMM_WORLD); }
    }
    double t0 = MPI_Wtime();
    for (int i = 0; i < iters; i++) {
      if (rank == 0) { MPI_Send(buf, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD); MPI_Recv(buf, n, MPI_BYTE, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE); }
      else { MPI_Recv(buf, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE); MPI_Send(buf, n, MPI_BYTE, 0, 2, MPI_COMM_WORLD); }
    }
    double t = MPI_Wtime() - t0;
    if (rank == 0) printf("%d %.2f\n", n, t / iters / 2 * 1e6);
  }
  MPI_Finalize();
  return 0;
}
