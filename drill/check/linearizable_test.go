package check

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tick is a test clock: every reading is one later than the last, so the
// order of Begin/End calls is the real-time order.
func tick() func() int64 {
	var t int64
	return func() int64 { t++; return t }
}

func newTestHistory() *History { return NewHistory(HistoryOptions{Clock: tick()}) }

func begin(t *testing.T, h *History, client int, op Op) CallID {
	t.Helper()
	id, err := h.Begin(client, op)
	if err != nil {
		t.Fatalf("Begin(%d, %s): %v", client, op, err)
	}
	return id
}

func end(t *testing.T, h *History, id CallID, out Output, err error, classify Classifier) {
	t.Helper()
	if e := h.End(id, out, err, classify); e != nil {
		t.Fatalf("End(%d): %v", id, e)
	}
}

// do runs one operation that completes before the next begins.
func do(t *testing.T, h *History, client int, op Op, out Output) {
	t.Helper()
	end(t, h, begin(t, h, client, op), out, nil, nil)
}

func check(t *testing.T, h *History, html string) Result {
	t.Helper()
	res, err := CheckLinearizable(h, 5*time.Second, html)
	if err != nil {
		t.Fatalf("CheckLinearizable: %v", err)
	}
	return res
}

var errTimeout = errors.New("context deadline exceeded")
var errNotPrimary = errors.New("NotWritablePrimary")

func classifyNotPrimary(err error) Outcome {
	if errors.Is(err, errNotPrimary) {
		return OutcomeFailed
	}
	return OutcomeUnknown
}

func TestSequentialHistoryIsLinearizable(t *testing.T) {
	h := newTestHistory()
	do(t, h, 0, Read("x"), Output{Value: 0})
	do(t, h, 0, Write("x", 1), Output{})
	do(t, h, 1, Read("x"), Output{Value: 1})
	do(t, h, 1, CAS("x", 1, 2), Output{OK: true})
	do(t, h, 0, CAS("x", 1, 3), Output{OK: false})
	do(t, h, 0, Write("y", 7), Output{})
	do(t, h, 1, Read("x"), Output{Value: 2})
	do(t, h, 1, Read("y"), Output{Value: 7})
	res := check(t, h, "")
	if res.Verdict != Linearizable || res.Err() != nil {
		t.Fatalf("verdict %s, err %v; want linearizable", res.Verdict, res.Err())
	}
	if res.Keys != 2 || res.Checked != 8 || res.Counts.OK != 8 {
		t.Fatalf("keys %d checked %d counts %+v; want 2 keys, 8 ops ok", res.Keys, res.Checked, res.Counts)
	}
}

func TestConcurrentOverlapIsLinearizable(t *testing.T) {
	// A read overlapping a write may see either value.
	h := newTestHistory()
	w := begin(t, h, 0, Write("x", 1))
	r1 := begin(t, h, 1, Read("x"))
	end(t, h, r1, Output{Value: 0}, nil, nil)
	r2 := begin(t, h, 2, Read("x"))
	end(t, h, r2, Output{Value: 1}, nil, nil)
	end(t, h, w, Output{}, nil, nil)
	if res := check(t, h, ""); res.Verdict != Linearizable {
		t.Fatalf("verdict %s (%s); want linearizable", res.Verdict, res.Explanation)
	}
}

