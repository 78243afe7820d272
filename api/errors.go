package api

import (
	"fmt"
	"net/http"
)

// Error is what an Options function returns to answer with a problem document instead of a
// plain 500: the status, the field at fault, the refusal's reason code and the refused plan.
type Error struct {
	Status int
	Field  string
	Reason string
	Detail string
	Result *ActionResult
}

func (e *Error) Error() string {
	msg := http.StatusText(e.Status)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.Reason != "" {
		msg += " [" + e.Reason + "]"
	}
	return msg
}

// BadField is a 400 naming the request field at fault.
func BadField(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// NotFound is a 404 naming the field that names the missing thing.
func NotFound(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// Refused is a 409: a guard refused the action; r is the plan with its reason code.
func Refused(r ActionResult) *Error {
	return &Error{Status: http.StatusConflict, Reason: r.Reason, Detail: r.Message, Result: &r}
}
