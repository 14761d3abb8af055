// Package shm is the transport between ranks on one host: shared memory, no system call on the
// path of a message in the common case. Every ordered pair of ranks has a ring in a segment the
// host's ranks share (ring.go, segment.go); the writer copies a frame into it and the reader
// polls for it, so a small message costs one copy in and one copy out. Large payloads (Data
// frames of the rendezvous protocol) are copied once, straight from the sender's memory into
// the posted receive buffer, with process_vm_readv (cross-memory attach, cma.go); where the
// system refuses that, they go through the ring in pieces, the reader copying out one piece
// while the writer fills the next.
//
// Nobody polls a rank that is not waiting, and a waiting rank polls only for a while (the
// placement layer's wait policy) before it parks. A parked rank says so in the segment, and a
// peer that hands it work then rings its doorbell, an eventfd its progress goroutine reads
// (doorbell.go). A Unix socket from every rank to the host's first rank (the leader), kept open
// for the life of the job, carried the setup (the membership handshake, the segment, the
// doorbells) and tells the leader at once when a rank dies (shared memory has no end of file);
// the leader passes the word to the others through the segment and their doorbells
// (connect.go).
//
// The engine (internal/engine) does matching and the protocols over this transport as over any
// other; the transport delivers frames per pair in order.
package shm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/transport"
)

// Defaults of Config, measured on the 2-core development machine with gompi-bench latency
// (docs/BENCHMARKS.md): 64, 128 and 256 KiB rings with 8-128 KiB pieces; 256 KiB with 32 KiB
// pieces moved 1 MiB fastest, 4 pieces in flight keeping both copies busy.
const (
	// DefaultRingSize is the size of the ring from one rank to another.
	DefaultRingSize = 256 << 10
	// DefaultEagerLimit is the largest message sent eagerly (through the ring, completing at
	// once for the sender); larger ones take the rendezvous protocol, so that their payload
	// moves only once the receive is posted and lands in its buffer.
	DefaultEagerLimit = 64 << 10
	// DefaultChunk is the largest piece of a payload in one ring record.
	DefaultChunk = 32 << 10
)

// Config configures a Transport. Zero values take the documented defaults.
type Config struct {
	Rank, Size int   // this rank and the job's size (world ranks)
	Local      []int // the world ranks on this host, ascending, this one included
	JobID      []byte
	Secret     []byte          // the job secret: peers prove they know it before they get the segment
	Store      bootstrap.Store // where ranks publish the names of their sockets
	// RingSize is the size of each ring in bytes (a multiple of 4096, at least 8 KiB). When
	// zero, DefaultRingSize, or less with more than 65 ranks on the host, so that no rank's
	// rings take more than 16 MiB of address space (memory is used only as rings fill). All
	// ranks of a host must use the same value.
	RingSize int
	// EagerLimit is DefaultEagerLimit when zero. All ranks must use the same value.
	EagerLimit int
	// Chunk is the largest payload piece in one record: DefaultChunk when zero, at most
	// RingSize/8.
	Chunk int
	// CMA turns on the single copy: the payloads of large (rendezvous) messages are copied
	// once, by the receiver, straight from the sender's memory into the receive buffer, with
	// process_vm_readv, to every peer for which the system allows it (New finds out). Without
	// it they go through the ring in pieces, the receiver copying one out while the sender
	// copies the next in. On the 2-core development machine the pieces were twice as fast
	// (docs/BENCHMARKS.md): process_vm_readv copied 8 GB/s there, memcpy 30-40 GB/s.
	CMA bool
	// Spin and Yield are the wait policy (package placement): a waiting goroutine polls for
	// Spin, then polls with sched_yield between tries for Yield, then parks.
	Spin, Yield time.Duration
	// ConnectTimeout bounds New (default 60s); HandshakeTimeout one handshake (default 10s);
	// FinalizeTimeout how long Close waits for the peers' goodbyes (default 30s).
	ConnectTimeout, HandshakeTimeout, FinalizeTimeout time.Duration
	// Logf reports refused connections; default: a line on standard error.
	Logf func(format string, args ...any)
}

