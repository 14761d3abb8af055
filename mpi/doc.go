// Package mpi is gompi's binding to OpenMPI: a complete communication backend (package backend's
// World, Backend, Request and Native) in which OpenMPI itself matches messages, moves them and
// runs the collectives. It sits beside the Go engine at the bottom of the stack; programs never
// import it. A binary built with -tags mpi and started by OpenMPI's mpirun gets it from comm.Init
// (comm/init_mpi.go); without the tag this package is empty and gompi needs no C toolchain.
//
// It is written directly against mpi.h (Debian's libopenmpi-dev, found with pkg-config ompi);
// all cgo lives in cmpi.go, the rest is plain Go:
//
//   - MPI is initialized with MPI_Init_thread(MPI_THREAD_MULTIPLE), which is required (goroutines
//     call MPI from any OS thread at once), and finalized once, on the thread that initialized it.
//   - Every communicator has MPI_ERRORS_RETURN as its error handler; every return code is checked
//     and turned into an error wrapping the sentinels of package backend (MPI_ERR_TRUNCATE becomes
//     ErrTruncated, with the message's length and the buffer's). Ranks and tags are checked in
//     Go before MPI sees them.
//   - Blocking operations are nonblocking ones plus a parked wait, so a context can end them: on
//     cancellation a receive is withdrawn with MPI_Cancel unless it already matched. OpenMPI
//     cannot withdraw sends, so a send always completes before its call returns.
//   - One progress goroutine tests all pending requests (MPI_Testsome) with a backoff from a few
//     microseconds to a millisecond, and closes each request's Done channel at completion; no
//     goroutine ever sits in MPI_Wait. Buffers of pending operations are pinned (runtime.Pinner).
//   - A communicator freed with operations pending keeps its handle until they are done: OpenMPI
//     aborts the process when a request fails after its communicator was freed.
//   - Messages longer than 2^31-1 bytes travel as one element of a derived datatype.
//   - Native collectives are MPI's blocking collectives, so that they match those of C code in
//     the same job (MPI never matches a blocking collective with a nonblocking one).
//
// See docs/MPI.md for building and running, and which operations are native.
package mpi
