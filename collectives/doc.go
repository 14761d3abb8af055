// Package collectives implements the collective operations of MPI (MPI 4.1, chapter 6) on top of
// package comm: Barrier, Bcast, Reduce, Allreduce, Gather(v), Scatter(v), Allgather(v),
// Alltoall(v), ReduceScatter, Scan and Exscan, generic over comm's fixed-size element types, plus
// value variants (BcastValue, ScatterValue, GatherValue, AllgatherValue) that move any Go value
// with encoding/gob, like mpi4py's lowercase methods.
//
// It sits above comm in the stack: every algorithm here is written with comm's point-to-point
// calls on the communicator's collective context (comm.Comm.Collective), so collective traffic
// never matches the program's own receives, whatever tags they use. When the backend has native
// collectives (OpenMPI, comm.Comm.Native), the data-movement collectives and the reductions
// with predefined operations are delegated to it; user-defined operations always run gompi's
// algorithms.
//
// # Algorithms
//
// Each collective has an entry-point file (allreduce.go, bcast.go, ...) that checks the arguments
// and picks an algorithm by message size and communicator size; each algorithm sits in a file of
// its own (allreduce_ring.go, bcast_binomial.go, ...) whose header gives its cost in the α–β–γ
// model. docs/collectives.md indexes them and records the measured switch points.
//
// # Calling convention
//
// Every rank of the communicator calls the same collectives in the same order, with consistent
// arguments (same root, same op, matching counts); counts are in elements. Buffers are named send
// and recv; the call returns when recv holds the result and send may be reused. A Comm is safe
// for concurrent use, but two collectives on one communicator must not run at the same time from
// two goroutines of one rank: give each its own communicator with Dup.
//
// Arguments a rank can check by itself (buffer lengths against the communicator size, the root,
// counts and displacements) are checked before any message moves; the error wraps
// comm.ErrSizeMismatch, comm.ErrInvalidRoot or comm.ErrInvalidArgument and names the operation,
// the rank and the sizes. Inconsistencies between ranks (a count that differs from rank to rank,
// ranks calling different collectives) are detected from the messages that arrive: a rank that
// finds one keeps following the algorithm's schedule, sending a short abort message instead of
// data, so that every rank returns an error instead of waiting forever. This holds as
// long as the ranks' arguments lead them to the same algorithm (a count that differs between
// ranks but stays on one side of the size thresholds); MPI leaves such programs undefined.
//
// # Reduction operations
//
// Reductions take an Op: one of the predefined generic operations (Sum, Prod, Min, Max, the
// logical and bitwise ones), passed without type arguments, as in
//
//	collectives.Allreduce(c, send, recv, collectives.Sum)
//
// or a user operation made with NewOp. Bitwise and logical operations are constrained to integer
// types and Min and Max to ordered ones, so a float BXor does not compile. Non-commutative
// operations combine in rank order: the result is send₀ ⊕ send₁ ⊕ … ⊕ sendₚ₋₁.
// MinLoc and MaxLoc work on vectors of Pair values. User operations may reduce any fixed-size
// element type without pointers (a [4]float64 holding a 2×2 matrix, a struct of numbers).
package collectives