func (c *Config) setDefaults() error {
	if c.Size < 1 || c.Rank < 0 || c.Rank >= c.Size {
		return fmt.Errorf("shm: rank %d of %d is invalid", c.Rank, c.Size)
	}
	found := false
	for i, r := range c.Local {
		if r < 0 || r >= c.Size || (i > 0 && r <= c.Local[i-1]) {
			return fmt.Errorf("shm: local ranks %v: want ascending ranks of the job", c.Local)
		}
		found = found || r == c.Rank
	}
	if !found {
		return fmt.Errorf("shm: rank %d is not among the local ranks %v", c.Rank, c.Local)
	}
	if len(c.Secret) == 0 {
		return errors.New("shm: empty job secret")
	}
	if c.Store == nil && len(c.Local) > 1 {
		return errors.New("shm: no bootstrap store")
	}
	if c.RingSize == 0 {
		c.RingSize = DefaultRingSize
		for c.RingSize > 64<<10 && (len(c.Local)-1)*c.RingSize > 16<<20 {
			c.RingSize /= 2
		}
	}
	if c.RingSize < 8<<10 || c.RingSize%pageSize != 0 || c.RingSize > 1<<30 {
		return fmt.Errorf("shm: ring size %d: want a multiple of 4096 from 8 KiB to 1 GiB", c.RingSize)
	}
	if c.EagerLimit <= 0 {
		c.EagerLimit = DefaultEagerLimit
	}
	if c.Chunk <= 0 {
		c.Chunk = DefaultChunk
	}
	c.Chunk = min(c.Chunk, c.RingSize/8)
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 60 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.FinalizeTimeout <= 0 {
		c.FinalizeTimeout = 30 * time.Second
	}
	if c.Logf == nil {
		rank := c.Rank
		c.Logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "gompi: rank %d: "+format+"\n", append([]any{rank}, args...)...)
		}
	}
	return nil
}

// Transport is one rank's end of the shared memory of its host. It implements
// transport.Transport for the peers on the host (Send to any other rank fails) and
// transport.Poller. It is safe for concurrent use.
type Transport struct {
	cfg     Config
	me      int     // this rank's index among the local ranks
	peers   []*peer // by world rank; nil for ranks not on this host and for this rank
	list    []*peer // the peers, by local index
	seg     *segment
	bell    *os.File // this rank's doorbell (an eventfd), read by the progress goroutine
	probe   *[2]uint64
	h       transport.Handler
	deliver transport.Deliverer // h, if it takes whole frames

	// pollMu is held by the goroutine that reads the rings (one at a time: each ring has one
	// reader); pollReq asks it to look again before it lets go (poll).
	pollMu        sync.Mutex
	pollReq       atomic.Int32
	unmapped      bool         // the segment is gone; guarded by pollMu
	spinners      atomic.Int32 // goroutines polling now (the rank is not asleep)
	parked        atomic.Int32 // goroutines parked after a spin, until they Unpark
	external      atomic.Bool  // goroutines may wait on request channels (Watch)
	parkedSenders atomic.Int32 // goroutines parked for ring space or a pull
	sleeping      *uint32      // this rank's flag in the segment
	deathsSeen    uint32       // the segment's count of deaths when checkDeaths last looked (progress goroutine only)

	changed   chan struct{} // a peer said goodbye or died (for Close)
	wg        sync.WaitGroup
	users     atomic.Int32  // goroutines in await, which touch the segment without a ring lock
	done      chan struct{} // closed by shutdown
	closing   atomic.Bool
	closeOnce sync.Once
}

// peer is one rank on the same host.
type peer struct {
	world, local int
	pid          int           // its process, as this process sees it (for CMA)
	conn         *net.UnixConn // the socket of the setup's star (to or from the leader); nil between two others
	bell         int           // its doorbell
	sleeping     *uint32       // its flag in the segment
	cma          bool          // it copies our Data payloads from our memory

	out struct {
		mu     sync.Mutex // guards w, sent and bye; one frame at a time
		w      writer
		sent   uint64 // CMA payloads announced
		bye    bool   // we said goodbye: no more frames
		parked atomic.Int32
		wake   chan struct{} // capacity 1: poll signals parked senders
	}
	in struct { // guarded by Transport.pollMu
		r       reader
		bye     bool
		pending bool // a payload is arriving in pieces
		h       transport.Header
		dst     []byte
		cookie  any
		got     int64
	}
	gone   atomic.Bool
	goneCh chan struct{} // closed when it died or left
	err    error         // why it is gone (set before goneCh closes)
}

