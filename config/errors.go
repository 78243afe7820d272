package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// pos is a 1-based position in a YAML file; zero means unknown.
type pos struct{ line, col int }

// Error is one problem in a configuration file. Its message reads
//
//	node.yaml:12:3: failover.anti_flap_window: must be at least 1s, got "100ms"
//
// Line and Column are 1-based and zero when unknown (then omitted). Key is the dotted path of the
// offending key, with list indexes as in members[1].gossip, and empty for whole-file problems.
// Err is the underlying cause, if any (for example an *fs.PathError), for errors.Is.
type Error struct {
	File   string
	Line   int
	Column int
	Key    string
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one file, in file order. Load, Parse and ReloadPolicy return
// it (never empty) as their error, so errors.As(err, &*Error) finds the first one.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// problems collects errors while a file is decoded, validated and its secrets read.
type problems struct {
	file string
	pos  map[string]pos
	errs Errors
	bad  map[string]bool // keys whose value could not be decoded
}

// decodeFailed marks key as undecodable, so that validation does not pile a second, derived
// complaint ("is required") on top of the real one ("expected a string").
func (p *problems) decodeFailed(key string) {
	if p.bad == nil {
		p.bad = map[string]bool{}
	}
	p.bad[key] = true
}

// failed reports whether key or one of its ancestors could not be decoded.
func (p *problems) failed(key string) bool {
	for ; key != ""; key = parentKey(key) {
		if p.bad[key] {
			return true
		}
	}
	return false
}

// at records a problem at the position of key, or of its nearest ancestor that is in the file.
func (p *problems) at(key, msg string) {
	ps := p.lookup(key)
	p.errs = append(p.errs, &Error{File: p.file, Line: ps.line, Column: ps.col, Key: key, Msg: msg})
}

// atPos records a problem at an explicit position.
func (p *problems) atPos(ps pos, key, msg string) {
	p.errs = append(p.errs, &Error{File: p.file, Line: ps.line, Column: ps.col, Key: key, Msg: msg})
}

// wrap records a problem caused by err.
func (p *problems) wrap(key, msg string, err error) {
	p.at(key, msg)
	p.errs[len(p.errs)-1].Err = err
}

func (p *problems) lookup(key string) pos {
	for key != "" {
		if ps, ok := p.pos[key]; ok {
			return ps
		}
		key = parentKey(key)
	}
	return pos{}
}

// parentKey strips the last path element: a.b[2].c -> a.b[2] -> a.b -> a -> "".
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// result returns the collected problems in file order, or nil.
func (p *problems) result() error {
	if len(p.errs) == 0 {
		return nil
	}
	out := slices.Clone(p.errs)
	slices.SortStableFunc(out, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if len(out) > maxProblems {
		more := len(out) - maxProblems
		out = append(out[:maxProblems], &Error{File: p.file, Msg: strconv.Itoa(more) + " more problems not shown"})
	}
	return out
}

// maxProblems bounds a report: past this the file is probably not a sidecar config at all.
const maxProblems = 100
