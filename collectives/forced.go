package collectives

import (
	"os"
	"strings"
	"sync"

	"github.com/gompi/gompi/comm"
)

// Forcing an algorithm. A program (a benchmark, a lecture comparing algorithms, a test) may
// fix the algorithm of the collectives that choose one by size, through the environment:
//
//	GOMPI_COLL_ALLREDUCE      recursive-doubling, ring, rabenseifner
//	GOMPI_COLL_REDUCE         binomial, rabenseifner
//	GOMPI_COLL_BCAST          binomial, scatter-allgather, linear
//	GOMPI_COLL_ALLGATHER      bruck, ring
//	GOMPI_COLL_REDUCESCATTER  ring, reduce-scatterv
//	GOMPI_COLL_ALLTOALL       pairwise, bruck
//
// (`gompirun -x GOMPI_COLL_ALLREDUCE=ring ./prog`: gompirun passes its ranks none of the
// GOMPI_ variables of its own environment, only -x ones). "auto" or an empty value leaves the
// choice to gompi. A forced algorithm also replaces a native backend's collective (OpenMPI's).
// An algorithm that needs a commutative operation (ring, rabenseifner) is not forced on a call
// with a non-commutative one, which keeps its order-preserving algorithm. Every rank must see
// the same setting, as every rank must call the same collectives. An unknown name fails every
// call of that collective at once with an error wrapping comm.ErrInvalidArgument that names
// the variable.

// forcedChoices lists, per collective, the algorithms its variable may name.
var forcedChoices = map[kind][]algorithm{
	kindAllreduce:     {algRecursiveDoubling, algRing, algRabenseifner},
	kindReduce:        {algBinomial, algRabenseifner},
	kindBcast:         {algBinomial, algScatterAllgather, algLinear},
	kindAllgather:     {algBruck, algRing},
	kindReduceScatter: {algRing, algReduceScatterv},
	kindAlltoall:      {algPairwise, algBruck},
}

// forcedSetting is one collective's variable, read once.
type forcedSetting struct {
	alg algorithm // algAuto when unset
	err error     // an unknown name
}

// forcedSettings returns every collective's setting (a variable, so that tests may replace it).
var forcedSettings = sync.OnceValue(func() map[kind]forcedSetting {
	return readForced(os.Getenv)
})

// readForced reads every collective's variable through getenv.
func readForced(getenv func(string) string) map[kind]forcedSetting {
	m := map[kind]forcedSetting{}
	for k, choices := range forcedChoices {
		v := forcedVar(k)
		val := strings.TrimSpace(strings.ToLower(getenv(v)))
		if val == "" || val == "auto" {
			continue
		}
		var names []string
		found := false
		for _, a := range choices {
			names = append(names, a.String())
			if a.String() == val {
				m[k] = forcedSetting{alg: a}
				found = true
			}
		}
		if !found {
			m[k] = forcedSetting{err: errorf(k.String(), comm.ErrInvalidArgument, "%s=%q names no %v algorithm (want auto, %s)", v, getenv(v), k, strings.Join(names, ", "))}
		}
	}
	return m
}

// forcedVar is the name of collective k's variable, e.g. GOMPI_COLL_ALLREDUCE.
func forcedVar(k kind) string { return "GOMPI_COLL_" + strings.ToUpper(k.String()) }

// forced returns the algorithm forced for collective k on a call whose operation is (or, for
// collectives without one, counts as) commutative: algAuto when none is, or when the forced
// one would need a commutative operation and the call's is not.
func forced(k kind, commutative bool) (algorithm, error) {
	s, ok := forcedSettings()[k]
	if !ok {
		return algAuto, nil
	}
	if s.err != nil {
		return algAuto, s.err
	}
	if !commutative && (s.alg == algRing || s.alg == algRabenseifner) {
		return algAuto, nil
	}
	return s.alg, nil
}
