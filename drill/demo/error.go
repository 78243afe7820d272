package demo

import "fmt"

// Kind says how a demo ended without success, for the command's exit code.
type Kind int

const (
	Failed      Kind = iota + 1 // --once: the failover or the operator's part did not pass
	Usage                       // bad options (a --dir that is not empty)
	Interrupted                 // Ctrl-C before --once reached its verdict
)

// Error is a demo that ended in a verdict rather than a broken setup; its message is the line
// to print.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func failure(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}
