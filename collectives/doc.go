// Package collectives implements the collective operations of MPI (MPI 4.1, chapter 6) on top of
// package comm: Barrier, Bcast, Reduce, Allreduce, Gather(v), Scatter(v), Allgather(v),
// Alltoall(v), ReduceScatter, Scan and Exscan, generic over comm's fixed-size element types
// (the reductions, with user operations, over any fixed-size type without pointers), plus value
// variants (BcastValue, ScatterValue, GatherValue, AllgatherValue) that move any Go value with
// encoding/gob and value reductions (AllreduceValue, ReduceValue, ScanValue) that fold any Go
// value with a function of the caller's, like mpi4py's lowercase methods. Every collective has
// a Context variant.
//
// It sits above comm in the stack: every algorithm here is written with comm's point-to-point
// calls on the communicator's collective context (a shadow communicator with its own matching
// context), so collective traffic never matches the program's own receives, whatever tags they
// use. When the backend has native collectives (OpenMPI), the data-movement collectives and the
// reductions with predefined operations are delegated to it; user-defined operations and the
// value collectives always run gompi's algorithms.
//
// The v-collectives describe a buffer cut into one block per rank with Blocks, which carries the
// buffer's counts and displacements: Gatherv(c, send, recv Blocks, root), Scatterv(c, send
// Blocks, recv, root), Allgatherv(c, send, recv Blocks), Alltoallv(c, send, recv Blocks),
// ReduceScatter(c, send Blocks, recv, op): always the send side, then the receive side.
//
// # Algorithms
//
// Each collective has an entry-point file (allreduce.go, bcast.go, ...) that checks the arguments
// and picks an algorithm by message size and communicator size; each algorithm sits in a file of
// its own (allreduce_ring.go, bcast_binomial.go, ...) whose header gives its cost in the α–β–γ
// model. docs/collectives.md indexes them and records the measured switch points. The
// environment can force one (GOMPI_COLL_ALLREDUCE=ring, GOMPI_COLL_BCAST=binomial, ...: see
// forced.go and docs/collectives.md), for benchmarks and for teaching.
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
// Some inconsistencies move data without any rank noticing: ranks passing different roots to
// Bcast, different element types of one byte count, or different operations.
//
// The collective checker finds those too. With GOMPI_DEBUG=check in the environment (a
// comma-separated list of debugging options; gompirun --check-collectives sets it for every
// rank), each collective call starts with the ranks exchanging a fingerprint of their
// arguments: the collective, the call's sequence number on the communicator (#1 for the first),
// the root, the element type and its size, the count every rank must pass alike (Bcast's
// len(buf), Allreduce's len(send), Scatter's len(recv), ...), the op (its name and whether it
// commutes), and for the v-collectives the counts: the root's against each rank's own length
// (Gatherv, Scatterv), every rank's recv.Counts alike and against each rank's len(send)
// (Allgatherv), every rank's send.Counts alike (ReduceScatter), rank i's send.Counts[j]
// against rank j's recv.Counts[i] (Alltoallv). Every rank compares them with the same code, so
// at the first field that differs every rank returns the same one-line error, before any data
// moves:
//
//	collectives: Bcast #3 on world: rank 1 passes root 1, ranks 0, 2 pass root 0
//
// It wraps ErrMismatch and the comm sentinel of the field (comm.ErrInvalidRoot,
// comm.ErrSizeMismatch, or comm.ErrInvalidArgument), and the communicator stays usable. Not
// compared: which communicator the ranks call on (the exchange runs on the call's own, so ranks
// calling on different communicators still wait for each other), user op functions (every NewOp
// is "user op"), displacements and the lengths a rank checks alone, and the types of the value
// collectives (gob decodes into compatible types); a named number type counts as its
// underlying type, as MPI's type signatures do. Each checked call costs one allgather of
// 128-byte records on the collective context before the collective (docs/collectives.md has
// the measured cost); off, one branch. It runs over OpenMPI too, as OpenMPI's Allgather made
// like a native call, in one unit with the native call when there is one (so that, as for the
// call, a context bounds only the wait and the communicator stays usable when it ends); every
// rank must be a gompi rank with the checker on.
//
// # Contexts
//
// Every collective has a Context variant taking a context.Context first, with the same
// arguments after it (AllreduceContext(ctx, c, send, recv, op), BarrierContext(ctx, c),
// BcastValueContext(ctx, c, v, root), ...); the plain form passes context.Background(). When
// ctx ends before the collective has finished on a rank, that rank returns promptly an error
// wrapping ctx.Err() (errors.Is(err, context.DeadlineExceeded) holds after a deadline). It still
// tells the peers it would have sent to, with empty abort messages, so that those waiting for it
// fail too (with comm.ErrCanceled: a peer's context ended) instead of hanging. A context already
// ended when the call starts fails it on every communicator size, without moving data. A rank
// whose own context has ended by the time its collective fails reports that context's error,
// even if a peer's abort came first; ranks that share one deadline all get
// context.DeadlineExceeded.
//
// Under OpenMPI, native collectives cannot be interrupted, and every rank must make them in the
// same order: there ctx bounds the wait, not the call. With a ctx that can end, the native call
// runs in a goroutine on private copies of the buffers, after any native call this rank left
// earlier on the communicator; when ctx ends first the caller gets ctx's error at once, and the
// call goes on in the background, takes part in the collective with the other ranks (they are
// not failed: they finish when every rank has arrived), and its result is dropped. The
// communicator stays usable: later collectives on it wait for the background call first. With
// context.Background() nothing of this costs anything. Collectives that run gompi's algorithms
// over OpenMPI (user operations, the value collectives) behave as on gompi's own transports.
//
// # After a failed collective
//
// A collective that fails on a rank (its context ended, a peer failed or gave up, an argument
// was wrong) may leave messages of its schedule in flight, which a later collective on the
// same communicator would take for its own. So the communicator's collectives are then broken
// on that rank: every later collective on it fails at once there with an error wrapping
// ErrCollectiveAborted and the first failure. The failing rank also sends every other rank one
// abort message, so that a rank that got through the failed collective (its part was done
// before the failure reached it) fails the next collective in which it waits for a failed rank,
// instead of waiting for a rank that no longer takes part. Errors that every rank detects
// before any message moves (a nil communicator or context, an invalid root, a nil Op, an
// element type with pointers) break nothing. Point-to-point messages on the communicator are not
// affected. To go on with collectives, every rank frees the communicator and makes a new one
// with Dup or Split, of it or of another communicator (those make their own messages, which
// the broken collectives cannot take). Native collectives (OpenMPI) do not use the messages in
// question and are not broken.
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
// MinLoc and MaxLoc work on vectors of Pair values.
//
// Keeping k numbers together. The algorithms cut vectors between elements, never inside one,
// so a user operation over an element type of k numbers combines whole blocks of k: a vector of
// 2×2 matrices is a []Mat with type Mat [4]float64 (or a struct of four float64s), reduced with
// an Op made by NewOp over Mat. User operations may reduce any fixed-size element type without
// pointers; the predefined ones take comm's element types.
//
// For anything else (matrices of varying size, maps, structs holding slices) AllreduceValue,
// ReduceValue and ScanValue fold Go values with a func(a, b T) T, in rank order, so that f
// need not be commutative:
//
//	prod, err := collectives.AllreduceValue(c, mine, func(a, b Matrix) Matrix { return a.Mul(b) })
package collectives
