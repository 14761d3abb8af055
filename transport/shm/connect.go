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
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/internal/peerauth"
)

// Setup is a star around the host's lowest rank, the leader, over Unix sockets in the abstract
// namespace (no file, nothing left behind). The leader publishes its socket's random name in the
// job's bootstrap store; every other rank of the host dials it, so a host of n ranks makes n-1
// connections, not n(n-1)/2, and only the leader holds more than one:
//
//  1. the rank dials the leader; both prove they know the job secret (package peerauth); a
//     connection that fails is logged and closed, and the job goes on;
//  2. each sends a hello (below) with its doorbell attached (SCM_RIGHTS); the leader also
//     attaches the segment, which is how the others get it;
//  3. once every rank is in, the leader sends each the table of the host's ranks (their pids
//     and probe words, as the leader's hellos said) with the doorbells of all ranks but itself
//     attached, in batches of at most tableFDs;
//  4. each rank tries to read every other's probe words with process_vm_readv (when Config.CMA),
//     sends the leader what it could read (one byte per local rank), and gets back which ranks
//     can read its own memory, so each knows how its large payloads will travel.
//
// The sockets then stay open, unused, until one side ends: the leader learns at once that a
// rank died when its socket closes, marks it dead in the segment and rings every other rank's
// doorbell (relay, shm.go); the others learn the leader's death from their own socket.
//
//	hello: magic "GSHM" u32, version u16, flags u16 (1: the segment is attached),
//	       local ranks u32, ring size u32, probe address u64, probe words 2×u64
//	table: per local rank: pid u32, probe address u64, probe words 2×u64; then batches of
//	       doorbells, each a u32 count with that many descriptors attached
//	reads: one byte per local rank: 1 where this rank could read that rank's memory
const (
	helloMagic   = 0x4d485347 // "GSHM"
	helloSize    = 40
	flagSegment  = 1
	protoVersion = 2
	tableEntry   = 28
	tableFDs     = 250 // doorbells per message: SCM_RIGHTS takes at most 253
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
	segFD  int // the segment's file: made here (leader) or received
	lay    layout
	ln     *net.UnixListener

	// What the leader's hello said (the others), or every rank's (the leader).
	info []probeInfo // by local index

	mu    sync.Mutex // guards found
	found map[int]*peer
}

// probeInfo is what a rank says of itself for the single-copy probe.
type probeInfo struct {
	pid   uint32
	addr  uint64
	words [2]uint64
}

func (s *setup) run() error {
	t, cfg := s.t, s.t.cfg
	s.segFD = -1
	s.lay = newLayout(len(cfg.Local), cfg.RingSize)
	s.info = make([]probeInfo, len(cfg.Local))
	allowPeers()
	bell, fd, err := newBell()
	if err != nil {
		return fmt.Errorf("shm: rank %d: %w", cfg.Rank, err)
	}
	t.bell, s.bellFD = bell, fd
	var pr [16]byte
	rand.Read(pr[:])
	t.probe = &[2]uint64{binary.LittleEndian.Uint64(pr[:]), binary.LittleEndian.Uint64(pr[8:])}
	s.info[t.me] = probeInfo{pid: uint32(os.Getpid()), addr: uint64(uintptr(unsafe.Pointer(&t.probe[0]))), words: *t.probe}
	if t.me == 0 {
		if err := s.lead(); err != nil {
			return err
		}
	} else if err := s.follow(); err != nil {
		return err
	}
	unix.Close(s.segFD)
	s.segFD = -1
	s.assemble()
	return nil
}

