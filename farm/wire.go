package farm

import "time"

// The farm's messages, on its own communicator (a Dup of the one given to Run), so they never
// meet the program's. Every batch of tasks goes from the coordinator to a worker with a tag of
// its own, a sequence number per worker below ctlBase; the worker's reply comes back with the
// same tag, which tells the coordinator which batch, and so which map and result type, it is.
// Control messages have the tags from ctlBase up. A worker takes the coordinator's messages in
// the order they were sent (it probes with AnyTag, then receives what the probe found), and
// the coordinator takes each worker's the same way:
//
//	coordinator → worker   tagBegin  beginMsg     the next batches are for map Map, task Task
//	                       (seq)     batchMsg[A]  tasks Start..Start+N-1 of the current map
//	                       tagCancel []uint64{Map} drop that map's queued batches, cancel its task
//	                       tagStop   empty        finish the task running, then say bye
//	worker → coordinator   (seq)     replyMsg[R]  the batch's results, errors, time taken
//	                       tagBye    empty        the worker has stopped, nothing follows
//	                       tagLeave  empty        the worker's own context ended: it stops serving
//
// Every batch gets exactly one reply unless its worker dies or leaves. A batch or reply goes
// raw (codec.go) when its elements are fixed-size and pointer-free, else as a comm value with
// valueBit set in its tag: a batch of one task carries its argument in One, and a reply of one
// result in One, so that one large slice of numbers (a row of a matrix) travels raw; larger
// batches carry Args and Results, which travel raw when they are slices of numbers. A reply
// with failed tasks is always a value; its results of a pointer-free type are in Raw.
const (
	ctlBase   = 1 << 30
	valueBit  = 1 << 29 // in a batch's or reply's tag: the message is a comm value, not raw
	seqMask   = valueBit - 1
	tagBegin  = ctlBase + 1
	tagCancel = ctlBase + 2
	tagStop   = ctlBase + 3
	tagBye    = ctlBase + 4
	tagLeave  = ctlBase + 5
)

// beginMsg starts a map on a worker.
type beginMsg struct {
	Map  uint64
	Task string
}

// batchHdr says which tasks of the map a batch holds.
type batchHdr struct {
	Start, N int
}

// batchMsg is a batch of N arguments: One when N is 1, else Args.
type batchMsg[A any] struct {
	Hdr  batchHdr
	Args []A
	One  A
}

// batchHdrOnly receives a batchMsg of any argument type, dropping the arguments (gob and
// comm's values drop the fields the destination lacks): a worker takes a batch of a task it
// does not know this way.
type batchHdrOnly struct {
	Hdr batchHdr
}

// replyHdr is what a reply says besides the results.
type replyHdr struct {
	Elapsed time.Duration // time the worker spent running the batch
	Errs    []wireErr     // the tasks that failed
	Dropped bool          // the map was cancelled before the batch ran: no results
	Unknown bool          // the worker has no task of the map's name: every task failed
	Fail    string        // the batch could not be run or answered: every task failed so
}

// wireErr is a failed task of a batch, by offset from the batch's Start.
type wireErr struct {
	Offset int
	Msg    string
	Panic  bool
	Stack  string
}

// replyMsg is a batch's results: One when the batch had one task, else Results.
type replyMsg[R any] struct {
	Hdr     replyHdr
	Results []R
	One     R
	Raw     []byte // the results' memory, for a pointer-free R
}

// replyHdrOnly is a reply without results, which the coordinator receives as a replyMsg of any
// type: a worker sends it when it could not run the batch (unknown task, a result it could not
// send, a dropped batch).
type replyHdrOnly struct {
	Hdr replyHdr
}
