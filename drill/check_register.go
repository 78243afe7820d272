package drill

import (
	"time"

	"github.com/rsguard/rsguard/drill/check"
)

// checkTimeout bounds porcupine's search on one run's register history.
const checkTimeout = 30 * time.Second

// checkRegister checks the register history; nil when it holds no operation.
func checkRegister(h *check.History) *Linearizability {
	if h == nil {
		return nil
	}
	res, err := check.CheckLinearizable(h, checkTimeout, "")
	if err != nil {
		return &Linearizability{Verdict: "error", Err: err.Error()}
	}
	if res.Counts.Ops == 0 {
		return nil
	}
	l := &Linearizability{Verdict: string(res.Verdict), Ops: res.Checked, Unknown: res.Counts.Unknown + res.Counts.Pending,
		Explanation: res.Explanation}
	if err := res.Err(); err != nil {
		l.Err = err.Error()
	}
	return l
}