// lead is the leader's part: make the segment, accept every other rank of the host, then
// send each the table and settle who can read whom.
func (s *setup) lead() error {
	t, cfg := s.t, s.t.cfg
	seg, segFD, err := createSegment(s.lay)
	if err != nil {
		return fmt.Errorf("shm: rank %d: %w", cfg.Rank, err)
	}
	t.seg, s.segFD = seg, segFD
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
	want := map[int]bool{}
	for _, r := range cfg.Local[1:] {
		want[r] = true
	}
	all := make(chan struct{})
	go s.acceptLoop(want, all)
	select {
	case <-all:
	case <-s.ctx.Done():
		var missing []int
		s.mu.Lock()
		for _, r := range cfg.Local[1:] {
			if s.found[r] == nil {
				missing = append(missing, r)
			}
		}
		s.mu.Unlock()
		return fmt.Errorf("shm: rank %d: no connection from ranks %v on this host: %w", cfg.Rank, missing, s.ctx.Err())
	}
	s.ln.Close()

	// Steps 3 and 4, with every rank at once, within the setup's time.
	if dl, ok := s.ctx.Deadline(); ok {
		for _, r := range cfg.Local[1:] {
			c := s.found[r].conn
			c.SetDeadline(dl)
			defer c.SetDeadline(time.Time{})
		}
	}
	n := len(cfg.Local)
	table := make([]byte, n*tableEntry)
	bells := make([]int, n-1)
	for j, r := range cfg.Local {
		in := s.info[j]
		if j > 0 {
			p := s.found[r]
			in.pid = uint32(p.pid) // as the kernel told this rank
			bells[j-1] = p.bell
		}
		e := table[j*tableEntry:]
		binary.LittleEndian.PutUint32(e, in.pid)
		binary.LittleEndian.PutUint64(e[4:], in.addr)
		binary.LittleEndian.PutUint64(e[12:], in.words[0])
		binary.LittleEndian.PutUint64(e[20:], in.words[1])
	}
	reads := make([][]byte, n) // reads[i][j]: local rank i can read j's memory
	reads[0] = s.probeAll(table)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for j, r := range cfg.Local[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.found[r].conn
			if err := sendTable(c, table, bells); err != nil {
				errs[j+1] = fmt.Errorf("shm: rank %d: send the table to rank %d: %w", cfg.Rank, r, err)
				return
			}
			reads[j+1] = make([]byte, n)
			if _, err := io.ReadFull(c, reads[j+1]); err != nil {
				errs[j+1] = fmt.Errorf("shm: rank %d: read what rank %d could read: %w", cfg.Rank, r, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for j, r := range cfg.Local[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			col := make([]byte, n) // who can read local rank j+1
			for i := range n {
				col[i] = reads[i][j+1]
			}
			if _, err := s.found[r].conn.Write(col); err != nil {
				errs[j+1] = fmt.Errorf("shm: rank %d: tell rank %d who reads it: %w", cfg.Rank, r, err)
			}
		}()
	}
	wg.Wait()
	for j, r := range cfg.Local[1:] {
		s.found[r].cma = reads[j+1][0] == 1
	}
	return errors.Join(errs...)
}

// follow is the part of a rank other than the leader: dial it, get the segment and the table.
func (s *setup) follow() error {
	t, cfg := s.t, s.t.cfg
	leader := cfg.Local[0]
	name, err := cfg.Store.Get(s.ctx, sockKey(leader))
	if err != nil {
		return fmt.Errorf("shm: rank %d: look up the socket of rank %d, the first on this host: %w", cfg.Rank, leader, err)
	}
	var d net.Dialer
	nc, err := d.DialContext(s.ctx, "unix", string(name))
	if err != nil {
		return fmt.Errorf("shm: rank %d: connect to rank %d on this host: %w", cfg.Rank, leader, err)
	}
	c := nc.(*net.UnixConn)
	if err := peerauth.Dial(c, cfg.Secret, peerauth.JobID(cfg.JobID), cfg.Rank, leader, cfg.HandshakeTimeout); err != nil {
		c.Close()
		return fmt.Errorf("shm: rank %d: connect to rank %d on this host: %w", cfg.Rank, leader, err)
	}
	lp, err := s.exchange(c, leader)
	if err != nil {
		c.Close()
		return fmt.Errorf("shm: rank %d: set up with rank %d: %w", cfg.Rank, leader, err)
	}
	s.mu.Lock()
	s.found[leader] = lp
	s.mu.Unlock()
	if s.segFD < 0 {
		return fmt.Errorf("shm: rank %d: rank %d sent no segment", cfg.Rank, leader)
	}
	if t.seg, err = openSegment(s.segFD, s.lay); err != nil {
		return fmt.Errorf("shm: rank %d: %w", cfg.Rank, err)
	}
	if dl, ok := s.ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	n := len(cfg.Local)
	table := make([]byte, n*tableEntry)
	bells, err := recvTable(c, table, n-1)
	if err != nil {
		return fmt.Errorf("shm: rank %d: the table from rank %d: %w", cfg.Rank, leader, err)
	}
	binary.LittleEndian.PutUint32(table, uint32(lp.pid)) // the leader as the kernel told this rank
	for j, r := range cfg.Local[1:] {
		if j+1 == t.me {
			unix.Close(bells[j]) // this rank's own doorbell, back
			continue
		}
		s.found[r] = &peer{world: r, bell: bells[j], pid: int(binary.LittleEndian.Uint32(table[(j+1)*tableEntry:]))}
	}
	if _, err := c.Write(s.probeAll(table)); err != nil {
		return fmt.Errorf("shm: rank %d: tell rank %d what this rank could read: %w", cfg.Rank, leader, err)
	}
	col := make([]byte, n)
	if _, err := io.ReadFull(c, col); err != nil {
		return fmt.Errorf("shm: rank %d: read from rank %d who reads this rank: %w", cfg.Rank, leader, err)
	}
	for j, r := range cfg.Local {
		if j != t.me {
			s.found[r].cma = col[j] == 1
		}
	}
	return nil
}

// probeAll tries, when Config.CMA, to read every other local rank's probe words as table
// gives them, and returns one byte per local rank: 1 where it could.
func (s *setup) probeAll(table []byte) []byte {
	t := s.t
	out := make([]byte, len(t.cfg.Local))
	if !t.cfg.CMA {
		return out
	}
	for j := range out {
		if j == t.me {
			continue
		}
		e := table[j*tableEntry:]
		pid := int(binary.LittleEndian.Uint32(e))
		addr := uintptr(binary.LittleEndian.Uint64(e[4:]))
		if probeRead(pid, addr, [2]uint64{binary.LittleEndian.Uint64(e[12:]), binary.LittleEndian.Uint64(e[20:])}) == nil {
			out[j] = 1
		}
	}
	return out
}

// sendTable sends the table, then the doorbells in batches of at most tableFDs.
func sendTable(c *net.UnixConn, table []byte, bells []int) error {
	if _, err := c.Write(table); err != nil {
		return err
	}
	for len(bells) > 0 {
		k := min(len(bells), tableFDs)
		var cnt [4]byte
		binary.LittleEndian.PutUint32(cnt[:], uint32(k))
		if _, _, err := c.WriteMsgUnix(cnt[:], unix.UnixRights(bells[:k]...), nil); err != nil {
			return err
		}
		bells = bells[k:]
	}
	return nil
}

// recvTable reads the table into table and then want doorbells. Every read asks for exactly
// the bytes of one message, so that no read runs into the next batch and its descriptors.
func recvTable(c *net.UnixConn, table []byte, want int) ([]int, error) {
	if _, err := io.ReadFull(c, table); err != nil {
		return nil, err
	}
	var fds []int
	fail := func(err error) ([]int, error) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, err
	}
	oob := make([]byte, unix.CmsgSpace(tableFDs*4))
	for len(fds) < want {
		var cnt [4]byte
		n, oobn, mflags, _, err := c.ReadMsgUnix(cnt[:], oob)
		if err != nil {
			return fail(err)
		}
		got, err := takeFDs(oob[:oobn], mflags)
		fds = append(fds, got...)
		if err != nil {
			return fail(err)
		}
		if n < len(cnt) {
			if _, err := io.ReadFull(c, cnt[n:]); err != nil {
				return fail(err)
			}
		}
		if k := int(binary.LittleEndian.Uint32(cnt[:])); k != len(got) || len(fds) > want {
			return fail(fmt.Errorf("a batch of %d doorbells came with %d descriptors (%d of %d so far)", k, len(got), len(fds), want))
		}
	}
	return fds, nil
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
		if p.conn != nil {
			p.conn.Close()
		}
		if p.bell >= 0 {
			unix.Close(p.bell)
		}
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

// acceptLoop accepts the other local ranks until all have connected (then it closes all) or
// the listener closes. Connections that fail the handshake are logged and closed.
func (s *setup) acceptLoop(want map[int]bool, all chan struct{}) {
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
			if len(s.found) == len(want) {
				close(all)
			}
			s.mu.Unlock()
		}()
	}
}

// exchange runs step 2 of the setup with world rank r on c, after the handshake.
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

	if t.me == 0 {
		s.mu.Lock()
		s.info[slices.Index(cfg.Local, r)] = probeInfo{pid: uint32(p.pid), addr: binary.LittleEndian.Uint64(in[16:]),
			words: [2]uint64{binary.LittleEndian.Uint64(in[24:]), binary.LittleEndian.Uint64(in[32:])}}
		s.mu.Unlock()
	}
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