// Rank implements transport.Transport.
func (t *Transport) Rank() int { return t.cfg.Rank }

// Hosts implements transport.HostMap: when every rank of the job is on this host (the
// transport reaches every peer), they all share host 0; otherwise nil (a transport that
// reaches the other hosts too knows their ranks).
func (t *Transport) Hosts() []int {
	if len(t.cfg.Local) != t.cfg.Size {
		return nil
	}
	return make([]int, t.cfg.Size)
}

// Size implements transport.Transport.
func (t *Transport) Size() int { return t.cfg.Size }

// EagerLimit implements transport.Transport.
func (t *Transport) EagerLimit() int { return t.cfg.EagerLimit }

// Local returns the world ranks on this host, this one included.
func (t *Transport) Local() []int { return t.cfg.Local }

// CMA reports whether large payloads to world rank r are copied once from this rank's memory
// (false: they go through the ring).
func (t *Transport) CMA(r int) bool {
	p := t.peerOf(r)
	return p != nil && p.cma
}

func (t *Transport) peerOf(r int) *peer {
	if r < 0 || r >= len(t.peers) {
		return nil
	}
	return t.peers[r]
}

// Start implements transport.Transport: it starts the progress goroutine, which reads the
// rings while no waiting goroutine does, and one goroutine per peer that waits for its socket
// to close.
func (t *Transport) Start(h transport.Handler) {
	t.h = h
	t.deliver, _ = h.(transport.Deliverer)
	if len(t.list) == 0 {
		return
	}
	t.wg.Add(1)
	go t.progress()
	for _, p := range t.list {
		if p.conn != nil {
			t.wg.Add(1)
			go t.watch(p)
		}
	}
}

// Polls implements transport.Poller: frames from every peer on the host arrive by polling.
func (t *Transport) Polls(peer int) bool { return t.peerOf(peer) != nil }

// Spin implements transport.Poller.
func (t *Transport) Spin(w *atomic.Uint32) bool {
	return t.spin(func() bool { return w.Load() != 1 })
}

// Park implements transport.Poller.
func (t *Transport) Park() {
	if len(t.list) == 0 {
		return
	}
	t.parked.Add(1)
	if t.spinners.Load() == 0 {
		atomic.StoreUint32(t.sleeping, 1)
		t.poll()
	}
}

// Unpark implements transport.Poller.
func (t *Transport) Unpark() {
	if len(t.list) > 0 {
		t.parked.Add(-1)
	}
}

// Poll implements transport.Poller.
func (t *Transport) Poll() bool { return len(t.list) > 0 && t.poll() }

// Watch implements transport.Poller.
func (t *Transport) Watch() {
	if len(t.list) > 0 && !t.external.Swap(true) {
		atomic.StoreUint32(t.sleeping, 1)
		t.poll()
	}
}

// spin polls, following the wait policy, until ready returns true (it returns true) or the
// policy says to park (false: the caller now counts as parked, until Unpark). The policy's
// durations count time in which nothing arrives.
//
// While a goroutine spins, peers do not ring the doorbell. When the last one stops, the rank
// says it sleeps only if some goroutine is parked (or may wait without polling, Watch): a
// goroutine whose wait succeeded will be back soon with its next call, and a message that
// arrives meanwhile waits for it in the ring, as a message waits for an MPI process until it
// calls into the library. Saying "asleep" after every message instead would make the peer
// ring the doorbell, a system call, for nearly every message of an exchange.
func (t *Transport) spin(ready func() bool) bool {
	limit := t.cfg.Spin + t.cfg.Yield
	if len(t.list) == 0 {
		return ready()
	}
	if limit <= 0 {
		if ready() || (t.poll() && ready()) {
			return true
		}
		t.Park()
		return false
	}
	t.beginPoll()
	var start time.Time // read after the first tries: most waits end before
	// With no spin stage (more ranks than cores) the first try that finds nothing yields:
	// the rank waited for may need this very core.
	yieldAtOnce := t.cfg.Spin == 0
	yielding := yieldAtOnce
	for i := 1; ; i++ {
		if ready() {
			t.endPoll()
			return true
		}
		if t.poll() {
			// Frames keep coming (the pieces of a large message, say): the wait is not
			// idle, so its time starts again.
			i, yielding = 0, yieldAtOnce
			continue
		}
		if i&15 == 0 {
			if i == 16 {
				start = time.Now()
			}
			el := time.Since(start)
			if el > limit {
				t.parked.Add(1)
				t.endPoll()
				if ready() {
					t.parked.Add(-1)
					return true
				}
				return false
			}
			yielding = el > t.cfg.Spin
		}
		switch {
		case yielding:
			// Give the core to other processes (the rank waited for, on a host with more
			// ranks than cores), and every few tries first to this rank's other
			// goroutines, which may be the ones with work to do (an answer to send for a
			// nonblocking request).
			if i&3 == 0 {
				runtime.Gosched()
			}
			schedYield()
		case i&15 == 0:
			// Let the rank's other goroutines run between tries.
			runtime.Gosched()
		}
	}
}

