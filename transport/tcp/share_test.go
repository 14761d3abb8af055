package tcp

import (
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

func TestPlanShare(t *testing.T) {
	cpus := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = 10 + i // masks need not start at 0
		}
		return s
	}
	cases := []struct {
		name string
		f    hostFacts
		want hostPlan
	}{
		{"2 ranks on 2 cpus", hostFacts{allowed: cpus(2), cpus: 2, localRank: 1, localSize: 2, peers: 1, bind: true},
			hostPlan{bind: []int{11}, procs: 1, spin: DefaultSpinWait}},
		{"2 ranks on 8 cpus", hostFacts{allowed: cpus(8), cpus: 8, localRank: 1, localSize: 2, peers: 1, bind: true},
			hostPlan{bind: []int{14, 15, 16, 17}, procs: 4, spin: DefaultSpinWait}},
		{"3 ranks on 8 cpus: the last 2 stay unused", hostFacts{allowed: cpus(8), cpus: 8, localRank: 2, localSize: 3, peers: 2, bind: true},
			hostPlan{bind: []int{14, 15}, procs: 2, spin: DefaultSpinWait}},
		{"4 ranks on 4 cpus: 3 readers share 1 P, no spin", hostFacts{allowed: cpus(4), cpus: 4, localRank: 0, localSize: 4, peers: 3, bind: true},
			hostPlan{bind: []int{10}, procs: 1}},
		{"oversubscribed: no binding, no spin", hostFacts{allowed: cpus(2), cpus: 2, localRank: 3, localSize: 4, peers: 3, bind: true},
			hostPlan{procs: 1}},
		{"bind none", hostFacts{allowed: cpus(2), cpus: 2, localRank: 0, localSize: 2, peers: 1, bind: false},
			hostPlan{procs: 1, spin: DefaultSpinWait}},
		{"user GOMAXPROCS kept", hostFacts{allowed: cpus(8), cpus: 8, userProcs: true, localRank: 0, localSize: 2, peers: 1, bind: true},
			hostPlan{bind: []int{10, 11, 12, 13}, spin: DefaultSpinWait}},
		{"cgroup quota of 2 on 8 cpus", hostFacts{allowed: cpus(8), cpus: 2, localRank: 1, localSize: 2, peers: 1, bind: true},
			hostPlan{bind: []int{14, 15, 16, 17}, procs: 1, spin: DefaultSpinWait}},
		{"one rank per host", hostFacts{allowed: cpus(4), cpus: 4, localRank: 0, localSize: 1, peers: 5, bind: true},
			hostPlan{spin: 0}},
		{"one rank per host, few peers", hostFacts{allowed: cpus(4), cpus: 4, localRank: 0, localSize: 1, peers: 3, bind: true},
			hostPlan{spin: DefaultSpinWait}},
		{"singleton", hostFacts{allowed: cpus(4), cpus: 4, localRank: 0, localSize: 1, peers: 0, bind: true},
			hostPlan{}},
		{"unknown mask", hostFacts{cpus: 2, localRank: 0, localSize: 2, peers: 1, bind: true},
			hostPlan{procs: 1, spin: DefaultSpinWait}},
		{"local rank missing", hostFacts{allowed: cpus(2), cpus: 2, localRank: -1, localSize: 2, peers: 1, bind: true},
			hostPlan{procs: 1, spin: DefaultSpinWait}},
	}
	for _, tc := range cases {
		got := planShare(tc.f)
		if !slices.Equal(got.bind, tc.want.bind) || got.procs != tc.want.procs || got.spin != tc.want.spin {
			t.Errorf("%s: planShare = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestSpinReader checks that a spinning reader delivers what arrives both while it spins and
// after it has given up and parked, and reports EOF.
func TestSpinReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		for i := range 200 {
			if i%50 == 49 {
				time.Sleep(2 * time.Millisecond) // longer than the spin: the reader parks
			}
			if _, err := c.Write([]byte{byte(i)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := newSpinReader(c.(*net.TCPConn), 20*time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 64)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Read: %v", err)
			}
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("read %d bytes, want 200", len(got))
	}
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("byte %d = %d, want %d", i, b, i)
		}
	}
}
