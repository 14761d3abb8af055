package bootstrap

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// MemStore is an in-memory Store: the store the bootstrap Server serves, and a stand-in for it
// in tests of code that only needs a Store. Safe for concurrent use by any number of goroutines.
type MemStore struct {
	mu      sync.Mutex               // guards values, waiters and gone
	values  map[string][]byte        // keys set so far; values are private copies
	waiters map[string]chan struct{} // closed when the key is set (or its rank is gone)
	gone    map[int]string           // ranks that ended (MarkGone): how
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{values: make(map[string][]byte), waiters: make(map[string]chan struct{}), gone: make(map[int]string)}
}

// KeyRank returns the rank a key belongs to: the number after its last '/' ("gompi/addr/3" is
// rank 3's), the way every key gompi's ranks set is named; ok is false for other keys.
func KeyRank(key string) (rank int, ok bool) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return -1, false
	}
	r, err := strconv.Atoi(key[i+1:])
	if err != nil || r < 0 || strconv.Itoa(r) != key[i+1:] {
		return -1, false
	}
	return r, true
}

// MarkGone records that rank ended, how (e.g. "exited with status 3"): from now on, Get of a
// key of that rank (KeyRank) that is not set fails at once with ErrRankGone, naming the rank
// and how it ended, and so do the Gets already waiting for one, rather than wait for a value
// that will never come. Keys the rank set before it ended are still there for everyone.
// gompirun calls it (through Server.MarkGone) for every rank that ends.
func (s *MemStore) MarkGone(rank int, how string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.gone[rank]; ok {
		return
	}
	s.gone[rank] = how
	for key, w := range s.waiters {
		if r, ok := KeyRank(key); ok && r == rank {
			close(w)
			delete(s.waiters, key)
		}
	}
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
// returns ctx's error, wrapped). A key whose rank is gone (MarkGone) and that is not set fails
// with ErrRankGone.
func (s *MemStore) Get(ctx context.Context, key string) ([]byte, error) {
	for {
		s.mu.Lock()
		if v, ok := s.values[key]; ok {
			s.mu.Unlock()
			return append([]byte{}, v...), nil
		}
		if r, ok := KeyRank(key); ok {
			if how, gone := s.gone[r]; gone {
				s.mu.Unlock()
				return nil, errorf(ErrRankGone, "rank %d %s before it set %q", r, how, key)
			}
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
	return getEach(ctx, s, keys)
}

// errorf wraps sentinel with a formatted detail: "bootstrap: closed: detail" style messages
// keep the sentinel's text first so errors.Is and a reader agree.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