// beginPoll and endPoll bracket a goroutine's polling. While one runs, the rank is awake and
// peers need not ring its doorbell. When the last one stops and a goroutine is parked, the
// rank says it sleeps and looks once more, so that a frame published before a peer could see
// the flag is not missed.
func (t *Transport) beginPoll() {
	// Peers read the flag on every send: write it only when it changes, so that it stays in
	// their caches.
	if t.spinners.Add(1) == 1 && atomic.LoadUint32(t.sleeping) != 0 {
		atomic.StoreUint32(t.sleeping, 0)
	}
}

func (t *Transport) endPoll() {
	if t.spinners.Add(-1) == 0 && (t.parked.Load() > 0 || t.external.Load()) {
		atomic.StoreUint32(t.sleeping, 1)
		t.poll()
	}
}

// poll reads what has arrived on every ring, if no other goroutine is doing so (then that one
// looks again before it stops), and wakes parked senders. It reports whether it found anything.
func (t *Transport) poll() bool {
	found := false
	for {
		if !t.pollMu.TryLock() {
			// Ask the holder to look again after it lets go, in case it has already passed
			// the ring that woke us; unless it let go meanwhile, then look ourselves.
			t.pollReq.Store(1)
			if !t.pollMu.TryLock() {
				return found
			}
		}
		if t.pollReq.Load() != 0 {
			t.pollReq.Store(0)
		}
		if !t.unmapped {
			found = t.pollLocked() || found
		}
		t.pollMu.Unlock()
		if t.pollReq.Load() == 0 {
			return found
		}
	}
}

// pollLocked reads every ring. Caller holds pollMu.
func (t *Transport) pollLocked() bool {
	found := false
	for _, p := range t.list {
		for range 64 { // then the next peer: no ring starves the others
			rec, m, ok := p.in.r.peek()
			if !ok {
				break
			}
			found = true
			t.consume(p, rec, m)
		}
	}
	if t.parkedSenders.Load() > 0 {
		for _, p := range t.list {
			if p.out.parked.Load() > 0 {
				select {
				case p.out.wake <- struct{}{}:
				default:
				}
			}
		}
	}
	return found
}

