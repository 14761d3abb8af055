package collectives

import (
	"strings"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
)

// Algorithm returns the name of the algorithm that the collective named collective ("Allreduce",
// "Bcast", ...; case does not matter) would run on c for a call in which each rank passes count
// elements of type T and, for the reductions, a predefined operation such as Sum. It answers
// "native" when c's backend performs the collective itself (commlink.Native(c) != nil: OpenMPI under
// -tags mpi), "node-aware" for Allreduce, Reduce, Bcast, Barrier and Allgather on a job over several
// hosts (hier.go), and otherwise one of "dissemination", "binomial", "scatter-allgather",
// "recursive-doubling", "ring", "rabenseifner", "bruck", "pairwise", "linear" and
// "reduce-scatterv", the names docs/collectives.md uses. Benchmarks print it beside their
// timings so a reader can tell which algorithm a line measured.
//
// count is what each rank passes: len(send) for Allreduce, Reduce, Allgather, Gather, Alltoall,
// ReduceScatter, Scan and Exscan, len(buf) for Bcast, len(recv) for Scatter. Only Allreduce,
// Reduce, Bcast, Allgather and Alltoall choose by size (and communicator size); the others always run the
// same algorithm. The answer comes from the same choice functions the collectives call, so it
// cannot disagree with what runs. A native backend may still hand a call back to gompi's
// algorithm for a combination it cannot do (a count beyond C's int, for OpenMPI); Algorithm
// does not predict that.
//
// It moves no message and may be called by any rank at any time. An unknown collective is an
// error wrapping comm.ErrInvalidArgument that names it.
func Algorithm[T comm.Elem](c *comm.Comm, collective string, count int) (string, error) {
	const name = "Algorithm"
	if c == nil {
		return "", errorf(name, comm.ErrInvalidArgument, "nil communicator")
	}
	k := kindByName(collective)
	if k == 0 {
		return "", errorf(name, comm.ErrInvalidArgument, "unknown collective %q (want one of %s)", collective, strings.Join(kindNames[1:], ", "))
	}
	if count < 0 {
		return "", errorf(name, comm.ErrInvalidArgument, "%s with a negative count %d", kindNames[k], count)
	}
	if _, ok := forcedChoices[k]; ok {
		f, err := forced(k, true)
		if err != nil {
			return "", err
		}
		if f != algAuto {
			return f.String(), nil
		}
	}
	if commlink.Native(c) != nil {
		// The reductions go native only for element types the backend has a type for; the
		// data-movement collectives always do.
		if _, ok := nativeType[T](); ok || !isReduction(k) {
			return "native", nil
		}
	}
	switch k {
	case kindAllreduce, kindReduce, kindBcast, kindBarrier, kindAllgather:
		if nodeAware(commlink.Shadow(c)) != nil {
			return algNodeAware.String(), nil
		}
	}
	p, bytes := c.Size(), count*sizeOf[T]()
	var alg algorithm
	switch k {
	case kindAllreduce:
		alg = chooseAllreduce(p, count, bytes, true, oneHost(commlink.Shadow(c)))
	case kindReduce:
		alg = chooseReduce(p, count, bytes, true)
	case kindBcast:
		alg = chooseBcast(p, bytes)
	case kindAllgather:
		alg = chooseAllgather(p, p*bytes, oneHost(commlink.Shadow(c)))
	case kindReduceScatter:
		alg = chooseReduceScatter(true)
	// The collectives below have one algorithm each, called directly from their entry file.
	case kindBarrier:
		alg = algDissemination
	case kindGather, kindScatter:
		alg = algBinomial
	case kindGatherv, kindScatterv:
		alg = algLinear
	case kindAllgatherv:
		alg = algRing
	case kindAlltoall:
		alg = chooseAlltoall(p, bytes/max(p, 1))
	case kindAlltoallv:
		alg = algPairwise
	case kindScan, kindExscan:
		alg = algRecursiveDoubling
	}
	return alg.String(), nil
}

// kindByName returns the kind whose name is s, ignoring case, or 0 if there is none.
func kindByName(s string) kind {
	for k, n := range kindNames {
		if n != "" && strings.EqualFold(n, s) {
			return kind(k)
		}
	}
	return 0
}

// isReduction reports whether collectives of kind k take an operation, and so go native only
// for element types the backend knows.
func isReduction(k kind) bool {
	switch k {
	case kindReduce, kindAllreduce, kindReduceScatter, kindScan, kindExscan:
		return true
	}
	return false
}
