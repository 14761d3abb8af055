// Command mesh is a test rank for gompirun: it checks the environment contract, then does
// what a transport does at startup — listen on its address (bootstrap.ListenAddr), publish
// it through the bootstrap service, read every other rank's, connect to each — and sums the
// ranks over those connections (a poor man's Allreduce). It prints "rank R/S sum=N host=H" and exits non-zero
// on any error.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/gompi/gompi/bootstrap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "mesh rank %s: %v\n", os.Getenv(bootstrap.EnvRank), err)
		os.Exit(1)
	}
}

func atoi(name string) (int, error) {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %v", name, os.Getenv(name), err)
	}
	return n, nil
}

func run() error {
	rank, err := atoi(bootstrap.EnvRank)
	if err != nil {
		return err
	}
	size, err := atoi(bootstrap.EnvSize)
	if err != nil {
		return err
	}
	secret, err := bootstrap.SecretFromEnv()
	if err != nil {
		return err
	}
	host, _, err := bootstrap.ListenAddr(os.Getenv(bootstrap.EnvHost), os.Getenv(bootstrap.EnvIface), os.Getenv(bootstrap.EnvAddr))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := bootstrap.Dial(ctx, os.Getenv(bootstrap.EnvAddr), secret)
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return fmt.Errorf("listen on %s: %v", host, err)
	}
	defer ln.Close()
	if err := store.Set(ctx, "mesh/"+strconv.Itoa(rank), []byte(ln.Addr().String())); err != nil {
		return err
	}
	// Lower ranks accept from higher ones; each connection carries both ranks' numbers.
	sum := rank
	errs := make(chan error, 1)
	accepted := make(chan int, size)
	go func() {
		for range rank {
			c, err := ln.Accept()
			if err != nil {
				errs <- err
				return
			}
			v, err := exchange(c, rank)
			c.Close()
			if err != nil {
				errs <- err
				return
			}
			accepted <- v
		}
	}()
	for peer := rank + 1; peer < size; peer++ {
		addr, err := store.Get(ctx, "mesh/"+strconv.Itoa(peer))
		if err != nil {
			return err
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", string(addr))
		if err != nil {
			return fmt.Errorf("dial rank %d at %s: %v", peer, addr, err)
		}
		v, err := exchange(c, rank)
		c.Close()
		if err != nil {
			return err
		}
		sum += v
	}
	for range rank {
		select {
		case v := <-accepted:
			sum += v
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if want := size * (size - 1) / 2; sum != want {
		return fmt.Errorf("sum of ranks = %d, want %d", sum, want)
	}
	fmt.Printf("rank %d/%d sum=%d host=%s\n", rank, size, sum, host)
	return nil
}

// exchange sends our rank and reads the peer's.
func exchange(c net.Conn, rank int) (int, error) {
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(rank))
	if _, err := c.Write(b[:]); err != nil {
		return 0, err
	}
	if _, err := c.Read(b[:]); err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint64(b[:])), nil
}
