// Package join makes the transport of a rank started by gompirun: it reads the launcher's
// environment (bootstrap.Env), fits the process to its share of the host (package placement),
// learns through the bootstrap store which ranks share its host, and connects shared memory
// to those (transport/shm) and TCP to the others (transport/tcp), under one transport for the
// engine. comm.Init calls it; nothing else should.
package join

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/placement"
	"github.com/gompi/gompi/transport"
	"github.com/gompi/gompi/transport/tcp"
)

// Timeout bounds the whole start-up of a rank: bootstrap, and every connection to its peers.
const Timeout = 60 * time.Second

// Start joins the job described by env and returns the rank's transport. It applies the
// rank's placement first, before any transport starts a goroutine, and reports the placement
// and the transports on standard error when env.Verbose.
func Start(env *bootstrap.Env) (transport.Transport, error) {
	plan := placement.Decide(placement.HostFacts(env))
	plan.Apply()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cfg := tcp.Config{Rank: env.Rank, Size: env.Size, JobID: []byte(env.JobID), Secret: env.Secret, Host: env.Host}
	if env.Size > 1 {
		client, err := bootstrap.Dial(ctx, env.Addr, env.Secret)
		if err != nil {
			return nil, fmt.Errorf("bootstrap service at %s: %w", env.Addr, err)
		}
		defer client.Close()
		cfg.Store = client
	}
	cfg.SpinWait = plan.TCPSpin(env.Size - 1)
	t, err := tcp.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if env.Verbose {
		fmt.Fprintf(os.Stderr, "gompi: rank %d: placement: %v; tcp to %d ranks (reader spin %v)\n", env.Rank, plan, env.Size-1, cfg.SpinWait)
	}
	return t, nil
}
