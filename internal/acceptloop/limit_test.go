package acceptloop

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// A gate lets n in; the next waits until one leaves, or gives up when stop closes.
func TestGate(t *testing.T) {
	g := NewGate(2)
	if !g.Enter(nil) || !g.Enter(nil) {
		t.Fatal("a gate of 2 did not let 2 in")
	}
	stop := make(chan struct{})
	close(stop)
	if g.Enter(stop) {
		t.Fatal("a full gate let a third in")
	}
	entered := make(chan bool)
	go func() { entered <- g.Enter(nil) }()
	g.Leave()
	if !<-entered {
		t.Fatal("a place given back was not taken")
	}
}

// lineLog collects log lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	ch    chan string
}

func (l *lineLog) logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	if l.ch != nil {
		l.ch <- s
	}
}

// Refusals logs the first Burst refusals of an interval, counts the rest, and says how many
// in one line when closed; later refusals are not logged.
func TestRefusalsClose(t *testing.T) {
	var l lineLog
	r := &Refusals{Logf: l.logf, Burst: 3, Interval: time.Hour}
	for i := range 1000 {
		r.Refused("refused connection %d", i)
	}
	r.Close()
	r.Refused("refused after close")
	if len(l.lines) != 4 || l.lines[2] != "refused connection 2" || !strings.HasPrefix(l.lines[3], "refused 997 more connections in the last ") {
		t.Errorf("1000 refusals with a burst of 3 logged %d lines: %q", len(l.lines), l.lines)
	}
}

// At the end of an interval with refusals counted, one line says how many; the next interval
// logs its first Burst again.
func TestRefusalsSummaryEachInterval(t *testing.T) {
	l := lineLog{ch: make(chan string, 100)}
	r := &Refusals{Logf: l.logf, Burst: 2, Interval: 50 * time.Millisecond}
	defer r.Close()
	for i := range 5 {
		r.Refused("refused %d", i)
	}
	for _, want := range []string{"refused 0", "refused 1", "refused 3 more connections in the last 50ms"} {
		if got := <-l.ch; got != want {
			t.Fatalf("line %q, want %q", got, want)
		}
	}
	r.Refused("refused %d", 5) // a new interval: logged
	if got := <-l.ch; got != "refused 5" {
		t.Errorf("first refusal of a new interval: line %q", got)
	}
}