func TestStaleReadAfterAcknowledgedWriteIsIllegal(t *testing.T) {
	// A majority write is acknowledged, then a read (from a deposed
	// primary) returns the older value: the acknowledged write is lost.
	h := newTestHistory()
	do(t, h, 0, Write("acct", 1), Output{})
	do(t, h, 0, Write("acct", 2), Output{})
	do(t, h, 1, Read("acct"), Output{Value: 1})
	do(t, h, 0, Write("other", 5), Output{})
	html := filepath.Join(t.TempDir(), "viz.html")
	res := check(t, h, html)
	if res.Verdict != NotLinearizable {
		t.Fatalf("verdict %s; want not-linearizable", res.Verdict)
	}
	t.Logf("explanation: %s", res.Explanation)
	for _, want := range []string{`key "acct"`, "read(acct) -> 1", "state is 2"} {
		if !strings.Contains(res.Explanation, want) {
			t.Errorf("explanation %q does not contain %q", res.Explanation, want)
		}
	}
	if strings.Contains(res.Explanation, `"other"`) {
		t.Errorf("explanation %q names the linearizable key other", res.Explanation)
	}
	err := res.Err()
	if !errors.Is(err, ErrNotLinearizable) || !strings.Contains(err.Error(), html) {
		t.Fatalf("Err() = %v; want ErrNotLinearizable naming %s", err, html)
	}
	b, rerr := os.ReadFile(html)
	if rerr != nil || !strings.Contains(string(b), "<html") {
		t.Fatalf("visualization %s: %v (%d bytes)", html, rerr, len(b))
	}
}

func TestUnknownWriteThatCommittedIsLinearizable(t *testing.T) {
	// The write timed out (unknown) but did commit: a later read sees it.
	h := newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	w := begin(t, h, 0, Write("x", 2))
	end(t, h, w, Output{}, errTimeout, classifyNotPrimary)
	do(t, h, 1, Read("x"), Output{Value: 2})
	do(t, h, 1, Read("x"), Output{Value: 2})
	res := check(t, h, "")
	if res.Verdict != Linearizable {
		t.Fatalf("verdict %s (%s); want linearizable", res.Verdict, res.Explanation)
	}
	if res.Counts.Unknown != 1 {
		t.Fatalf("counts %+v; want 1 unknown", res.Counts)
	}
}

func TestUnknownWriteThatDidNotCommitIsLinearizable(t *testing.T) {
	h := newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	w := begin(t, h, 0, Write("x", 2))
	end(t, h, w, Output{}, errTimeout, nil)
	do(t, h, 1, Read("x"), Output{Value: 1})
	do(t, h, 1, Read("x"), Output{Value: 1})
	if res := check(t, h, ""); res.Verdict != Linearizable {
		t.Fatalf("verdict %s (%s); want linearizable", res.Verdict, res.Explanation)
	}
}

func TestUnknownWriteCannotFlipBack(t *testing.T) {
	// An unknown write takes effect at most once: seen, then unseen, is illegal.
	h := newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	w := begin(t, h, 0, Write("x", 2))
	end(t, h, w, Output{}, errTimeout, nil)
	do(t, h, 1, Read("x"), Output{Value: 2})
	do(t, h, 1, Read("x"), Output{Value: 1})
	if res := check(t, h, ""); res.Verdict != NotLinearizable {
		t.Fatalf("verdict %s; want not-linearizable", res.Verdict)
	}
}

func TestFailedWriteIsDroppedButMustNotBeSeen(t *testing.T) {
	// NotWritablePrimary: certainly not applied, so it leaves the history;
	// a read seeing its value is then illegal.
	h := newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	w := begin(t, h, 0, Write("x", 2))
	end(t, h, w, Output{}, errNotPrimary, classifyNotPrimary)
	do(t, h, 1, Read("x"), Output{Value: 2})
	res := check(t, h, "")
	if res.Verdict != NotLinearizable || res.Counts.Failed != 1 {
		t.Fatalf("verdict %s counts %+v; want not-linearizable with 1 failed", res.Verdict, res.Counts)
	}
	// Without a classifier the same error is unknown, and the read is legal.
	h = newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	w = begin(t, h, 0, Write("x", 2))
	end(t, h, w, Output{}, errNotPrimary, nil)
	do(t, h, 1, Read("x"), Output{Value: 2})
	if res := check(t, h, ""); res.Verdict != Linearizable {
		t.Fatalf("verdict %s; want linearizable (unclassified error is unknown)", res.Verdict)
	}
}

