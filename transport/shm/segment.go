package shm

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The segment is one anonymous memory file (memfd) per host and job, made by the host's lowest
// rank and handed to the others over their Unix sockets once they have proved membership. It
// has no name in any file system, so nothing is left behind however the job ends: the kernel
// frees it when the last rank's mapping goes.
//
// Layout (all offsets 64-byte aligned, integers little-endian, n = local ranks):
//
//	0                 header: magic u64, version u32, n u32, ring size u64, ring stride u64
//	deathsOff         deaths (u32): how many ranks the leader has marked dead, alone in its line
//	ctlOff + i·128    control block of local rank i: word 0 "sleeping" (u32), alone in its line;
//	                  word 16 (the next line) "dead" (u32), set by the leader when i died
//	ringsOff + k·stride  the ring from local rank i to local rank j, k = i·(n-1) + (j or j-1):
//	                     line A, written by the writer: "writer waiting for space" (u32)
//	                     line B, written by the reader: tail (u64), pulls done (u64)
//	                     data: ring size bytes of records (ring.go)
const (
	segMagic    = 0x676f6d70_69736d31 // "gompism1"
	segVersion  = 2
	lineSize    = 64
	deathsOff   = 64
	ctlOff      = 4096
	ctlStride   = 2 * lineSize
	ringCtlSize = 2 * lineSize
	pageSize    = 4096
)

// layout is where things are in a segment for n local ranks and rings of ringSize bytes.
type layout struct {
	n        int
	ringSize int
	stride   int // bytes from one ring to the next, a multiple of the page size
	ringsOff int
	size     int
}

func newLayout(n, ringSize int) layout {
	l := layout{n: n, ringSize: ringSize}
	l.stride = roundUp(ringCtlSize+ringSize, pageSize)
	l.ringsOff = roundUp(ctlOff+n*ctlStride, pageSize)
	l.size = l.ringsOff + n*(n-1)*l.stride
	return l
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// ring returns the offset of the ring from local rank i to local rank j (i != j).
func (l layout) ring(i, j int) int {
	k := i * (l.n - 1)
	if j < i {
		k += j
	} else {
		k += j - 1
	}
	return l.ringsOff + k*l.stride
}

// segment is a mapped segment.
type segment struct {
	l   layout
	mem []byte
}

// createSegment makes the memory file of a segment for l, maps it and writes its header. It
// returns the mapping and the file descriptor to hand to the other ranks (close-on-exec, so
// programs the ranks start never inherit it).
func createSegment(l layout) (*segment, int, error) {
	fd, err := unix.MemfdCreate("gompi-shm", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, -1, fmt.Errorf("memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(l.size)); err != nil {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("size the segment to %d bytes: %w", l.size, err)
	}
	s, err := mapSegment(fd, l)
	if err != nil {
		unix.Close(fd)
		return nil, -1, err
	}
	h := s.mem[:32]
	binary.LittleEndian.PutUint32(h[8:], segVersion)
	binary.LittleEndian.PutUint32(h[12:], uint32(l.n))
	binary.LittleEndian.PutUint64(h[16:], uint64(l.ringSize))
	binary.LittleEndian.PutUint64(h[24:], uint64(l.stride))
	atomic.StoreUint64(s.word64(0), segMagic)
	return s, fd, nil
}

// openSegment maps the segment in fd (received from the host's lowest rank) and checks that
// it was made for layout l.
func openSegment(fd int, l layout) (*segment, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("fstat the segment: %w", err)
	}
	if st.Size != int64(l.size) {
		return nil, fmt.Errorf("the segment has %d bytes, want %d for %d ranks with %d-byte rings", st.Size, l.size, l.n, l.ringSize)
	}
	s, err := mapSegment(fd, l)
	if err != nil {
		return nil, err
	}
	h := s.mem[:32]
	if atomic.LoadUint64(s.word64(0)) != segMagic || binary.LittleEndian.Uint32(h[8:]) != segVersion ||
		int(binary.LittleEndian.Uint32(h[12:])) != l.n || int(binary.LittleEndian.Uint64(h[16:])) != l.ringSize {
		s.unmap()
		return nil, fmt.Errorf("the segment's header does not match this job's layout (version %d, %d ranks, %d-byte rings)", segVersion, l.n, l.ringSize)
	}
	return s, nil
}

// populateMax is the largest segment that is populated when mapped (its memory allocated and
// its page tables filled at once). Otherwise the first lap of every ring faults in a page
// every 64 small messages, on both sides, which made the first 4,000 or so messages of a
// ping-pong half again as slow here. Larger segments (about 16 ranks and more on a host) fill
// as they are used, so that a job pays memory only for the rings it uses.
const populateMax = 64 << 20

func mapSegment(fd int, l layout) (*segment, error) {
	mem, err := unix.Mmap(fd, 0, l.size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map the %d-byte segment: %w", l.size, err)
	}
	if l.size <= populateMax {
		_ = unix.Madvise(mem, unix.MADV_POPULATE_WRITE) // Linux 5.14 and later; an optimisation
	}
	return &segment{l: l, mem: mem}, nil
}

func (s *segment) unmap() {
	if s.mem != nil {
		unix.Munmap(s.mem)
		s.mem = nil
	}
}

// word64 and word32 return the aligned word at off for use with sync/atomic. The mapping is
// not Go memory: the garbage collector ignores these pointers, and the race detector does not
// see accesses through them.
func (s *segment) word64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&s.mem[off])) }
func (s *segment) word32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&s.mem[off])) }

// sleeping is the flag of local rank i that says no goroutine of it is polling: a peer that
// gives it work must wake it (doorbell.go).
func (s *segment) sleeping(i int) *uint32 { return s.word32(ctlOff + i*ctlStride) }

// dead is the flag of local rank i that the leader sets when i's process ended without a
// goodbye; deaths counts such flags set, so that a rank looks at the flags only when it grew.
func (s *segment) dead(i int) *uint32 { return s.word32(ctlOff + i*ctlStride + lineSize) }
func (s *segment) deaths() *uint32    { return s.word32(deathsOff) }
