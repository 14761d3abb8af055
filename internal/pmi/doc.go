// Package pmi is a client of the Process Management Interface that other launchers serve to
// the processes they start: Slurm's srun --mpi=pmi2 and MPICH's Hydra (mpiexec) serve PMI-1 and
// PMI-2 on a socket whose descriptor is in PMI_FD (or, with Hydra, at PMI_PORT host:port).
// comm.Init uses it to join such a job: the ranks exchange the address of a gompi bootstrap
// service and a job secret through the PMI key/value space, then run on shared memory and TCP
// as under gompirun (internal/join). It sits beside package bootstrap, at the bottom of the stack.
//
// The wire, as Slurm 22.05 (src/plugins/mpi/pmi2/) and MPICH (src/pmi/) speak it:
//
//   - Both versions open with one PMI-1 line, "cmd=init pmi_version=V pmi_subversion=S\n",
//     answered by "cmd=response_to_init rc=0 pmi_version=V pmi_subversion=S\n".
//   - PMI-1: one request line, one answer line, lock-step; each line is space-separated
//     key=value pairs, the first being cmd=. Requests: get_maxes, get_my_kvsname, put, barrier_in
//     (answered by barrier_out once every process entered), get, finalize, abort (no answer).
//   - PMI-2: each message is a 6-character decimal length (space padded), then that many bytes
//     of key=value pairs each ended by ';' (a ';' inside a value is written ";;"). Requests:
//     fullinit, job-getid, kvs-put, kvs-fence, kvs-get, info-getjobattr, finalize, abort.
//   - Keys up to 64 bytes, values up to 1024 printable bytes without spaces. PMI_process_mapping
//     ("(vector,(0,1,4))") says which ranks share a node (mapping.go).
//
// A Client is not safe for concurrent use: the protocol is lock-step.
package pmi
