package collectives

import "github.com/gompi/gompi/comm"

// Scatter sends block i of send on rank root, send[i*len(recv):(i+1)*len(recv)], to rank i's
// recv (MPI_Scatter, MPI 4.1 §6.6). Every rank passes recv of the same length; at the root
// len(send) must be Size()·len(recv), elsewhere send is not used (nil is fine).
func Scatter[T comm.Elem](c *comm.Comm, send, recv []T, root int) error {
	return scatter(c, "Scatter", asBytes(send), asBytes(recv), sizeOf[T](), root, algAuto)
}

func scatter(c *comm.Comm, name string, send, recv []byte, esize, root int, alg algorithm) error {
	if err := checkComm(c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	r := newRun(c, name, kindScatter)
	if want := r.size * len(recv); r.rank == root && len(send) != want {
		r.failf(comm.ErrSizeMismatch, "send has %d elements at the root, want %d (%d ranks × %d)", len(send)/esize, want/esize, r.size, len(recv)/esize)
		send = make([]byte, want)
	}
	if nat := r.native(c, alg); nat != nil {
		if err := nat.Scatter(send, recv, root); !nativeUnsupported(err) {
			return err
		}
	}
	switch alg {
	case algAuto, algBinomial:
		scatterBinomial(r, send, recv, root)
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Scatter", alg)
	}
	return r.err
}
