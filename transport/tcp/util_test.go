package tcp_test

import (
	"errors"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/tcp"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

func tcptestTransports(n int) ([]*tcp.Transport, error) { return tcptest.Transports(n, tcp.Config{}) }

func isPeerFailed(err error) bool { return errors.Is(err, comm.ErrPeerFailed) }
