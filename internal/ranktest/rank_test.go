package ranktest

import (
	"fmt"
	"os"
	"testing"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/comm/commtest"
)

// world is the world communicator when the binary runs as a rank, nil otherwise.
var world *comm.Comm

func TestMain(m *testing.M) {
	if !bootstrap.Launched() {
		os.Exit(m.Run())
	}
	c, err := comm.Init()
	if err != nil {
		fmt.Fprintf(os.Stderr, "comm.Init: %v\n", err)
		os.Exit(1)
	}
	world = c
	code := m.Run()
	if err := comm.Finalize(); err != nil {
		fmt.Fprintf(os.Stderr, "rank %d: Finalize: %v\n", c.Rank(), err)
		code = 1
	}
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	if world == nil {
		t.Skip("runs as a rank under gompirun (cmd/gompirun's tests start it)")
	}
	commtest.RunAll(t, world)
}
