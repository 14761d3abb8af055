// Package tcptest runs in-process jobs whose ranks talk over real TCP connections on loopback,
// with an in-memory bootstrap store: the TCP transport's path, without processes or a launcher.
// Tests of anything above the transport use it to run on TCP as easily as on inproc.
package tcptest

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
	"github.com/gompi/gompi/transport/tcp"
)

// Run runs f on n ranks connected by TCP over loopback and returns the ranks' errors joined.
// A rank whose f fails drops its connections without saying goodbye, as a crashed process
// would, so its peers see it fail.
func Run(n int, f func(c *comm.Comm) error) error {
	return RunConfig(n, tcp.Config{}, f)
}

// RunConfig is Run with settings for every rank's transport (Rank, Size, Store, Secret and JobID
// are filled in).
func RunConfig(n int, base tcp.Config, f func(c *comm.Comm) error) error {
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

// Transports connects n TCP transports over loopback through a shared in-memory store.
func Transports(n int, base tcp.Config) ([]*tcp.Transport, error) {
	store := bootstrap.NewMemStore()
	secret := make([]byte, 32)
	rand.Read(secret)
	job := make([]byte, 16)
	rand.Read(job)
	ts := make([]*tcp.Transport, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := base
			cfg.Rank, cfg.Size, cfg.Store, cfg.Secret, cfg.JobID = i, n, store, secret, job
			ts[i], errs[i] = tcp.New(context.Background(), cfg)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, t := range ts {
			if t != nil {
				t.Abort()
			}
		}
		return nil, fmt.Errorf("tcptest: %w", err)
	}
	return ts, nil
}