// consume handles the record rec with meta word m at p's read position. Caller holds pollMu.
func (t *Transport) consume(p *peer, rec []byte, m uint64) {
	in := &p.in
	n := metaCount(m)
	switch metaType(m) {
	case recWrap:
		in.r.advance(in.r.size - in.r.pos%in.r.size)
	case recFrame:
		h := getHeader(rec, m)
		h.Source = p.world
		if h.Kind == transport.Bye {
			in.r.advance(recLen(frameHdr, n))
			in.bye = true
			t.h.PeerFailed(p.world, true, nil)
			t.signalChanged()
			return
		}
		if t.deliver != nil && int64(n) == h.PayloadLen() {
			t.deliver.Deliver(h, rec[frameHdr:frameHdr+n])
			in.r.advance(recLen(frameHdr, n)) // only now may the writer reuse the record
			return
		}
		dst, cookie := t.h.Arrive(h)
		if dst != nil && n > 0 {
			copy(dst[:n], rec[frameHdr:frameHdr+n])
		}
		in.r.advance(recLen(frameHdr, n))
		if int64(n) == h.PayloadLen() {
			t.h.Complete(h, cookie, nil)
			return
		}
		in.pending, in.h, in.dst, in.cookie, in.got = true, h, dst, cookie, int64(n)
	case recCont:
		if !in.pending {
			panic("shm: payload piece without a frame") // the writer is this package: a broken invariant
		}
		if in.dst != nil {
			copy(in.dst[in.got:], rec[recHdr:recHdr+n])
		}
		in.got += int64(n)
		in.r.advance(recLen(recHdr, n))
		if in.got == in.h.PayloadLen() {
			h, cookie := in.h, in.cookie
			in.pending, in.dst, in.cookie = false, nil, nil
			t.h.Complete(h, cookie, nil)
		}
	case recCMA:
		h := getHeader(rec, m)
		h.Source = p.world
		addr, size := getDesc(rec)
		in.r.advance(lineSize)
		dst, cookie := t.h.Arrive(h)
		var err error
		if dst != nil {
			err = pull(p.pid, dst[:size], addr)
		}
		// The sender may reuse its buffer now.
		atomic.AddUint64(in.r.pulls, 1)
		t.wakePeer(p)
		t.h.Complete(h, cookie, err)
	default:
		panic(fmt.Sprintf("shm: unknown record type %d from rank %d", metaType(m), p.world))
	}
}

// Send implements transport.Transport. It returns once payload may be reused: at once for
// frames that fit the ring, after the receiver's copy for Data frames it copies from this
// process's memory.
func (t *Transport) Send(world int, h transport.Header, payload []byte) error {
	p := t.peerOf(world)
	if p == nil {
		return fmt.Errorf("shm: rank %d is not on this host (rank %d's local ranks are %v)", world, t.cfg.Rank, t.cfg.Local)
	}
	if h.Offset != 0 {
		// Not a transport.Fragmenter: the engine sends whole payloads, and records have no
		// room for an offset.
		return fmt.Errorf("shm: Data fragment at offset %d: shared memory carries whole payloads", h.Offset)
	}
	if h.Kind == transport.Data && p.cma && len(payload) > 0 {
		return t.sendCMA(p, h, payload)
	}
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	if err := t.usable(p); err != nil {
		return err
	}
	n := min(len(payload), t.cfg.Chunk)
	size := recLen(frameHdr, n)
	var rec []byte
	var err error
	if h.Kind == transport.Fail {
		// Said by a rank about to end anyway, to a peer that may not be reading (a full
		// ring): it must not wait, and holding out.mu while waiting would block Abort.
		var ok bool
		if rec, ok = p.out.w.reserve(size); !ok {
			return fmt.Errorf("shm: no room for a Fail frame to rank %d", world)
		}
	} else if rec, err = t.reserve(p, size); err != nil {
		return err
	}
	putHeader(rec, &h)
	copy(rec[frameHdr:], payload[:n])
	p.out.w.publish(rec, size, meta(recFrame, h.Kind, h.Flags, n))
	t.wakePeer(p)
	for payload = payload[n:]; len(payload) > 0; payload = payload[n:] {
		n = min(len(payload), t.cfg.Chunk)
		size = recLen(recHdr, n)
		if rec, err = t.reserve(p, size); err != nil {
			return err
		}
		copy(rec[recHdr:], payload[:n])
		p.out.w.publish(rec, size, meta(recCont, 0, 0, n))
		t.wakePeer(p)
	}
	return nil
}

// sendCMA announces a Data payload that the receiver copies from this process's memory, and
// waits until it has.
func (t *Transport) sendCMA(p *peer, h transport.Header, payload []byte) error {
	p.out.mu.Lock()
	if err := t.usable(p); err != nil {
		p.out.mu.Unlock()
		return err
	}
	rec, err := t.reserve(p, lineSize)
	if err != nil {
		p.out.mu.Unlock()
		return err
	}
	putHeader(rec, &h)
	putDesc(rec, uintptr(unsafe.Pointer(&payload[0])), len(payload))
	p.out.w.publish(rec, lineSize, meta(recCMA, h.Kind, h.Flags, 16))
	p.out.sent++
	ticket := p.out.sent
	t.wakePeer(p)
	p.out.mu.Unlock()
	// Pulls are done in the order they were announced, so the count says when ours is.
	err = t.await(p, func() bool { return atomic.LoadUint64(p.out.w.pulls) >= ticket })
	runtime.KeepAlive(payload)
	return err
}

