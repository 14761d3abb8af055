package shm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/internal/peerauth"
)

// Setup, per pair of ranks on a host, over a Unix socket in the abstract namespace (no file,
// nothing left behind) whose random name each rank publishes in the job's bootstrap store:
//
//  1. the higher rank dials the lower; both prove they know the job secret (package peerauth);
//     a connection that fails is logged and closed, and the job goes on;
//  2. each sends a hello (below) with its doorbell attached (SCM_RIGHTS); the host's lowest
//     rank also attaches the segment, which is how the others get it;
//  3. each tries to read the other's probe words with process_vm_readv and says whether it
//     could (one byte), so each knows how its large payloads will travel.
//
// The socket then stays open, unused, until one side ends: its closing is how the other
// learns, at once, that a peer died.
//
//	hello: magic "GSHM" u32, version u16, flags u16 (1: the segment is attached),
//	       local ranks u32, ring size u32, probe address u64, probe words 2×u64
const (
	helloMagic   = 0x4d485347 // "GSHM"
	helloSize    = 40
	flagSegment  = 1
	protoVersion = 1
)

func sockKey(rank int) string { return "gompi/shm/" + strconv.Itoa(rank) }

// New connects this rank to the other ranks of its host (cfg.Local) and maps the host's
// segment; the lowest local rank makes it. It returns when every local peer is connected, or
// with an error naming the ranks it could not reach.
func New(ctx context.Context, cfg Config) (*Transport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, peers: make([]*peer, cfg.Size), changed: make(chan struct{}, 1), done: make(chan struct{})}
	for i, r := range cfg.Local {
		if r == cfg.Rank {
			t.me = i
		}
	}
	if len(cfg.Local) == 1 {
		return t, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	s := &setup{t: t, ctx: ctx, found: map[int]*peer{}}
	if err := s.run(); err != nil {
		s.undo()
		return nil, err
	}
	return t, nil
}

// setup is the state of New.
type setup struct {
	t      *Transport
	ctx    context.Context
	bellFD int
	segFD  int // the segment's file: made here (lowest rank) or received
	lay    layout
	ln     *net.UnixListener

	mu    sync.Mutex // guards found
	found map[int]*peer
}

