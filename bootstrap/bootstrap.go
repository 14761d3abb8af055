// Package bootstrap is how the ranks of a job find each other at startup: a small key/value
// store (PMI-style) that gompirun serves and every rank's TCP transport uses to publish its
// listening address and read everybody else's, plus the environment contract between the
// launcher and the ranks it starts.
//
// Both transport/tcp and launcher import this package; neither imports the other.
package bootstrap

import "context"

// Environment variables every rank started by gompirun receives (DESIGN.md §5).
const (
	EnvRank      = "GOMPI_RANK"       // rank in the world, 0..size-1
	EnvSize      = "GOMPI_SIZE"       // number of ranks in the world
	EnvLocalRank = "GOMPI_LOCAL_RANK" // rank among the ranks on the same host
	EnvLocalSize = "GOMPI_LOCAL_SIZE" // number of ranks on the same host
	EnvJobID     = "GOMPI_JOB_ID"     // unique id of the job (hex)
	EnvAddr      = "GOMPI_BOOTSTRAP"  // host:port of the launcher's rendezvous service
	EnvSecret    = "GOMPI_SECRET"     // the job secret, hex; proves membership in handshakes
	EnvHost      = "GOMPI_HOST"       // address this rank listens on (default 127.0.0.1)
	EnvTransport = "GOMPI_TRANSPORT"  // "auto" (default: shared memory on the host, TCP across hosts), "shm" or "tcp"
	EnvBind      = "GOMPI_BIND"       // "core" (default): bind a rank to its share of the host's CPUs when the ranks fit; "none"
)

// Store is a key/value store shared by the ranks of one job during startup.
// Implementations are safe for concurrent use.
type Store interface {
	// Set stores value under key. Setting a key twice is an error.
	Set(ctx context.Context, key string, value []byte) error
	// Get returns the value of key, waiting until some rank sets it or ctx is done.
	Get(ctx context.Context, key string) ([]byte, error)
}

// Gatherer is a Store that can fetch many keys in one request: a job's start-up asks for the
// same key of every rank, and one round trip to the launcher per rank (rather than one per
// pair of ranks) keeps start-up linear in the job's size. Client and MemStore implement it.
type Gatherer interface {
	// GetMany returns the values of keys, in order, waiting until every one is set or ctx
	// is done.
	GetMany(ctx context.Context, keys []string) ([][]byte, error)
}

// GetMany returns the values of keys from s, in order, waiting until every one is set or ctx
// is done: in one request when s is a Gatherer, else by one Get per key.
func GetMany(ctx context.Context, s Store, keys []string) ([][]byte, error) {
	if g, ok := s.(Gatherer); ok {
		return g.GetMany(ctx, keys)
	}
	return getEach(ctx, s, keys)
}

// getEach is GetMany by one Get per key.
func getEach(ctx context.Context, s Store, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, err := s.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
