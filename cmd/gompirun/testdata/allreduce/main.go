// Command allreduce is a test rank for gompirun: it runs ITERS Allreduce(Sum) calls on a
// float64 vector of LEN elements (arguments; default 10 and 1000) and checks every result.
// It prints "rank R/S allreduce ok iters=K host=H" at the end.
//
// For failure tests: with GOMPI_TEST_DIE_RANK=R and GOMPI_TEST_DIE_AT=I, rank R kills itself
// with SIGKILL before iteration I (with GOMPI_TEST_PANIC=1 it panics instead); rank
// GOMPI_TEST_EXIT_BEFORE_INIT exits with status 3 before Init, rank
// GOMPI_TEST_STALL_BEFORE_INIT waits for ever before Init; with
// GOMPI_TEST_IGNORE_TERM=1 the ranks ignore SIGTERM, so
// only the library's peer-failure detection can end the survivors. A rank whose call fails
// prints "rank R: peer failure: ERR" when errors.Is(err, comm.ErrPeerFailed), else
// "rank R: error: ERR", and exits 1.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	if os.Getenv("GOMPI_TEST_IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	iters, n := 10, 1000
	if len(os.Args) > 1 {
		iters, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	dieRank, dieAt := -1, -1
	if s := os.Getenv("GOMPI_TEST_DIE_RANK"); s != "" {
		dieRank, _ = strconv.Atoi(s)
		dieAt, _ = strconv.Atoi(os.Getenv("GOMPI_TEST_DIE_AT"))
	}
	if r := os.Getenv("GOMPI_TEST_EXIT_BEFORE_INIT"); r != "" && r == os.Getenv("GOMPI_RANK") {
		os.Exit(3) // dies before it joins the job
	}
	if r := os.Getenv("GOMPI_TEST_STALL_BEFORE_INIT"); r != "" && r == os.Getenv("GOMPI_RANK") {
		select {} // never joins the job, and never ends on its own
	}
	c, err := comm.Init()
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: %v\n", err)
		os.Exit(1)
	}
	rank, size := c.Rank(), c.Size()
	send := make([]float64, n)
	recv := make([]float64, n)
	for it := range iters {
		if rank == dieRank && it == dieAt {
			if os.Getenv("GOMPI_TEST_PANIC") == "1" {
				panic(fmt.Sprintf("rank %d gives up at iteration %d", rank, it))
			}
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		for i := range send {
			send[i] = float64(rank*n + i + it)
		}
		if err := collectives.Allreduce(c, send, recv, collectives.Sum); err != nil {
			what := "error"
			if errors.Is(err, comm.ErrPeerFailed) {
				what = "peer failure"
			}
			fmt.Fprintf(os.Stderr, "rank %d: %s: %v\n", rank, what, err)
			os.Exit(1)
		}
		for i, got := range recv {
			// sum over r of (r*n + i + it)
			want := float64(n*size*(size-1)/2 + size*(i+it))
			if got != want {
				fmt.Fprintf(os.Stderr, "rank %d: iteration %d: recv[%d] = %v, want %v\n", rank, it, i, got, want)
				os.Exit(1)
			}
		}
	}
	if err := comm.Finalize(); err != nil {
		fmt.Fprintf(os.Stderr, "rank %d: finalize: %v\n", rank, err)
		os.Exit(1)
	}
	fmt.Printf("rank %d/%d allreduce ok iters=%d host=%s\n", rank, size, iters, listenHost())
}

// listenHost is the address this rank listens on for TCP peers, as the transport chose it.
func listenHost() string {
	h, _, err := bootstrap.ListenAddr(os.Getenv(bootstrap.EnvHost), os.Getenv(bootstrap.EnvIface), os.Getenv(bootstrap.EnvAddr))
	if err != nil {
		return err.Error()
	}
	return h
}
