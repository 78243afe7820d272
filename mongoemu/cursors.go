package mongoemu

import "sync"

// cursorSet holds open cursors by id. (Placeholder shape: the CRUD work fills in cursors.)
type cursorSet struct {
	mu sync.Mutex
}

func newCursorSet() *cursorSet { return &cursorSet{} }

func (s *cursorSet) closeAll() {}
