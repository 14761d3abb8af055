package tcp_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/transport/tcp"
)

// A rank that cannot reach a peer's published address says who could not reach whom: both
// ranks, both addresses and its own interface, so a wrong network is plain to see.
func TestConnectFailureNamesBothEnds(t *testing.T) {
	store := bootstrap.NewMemStore()
	// Rank 0's address: a port nobody listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	ctx := context.Background()
	if err := store.Set(ctx, "gompi/addr/0", []byte(dead)); err != nil {
		t.Fatal(err)
	}
	_, err = tcp.New(ctx, tcp.Config{Rank: 1, Size: 2, Store: store, Secret: []byte("s"), Host: "127.0.0.1", Iface: "lo",
		ConnectTimeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("New connected to a closed port")
	}
	for _, part := range []string{"rank 1 (listening at 127.0.0.1:", " on lo) cannot connect to rank 0 at " + dead, "refused"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
}
