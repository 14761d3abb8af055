package comm

// SetValueHook makes f run at points of every value's journey ("header sent", "header
// received") until the returned function is called.
func SetValueHook(f func(event string)) (restore func()) {
	valueHook.Store(&f)
	return func() { valueHook.Store(nil) }
}
