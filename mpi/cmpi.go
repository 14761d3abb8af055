//go:build mpi

package mpi

// This file is the only one that imports "C". It holds the C shims that turn OpenMPI's macros
// (MPI_COMM_WORLD, MPI_BYTE, MPI_SUM, ... are addresses of globals in OpenMPI) into functions, and
// thin Go wrappers that convert arguments and return MPI's int error codes unchanged. The rest of
// the package is plain Go and turns those codes into errors (errors.go).

/*
#cgo pkg-config: ompi
#include <stdlib.h>
#include <mpi.h>

static MPI_Comm gompi_comm_world(void) { return MPI_COMM_WORLD; }
static MPI_Comm gompi_comm_null(void) { return MPI_COMM_NULL; }
static MPI_Datatype gompi_byte(void) { return MPI_BYTE; }
static void *gompi_in_place(void) { return MPI_IN_PLACE; }

// Element types, in the order of backend.Type (Byte, Int8, ..., Complex128). Go's int, uint and
// uintptr are 64-bit on every platform gompi supports.
static MPI_Datatype gompi_type(int t) {
	switch (t) {
	case 0: return MPI_UINT8_T;
	case 1: return MPI_INT8_T;
	case 2: return MPI_INT16_T;
	case 3: return MPI_INT32_T;
	case 4: return MPI_INT64_T;
	case 5: return MPI_INT64_T;
	case 6: return MPI_UINT8_T;
	case 7: return MPI_UINT16_T;
	case 8: return MPI_UINT32_T;
	case 9: return MPI_UINT64_T;
	case 10: return MPI_UINT64_T;
	case 11: return MPI_UINT64_T;
	case 12: return MPI_FLOAT;
	case 13: return MPI_DOUBLE;
	case 14: return MPI_C_FLOAT_COMPLEX;
	case 15: return MPI_C_DOUBLE_COMPLEX;
	}
	return MPI_DATATYPE_NULL;
}

// Reduction operations, in the order of backend.Op (OpSum, ..., OpBXor).
static MPI_Op gompi_op(int op) {
	switch (op) {
	case 0: return MPI_SUM;
	case 1: return MPI_PROD;
	case 2: return MPI_MIN;
	case 3: return MPI_MAX;
	case 4: return MPI_LAND;
	case 5: return MPI_LOR;
	case 6: return MPI_LXOR;
	case 7: return MPI_BAND;
	case 8: return MPI_BOR;
	case 9: return MPI_BXOR;
	}
	return MPI_OP_NULL;
}

static int gompi_init(int *provided) {
	int flag = 0;
	int rc = MPI_Initialized(&flag);
	if (rc != MPI_SUCCESS) return rc;
	if (flag) return MPI_Query_thread(provided);
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, provided);
}

static int gompi_finalize(void) {
	int flag = 0;
	int rc = MPI_Finalized(&flag);
	if (rc != MPI_SUCCESS || flag) return rc;
	return MPI_Finalize();
}

static int gompi_prepare(MPI_Comm c) { return MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN); }

static int gompi_tag_ub(MPI_Comm c, int *ub) {
	int *v = NULL, flag = 0;
	int rc = MPI_Comm_get_attr(c, MPI_TAG_UB, &v, &flag);
	if (rc != MPI_SUCCESS) return rc;
	*ub = flag && v != NULL ? *v : 32767;
	return MPI_SUCCESS;
}

static int gompi_error_class(int code) {
	int cls = MPI_ERR_UNKNOWN;
	if (MPI_Error_class(code, &cls) != MPI_SUCCESS) return MPI_ERR_UNKNOWN;
	return cls;
}

static void gompi_error_string(int code, char *buf) {
	int n = 0;
	if (MPI_Error_string(code, buf, &n) != MPI_SUCCESS) n = 0;
	buf[n] = 0;
}

// gompi_status reads what Go needs from a status: the byte count as MPI_Count (no 2 GiB limit),
// and whether the operation was cancelled.
static int gompi_status(MPI_Status *st, long long *bytes, int *cancelled) {
	MPI_Count n = 0;
	int rc = MPI_Get_elements_x(st, MPI_BYTE, &n);
	if (rc != MPI_SUCCESS) return rc;
	*bytes = (long long)n;
	return MPI_Test_cancelled(st, cancelled);
}

// gompi_bytes_type describes n bytes (n > INT_MAX) as one element: q chunks of chunk bytes and a
// remainder, with extent exactly n so that it can also be a collective's block type.
static int gompi_bytes_type(long long n, long long chunk, MPI_Datatype *t) {
	MPI_Datatype ct;
	int rc = MPI_Type_contiguous((int)chunk, MPI_BYTE, &ct);
	if (rc != MPI_SUCCESS) return rc;
	long long q = n / chunk, r = n % chunk;
	int lens[2] = {(int)q, (int)r};
	MPI_Aint disps[2] = {0, (MPI_Aint)(q * chunk)};
	MPI_Datatype types[2] = {ct, MPI_BYTE};
	rc = MPI_Type_create_struct(r > 0 ? 2 : 1, lens, disps, types, t);
	MPI_Type_free(&ct);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Type_commit(t);
}
*/
import "C"