func (s *setup) run() error {
	t, cfg := s.t, s.t.cfg
	s.segFD = -1
	s.lay = newLayout(len(cfg.Local), cfg.RingSize)
	allowPeers()
	bell, fd, err := newBell()
	if err != nil {
		return fmt.Errorf("shm: rank %d: %w", cfg.Rank, err)
	}
	t.bell, s.bellFD = bell, fd
	var pr [16]byte
	rand.Read(pr[:])
	t.probe = &[2]uint64{binary.LittleEndian.Uint64(pr[:]), binary.LittleEndian.Uint64(pr[8:])}
	if t.me == 0 {
		seg, segFD, err := createSegment(s.lay)
		if err != nil {
			return fmt.Errorf("shm: rank %d: %w", cfg.Rank, err)
		}
		t.seg, s.segFD = seg, segFD
	}

	var name [12]byte
	rand.Read(name[:])
	addr := &net.UnixAddr{Name: "@gompi-" + hex.EncodeToString(name[:]), Net: "unix"}
	if s.ln, err = net.ListenUnix("unix", addr); err != nil {
		return fmt.Errorf("shm: rank %d: listen on a Unix socket: %w", cfg.Rank, err)
	}
	defer s.ln.Close()
	if err := cfg.Store.Set(s.ctx, sockKey(cfg.Rank), []byte(addr.Name)); err != nil {
		return fmt.Errorf("shm: rank %d: publish the socket's name: %w", cfg.Rank, err)
	}

	higher := map[int]bool{}
	errs := make(chan error, len(cfg.Local))
	for _, r := range cfg.Local {
		if r > cfg.Rank {
			higher[r] = true
		} else if r < cfg.Rank {
			go func() { errs <- s.dial(r) }()
		}
	}
	go s.acceptLoop(higher)
	var all []error
	for range t.me {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	// The accepted ones: wait until all are in or the time is up.
	for {
		s.mu.Lock()
		n := len(s.found)
		s.mu.Unlock()
		if n == len(cfg.Local)-1 || len(all) > 0 {
			break
		}
		select {
		case <-s.ctx.Done():
			var missing []int
			s.mu.Lock()
			for _, r := range cfg.Local {
				if r != cfg.Rank && s.found[r] == nil {
					missing = append(missing, r)
				}
			}
			s.mu.Unlock()
			all = append(all, fmt.Errorf("shm: rank %d: no connection from ranks %v on this host: %w", cfg.Rank, missing, s.ctx.Err()))
		case <-time.After(time.Millisecond):
		}
	}
	s.ln.Close()
	if len(all) > 0 {
		return errors.Join(all...)
	}
	if t.me != 0 {
		if s.segFD < 0 {
			return fmt.Errorf("shm: rank %d: rank %d sent no segment", cfg.Rank, cfg.Local[0])
		}
		if t.seg, err = openSegment(s.segFD, s.lay); err != nil {
			return fmt.Errorf("shm: rank %d: %w", cfg.Rank, err)
		}
	}
	unix.Close(s.segFD)
	s.segFD = -1
	s.assemble()
	return nil
}

// assemble wires the peers to their rings in the segment.
func (s *setup) assemble() {
	t := s.t
	s.mu.Lock()
	defer s.mu.Unlock()
	t.sleeping = t.seg.sleeping(t.me)
	atomic.StoreUint32(t.sleeping, 1)
	for j, r := range t.cfg.Local {
		if j == t.me {
			continue
		}
		p := s.found[r]
		p.local = j
		p.sleeping = t.seg.sleeping(j)
		w, data := t.seg.ringAt(s.lay.ring(t.me, j))
		p.out.w = newWriter(w, data)
		w, data = t.seg.ringAt(s.lay.ring(j, t.me))
		p.in.r = newReader(w, data)
		p.out.wake = make(chan struct{}, 1)
		p.goneCh = make(chan struct{})
		t.peers[r] = p
		t.list = append(t.list, p)
	}
}

// undo releases what a failed setup made.
func (s *setup) undo() {
	t := s.t
	s.mu.Lock()
	for _, p := range s.found {
		p.conn.Close()
		unix.Close(p.bell)
	}
	s.found = map[int]*peer{}
	s.mu.Unlock()
	if s.segFD >= 0 {
		unix.Close(s.segFD)
	}
	if t.seg != nil {
		t.seg.unmap()
	}
	if t.bell != nil {
		t.bell.Close()
	}
}

func (s *setup) dial(r int) error {
	cfg := s.t.cfg
	name, err := cfg.Store.Get(s.ctx, sockKey(r))
	if err != nil {
		return fmt.Errorf("shm: rank %d: look up rank %d: %w", cfg.Rank, r, err)
	}
	var d net.Dialer
	nc, err := d.DialContext(s.ctx, "unix", string(name))
	if err != nil {
		return fmt.Errorf("shm: rank %d: connect to rank %d on this host: %w", cfg.Rank, r, err)
	}
	c := nc.(*net.UnixConn)
	if err := peerauth.Dial(c, cfg.Secret, peerauth.JobID(cfg.JobID), cfg.Rank, r, cfg.HandshakeTimeout); err != nil {
		c.Close()
		return fmt.Errorf("shm: rank %d: connect to rank %d on this host: %w", cfg.Rank, r, err)
	}
	p, err := s.exchange(c, r)
	if err != nil {
		c.Close()
		return fmt.Errorf("shm: rank %d: set up with rank %d: %w", cfg.Rank, r, err)
	}
	s.mu.Lock()
	s.found[r] = p
	s.mu.Unlock()
	return nil
}

// acceptLoop accepts the higher local ranks until all have connected or the listener closes.
// Connections that fail the handshake are logged and closed.
func (s *setup) acceptLoop(want map[int]bool) {
	cfg := s.t.cfg
	claimed := map[int]bool{}
	var mu sync.Mutex
	for {
		nc, err := s.ln.AcceptUnix()
		if err != nil {
			return // closed: New has all it needs, or gave up
		}
		go func() {
			c := nc
			from, err := peerauth.Accept(c, cfg.Secret, peerauth.JobID(cfg.JobID), cfg.Rank, cfg.Size, cfg.HandshakeTimeout)
			if err == nil {
				mu.Lock()
				switch {
				case !want[from]:
					err = fmt.Errorf("%w: rank %d is not on this host", peerauth.ErrRefused, from)
				case claimed[from]:
					err = fmt.Errorf("%w: rank %d is already connected", peerauth.ErrRefused, from)
				default:
					claimed[from] = true
				}
				mu.Unlock()
			}
			var p *peer
			if err == nil {
				p, err = s.exchange(c, from)
			}
			if err != nil {
				cfg.Logf("refused a connection to its shared-memory socket: %v", err)
				c.Close()
				return
			}
			s.mu.Lock()
			s.found[from] = p
			s.mu.Unlock()
		}()
	}
}

// exchange runs steps 2 and 3 of the setup with world rank r on c, after the handshake.
func (s *setup) exchange(c *net.UnixConn, r int) (*peer, error) {
	t, cfg := s.t, s.t.cfg
	if dl, ok := s.ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	p := &peer{world: r, conn: c, bell: -1}
	cred, err := peerCred(c)
	if err != nil {
		return nil, err
	}
	p.pid = int(cred.Pid)

	var hello [helloSize]byte
	fds := []int{s.bellFD}
	flags := uint16(0)
	if t.me == 0 {
		fds = append(fds, s.segFD)
		flags = flagSegment
	}
	binary.LittleEndian.PutUint32(hello[0:], helloMagic)
	binary.LittleEndian.PutUint16(hello[4:], protoVersion)
	binary.LittleEndian.PutUint16(hello[6:], flags)
	binary.LittleEndian.PutUint32(hello[8:], uint32(len(cfg.Local)))
	binary.LittleEndian.PutUint32(hello[12:], uint32(cfg.RingSize))
	binary.LittleEndian.PutUint64(hello[16:], uint64(uintptr(unsafe.Pointer(&t.probe[0]))))
	binary.LittleEndian.PutUint64(hello[24:], t.probe[0])
	binary.LittleEndian.PutUint64(hello[32:], t.probe[1])
	if _, _, err := c.WriteMsgUnix(hello[:], unix.UnixRights(fds...), nil); err != nil {
		return nil, err
	}

	var in [helloSize]byte
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, mflags, _, err := c.ReadMsgUnix(in[:], oob)
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	got, err := takeFDs(oob[:oobn], mflags)
	if err != nil {
		return nil, err
	}
	closeAll := func() {
		for _, fd := range got {
			unix.Close(fd)
		}
	}
	if n < helloSize {
		if _, err := io.ReadFull(c, in[n:]); err != nil {
			closeAll()
			return nil, fmt.Errorf("read hello: %w", err)
		}
	}
	pf := binary.LittleEndian.Uint16(in[6:])
	wantFDs := 1
	if pf&flagSegment != 0 {
		wantFDs = 2
	}
	switch {
	case binary.LittleEndian.Uint32(in[0:]) != helloMagic || binary.LittleEndian.Uint16(in[4:]) != protoVersion:
		closeAll()
		return nil, errors.New("not a gompi shared-memory hello of this version")
	case int(binary.LittleEndian.Uint32(in[8:])) != len(cfg.Local) || int(binary.LittleEndian.Uint32(in[12:])) != cfg.RingSize:
		closeAll()
		return nil, fmt.Errorf("rank %d has %d local ranks and %d-byte rings, this rank %d and %d",
			r, binary.LittleEndian.Uint32(in[8:]), binary.LittleEndian.Uint32(in[12:]), len(cfg.Local), cfg.RingSize)
	case len(got) != wantFDs || (pf&flagSegment != 0) != (r == cfg.Local[0]):
		closeAll()
		return nil, fmt.Errorf("rank %d sent %d descriptors (segment flag %v)", r, len(got), pf&flagSegment != 0)
	}
	p.bell = got[0]
	if wantFDs == 2 {
		s.segFD = got[1]
	}

	// Step 3: can each read the other's memory?
	var res [1]byte
	if cfg.CMA {
		addr := uintptr(binary.LittleEndian.Uint64(in[16:]))
		if probeRead(p.pid, addr, [2]uint64{binary.LittleEndian.Uint64(in[24:]), binary.LittleEndian.Uint64(in[32:])}) == nil {
			res[0] = 1
		}
	}
	if _, err := c.Write(res[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(c, res[:]); err != nil {
		return nil, fmt.Errorf("read the probe's result: %w", err)
	}
	p.cma = res[0] == 1
	return p, nil
}

// takeFDs returns the descriptors passed with a message.
func takeFDs(oob []byte, flags int) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("hello's descriptors: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			fds = append(fds, got...)
		}
	}
	if flags&unix.MSG_CTRUNC != 0 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("hello carried more descriptors than expected")
	}
	return fds, nil
}

// peerCred returns the credentials of the process at the other end of c, as the kernel saw
// them when it connected (its PID as this process's PID namespace numbers it).
func peerCred(c *net.UnixConn) (*unix.Ucred, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	return cred, nil
}
