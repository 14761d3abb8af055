package bootstrap

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// testStore runs the Store contract against s.
func testStore(t *testing.T, s Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Round trip, and the caller keeps its slice.
	v := []byte("127.0.0.1:4242")
	if err := s.Set(ctx, "addr/0", v); err != nil {
		t.Fatalf("Set addr/0: %v", err)
	}
	v[0] = 'X'
	got, err := s.Get(ctx, "addr/0")
	if err != nil || string(got) != "127.0.0.1:4242" {
		t.Fatalf("Get addr/0 = %q, %v; want %q", got, err, "127.0.0.1:4242")
	}

	// Empty value and binary bytes survive.
	if err := s.Set(ctx, "empty", nil); err != nil {
		t.Fatalf("Set empty: %v", err)
	}
	if got, err := s.Get(ctx, "empty"); err != nil || len(got) != 0 {
		t.Fatalf("Get empty = %q, %v; want empty", got, err)
	}
	bin := []byte{0, 1, 2, 255, 0}
	if err := s.Set(ctx, "bin", bin); err != nil {
		t.Fatalf("Set bin: %v", err)
	}
	if got, _ := s.Get(ctx, "bin"); string(got) != string(bin) {
		t.Fatalf("Get bin = %v, want %v", got, bin)
	}

	// Setting twice fails.
	if err := s.Set(ctx, "addr/0", []byte("other")); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second Set addr/0: err = %v, want ErrKeyExists", err)
	}

	// Oversize key and value fail.
	if err := s.Set(ctx, strings.Repeat("k", MaxKeyLen+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set long key: err = %v, want ErrTooLarge", err)
	}
	if err := s.Set(ctx, "big", make([]byte, MaxValueLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set big value: err = %v, want ErrTooLarge", err)
	}
	// The largest allowed value passes.
	max := make([]byte, MaxValueLen)
	max[len(max)-1] = 7
	if err := s.Set(ctx, "max", max); err != nil {
		t.Fatalf("Set max value: %v", err)
	}
	if got, err := s.Get(ctx, "max"); err != nil || len(got) != MaxValueLen || got[len(got)-1] != 7 {
		t.Fatalf("Get max: len %d, err %v", len(got), err)
	}

	// Get waits for a later Set.
	type result struct {
		v   []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		v, err := s.Get(ctx, "late")
		res <- result{v, err}
	}()
	select {
	case r := <-res:
		t.Fatalf("Get late returned before Set: %q, %v", r.v, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := s.Set(ctx, "late", []byte("here")); err != nil {
		t.Fatalf("Set late: %v", err)
	}
	if r := <-res; r.err != nil || string(r.v) != "here" {
		t.Fatalf("Get late = %q, %v; want here", r.v, r.err)
	}

	// A Get whose context ends returns the context's error, and the key can still be used.
	cctx, ccancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = s.Get(cctx, "never")
	ccancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get never: err = %v, want DeadlineExceeded", err)
	}
	if err := s.Set(ctx, "never", []byte("now")); err != nil {
		t.Fatalf("Set never: %v", err)
	}
	if got, err := s.Get(ctx, "never"); err != nil || string(got) != "now" {
		t.Fatalf("Get never after Set = %q, %v", got, err)
	}

	// A cancelled context fails at once.
	dead, dcancel := context.WithCancel(ctx)
	dcancel()
	if err := s.Set(dead, "x", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with cancelled ctx: err = %v, want Canceled", err)
	}
}

func TestMemStore(t *testing.T) {
	testStore(t, NewMemStore())
}

func TestSecretFromEnv(t *testing.T) {
	t.Setenv(EnvSecret, "00ff10")
	b, err := SecretFromEnv()
	if err != nil || string(b) != "\x00\xff\x10" {
		t.Fatalf("SecretFromEnv = %x, %v; want 00ff10", b, err)
	}
	t.Setenv(EnvSecret, "xyz")
	if _, err := SecretFromEnv(); err == nil {
		t.Error("SecretFromEnv accepted a non-hex secret")
	}
	t.Setenv(EnvSecret, "")
	if _, err := SecretFromEnv(); err == nil {
		t.Error("SecretFromEnv accepted an empty secret")
	}
}

// MarkGone: a Get waiting for a key of the gone rank, and one that comes later, fail with
// ErrRankGone naming the rank and how it ended; keys it set, and other ranks' keys, are
// unaffected; through the server too.
func TestMarkGone(t *testing.T) {
	ctx := context.Background()
	s := NewMemStore()
	if err := s.Set(ctx, "gompi/addr/1", []byte("a1")); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := s.Get(ctx, "gompi/host/2")
		waiting <- err
	}()
	s.MarkGone(2, "exited with status 3")
	for _, err := range []error{<-waiting, func() error { _, err := s.Get(ctx, "gompi/addr/2"); return err }()} {
		if !errors.Is(err, ErrRankGone) || !strings.Contains(err.Error(), "rank 2 exited with status 3 before it set") {
			t.Errorf("Get of a gone rank's key: %v; want ErrRankGone naming rank 2", err)
		}
	}
	if v, err := s.Get(ctx, "gompi/addr/1"); err != nil || string(v) != "a1" {
		t.Errorf("Get of a key set before: %q, %v", v, err)
	}
	s.MarkGone(1, "exited with status 0")
	if v, err := s.Get(ctx, "gompi/addr/1"); err != nil || string(v) != "a1" {
		t.Errorf("Get of a key its rank set before it ended: %q, %v", v, err)
	}
	for key, want := range map[string]int{"gompi/addr/12": 12, "a/0": 0, "x": -1, "a/b": -1, "a/-1": -1, "a/01": -1} {
		if r, ok := KeyRank(key); r != want || ok != (want >= 0) {
			t.Errorf("KeyRank(%q) = %d, %v; want %d", key, r, ok, want)
		}
	}

	srv, err := NewServer("127.0.0.1:0", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := Dial(ctx, srv.Addr(), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	go func() {
		_, err := cl.Get(ctx, "gompi/addr/5")
		waiting <- err
	}()
	srv.MarkGone(5, "was killed by signal 9 (SIGKILL)")
	if err := <-waiting; !errors.Is(err, ErrRankGone) || !strings.Contains(err.Error(), "rank 5 was killed by signal 9 (SIGKILL) before it set") {
		t.Errorf("client Get of a gone rank's key: %v; want ErrRankGone naming rank 5", err)
	}
}
