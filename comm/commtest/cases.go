package commtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gompi/gompi/comm"
)

// Cases returns the conformance cases.
func Cases() []Case {
	return []Case{
		{Name: "Order", MinSize: 2, Run: order},
		{Name: "OrderMixedProtocols", MinSize: 2, Run: orderMixed},
		{Name: "Wildcards", MinSize: 1, Run: wildcards},
		{Name: "ConcurrentGoroutines", MinSize: 2, Run: concurrent},
		{Name: "Truncation", MinSize: 1, Run: truncation},
		{Name: "SelfSend", MinSize: 1, Run: selfSend},
		{Name: "ZeroLength", MinSize: 1, Run: zeroLength},
		{Name: "Large64MiB", MinSize: 2, Large: true, Run: large},
		{Name: "InvalidArguments", MinSize: 1, Run: invalidArgs},
		{Name: "ProbeThenRecv", MinSize: 2, Run: probeThenRecv},
		{Name: "RecvContextCancel", MinSize: 2, Run: recvCancel},
		{Name: "Values", MinSize: 2, Large: true, Run: values},
		{Name: "ValuesConcurrent", MinSize: 2, Large: true, Run: valuesConcurrent},
		{Name: "ValuesWrongType", MinSize: 2, Run: valuesWrongType},
		{Name: "ValuesLarge32MiB", MinSize: 2, Large: true, Run: valuesLarge},
		{Name: "Nonblocking", MinSize: 1, Run: nonblocking},
		{Name: "Sendrecv", MinSize: 1, Run: sendrecvRing},
		{Name: "SplitDup", MinSize: 1, Run: splitDup},
	}
}

// barrier is a simple linear barrier for the suite itself (it must not depend on collectives).
func barrier(c *comm.Comm, tag int) error {
	if c.Rank() == 0 {
		for r := 1; r < c.Size(); r++ {
			if _, err := comm.Recv(c, []byte(nil), r, tag); err != nil {
				return err
			}
		}
		for r := 1; r < c.Size(); r++ {
			if err := comm.Send(c, []byte(nil), r, tag); err != nil {
				return err
			}
		}
		return nil
	}
	if err := comm.Send(c, []byte(nil), 0, tag); err != nil {
		return err
	}
	_, err := comm.Recv(c, []byte(nil), 0, tag)
	return err
}

// order: 10,000 messages from rank 0 to rank 1 arrive in send order.
func order(c *comm.Comm) error {
	const n = 10000
	switch c.Rank() {
	case 0:
		for i := range n {
			if err := comm.Send(c, []int64{int64(i), int64(i) * 3}, 1, 5); err != nil {
				return err
			}
		}
	case 1:
		buf := make([]int64, 2)
		for i := range n {
			st, err := comm.Recv(c, buf, 0, 5)
			if err != nil {
				return err
			}
			if buf[0] != int64(i) || buf[1] != int64(i)*3 || st.Source != 0 || st.Tag != 5 || comm.Count[int64](st) != 2 {
				return fmt.Errorf("message %d: got %v, status %+v", i, buf, st)
			}
		}
	}
	return nil
}

// orderMixed: small (eager) and large (rendezvous) messages, sent nonblocking and interleaved,
// still match in send order, also when received with AnyTag and AnySource.
func orderMixed(c *comm.Comm) error {
	const n = 40
	size := func(i int) int {
		if i%3 == 0 {
			return 50000 // 400 KB: rendezvous on every transport
		}
		return 1 + i
	}
	switch c.Rank() {
	case 0:
		reqs := make([]*comm.Request, n)
		for i := range n {
			buf := make([]float64, size(i))
			for j := range buf {
				buf[j] = float64(i)
			}
			r, err := comm.Isend(c, buf, 1, 9)
			if err != nil {
				return err
			}
			reqs[i] = r
		}
		_, err := comm.WaitAll(reqs...)
		return err
	case 1:
		for i := range n {
			buf := make([]float64, 50000)
			source, tag := 0, 9
			if i%2 == 1 {
				source, tag = comm.AnySource, comm.AnyTag
			}
			st, err := comm.Recv(c, buf, source, tag)
			if err != nil {
				return err
			}
			if got := comm.Count[float64](st); got != size(i) || buf[0] != float64(i) || buf[got-1] != float64(i) {
				return fmt.Errorf("message %d: %d elements starting %v, want %d elements of %d", i, got, buf[0], size(i), i)
			}
		}
	}
	return nil
}