// usable reports why nothing more may be sent to p. Caller holds p.out.mu.
func (t *Transport) usable(p *peer) error {
	if p.out.bye {
		return errClosed
	}
	if p.gone.Load() {
		return p.err
	}
	return nil
}

// reserve returns room for a record of n bytes in the ring to p, waiting for the reader to
// free it if need be. Caller holds p.out.mu.
func (t *Transport) reserve(p *peer, n uint64) ([]byte, error) {
	if rec, ok := p.out.w.reserve(n); ok {
		return rec, nil
	}
	var rec []byte
	err := t.await(p, func() bool {
		var ok bool
		rec, ok = p.out.w.reserve(n)
		return ok
	})
	return rec, err
}

// await waits until ready returns true, the peer is gone or the transport closes: it spins
// per the wait policy (polling, so that two ranks filling each other's rings both make
// progress), then parks until poll or the peer's death wakes it.
func (t *Transport) await(p *peer, ready func() bool) error {
	// Counted, so that shutdown does not unmap the segment under ready.
	t.users.Add(1)
	defer t.users.Add(-1)
	ok := t.spin(func() bool { return t.closing.Load() || ready() })
	if !ok {
		defer t.Unpark()
	} else if !t.closing.Load() {
		return nil
	}
	p.out.parked.Add(1)
	t.parkedSenders.Add(1)
	atomic.StoreUint32(p.out.w.waiting, 1)
	defer func() {
		atomic.StoreUint32(p.out.w.waiting, 0)
		t.parkedSenders.Add(-1)
		p.out.parked.Add(-1)
	}()
	for {
		if t.closing.Load() {
			return errClosed
		}
		if ready() {
			return nil
		}
		if p.gone.Load() {
			return p.err
		}
		t.poll()
		if ready() {
			return nil
		}
		select {
		case <-p.out.wake:
		case <-p.goneCh:
		case <-t.done:
		}
	}
}

var errClosed = errors.New("shm: transport closed")

// wakePeer rings p's doorbell if no goroutine of p is polling.
func (t *Transport) wakePeer(p *peer) {
	if atomic.LoadUint32(p.sleeping) != 0 {
		ring(p.bell)
	}
}

// progress reads the rings whenever the doorbell rings: it stands in for the rank's waiting
// goroutines once they have parked.
func (t *Transport) progress() {
	defer t.wg.Done()
	var b [8]byte
	for {
		t.checkDeaths()
		t.beginPoll()
		for range 1000 {
			if !t.poll() {
				break
			}
			runtime.Gosched() // let the goroutines it completed run
		}
		t.endPoll()
		if _, err := t.bell.Read(b[:]); err != nil {
			return // closed
		}
	}
}

// watch waits for the socket to p to close, which happens when p ends, however it ends: then
// p's last frames are read, and unless one was its goodbye, p failed. Only the sockets of the
// setup's star are watched: the leader's to every rank, every other rank's to the leader.
func (t *Transport) watch(p *peer) {
	defer t.wg.Done()
	var b [1]byte
	_, err := p.conn.Read(b[:])
	if t.closing.Load() {
		return
	}
	if err == nil || err == io.EOF {
		err = errors.New("process ended without saying goodbye")
	}
	if !t.gone(p, err) && t.me == 0 {
		t.relay(p)
	}
}

// relay is the leader's word to the host that p died: it marks p dead in the segment and rings
// every other rank's doorbell, whose progress goroutine then sees the mark (checkDeaths).
func (t *Transport) relay(p *peer) {
	t.pollMu.Lock()
	defer t.pollMu.Unlock()
	if t.unmapped {
		return
	}
	atomic.StoreUint32(t.seg.dead(p.local), 1)
	atomic.AddUint32(t.seg.deaths(), 1)
	for _, q := range t.list {
		if q != p && !q.gone.Load() {
			ring(q.bell)
		}
	}
}

