package tcp

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

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
