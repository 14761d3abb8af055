package bootstrap

import (
	"context"
	"fmt"
	"sync"
)

// MemStore is an in-memory Store: the store the bootstrap Server serves, and a stand-in for it
// in tests of code that only needs a Store. Safe for concurrent use by any number of goroutines.
type MemStore struct {
	mu      sync.Mutex               // guards values and waiters
	values  map[string][]byte        // keys set so far; values are private copies
	waiters map[string]chan struct{} // closed when the key is set
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{values: make(map[string][]byte), waiters: make(map[string]chan struct{})}
}

// Set stores a copy of value under key. Setting a key twice fails with ErrKeyExists; a key or
// value over MaxKeyLen/MaxValueLen fails with ErrTooLarge. The caller keeps value.
func (s *MemStore) Set(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSizes(key, value); err != nil {
		return err
	}
	v := append([]byte{}, value...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[key]; ok {
		return errorf(ErrKeyExists, "Set %q", key)
	}
	s.values[key] = v
	if w, ok := s.waiters[key]; ok {
		close(w)
		delete(s.waiters, key)
	}
	return nil
}

// Get returns a copy of the value of key, waiting until it is set or ctx is done (then it
// returns ctx's error, wrapped).
func (s *MemStore) Get(ctx context.Context, key string) ([]byte, error) {
	for {
		s.mu.Lock()
		if v, ok := s.values[key]; ok {
			s.mu.Unlock()
			return append([]byte{}, v...), nil
		}
		w, ok := s.waiters[key]
		if !ok {
			w = make(chan struct{})
			s.waiters[key] = w
		}
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, fmt.Errorf("bootstrap: Get %q: %w", key, ctx.Err())
		}
	}
}

// GetMany returns copies of the values of keys, in order, waiting until every one is set or
// ctx is done. It implements Gatherer.
func (s *MemStore) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
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

// errorf wraps sentinel with a formatted detail: "bootstrap: closed: detail" style messages
// keep the sentinel's text first so errors.Is and a reader agree.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