// wildcards: every rank sends to rank 0 with tag 100+rank; rank 0 receives them all with
// AnySource/AnyTag and then with AnySource and a given tag.
func wildcards(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	for round := range 2 {
		if round == 1 {
			// Round 0 takes anything: nobody may send round 1 before rank 0 is done with it,
			// and rank 0 says so with messages only it sends.
			if me == 0 {
				for r := 1; r < p; r++ {
					if err := comm.Send(c, []byte(nil), r, 9999); err != nil {
						return err
					}
				}
			} else if _, err := comm.Recv(c, []byte(nil), 0, 9999); err != nil {
				return err
			}
		}
		if err := comm.Send(c, []int32{int32(me), int32(round)}, 0, 100+me); err != nil {
			return err
		}
		if me != 0 {
			continue
		}
		seen := make([]bool, p)
		for i := range p {
			buf := make([]int32, 2)
			source, tag := comm.AnySource, comm.AnyTag
			if round == 1 {
				tag = 100 + i
			}
			st, err := comm.Recv(c, buf, source, tag)
			if err != nil {
				return err
			}
			if st.Tag != 100+st.Source || int(buf[0]) != st.Source || buf[1] != int32(round) || seen[st.Source] {
				return fmt.Errorf("round %d: status %+v with data %v (seen before: %v)", round, st, buf, seen[st.Source])
			}
			if round == 1 && st.Source != i {
				return fmt.Errorf("AnySource with tag %d matched rank %d", tag, st.Source)
			}
			seen[st.Source] = true
		}
	}
	return nil
}

