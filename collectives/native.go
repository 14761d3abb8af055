package collectives

import "github.com/gompi/gompi/internal/backend"

// failedNative is a backend.Native whose every operation fails with err: what run.native returns
// after a local argument error, so that the native branch of each collective returns the error.
type failedNative struct{ err error }

func (f failedNative) Barrier() error                                             { return f.err }
func (f failedNative) Bcast([]byte, int) error                                    { return f.err }
func (f failedNative) Reduce([]byte, []byte, backend.Type, backend.Op, int) error { return f.err }
func (f failedNative) Allreduce([]byte, []byte, backend.Type, backend.Op) error   { return f.err }
func (f failedNative) Gather([]byte, []byte, int) error                           { return f.err }
func (f failedNative) Gatherv([]byte, []byte, []int, []int, int) error            { return f.err }
func (f failedNative) Scatter([]byte, []byte, int) error                          { return f.err }
func (f failedNative) Scatterv([]byte, []int, []int, []byte, int) error           { return f.err }
func (f failedNative) Allgather([]byte, []byte) error                             { return f.err }
func (f failedNative) Allgatherv([]byte, []byte, []int, []int) error              { return f.err }
func (f failedNative) Alltoall([]byte, []byte) error                              { return f.err }
func (f failedNative) Alltoallv([]byte, []int, []int, []byte, []int, []int) error { return f.err }
func (f failedNative) ReduceScatter([]byte, []byte, []int, backend.Type, backend.Op) error {
	return f.err
}
func (f failedNative) Scan([]byte, []byte, backend.Type, backend.Op) error   { return f.err }
func (f failedNative) Exscan([]byte, []byte, backend.Type, backend.Op) error { return f.err }
