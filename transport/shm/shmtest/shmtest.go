// Package shmtest runs in-process jobs whose ranks talk through the shared-memory transport:
// one segment, rings, doorbells and sockets as between processes on one host, but without
// processes or a launcher. Tests of anything above the transport use it to run on shared
// memory as easily as on inproc.
package shmtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport/shm"
)

// Run runs f on n ranks connected by shared memory and returns the ranks' errors joined. A
// rank whose f fails drops its sockets without saying goodbye, as a crashed process would, so
// its peers see it fail.
func Run(n int, f func(c *comm.Comm) error) error {
	return RunConfig(n, shm.Config{}, f)
}

// RunConfig is Run with settings for every rank's transport (Rank, Size, Local, Store, Secret
// and JobID are filled in).
func RunConfig(n int, base shm.Config, f func(c *comm.Comm) error) error {
	ts, err := Transports(n, base)
	if err != nil {
		return err
	}
	worlds := make([]*engine.World, n)
	for i, t := range ts {
		worlds[i] = engine.NewWorld(t)
	}
	return engine.RunRanks(worlds,
		func(w *engine.World) error { return f(commlink.New[*comm.Comm](w)) },
		func(rank int, err error) { ts[rank].Abort() })
}

// Transports connects n shared-memory transports through a shared in-memory store.
func Transports(n int, base shm.Config) ([]*shm.Transport, error) {
	store := bootstrap.NewMemStore()
	secret := make([]byte, 32)
	rand.Read(secret)
	job := make([]byte, 16)
	rand.Read(job)
	local := make([]int, n)
	for i := range local {
		local[i] = i
	}
	ts := make([]*shm.Transport, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := base
			cfg.Rank, cfg.Size, cfg.Local, cfg.Store, cfg.Secret, cfg.JobID = i, n, local, store, secret, job
			ts[i], errs[i] = shm.New(context.Background(), cfg)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, t := range ts {
			if t != nil {
				t.Abort()
			}
		}
		return nil, fmt.Errorf("shmtest: %w", err)
	}
	return ts, nil
}