// concurrent: every rank sends to every rank from 4 goroutines at once and receives with 4
// goroutines (one per tag, AnySource); per sender and tag, messages arrive in order.
func concurrent(c *comm.Comm) error {
	const goroutines, perStream = 4, 300
	me, p := c.Rank(), c.Size()
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for g := range goroutines {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range perStream {
				for d := range p {
					msg := []int64{int64(me), int64(g), int64(i)}
					if err := comm.Send(c, msg, d, g); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			next := make([]int64, p)
			buf := make([]int64, 3)
			for range perStream * p {
				st, err := comm.Recv(c, buf, comm.AnySource, g)
				if err != nil {
					errs <- err
					return
				}
				if buf[0] != int64(st.Source) || buf[1] != int64(g) || buf[2] != next[st.Source] {
					errs <- fmt.Errorf("tag %d from rank %d: got %v, want sequence %d", g, st.Source, buf, next[st.Source])
					return
				}
				next[st.Source]++
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// truncation: a message longer than the buffer is an error naming source, tag and both sizes,
// for eager and rendezvous messages, and the next message still arrives.
func truncation(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	dest, src := (me+1)%p, (me-1+p)%p
	for _, n := range []int{4096, 1 << 20} {
		req, err := comm.Isend(c, make([]byte, n), dest, 7)
		if err != nil {
			return err
		}
		_, rerr := comm.Recv(c, make([]byte, 1024), src, 7)
		if !errors.Is(rerr, comm.ErrTruncated) {
			return fmt.Errorf("%d bytes into 1024: got error %v, want ErrTruncated", n, rerr)
		}
		msg := rerr.Error()
		for _, want := range []string{fmt.Sprintf("rank %d", src), "tag 7", fmt.Sprint(n), "1024"} {
			if !strings.Contains(msg, want) {
				return fmt.Errorf("truncation error %q does not mention %q", msg, want)
			}
		}
		if _, err := req.Wait(); err != nil {
			return fmt.Errorf("sender of a truncated message: %w", err)
		}
		if err := comm.Send(c, []int16{int16(me)}, dest, 8); err != nil {
			return err
		}
		got := []int16{-1}
		if _, err := comm.Recv(c, got, src, 8); err != nil || got[0] != int16(src) {
			return fmt.Errorf("message after a truncation: %v, err %v", got, err)
		}
	}
	return nil
}

// selfSend: blocking and nonblocking sends to oneself, small and large.
func selfSend(c *comm.Comm) error {
	me := c.Rank()
	for _, n := range []int{1, 1000, 300000} {
		out := make([]uint32, n)
		for i := range out {
			out[i] = uint32(i*7 + me)
		}
		if err := comm.Send(c, out, me, 3); err != nil {
			return err
		}
		in := make([]uint32, n)
		st, err := comm.Recv(c, in, me, 3)
		if err != nil {
			return err
		}
		if st.Source != me || comm.Count[uint32](st) != n || in[n-1] != out[n-1] || in[0] != out[0] {
			return fmt.Errorf("self-send of %d: status %+v", n, st)
		}
		rr, err := comm.Irecv(c, in, me, 4)
		if err != nil {
			return err
		}
		sr, err := comm.Isend(c, out, me, 4)
		if err != nil {
			return err
		}
		if _, err := comm.WaitAll(sr, rr); err != nil {
			return err
		}
		for i := range in {
			if in[i] != out[i] {
				return fmt.Errorf("self Isend/Irecv of %d: [%d] = %d, want %d", n, i, in[i], out[i])
			}
		}
	}
	return nil
}

// zeroLength: empty messages match, with Bytes 0, into empty and non-empty buffers.
func zeroLength(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	dest, src := (me+1)%p, (me-1+p)%p
	if err := comm.Send(c, []float64{}, dest, 0); err != nil {
		return err
	}
	if err := comm.Send(c, []float64(nil), dest, 1); err != nil {
		return err
	}
	st, err := comm.Recv(c, []float64(nil), src, 0)
	if err != nil || st.Bytes != 0 || st.Source != src {
		return fmt.Errorf("zero-length into nil: %+v, %v", st, err)
	}
	st, err = comm.Recv(c, make([]float64, 5), src, 1)
	if err != nil || st.Bytes != 0 || comm.Count[float64](st) != 0 {
		return fmt.Errorf("zero-length into 5 elements: %+v, %v", st, err)
	}
	return nil
}

// large: 64 MiB from rank 0 to rank 1 and back.
func large(c *comm.Comm) error {
	const n = 8 << 20 // float64s
	if c.Rank() > 1 {
		return nil
	}
	buf := make([]float64, n)
	if c.Rank() == 0 {
		for i := range buf {
			buf[i] = float64(i) * 0.5
		}
		if err := comm.Send(c, buf, 1, 1); err != nil {
			return err
		}
		back := make([]float64, n)
		if _, err := comm.Recv(c, back, 1, 2); err != nil {
			return err
		}
		for i := range back {
			if back[i] != float64(i)*0.5+1 {
				return fmt.Errorf("64 MiB echo: [%d] = %v, want %v", i, back[i], float64(i)*0.5+1)
			}
		}
		return nil
	}
	st, err := comm.Recv(c, buf, 0, 1)
	if err != nil {
		return err
	}
	if st.Bytes != n*8 {
		return fmt.Errorf("64 MiB: got %d bytes", st.Bytes)
	}
	for i := range buf {
		if buf[i] != float64(i)*0.5 {
			return fmt.Errorf("64 MiB: [%d] = %v", i, buf[i])
		}
		buf[i]++
	}
	return comm.Send(c, buf, 0, 2)
}

// invalidArgs: bad ranks and tags give errors, never panics or hangs.
func invalidArgs(c *comm.Comm) error {
	p := c.Size()
	checks := []struct {
		what string
		err  error
		want error
	}{
		{"Send to rank Size", comm.Send(c, []int{1}, p, 0), comm.ErrInvalidRank},
		{"Send to rank -3", comm.Send(c, []int{1}, -3, 0), comm.ErrInvalidRank},
		{"Send to AnySource", comm.Send(c, []int{1}, comm.AnySource, 0), comm.ErrInvalidRank},
		{"Send with tag -5", comm.Send(c, []int{1}, 0, -5), comm.ErrInvalidTag},
		{"Send with AnyTag", comm.Send(c, []int{1}, 0, comm.AnyTag), comm.ErrInvalidTag},
		{"Send with tag MaxTag+1", comm.Send(c, []int{1}, 0, comm.MaxTag+1), comm.ErrInvalidTag},
		{"SendValue to rank Size", c.SendValue("x", p, 0), comm.ErrInvalidRank},
	}
	_, err := comm.Recv(c, []int{0}, p+1, 0)
	checks = append(checks, struct {
		what string
		err  error
		want error
	}{"Recv from rank Size+1", err, comm.ErrInvalidRank})
	_, err = comm.Recv(c, []int{0}, 0, -7)
	checks = append(checks, struct {
		what string
		err  error
		want error
	}{"Recv with tag -7", err, comm.ErrInvalidTag})
	_, err = c.Probe(-9, 0)
	checks = append(checks, struct {
		what string
		err  error
		want error
	}{"Probe from rank -9", err, comm.ErrInvalidRank})
	_, err = comm.Isend(c, []int{0}, p, 0)
	checks = append(checks, struct {
		what string
		err  error
		want error
	}{"Isend to rank Size", err, comm.ErrInvalidRank})
	for _, ch := range checks {
		if !errors.Is(ch.err, ch.want) {
			return fmt.Errorf("%s: got %v, want an error wrapping %v", ch.what, ch.err, ch.want)
		}
	}
	return nil
}

// probeThenRecv: Probe reports the size of a message nobody told the receiver about; a buffer
// sized from the status receives it. Iprobe finds it too.
func probeThenRecv(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	dest, src := (me+1)%p, (me-1+p)%p
	n := 17 + 1000*me // differs per sender; one of them is rendezvous-sized on small eager limits
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(me*100000 + i)
	}
	req, err := comm.Isend(c, out, dest, 21)
	if err != nil {
		return err
	}
	st, err := c.Probe(comm.AnySource, comm.AnyTag)
	if err != nil {
		return err
	}
	if st.Source != src || st.Tag != 21 {
		return fmt.Errorf("Probe: status %+v, want source %d tag 21", st, src)
	}
	if st2, ok, err := c.Iprobe(src, 21); err != nil || !ok || st2 != st {
		return fmt.Errorf("Iprobe after Probe: %+v %v %v, want %+v", st2, ok, err, st)
	}
	in := make([]int32, comm.Count[int32](st))
	if _, err := comm.Recv(c, in, st.Source, st.Tag); err != nil {
		return err
	}
	if len(in) != 17+1000*src || in[len(in)-1] != int32(src*100000+len(in)-1) {
		return fmt.Errorf("received %d elements ending %d", len(in), in[len(in)-1])
	}
	_, err = req.Wait()
	return err
}

// recvCancel: a blocking receive whose context ends returns the context's error and consumes
// nothing: a message sent afterwards is received by the next receive.
func recvCancel(c *comm.Comm) error {
	if c.Rank() > 1 {
		return nil
	}
	if c.Rank() == 1 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		buf := []int{0}
		_, err := comm.RecvContext(ctx, c, buf, 0, 99)
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("RecvContext with nothing to receive: got %v, want DeadlineExceeded", err)
		}
		pctx, pcancel := context.WithCancel(context.Background())
		pcancel()
		if _, err := c.ProbeContext(pctx, 0, 99); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("ProbeContext with a cancelled context: got %v, want Canceled", err)
		}
		if err := comm.Send(c, []int{1}, 0, 98); err != nil { // tell rank 0 to go on
			return err
		}
		if _, err := comm.Recv(c, buf, 0, 99); err != nil || buf[0] != 42 {
			return fmt.Errorf("receive after cancel: %v, %v", buf, err)
		}
		return nil
	}
	if _, err := comm.Recv(c, []int{0}, 1, 98); err != nil {
		return err
	}
	return comm.Send(c, []int{42}, 1, 99)
}

// nonblocking: Irecv posted before the matching send, Test, WaitAny and WaitAll.
func nonblocking(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	dest, src := (me+1)%p, (me-1+p)%p
	small := make([]int64, 3)
	big := make([]int64, 40000)
	r1, err := comm.Irecv(c, small, src, 31)
	if err != nil {
		return err
	}
	r2, err := comm.Irecv(c, big, src, 32)
	if err != nil {
		return err
	}
	if _, done, _ := r1.Test(); done && p > 1 {
		// Possible only if the peer already sent; not an error, but must be consistent.
		if _, done2, _ := r1.Test(); !done2 {
			return errors.New("Test reported completion, then not")
		}
	}
	bigOut := make([]int64, 40000)
	for i := range bigOut {
		bigOut[i] = int64(me + i)
	}
	s2, err := comm.Isend(c, bigOut, dest, 32)
	if err != nil {
		return err
	}
	s1, err := comm.Isend(c, []int64{int64(me), 2, 3}, dest, 31)
	if err != nil {
		return err
	}
	i, st, err := comm.WaitAny(r1, r2)
	if err != nil || (i != 0 && i != 1) {
		return fmt.Errorf("WaitAny: %d %+v %v", i, st, err)
	}
	if _, err := comm.WaitAll(r1, r2, s1, s2, nil); err != nil {
		return err
	}
	if small[0] != int64(src) || big[39999] != int64(src+39999) {
		return fmt.Errorf("nonblocking data: %v, %d", small, big[39999])
	}
	if _, done, err := r2.Test(); !done || err != nil {
		return fmt.Errorf("Test after WaitAll: %v %v", done, err)
	}
	return nil
}

// sendrecvRing: every rank passes a value around the ring with Sendrecv.
func sendrecvRing(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	val := []int{me}
	for step := range p {
		in := []int{-1}
		st, err := comm.Sendrecv(c, val, (me+1)%p, 50, in, (me-1+p)%p, 50)
		if err != nil {
			return err
		}
		if want := ((me-step-1)%p + p) % p; in[0] != want || st.Source != (me-1+p)%p {
			return fmt.Errorf("ring step %d: got %d, want %d", step, in[0], want)
		}
		val = in
	}
	return nil
}

// splitDup: Split by a color with keys that reverse the order, Undefined, and Dup isolation.
func splitDup(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	color := me % 3
	if me == p-1 && p > 2 {
		color = comm.Undefined
	}
	s, err := c.Split(color, -me)
	if err != nil {
		return err
	}
	if color == comm.Undefined {
		if err := nullComm(s); err != nil {
			return err
		}
	} else {
		var members []int
		for r := range p {
			if r%3 == color && !(r == p-1 && p > 2) {
				members = append(members, r)
			}
		}
		wantRank := len(members) - 1 - indexOf(members, me)
		if s.Size() != len(members) || s.Rank() != wantRank {
			return fmt.Errorf("Split color %d: rank %d of %d, want %d of %d", color, s.Rank(), s.Size(), wantRank, len(members))
		}
		// Exchange ranks around the sub-ring, with world traffic on the same tag.
		sr := []int{me}
		got := []int{-1}
		if _, err := comm.Sendrecv(s, sr, (s.Rank()+1)%s.Size(), 5, got, (s.Rank()-1+s.Size())%s.Size(), 5); err != nil {
			return err
		}
		prev := (s.Rank() - 1 + s.Size()) % s.Size()
		if want := members[len(members)-1-prev]; got[0] != want {
			return fmt.Errorf("Split ring: got world rank %d, want %d", got[0], want)
		}
		if err := s.Free(); err != nil {
			return err
		}
		if err := comm.Send(s, []int{1}, 0, 0); !errors.Is(err, comm.ErrClosed) {
			return fmt.Errorf("Send on a freed communicator: %v", err)
		}
	}
	d, err := c.Dup()
	if err != nil {
		return err
	}
	if d.Size() != p || d.Rank() != me {
		return fmt.Errorf("Dup: rank %d of %d", d.Rank(), d.Size())
	}
	// The same tag on c and d: each receive gets its own communicator's message.
	dest, src := (me+1)%p, (me-1+p)%p
	if err := comm.Send(c, []int{1000 + me}, dest, 6); err != nil {
		return err
	}
	if err := comm.Send(d, []int{2000 + me}, dest, 6); err != nil {
		return err
	}
	a, b := []int{0}, []int{0}
	if _, err := comm.Recv(d, b, src, 6); err != nil {
		return err
	}
	if _, err := comm.Recv(c, a, src, 6); err != nil {
		return err
	}
	if a[0] != 1000+src || b[0] != 2000+src {
		return fmt.Errorf("Dup isolation: world got %d, dup got %d", a[0], b[0])
	}
	return d.Free()
}

// nullComm checks the null communicator that Split with Undefined returns: no ranks, and every
// call fails with an error wrapping comm.ErrCommNull (never a nil pointer).
func nullComm(s *comm.Comm) error {
	if s == nil || !s.IsNull() || s.Rank() != -1 || s.Size() != 0 {
		return fmt.Errorf("Split with Undefined: %v (null %v), rank %d of %d; want the null communicator", s, s != nil && s.IsNull(), s.Rank(), s.Size())
	}
	buf := []int{0}
	calls := map[string]func() error{
		"Send":  func() error { return comm.Send(s, buf, 0, 0) },
		"Recv":  func() error { _, err := comm.Recv(s, buf, 0, 0); return err },
		"Isend": func() error { _, err := comm.Isend(s, buf, 0, 0); return err },
		"Irecv": func() error { _, err := comm.Irecv(s, buf, comm.AnySource, 0); return err },
		"Sendrecv": func() error {
			_, err := comm.Sendrecv(s, buf, 0, 0, buf, 0, 0)
			return err
		},
		"Probe":     func() error { _, err := s.Probe(comm.AnySource, comm.AnyTag); return err },
		"Iprobe":    func() error { _, _, err := s.Iprobe(0, 0); return err },
		"SendValue": func() error { return s.SendValue("x", 0, 0) },
		"RecvValue": func() error { var v string; _, err := s.RecvValue(&v, 0, 0); return err },
		"Split":     func() error { _, err := s.Split(0, 0); return err },
		"Dup":       func() error { _, err := s.Dup(); return err },
		"Free":      func() error { return s.Free() },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, comm.ErrCommNull) {
			return fmt.Errorf("%s on the null communicator: %v, want an error wrapping comm.ErrCommNull", name, err)
		}
	}
	return nil
}

func indexOf(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
