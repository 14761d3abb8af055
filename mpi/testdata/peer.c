/* peer.c: the C side of mpi's interoperability test (TestInteropWithC). It runs as rank 1 of an
 * MPMD job whose rank 0 is the Go program in gopeer/. Both check every value and exit non-zero
 * on a mismatch.
 *
 *   1. receives N float64s from rank 0 (tag 10), checks x[i] == 0.25*i,
 *   2. sends back y[i] = 2*x[i] + 1 (tag 11),
 *   3. MPI_Allreduce(MPI_SUM) of 5 doubles, rank r contributing (r+1)*(i+0.5),
 *   4. MPI_Allreduce(MPI_SUM) of 3 int64s, rank r contributing (r+1)*10^12 + i.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#define N 1000

static int fail(const char *what, int i) {
	fprintf(stderr, "peer.c: %s mismatch at %d\n", what, i);
	MPI_Abort(MPI_COMM_WORLD, 3);
	return 3;
}

int main(int argc, char **argv) {
	int rank, size;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2 || rank != 1) {
		fprintf(stderr, "peer.c: want rank 1 of 2, am %d of %d\n", rank, size);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}

	double x[N], y[N];
	MPI_Status st;
	MPI_Recv(x, N, MPI_DOUBLE, 0, 10, MPI_COMM_WORLD, &st);
	int count;
	MPI_Get_count(&st, MPI_DOUBLE, &count);
	if (count != N || st.MPI_SOURCE != 0 || st.MPI_TAG != 10) return fail("status", count);
	for (int i = 0; i < N; i++) {
		if (x[i] != 0.25 * i) return fail("float64 array from Go", i);
		y[i] = 2 * x[i] + 1;
	}
	MPI_Send(y, N, MPI_DOUBLE, 0, 11, MPI_COMM_WORLD);

	double a[5], s[5];
	for (int i = 0; i < 5; i++) a[i] = (rank + 1) * (i + 0.5);
	MPI_Allreduce(a, s, 5, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	for (int i = 0; i < 5; i++)
		if (s[i] != 3 * (i + 0.5)) return fail("float64 Allreduce", i);

	int64_t b[3], t[3];
	for (int i = 0; i < 3; i++) b[i] = (int64_t)(rank + 1) * 1000000000000LL + i;
	MPI_Allreduce(b, t, 3, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
	for (int i = 0; i < 3; i++)
		if (t[i] != 3000000000000LL + 2 * i) return fail("int64 Allreduce", i);

	printf("peer.c: ok\n");
	MPI_Finalize();
	return 0;
}
