package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Every client asks for every rank's key in one GetMany before all have set theirs: each
// answer waits for the last Set and lists the values in the order asked.
func TestGetManyWaitsForAll(t *testing.T) {
	s := newTestServer(t)
	const n = 16
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("card/%d", n-1-i) // not the order they are set in
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		c := dialTest(t, s.Addr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make(chan [][]byte, 1)
			go func() {
				v, err := c.GetMany(ctx, keys)
				if err != nil {
					errs <- err
				}
				got <- v
			}()
			if err := c.Set(ctx, fmt.Sprintf("card/%d", i), bytes.Repeat([]byte{byte(i)}, i)); err != nil {
				errs <- err
				return
			}
			vals := <-got
			if vals == nil {
				return
			}
			for j, v := range vals {
				if r := n - 1 - j; !bytes.Equal(v, bytes.Repeat([]byte{byte(r)}, r)) {
					errs <- fmt.Errorf("client %d: value %d (key card/%d) = %v", i, j, r, v)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A GetMany whose context ends before its keys are set fails with the context's error and is
// withdrawn; the client stays usable.
func TestGetManyCancel(t *testing.T) {
	s := newTestServer(t)
	c := dialTest(t, s.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.GetMany(ctx, []string{"never"})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("GetMany after cancel: %v, want context.Canceled", err)
	}
	bg, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := c.Set(bg, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	v, err := c.GetMany(bg, []string{"k", "k"})
	if err != nil || len(v) != 2 || string(v[0]) != "v" || string(v[1]) != "v" {
		t.Fatalf("GetMany after a cancelled one: %q, %v", v, err)
	}
	if v, err := c.GetMany(bg, nil); err != nil || len(v) != 0 {
		t.Fatalf("GetMany of no keys: %q, %v", v, err)
	}
}

func TestGetManyTooLarge(t *testing.T) {
	s := newTestServer(t)
	c := dialTest(t, s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	long := string(bytes.Repeat([]byte("k"), MaxKeyLen+1))
	if _, err := c.GetMany(ctx, []string{long}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("GetMany of a %d-byte key: %v, want ErrTooLarge", len(long), err)
	}
	// 65 values of 1 MiB each answer with more than maxManyLen: the server says so.
	big := bytes.Repeat([]byte{1}, MaxValueLen)
	if err := c.Set(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, maxManyLen/MaxValueLen+1)
	for i := range keys {
		keys[i] = "big"
	}
	if _, err := c.GetMany(ctx, keys); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("GetMany answering %d MiB: %v, want ErrTooLarge", len(keys), err)
	}
	if v, err := c.GetMany(ctx, []string{"big"}); err != nil || !bytes.Equal(v[0], big) {
		t.Fatalf("GetMany of one 1 MiB value after that: %v", err)
	}
}

// The helper GetMany uses a Gatherer's one request, and one Get per key on any other Store.
func TestGetManyHelper(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m := NewMemStore()
	m.Set(ctx, "a", []byte("1"))
	m.Set(ctx, "b", []byte("2"))
	for _, s := range []Store{m, plainStore{m}} {
		v, err := GetMany(ctx, s, []string{"b", "a"})
		if err != nil || string(v[0]) != "2" || string(v[1]) != "1" {
			t.Errorf("GetMany on %T: %q, %v", s, v, err)
		}
	}
}

// plainStore hides MemStore's GetMany.
type plainStore struct{ s *MemStore }

func (p plainStore) Set(ctx context.Context, k string, v []byte) error { return p.s.Set(ctx, k, v) }
func (p plainStore) Get(ctx context.Context, k string) ([]byte, error) { return p.s.Get(ctx, k) }

// The GetMany codecs never panic and round-trip what they accept.
func FuzzGetManyCodecs(f *testing.F) {
	k, _ := encodeKeys([]string{"a", "", "gompi/host/12"})
	v, _ := encodeValues([][]byte{[]byte("x"), nil, []byte("yz")})
	f.Add(k, 3)
	f.Add(v, 3)
	f.Add([]byte{0, 5, 'a'}, 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if keys, err := decodeKeys(b); err == nil {
			again, err := encodeKeys(keys)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("keys %q re-encode to %v, %v; from %v", keys, again, err, b)
			}
		}
		if n < 0 || n > 1<<16 {
			return
		}
		if vals, err := decodeValues(b, n); err == nil {
			again, err := encodeValues(vals)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("values re-encode to %v, %v; from %v", again, err, b)
			}
		}
	})
}
