package shm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// A rank's doorbell is an eventfd. Its progress goroutine reads it through Go's network poller,
// so a parked rank holds no thread and no P; a peer that hands work to a rank whose "sleeping"
// flag is set writes to it. A futex was the other candidate: a goroutine blocked in a futex
// system call keeps its P until the runtime's monitor takes it back (20 µs to 10 ms), and with
// one P per rank that would stall the rank's other goroutines; the poller has no such cost.

// newBell makes a doorbell: the file its owner reads, and the descriptor peers receive.
func newBell() (*os.File, int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, -1, fmt.Errorf("eventfd: %w", err)
	}
	return os.NewFile(uintptr(fd), "gompi-doorbell"), fd, nil
}

var one = [8]byte{1}

// ring rings the doorbell fd. It never blocks; an error means the owner is gone, which its
// socket reports.
func ring(fd int) {
	unix.Write(fd, one[:])
}

// schedYield gives the core to another runnable thread of any process, if one waits: the way
// a rank polls on a host with more ranks than cores (OpenMPI's mpi_yield_when_idle).
func schedYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
