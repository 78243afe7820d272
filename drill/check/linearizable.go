package check

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict is the outcome of a linearizability check.
type Verdict string

const (
	Linearizable    Verdict = "linearizable"
	NotLinearizable Verdict = "not-linearizable"
	Inconclusive    Verdict = "inconclusive" // the checker timed out
)

var (
	// ErrNotLinearizable is wrapped by Result.Err for an illegal history.
	ErrNotLinearizable = errors.New("history is not linearizable")
	// ErrInconclusive is wrapped by Result.Err when the check timed out.
	ErrInconclusive = errors.New("linearizability check timed out")
)

// Result of CheckLinearizable.
type Result struct {
	Verdict Verdict
	Counts  Counts
	Keys    int
	// Checked is the number of operations given to porcupine.
	Checked int
	// Explanation names, for an illegal history, each key that has no
	// linearization and the operations it could not place.
	Explanation string
	// Visualization is the HTML file written, if any.
	Visualization string
	Elapsed       time.Duration
}

// Err is nil only for a linearizable history; drills fail on it.
func (r Result) Err() error {
	switch r.Verdict {
	case Linearizable:
		return nil
	case NotLinearizable:
		if r.Visualization != "" {
			return fmt.Errorf("%w: %s (see %s)", ErrNotLinearizable, r.Explanation, r.Visualization)
		}
		return fmt.Errorf("%w: %s", ErrNotLinearizable, r.Explanation)
	default:
		return fmt.Errorf("%w: %d operations on %d keys", ErrInconclusive, r.Checked, r.Keys)
	}
}

// CheckLinearizable checks h against the Register model. timeout bounds the
// search (0: none). With htmlPath set, a porcupine visualization is written
// there when the history is not linearizable.
func CheckLinearizable(h *History, timeout time.Duration, htmlPath string) (Result, error) {
	if h == nil {
		return Result{}, errors.New("check: history is nil")
	}
	if timeout < 0 {
		return Result{}, fmt.Errorf("check: timeout %s: must be >= 0", timeout)
	}
	ops, counts := h.Operations()
	model := Register()
	start := time.Now()
	verdict, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	res := Result{
		Counts:  counts,
		Keys:    len(partitionByKey(ops)),
		Checked: len(ops),
		Elapsed: time.Since(start),
	}
	switch verdict {
	case porcupine.Ok:
		res.Verdict = Linearizable
		return res, nil
	case porcupine.Unknown:
		res.Verdict = Inconclusive
		return res, nil
	}
	res.Verdict = NotLinearizable
	res.Explanation = explain(ops, info)
	if htmlPath != "" {
		if err := porcupine.VisualizePath(model, info, htmlPath); err != nil {
			return res, fmt.Errorf("check: visualization %s: %w", htmlPath, err)
		}
		res.Visualization = htmlPath
	}
	return res, nil
}

// maxListed bounds the operations named per key in an explanation.
const maxListed = 4

// maxKeys bounds the keys named in an explanation.
const maxKeys = 3

// explain names the keys whose sub-history has no linearization: for each,
// the last operation of the longest linearizable prefix and the operations
// (earliest calls first) that could not follow it.
func explain(ops []porcupine.Operation, info porcupine.LinearizationInfo) string {
	parts := partitionByKey(ops)
	partials := info.PartialLinearizationsOperations()
	var out []string
	for p, part := range parts {
		if p >= len(partials) {
			break
		}
		var longest []porcupine.Operation
		for _, l := range partials[p] {
			if len(l) > len(longest) {
				longest = l
			}
		}
		if len(longest) == len(part) {
			continue
		}
		key := part[0].Input.(Op).Key
		placed := map[opID]bool{}
		for _, o := range longest {
			placed[idOf(o)] = true
		}
		var rest []porcupine.Operation
		for _, o := range part {
			if !placed[idOf(o)] {
				rest = append(rest, o)
			}
		}
		rest = candidates(rest)
		var b strings.Builder
		fmt.Fprintf(&b, "key %q: only %d of %d operations linearize", key, len(longest), len(part))
		if len(longest) > 0 {
			fmt.Fprintf(&b, "; after %s the state is %d", opString(longest[len(longest)-1]), stateAfter(longest))
		}
		b.WriteString("; none of the next candidates fits: ")
		for i, o := range rest {
			if i == maxListed {
				fmt.Fprintf(&b, ", ... (%d more)", len(rest)-maxListed)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(opString(o))
		}
		out = append(out, b.String())
	}
	if len(out) == 0 {
		return "no linearization found"
	}
	if len(out) > maxKeys {
		out = append(out[:maxKeys], fmt.Sprintf("and %d more keys", len(out)-maxKeys))
	}
	return strings.Join(out, "; ")
}

// candidates returns the operations that could come next in a
// linearization of rest: those called before any of rest returned (the
// others must follow one of them), earliest call first.
func candidates(rest []porcupine.Operation) []porcupine.Operation {
	minRet := rest[0].Return
	for _, o := range rest {
		minRet = min(minRet, o.Return)
	}
	var out []porcupine.Operation
	for _, o := range rest {
		if o.Call <= minRet {
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Call < out[j].Call })
	return out
}

type opID = CallID

func idOf(o porcupine.Operation) opID { return o.Metadata.(meta).Call }

func opString(o porcupine.Operation) string {
	return fmt.Sprintf("client %d %s [%d,%s]", o.ClientId, describe(o.Input.(Op), o.Output.(Output)), o.Call, retString(o))
}

func retString(o porcupine.Operation) string {
	if o.Output.(Output).Unknown {
		return "end"
	}
	return fmt.Sprint(o.Return)
}

func stateAfter(lin []porcupine.Operation) int64 {
	s := int64(0)
	for _, o := range lin {
		_, s = step(s, o.Input.(Op), o.Output.(Output))
	}
	return s
}

// String is a one-line summary for drill reports.
func (r Result) String() string {
	s := fmt.Sprintf("%s: %d ops checked on %d keys (%d ok, %d failed, %d unknown, %d pending) in %s",
		r.Verdict, r.Checked, r.Keys, r.Counts.OK, r.Counts.Failed, r.Counts.Unknown, r.Counts.Pending, r.Elapsed.Round(time.Microsecond))
	if r.Verdict == NotLinearizable {
		s += ": " + r.Explanation
	}
	return s
}