func TestCASViolationIsIllegal(t *testing.T) {
	// Two sequential CASes from the same old value both report success.
	h := newTestHistory()
	do(t, h, 0, Write("lock", 1), Output{})
	do(t, h, 0, CAS("lock", 1, 2), Output{OK: true})
	do(t, h, 1, CAS("lock", 1, 3), Output{OK: true})
	res := check(t, h, "")
	if res.Verdict != NotLinearizable || !strings.Contains(res.Explanation, `key "lock"`) ||
		!strings.Contains(res.Explanation, "cas(lock, 1->3) -> ok") {
		t.Fatalf("verdict %s explanation %q; want not-linearizable naming cas(lock, 1->3)", res.Verdict, res.Explanation)
	}
	// A CAS that reports "not swapped" while the value matched is illegal too.
	h = newTestHistory()
	do(t, h, 0, Write("lock", 1), Output{})
	do(t, h, 1, CAS("lock", 1, 3), Output{OK: false})
	if res := check(t, h, ""); res.Verdict != NotLinearizable {
		t.Fatalf("verdict %s; want not-linearizable", res.Verdict)
	}
}

func TestUnknownCASMayOrMayNotApply(t *testing.T) {
	for _, seen := range []int64{1, 2} {
		h := newTestHistory()
		do(t, h, 0, Write("x", 1), Output{})
		c := begin(t, h, 0, CAS("x", 1, 2))
		end(t, h, c, Output{}, errTimeout, nil)
		do(t, h, 1, Read("x"), Output{Value: seen})
		if res := check(t, h, ""); res.Verdict != Linearizable {
			t.Fatalf("read %d after unknown cas: verdict %s; want linearizable", seen, res.Verdict)
		}
	}
}

func TestPendingOpsAreUnknown(t *testing.T) {
	h := newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	begin(t, h, 0, Write("x", 2)) // never ended: the client was killed
	begin(t, h, 2, Read("x"))     // a pending read carries no information
	do(t, h, 1, Read("x"), Output{Value: 2})
	res := check(t, h, "")
	if res.Verdict != Linearizable || res.Counts.Pending != 2 || res.Checked != 3 {
		t.Fatalf("verdict %s counts %+v checked %d; want linearizable, 2 pending, 3 checked", res.Verdict, res.Counts, res.Checked)
	}
}

func TestHistoryRejectsBadInput(t *testing.T) {
	h := newTestHistory()
	if _, err := h.Begin(0, Op{Kind: OpWrite}); err == nil || !strings.Contains(err.Error(), "key is empty") {
		t.Errorf("Begin with empty key: %v; want key is empty", err)
	}
	if _, err := h.Begin(0, Op{Kind: 9, Key: "x"}); err == nil || !strings.Contains(err.Error(), "kind 9") {
		t.Errorf("Begin with kind 9: %v; want error naming kind 9", err)
	}
	if _, err := h.Begin(-1, Read("x")); err == nil {
		t.Errorf("Begin with client -1: no error")
	}
	if err := h.End(3, Output{}, nil, nil); err == nil || !strings.Contains(err.Error(), "call id 3") {
		t.Errorf("End of unknown id: %v; want error naming call id 3", err)
	}
	id := begin(t, h, 0, Read("x"))
	end(t, h, id, Output{}, nil, nil)
	if err := h.End(id, Output{}, nil, nil); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Errorf("second End: %v; want already ended", err)
	}
	if _, err := CheckLinearizable(h, -time.Second, ""); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("negative timeout: %v; want error naming timeout", err)
	}
}

func TestInconclusiveIsNotAPass(t *testing.T) {
	err := Result{Verdict: Inconclusive, Checked: 10, Keys: 2}.Err()
	if !errors.Is(err, ErrInconclusive) {
		t.Fatalf("Err() = %v; want ErrInconclusive", err)
	}
	if (Result{Verdict: Linearizable}).Err() != nil {
		t.Fatal("linearizable result has an error")
	}
}

func TestResultString(t *testing.T) {
	h := newTestHistory()
	do(t, h, 0, Write("x", 1), Output{})
	do(t, h, 1, Read("x"), Output{Value: 3})
	s := check(t, h, "").String()
	for _, want := range []string{"not-linearizable", "2 ops checked on 1 keys", `key "x"`, "read(x) -> 3"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q; want it to contain %q", s, want)
		}
	}
}
