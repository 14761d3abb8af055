package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Cross-memory attach (CMA): process_vm_readv copies from another process's memory into ours
// in one system call, so a large payload is copied once, from the sender's buffer straight
// into the posted receive buffer (OpenMPI's "single copy", opal/mca/btl/vader). The kernel
// allows it where this process may ptrace the other: the same user, and no Yama restriction
// or container seccomp profile that forbids it. New finds out per pair at startup, by reading a
// known word from the peer, and falls back to copying through the ring where it fails.
//
// The sender's buffer stays valid until the reader has copied it: the sender waits for the
// reader's count of pulls to pass its own (Transport.sendCMA), and Go's collector does not
// move heap memory.

// putDesc writes where a payload is into a recCMA record.
func putDesc(rec []byte, addr uintptr, n int) {
	binary.LittleEndian.PutUint64(rec[frameHdr:], uint64(addr))
	binary.LittleEndian.PutUint64(rec[frameHdr+8:], uint64(n))
}

func getDesc(rec []byte) (addr uintptr, n int) {
	return uintptr(binary.LittleEndian.Uint64(rec[frameHdr:])), int(binary.LittleEndian.Uint64(rec[frameHdr+8:]))
}

// pull copies len(dst) bytes at addr in process pid into dst.
func pull(pid int, dst []byte, addr uintptr) error {
	for len(dst) > 0 {
		local := []unix.Iovec{{Base: &dst[0]}}
		local[0].SetLen(len(dst))
		remote := []unix.RemoteIovec{{Base: addr, Len: len(dst)}}
		n, err := unix.ProcessVMReadv(pid, local, remote, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("shm: copy %d bytes from process %d: %w", len(dst), pid, err)
		}
		if n == 0 {
			return fmt.Errorf("shm: copy from process %d: no progress with %d bytes left", pid, len(dst))
		}
		dst, addr = dst[n:], addr+uintptr(n)
	}
	return nil
}

// probeRead reports whether this process can read the probe words (addr, holding want) of
// process pid, and if not, why.
func probeRead(pid int, addr uintptr, want [2]uint64) error {
	if pid <= 0 {
		return errors.New("the peer's process is not visible from here (another PID namespace)")
	}
	var got [2]uint64
	b := unsafe.Slice((*byte)(unsafe.Pointer(&got[0])), 16)
	if err := pull(pid, b, addr); err != nil {
		return err
	}
	if got != want {
		return errors.New("read the wrong bytes")
	}
	return nil
}

// allowPeers lets the other ranks read this process's memory where Yama's ptrace_scope 1
// would otherwise limit that to ancestors, as OpenMPI does for CMA.
func allowPeers() {
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err == nil && strings.TrimSpace(string(b)) == "1" {
		_ = unix.Prctl(unix.PR_SET_PTRACER, unix.PR_SET_PTRACER_ANY, 0, 0, 0)
	}
}
