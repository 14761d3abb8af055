// Package ranktest holds no code, only a test binary that runs the conformance suite
// (comm/commtest) as one rank of a real job: built with `go test -c` and started by gompirun,
// every rank calls comm.Init and runs commtest.RunAll on the world, over whatever transports
// gompirun set up (shared memory within a host, TCP across). cmd/gompirun's tests run it on one
// host and across network namespaces. Run by go test directly, it skips.
package ranktest