import (
	"unsafe"
)

// Handles are OpenMPI's opaque pointers; Go code passes them around without looking inside.
type (
	commHandle    = C.MPI_Comm
	requestHandle = C.MPI_Request
	messageHandle = C.MPI_Message
	typeHandle    = C.MPI_Datatype
	cStatus       = C.MPI_Status
	cInt          = C.int
)

// MPI constants that are plain integers in mpi.h.
const (
	mpiSuccess      = int(C.MPI_SUCCESS)
	mpiErrTruncate  = int(C.MPI_ERR_TRUNCATE)
	mpiErrInStatus  = int(C.MPI_ERR_IN_STATUS)
	mpiErrRank      = int(C.MPI_ERR_RANK)
	mpiErrTag       = int(C.MPI_ERR_TAG)
	mpiErrComm      = int(C.MPI_ERR_COMM)
	mpiErrCount     = int(C.MPI_ERR_COUNT)
	mpiErrType      = int(C.MPI_ERR_TYPE)
	mpiErrOp        = int(C.MPI_ERR_OP)
	mpiErrBuffer    = int(C.MPI_ERR_BUFFER)
	mpiErrArg       = int(C.MPI_ERR_ARG)
	mpiErrRoot      = int(C.MPI_ERR_ROOT)
	mpiAnySource    = int(C.MPI_ANY_SOURCE)
	mpiAnyTag       = int(C.MPI_ANY_TAG)
	mpiUndefined    = int(C.MPI_UNDEFINED)
	mpiThreadMulti  = int(C.MPI_THREAD_MULTIPLE)
	mpiMaxErrString = int(C.MPI_MAX_ERROR_STRING)
)

var (
	commNull = C.gompi_comm_null()
	typeByte = C.gompi_byte()
)

// ptr returns the address of b's first byte for C, or nil for an empty slice. The caller keeps
// b alive (and pinned, if C holds on to it beyond the call).
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

func cInit() (provided, rc int) {
	var p C.int
	rc = int(C.gompi_init(&p))
	return int(p), rc
}

func cFinalize() int { return int(C.gompi_finalize()) }

func cCommWorld() commHandle { return C.gompi_comm_world() }

func cPrepare(c commHandle) int { return int(C.gompi_prepare(c)) }

func cCommRankSize(c commHandle) (rank, size, rc int) {
	var r, s C.int
	if rc := int(C.MPI_Comm_rank(c, &r)); rc != mpiSuccess {
		return 0, 0, rc
	}
	rc = int(C.MPI_Comm_size(c, &s))
	return int(r), int(s), rc
}

func cTagUB(c commHandle) (int, int) {
	var ub C.int
	rc := int(C.gompi_tag_ub(c, &ub))
	return int(ub), rc
}

func cCommDup(c commHandle) (commHandle, int) {
	var n C.MPI_Comm
	rc := int(C.MPI_Comm_dup(c, &n))
	return n, rc
}

func cCommSplit(c commHandle, color, key int) (commHandle, int) {
	var n C.MPI_Comm
	rc := int(C.MPI_Comm_split(c, C.int(color), C.int(key), &n))
	return n, rc
}

