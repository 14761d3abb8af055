package engine

// SetFragmentHooks installs the test hooks of sendData (after each fragment but the last) and
// cancel (a send under way asked to stop), and returns a function that removes them. Set them
// before any engine starts, and remove them after every engine has stopped.
func SetFragmentHooks(sent func(rank, peer, tag, sent int), abort func(rank, peer, tag int)) (restore func()) {
	testHookFragmentSent, testHookAbort = sent, abort
	return func() { testHookFragmentSent, testHookAbort = nil, nil }
}
