package engine

// reqList is an intrusive FIFO of requests (posted receives or waiting probes). Removal from
// the middle is O(1); matching scans from the head, which keeps MPI's order.
type reqList struct{ head, tail *request }

func (l *reqList) push(r *request) {
	r.prev, r.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = r
	} else {
		l.head = r
	}
	l.tail = r
}

func (l *reqList) remove(r *request) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		l.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		l.tail = r.prev
	}
	r.next, r.prev = nil, nil
}

// find returns the first request that a message from world rank src with tag would match.
func (l *reqList) find(src, tag int) *request {
	for r := l.head; r != nil; r = r.next {
		if matches(r.peer, r.tag, src, tag) {
			return r
		}
	}
	return nil
}

// msgList is an intrusive FIFO of unexpected messages, in arrival order.
type msgList struct{ head, tail *message }

func (l *msgList) push(m *message) {
	m.prev, m.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = m
	} else {
		l.head = m
	}
	l.tail = m
}

func (l *msgList) remove(m *message) {
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		l.head = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	} else {
		l.tail = m.prev
	}
	m.next, m.prev = nil, nil
}

// find returns the oldest message that a receive for (peer, tag), wildcards allowed, matches.
func (l *msgList) find(peer, tag int) *message {
	for m := l.head; m != nil; m = m.next {
		if matches(peer, tag, m.h.Source, m.h.Tag) {
			return m
		}
	}
	return nil
}

// matches reports whether a receive for (peer, tag) accepts a message from src with msgTag.
func matches(peer, tag, src, msgTag int) bool {
	return (peer == anySource || peer == src) && (tag == anyTag || tag == msgTag)
}