// checkDeaths looks for ranks the leader marked dead since it last looked, and ends them as
// watch does with a closed socket. The progress goroutine calls it whenever it wakes.
func (t *Transport) checkDeaths() {
	if t.me == 0 || t.closing.Load() {
		return
	}
	n := atomic.LoadUint32(t.seg.deaths())
	if n == t.deathsSeen {
		return
	}
	t.deathsSeen = n
	for _, p := range t.list {
		if p.conn == nil && !p.gone.Load() && atomic.LoadUint32(t.seg.dead(p.local)) != 0 {
			t.gone(p, fmt.Errorf("process ended without saying goodbye (rank %d, the first on this host, saw it end)", t.cfg.Local[0]))
		}
	}
}

// gone ends p after its process ended for the reason err: p's last frames are read, and
// unless one was its goodbye, every pending operation with p fails. It reports whether p
// had said goodbye.
func (t *Transport) gone(p *peer, err error) bool {
	if t.closing.Load() {
		return true
	}
	t.pollMu.Lock()
	graceful := p.in.bye
	if !t.unmapped {
		t.pollLocked()
		graceful = p.in.bye
		if p.in.pending {
			h, cookie := p.in.h, p.in.cookie
			p.in.pending, p.in.dst, p.in.cookie = false, nil, nil
			t.h.Complete(h, cookie, io.ErrUnexpectedEOF)
		}
	}
	if graceful {
		p.err = errors.New("shm: the rank left")
	} else {
		p.err = fmt.Errorf("shm: rank %d: %w", p.world, err)
	}
	p.gone.Store(true)
	close(p.goneCh)
	t.pollMu.Unlock()
	if !graceful {
		t.h.PeerFailed(p.world, false, err)
	}
	t.signalChanged()
	return graceful
}

func (t *Transport) signalChanged() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// Close implements transport.Transport: it says goodbye to every peer through its ring, waits
// (up to FinalizeTimeout) until every peer has said goodbye too or died, reading the rings
// meanwhile, then closes the sockets and unmaps the segment.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		for _, p := range t.list {
			p.out.mu.Lock()
			if t.usable(p) == nil {
				if rec, err := t.reserve(p, lineSize); err == nil {
					putHeader(rec, &transport.Header{Kind: transport.Bye})
					p.out.w.publish(rec, lineSize, meta(recFrame, transport.Bye, 0, 0))
					t.wakePeer(p)
				}
			}
			p.out.bye = true
			p.out.mu.Unlock()
		}
		deadline := time.NewTimer(t.cfg.FinalizeTimeout)
		defer deadline.Stop()
		for !t.allLeft() {
			if t.spin(t.allLeft) {
				break
			}
			select {
			case <-t.changed:
				t.Unpark()
			case <-deadline.C:
				t.Unpark()
				t.shutdown()
				return
			}
		}
		t.shutdown()
	})
	return nil
}

// allLeft reports whether every peer has said goodbye or died.
func (t *Transport) allLeft() bool {
	t.pollMu.Lock()
	defer t.pollMu.Unlock()
	for _, p := range t.list {
		if !p.in.bye && !p.gone.Load() {
			return false
		}
	}
	return true
}

// Abort drops the sockets at once without a goodbye, as a crashed process would: peers see
// this rank fail. Tests use it to simulate failures.
func (t *Transport) Abort() {
	t.closeOnce.Do(func() {
		for _, p := range t.list {
			p.out.mu.Lock()
			p.out.bye = true
			p.out.mu.Unlock()
		}
		t.shutdown()
	})
}

// shutdown closes the sockets and the doorbell, waits for the goroutines, and unmaps.
func (t *Transport) shutdown() {
	t.closing.Store(true)
	close(t.done)
	for _, p := range t.list {
		if p.conn != nil {
			p.conn.Close()
		}
	}
	if t.bell != nil {
		t.bell.Close()
	}
	t.wg.Wait()
	for t.users.Load() > 0 { // they see closing and return
		time.Sleep(100 * time.Microsecond)
	}
	t.pollMu.Lock()
	t.unmapped = true
	if t.seg != nil {
		t.seg.unmap()
	}
	t.pollMu.Unlock()
	for _, p := range t.list {
		unix.Close(p.bell)
	}
}

var (
	_ transport.Transport = (*Transport)(nil)
	_ transport.Poller    = (*Transport)(nil)
)
