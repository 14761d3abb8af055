package peerauth

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestHandshake(t *testing.T) {
	job := JobID([]byte("job"))
	for _, tc := range []struct {
		name                 string
		dialSecret, accSec   string
		from, to, self, size int
		ok                   bool
	}{
		{"members", "s", "s", 3, 1, 1, 4, true},
		{"wrong secret", "t", "s", 3, 1, 1, 4, false},
		{"dialer below acceptor", "s", "s", 0, 1, 1, 4, false},
		{"dialer outside the job", "s", "s", 7, 1, 1, 4, false},
	} {
		a, d := net.Pipe()
		got := make(chan error, 1)
		go func() {
			got <- Dial(d, []byte(tc.dialSecret), job, tc.from, tc.to, time.Second)
			d.Close()
		}()
		peer, err := Accept(a, []byte(tc.accSec), job, tc.self, tc.size, time.Second)
		a.Close()
		derr := <-got
		if tc.ok {
			if err != nil || derr != nil || peer != tc.from {
				t.Errorf("%s: Accept = %d, %v; Dial: %v", tc.name, peer, err, derr)
			}
			continue
		}
		if !errors.Is(err, ErrRefused) || derr == nil {
			t.Errorf("%s: Accept = %d, %v; Dial: %v; want both to fail", tc.name, peer, err, derr)
		}
	}
}
