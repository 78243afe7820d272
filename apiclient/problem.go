package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/rsguard/rsguard/api"
)

// ProblemError is an answer outside 2xx. Problem is the server's RFC 7807 document; for a body
// that is not one (an older server, a proxy) it holds the status and the body, trimmed, as
// Detail, and Raw is true.
type ProblemError struct {
	StatusCode int
	Problem    api.Problem
	Raw        bool
	Method     string
	URL        string
}

// Error is one line: the status, the title, the detail, the field and the reason.
func (e *ProblemError) Error() string {
	p := e.Problem
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if p.Title != "" && !strings.EqualFold(p.Title, http.StatusText(e.StatusCode)) {
		b.WriteString(": " + p.Title)
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	var extra []string
	if p.Field != "" {
		extra = append(extra, "field "+p.Field)
	}
	if p.Reason != "" {
		extra = append(extra, "reason "+p.Reason)
	}
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, ", ") + ")")
	}
	return oneLine(b.String())
}

// Result is the refused or failed action the problem carries, or nil.
func (e *ProblemError) Result() *api.ActionResult { return e.Problem.Result }

// AsProblem returns the *ProblemError in err's chain, or nil.
func AsProblem(err error) *ProblemError {
	var pe *ProblemError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// maxRawDetail bounds the verbatim body kept from an answer that is not a problem document.
const maxRawDetail = 2000

func newProblemError(method, url string, resp *http.Response, body []byte) *ProblemError {
	e := &ProblemError{StatusCode: resp.StatusCode, Method: method, URL: url}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p api.Problem
		if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "" || p.Status != 0) {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			e.Problem = p
			return e
		}
	}
	detail := strings.TrimSpace(string(body))
	if len(detail) > maxRawDetail {
		detail = detail[:maxRawDetail] + "..."
	}
	e.Raw = true
	e.Problem = api.Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: detail}
	return e
}

// oneLine folds the lines of s into one.
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
