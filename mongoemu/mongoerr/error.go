package mongoerr

import "fmt"

// Error is a command failure: it becomes {ok: 0, errmsg, code, codeName, ...} on the wire.
// Packages return it (possibly wrapped with %w); the server unwraps it with errors.As.
type Error struct {
	Code   Code
	Msg    string
	Labels []string
	// Extra fields appended to the error reply after codeName, in order (e.g. info, state).
	Extra []Field
	// CloseConnection asks the server to drop the socket instead of answering.
	CloseConnection bool
}

// Field is one extra key/value in an error reply.
type Field struct {
	Key   string
	Value any
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Code.Name(), int32(e.Code), e.Msg)
}

// New builds an Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// With returns e with an extra reply field appended.
func (e *Error) With(key string, value any) *Error {
	e.Extra = append(e.Extra, Field{Key: key, Value: value})
	return e
}