func cCommFree(c commHandle) int { return int(C.MPI_Comm_free(&c)) }

func cErrorClass(code int) int { return int(C.gompi_error_class(C.int(code))) }

func cErrorString(code int) string {
	buf := (*C.char)(C.malloc(C.size_t(mpiMaxErrString + 1)))
	defer C.free(unsafe.Pointer(buf))
	C.gompi_error_string(C.int(code), buf)
	return C.GoString(buf)
}

// cBytesType returns a committed datatype that describes n bytes as one element; the caller
// frees it with cTypeFree (which MPI allows while operations using it are pending).
func cBytesType(n, chunk int) (typeHandle, int) {
	var t C.MPI_Datatype
	rc := int(C.gompi_bytes_type(C.longlong(n), C.longlong(chunk), &t))
	return t, rc
}

func cTypeFree(t typeHandle) int { return int(C.MPI_Type_free(&t)) }

func cIsend(buf unsafe.Pointer, count int, t typeHandle, dest, tag int, c commHandle) (requestHandle, int) {
	var r C.MPI_Request
	rc := int(C.MPI_Isend(buf, C.int(count), t, C.int(dest), C.int(tag), c, &r))
	return r, rc
}

func cIrecv(buf unsafe.Pointer, count int, t typeHandle, source, tag int, c commHandle) (requestHandle, int) {
	var r C.MPI_Request
	rc := int(C.MPI_Irecv(buf, C.int(count), t, C.int(source), C.int(tag), c, &r))
	return r, rc
}

func cIprobe(source, tag int, c commHandle) (found bool, st cStatus, rc int) {
	var flag C.int
	rc = int(C.MPI_Iprobe(C.int(source), C.int(tag), c, &flag, &st))
	return flag != 0, st, rc
}

func cImprobe(source, tag int, c commHandle) (found bool, m messageHandle, st cStatus, rc int) {
	var flag C.int
	rc = int(C.MPI_Improbe(C.int(source), C.int(tag), c, &flag, &m, &st))
	return flag != 0, m, st, rc
}

func cImrecv(buf unsafe.Pointer, count int, t typeHandle, m messageHandle) (requestHandle, int) {
	var r C.MPI_Request
	rc := int(C.MPI_Imrecv(buf, C.int(count), t, &m, &r))
	return r, rc
}

// cTest tests one request that no other goroutine can reach (not yet handed to the engine).
func cTest(r *requestHandle) (done bool, st cStatus, rc int) {
	var flag C.int
	rc = int(C.MPI_Test(r, &flag, &st))
	return flag != 0, st, rc
}

// cTestsome tests every handle in reqs; it fills idx with the positions that completed and sts
// with their statuses, and returns how many completed.
func cTestsome(reqs []requestHandle, idx []C.int, sts []cStatus) (int, int) {
	var out C.int
	rc := int(C.MPI_Testsome(C.int(len(reqs)), unsafe.SliceData(reqs), &out, unsafe.SliceData(idx), unsafe.SliceData(sts)))
	if out == C.MPI_UNDEFINED {
		out = 0
	}
	return int(out), rc
}

func cCancel(r *requestHandle) int { return int(C.MPI_Cancel(r)) }

func cRequestFree(r *requestHandle) int { return int(C.MPI_Request_free(r)) }

// statusInfo extracts source, tag, byte count and the cancelled flag from a status.
func statusInfo(st *cStatus) (source, tag, bytes int, cancelled bool, rc int) {
	var n C.longlong
	var canc C.int
	rc = int(C.gompi_status(st, &n, &canc))
	return int(st.MPI_SOURCE), int(st.MPI_TAG), int(n), canc != 0, rc
}

func statusError(st *cStatus) int { return int(st.MPI_ERROR) }

// Collectives: the blocking forms, which are the ones C code calls, since MPI never matches a
// nonblocking collective with a blocking one (MPI 4.1 §6.12). Counts are C ints; callers have
// checked that they fit.

func cType(t int) typeHandle { return C.gompi_type(C.int(t)) }

func cOp(op int) C.MPI_Op { return C.gompi_op(C.int(op)) }

func inPlace() unsafe.Pointer { return C.gompi_in_place() }

func cBarrier(c commHandle) int { return int(C.MPI_Barrier(c)) }

