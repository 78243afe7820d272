// Package check verifies the histories recorded by drills: linearizability
// of a keyed register workload (with porcupine) and acknowledged-write
// accounting of inserts. It imports no driver: drills record what their
// clients did and what MongoDB answered, and check afterwards.
//
// # Model
//
// Register is a porcupine model of independent integer registers, one per
// key, each starting at 0 (a missing document reads as 0). Operations are
// Read(key) -> value, Write(key, value) and CAS(key, old, new) -> swapped.
// The model is partitioned by key, so each key is checked on its own and an
// explanation names the key that failed. The workload it fits: writes with
// w:"majority", CAS as updateOne({_id: key, v: old}, {$set: {v: new}}) with
// w:"majority" (matched 1 = swapped), reads with readConcern "linearizable"
// (or "majority" from the primary, which is weaker: a deposed primary can
// still serve it, and the checker will say so). Use unique values per write
// so that a stale read cannot pass by coincidence.
//
// # Unknown outcomes
//
// Under failover a write can time out, lose its connection or get a write
// concern error and still commit later: its outcome is unknown. Such an
// operation is given to porcupine with its return at the end of the history
// (after every other event), so it may take effect at any point after it was
// called, or, by being linearized last, never. It cannot take effect twice
// or be un-done: a value seen and then unseen is still illegal. A read of
// unknown outcome carries no information and is dropped.
//
// An operation is counted as failed (dropped from the history, as if never
// issued) only when the error certainly means "not applied": the
// Classifier passed to History.End decides, and anything it is not sure of
// (or a nil Classifier) is unknown. Be conservative: NotWritablePrimary or
// NotPrimaryNoSecondaryOk returned to the first attempt, before anything was
// applied, is failed; a retried write, a timeout, a network error, a write
// concern error or an InterruptedDueToReplStateChange is unknown. Calling a
// failed write unknown only weakens the check; calling an unknown write
// failed makes the checker report violations that did not happen.
// Operations never ended (the client was stopped) are unknown too.
//
// # How a drill uses it
//
//	h := check.NewHistory(check.HistoryOptions{})
//	// in each client goroutine c (0-based), for every operation:
//	id, err := h.Begin(c, check.Write(key, v)) // just before sending
//	... send it ...
//	err = h.End(id, check.Output{Value: read, OK: swapped}, opErr, classify)
//	// after the drill (failover, partitions, ...):
//	res, err := check.CheckLinearizable(h, time.Minute, "drill-7.html")
//	if err := res.Err(); err != nil { fail the drill, print err }
//
// Result.Err is non-nil for a history that is not linearizable
// (ErrNotLinearizable, with the key and the operations that cannot be
// placed, and the path of the porcupine visualization) and for a check that
// timed out (ErrInconclusive): a drill must not call either a pass.
//
// For inserts, Inserts records each id before it is sent (Attempt) and when
// the w:"majority" insert is acknowledged (Ack). After the drill, read back
// every id with readConcern "majority" and call Account: Lost lists the
// acknowledged ids missing (lost writes, the RPO that must be zero) and
// Phantoms the ids present that no client attempted. Unacknowledged inserts
// may be present or not (UnackedPresent counts those that committed).
package check
