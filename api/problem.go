package api

import (
	"encoding/json"
	"errors"
	"net/http"
)

// problem writes an RFC 7807 problem document.
func problem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
		if p.Reason != "" {
			p.Type = "https://rsguard.dev/problems/" + p.Reason
		}
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil {
		text(w, http.StatusInternalServerError, "encoding the problem: "+err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// problemOf turns an Options function's error into a problem: an *Error keeps its status, field
// and reason; anything else is a 500.
func problemOf(err error) Problem {
	var e *Error
	if errors.As(err, &e) {
		title := http.StatusText(e.Status)
		if e.Status == http.StatusConflict {
			title = "refused: " + e.Reason
		}
		return Problem{Status: e.Status, Title: title, Detail: e.Detail, Field: e.Field, Reason: e.Reason, Result: e.Result}
	}
	return Problem{Status: http.StatusInternalServerError, Detail: err.Error()}
}
