package mongo

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	rstopo "github.com/rsguard/rsguard/topology"
)

// Classify says how a call to a mongod failed. The election relies on the difference
// (failover-notes "Crash"): refused means nothing listens on the port, a first-hand sign that the
// process is gone; timeout means no answer in time, which may as well be a frozen host, a stalled
// process or a partition. A reply from the server, even an error, is FailureOther: the node is up.
func Classify(err error) rstopo.FailureKind {
	if err == nil {
		return rstopo.FailureNone
	}
	var ce *CommandError
	if errors.As(err, &ce) {
		return rstopo.FailureOther
	}
	if refused(err) {
		return rstopo.FailureRefused
	}
	if timedOut(err) {
		return rstopo.FailureTimeout
	}
	if sel, ok := selectionError(err); ok && selectionTimedOut(sel) {
		return rstopo.FailureTimeout
	}
	return rstopo.FailureOther
}

// refused looks for ECONNREFUSED in err's chain and, because a command to a dead mongod fails in
// server selection rather than on a socket, in the monitor's last error recorded in the topology
// description of a server selection error.
func refused(err error) bool {
	if isRefused(err) {
		return true
	}
	if sel, ok := selectionError(err); ok {
		for _, s := range sel.Desc.Servers {
			if s.LastError != nil && isRefused(s.LastError) {
				return true
			}
		}
	}
	return false
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return mongodrv.IsTimeout(err)
}

// selectionTimedOut: server selection gave up without a refusal. Unless the monitor saw some other
// definite failure (reset, EOF, TLS), the server simply did not answer in time.
func selectionTimedOut(sel topology.ServerSelectionError) bool {
	for _, s := range sel.Desc.Servers {
		if s.LastError != nil && !timedOut(s.LastError) {
			return false
		}
	}
	return true
}

func selectionError(err error) (topology.ServerSelectionError, bool) {
	var v topology.ServerSelectionError
	if errors.As(err, &v) {
		return v, true
	}
	var p *topology.ServerSelectionError
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	return topology.ServerSelectionError{}, false
}

// ProbeFailure classifies a failed write probe for logs, gossip and metric labels.
type ProbeFailure string

// Probe outcomes.
const (
	ProbeOK ProbeFailure = ""
	// ProbeTimeout: no reply within the probe's deadline (hung disk, frozen or partitioned host).
	ProbeTimeout ProbeFailure = "timeout"
	// ProbeRefused: the target's port is closed.
	ProbeRefused ProbeFailure = "refused"
	// ProbeNotPrimary: the target is not (or no longer) a writable primary (spec §5.7).
	ProbeNotPrimary ProbeFailure = "not_primary"
	// ProbeWriteConcern: applied on the primary but not majority-acknowledged within wtimeout
	// (WriteConcernFailed 64, spec §7.4): the primary is up but cannot commit.
	ProbeWriteConcern ProbeFailure = "wtimeout"
	// ProbeShutdown: the target is shutting down.
	ProbeShutdown ProbeFailure = "shutdown"
	// ProbeError: any other server error or transport failure.
	ProbeError ProbeFailure = "error"
)

// ClassifyProbe maps a WriteProbe error to its ProbeFailure.
func ClassifyProbe(err error) ProbeFailure {
	if err == nil {
		return ProbeOK
	}
	var ce *CommandError
	if errors.As(err, &ce) {
		switch {
		case ce.WriteConcern && ce.Code == CodeWriteConcernFailed, ce.WriteConcern && ce.Code == CodeMaxTimeMSExpired:
			return ProbeWriteConcern
		case ce.Code == CodeShutdownInProgress || ce.Code == CodeInterruptedAtShutdown:
			return ProbeShutdown
		case ce.NotPrimary():
			return ProbeNotPrimary
		case ce.Code == CodeMaxTimeMSExpired:
			return ProbeTimeout
		}
		return ProbeError
	}
	switch Classify(err) {
	case rstopo.FailureRefused:
		return ProbeRefused
	case rstopo.FailureTimeout:
		return ProbeTimeout
	}
	return ProbeError
}
