package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gompi/gompi/internal/backend"
)

// RunRanks runs body for every world concurrently, as the ranks of one in-process job (the
// in-process transport, and TCP over loopback in tests), and returns their errors joined, each
// prefixed with its rank. A rank whose body fails or panics is aborted with abort (its peers
// see it fail), after telling them where its failure began when a peer's going caused it
// (World.TellOrigin); a rank that succeeds is finalized.
func RunRanks(worlds []*World, body func(w *World) error, abort func(rank int, err error)) error {
	errs := make([]error, len(worlds))
	var wg sync.WaitGroup
	for i, w := range worlds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runOne(w, body); err != nil {
				errs[i] = fmt.Errorf("rank %d: %w", i, err)
				if errors.Is(err, backend.ErrPeerFailed) {
					w.TellOrigin()
				}
				abort(i, err)
				return
			}
			if err := w.Finalize(); err != nil {
				errs[i] = fmt.Errorf("rank %d: finalize: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func runOne(w *World, body func(w *World) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return body(w)
}
