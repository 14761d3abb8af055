// Package comm is gompi's communicator: ranks, point-to-point messages, nonblocking requests,
// probes, and communicator creation (Split, Dup). It is the layer programs use, with package
// collectives on top of it for Bcast, Allreduce and the rest.
//
// A program gets the world communicator from Init (or runs its body through Main). Started by
// gompirun, the ranks talk over TCP; built with -tags mpi and started by OpenMPI's mpirun, they
// use OpenMPI; started plainly, the program is a world of size 1. Tests and teaching snippets
// run N ranks as goroutines with transport/inproc.
//
// Typed buffers go through generic functions (Go methods cannot be generic):
//
//	comm.Send(c, []float64{1, 2, 3}, 1, 7)           // to rank 1, tag 7
//	st, err := comm.Recv(c, buf, comm.AnySource, 7)  // st.Source, st.Tag, st.Bytes
//
// Their memory moves as bytes, without per-element encoding and without allocating in the steady
// state. Any other Go value travels encoded with encoding/gob through SendValue and RecvValue,
// like mpi4py's lowercase send and recv.
//
// Semantics follow MPI 4.1, chapter 3 (point-to-point): messages between a pair of ranks on one
// communicator are received in the order they were sent (non-overtaking); AnySource and AnyTag
// match any sender or tag; a message longer than the receive buffer is an error (ErrTruncated),
// never silently cut; sending to oneself works. Every error wraps one of the sentinels in
// errors.go, so errors.Is tells them apart, and its text names the operation, ranks, tag and sizes.
//
// A Comm is safe for concurrent use: many goroutines of one rank may send and receive at once.
package comm