func cBcast(buf unsafe.Pointer, count int, t typeHandle, root int, c commHandle) int {
	return int(C.MPI_Bcast(buf, C.int(count), t, C.int(root), c))
}

func cReduce(send, recv unsafe.Pointer, count int, t typeHandle, op C.MPI_Op, root int, c commHandle) int {
	return int(C.MPI_Reduce(send, recv, C.int(count), t, op, C.int(root), c))
}

func cAllreduce(send, recv unsafe.Pointer, count int, t typeHandle, op C.MPI_Op, c commHandle) int {
	return int(C.MPI_Allreduce(send, recv, C.int(count), t, op, c))
}

func cScan(send, recv unsafe.Pointer, count int, t typeHandle, op C.MPI_Op, c commHandle) int {
	return int(C.MPI_Scan(send, recv, C.int(count), t, op, c))
}

func cExscan(send, recv unsafe.Pointer, count int, t typeHandle, op C.MPI_Op, c commHandle) int {
	return int(C.MPI_Exscan(send, recv, C.int(count), t, op, c))
}

func cReduceScatter(send, recv unsafe.Pointer, counts []cInt, t typeHandle, op C.MPI_Op, c commHandle) int {
	return int(C.MPI_Reduce_scatter(send, recv, unsafe.SliceData(counts), t, op, c))
}

func cGather(send unsafe.Pointer, scount int, stype typeHandle, recv unsafe.Pointer, rcount int, rtype typeHandle, root int, c commHandle) int {
	return int(C.MPI_Gather(send, C.int(scount), stype, recv, C.int(rcount), rtype, C.int(root), c))
}

func cGatherv(send unsafe.Pointer, scount int, recv unsafe.Pointer, counts, displs []cInt, root int, c commHandle) int {
	return int(C.MPI_Gatherv(send, C.int(scount), typeByte, recv, unsafe.SliceData(counts), unsafe.SliceData(displs), typeByte, C.int(root), c))
}

func cScatter(send unsafe.Pointer, scount int, stype typeHandle, recv unsafe.Pointer, rcount int, rtype typeHandle, root int, c commHandle) int {
	return int(C.MPI_Scatter(send, C.int(scount), stype, recv, C.int(rcount), rtype, C.int(root), c))
}

func cScatterv(send unsafe.Pointer, counts, displs []cInt, recv unsafe.Pointer, rcount int, root int, c commHandle) int {
	return int(C.MPI_Scatterv(send, unsafe.SliceData(counts), unsafe.SliceData(displs), typeByte, recv, C.int(rcount), typeByte, C.int(root), c))
}

func cAllgather(send unsafe.Pointer, scount int, stype typeHandle, recv unsafe.Pointer, rcount int, rtype typeHandle, c commHandle) int {
	return int(C.MPI_Allgather(send, C.int(scount), stype, recv, C.int(rcount), rtype, c))
}

func cAllgatherv(send unsafe.Pointer, scount int, recv unsafe.Pointer, counts, displs []cInt, c commHandle) int {
	return int(C.MPI_Allgatherv(send, C.int(scount), typeByte, recv, unsafe.SliceData(counts), unsafe.SliceData(displs), typeByte, c))
}

func cAlltoall(send unsafe.Pointer, scount int, stype typeHandle, recv unsafe.Pointer, rcount int, rtype typeHandle, c commHandle) int {
	return int(C.MPI_Alltoall(send, C.int(scount), stype, recv, C.int(rcount), rtype, c))
}

func cAlltoallv(send unsafe.Pointer, scounts, sdispls []cInt, recv unsafe.Pointer, rcounts, rdispls []cInt, c commHandle) int {
	return int(C.MPI_Alltoallv(send, unsafe.SliceData(scounts), unsafe.SliceData(sdispls), typeByte, recv, unsafe.SliceData(rcounts), unsafe.SliceData(rdispls), typeByte, c))
}

// cInts converts counts or displacements (already checked to fit) to C ints.
func cInts(v []int) []cInt {
	if v == nil {
		return nil
	}
	out := make([]cInt, len(v))
	for i, x := range v {
		out[i] = cInt(x)
	}
	return out
}
