package mongo

import (
	"errors"
	"fmt"
	"strings"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
)

// Server error codes rsguard acts on (spec §3.2, §4.5, §5.7, §6).
const (
	CodeBadValue                               = 2
	CodeHostUnreachable                        = 6
	CodeUnauthorized                           = 13
	CodeIllegalOperation                       = 20
	CodeAuthenticationFailed                   = 18
	CodeMaxTimeMSExpired                       = 50
	CodeCommandNotFound                        = 59
	CodeWriteConcernFailed                     = 64 // "WriteConcernTimeout" in 8.x
	CodeNoReplicationEnabled                   = 76
	CodeNetworkTimeout                         = 89
	CodeShutdownInProgress                     = 91
	CodeInvalidReplicaSetConfig                = 93
	CodeNotYetInitialized                      = 94
	CodeNotSecondary                           = 95
	CodeNewReplicaSetConfigurationIncompatible = 103
	CodeNodeNotElectable                       = 104
	CodeConfigurationInProgress                = 109
	CodeConflictingOperationInProgress         = 117
	CodeCommandFailed                          = 125
	CodePrimarySteppedDown                     = 189
	CodeExceededTimeLimit                      = 262
	CodeCurrentConfigNotCommittedYet           = 308
	CodeNotWritablePrimary                     = 10107
	CodeInterruptedAtShutdown                  = 11600
	CodeInterruptedDueToReplStateChange        = 11602
	CodeNotPrimaryNoSecondaryOk                = 13435
	CodeNotPrimaryOrSecondary                  = 13436
	CodeLegacyNotPrimary                       = 10058
)

// CommandError is a mongod reply with ok:0, a writeConcernError or a write error: the server
// answered and said no. Network and timeout failures are never a CommandError.
type CommandError struct {
	Code     int
	CodeName string
	Msg      string
	Labels   []string
	// WriteConcern: the write was applied locally but its write concern failed (spec §7.4); the
	// write is not undone.
	WriteConcern bool

	reply []byte // the server's reply document, when the driver kept it
	err   error  // the driver's error, for errors.Is/As through the chain
}

func (e *CommandError) Error() string {
	var b strings.Builder
	if e.WriteConcern {
		b.WriteString("write concern error: ")
	}
	if e.CodeName != "" {
		fmt.Fprintf(&b, "%s (%d)", e.CodeName, e.Code)
	} else {
		fmt.Fprintf(&b, "code %d", e.Code)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.err }

// NotPrimary reports whether the error says the node is not (or no longer) a writable primary
// (spec §5.7 notWritablePrimaryCodes and the stepdown interruption codes).
func (e *CommandError) NotPrimary() bool {
	switch e.Code {
	case CodeNotWritablePrimary, CodeNotPrimaryNoSecondaryOk, CodeNotPrimaryOrSecondary,
		CodePrimarySteppedDown, CodeInterruptedDueToReplStateChange:
		return true
	}
	return false
}

// ErrorCode returns the server code in err's chain, or 0.
func ErrorCode(err error) int {
	var ce *CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// HasCode reports whether err carries one of codes.
func HasCode(err error, codes ...int) bool {
	c := ErrorCode(err)
	for _, want := range codes {
		if c != 0 && c == want {
			return true
		}
	}
	return false
}

// fromDriver turns the driver's server errors into *CommandError and leaves transport errors as
// they are (still wrapped by the driver) for Classify.
func fromDriver(err error) error {
	if err == nil {
		return nil
	}
	var we mongodrv.WriteException
	if errors.As(err, &we) {
		if len(we.WriteErrors) > 0 {
			w := we.WriteErrors[0]
			return &CommandError{Code: w.Code, Msg: w.Message, Labels: we.Labels, err: err}
		}
		if wce := we.WriteConcernError; wce != nil {
			return &CommandError{Code: wce.Code, CodeName: wce.Name, Msg: wce.Message,
				Labels: we.Labels, WriteConcern: true, err: err}
		}
	}
	var ce mongodrv.CommandError
	if errors.As(err, &ce) && !ce.HasErrorLabel("NetworkError") && (ce.Code != 0 || ce.Name != "") {
		return &CommandError{Code: int(ce.Code), CodeName: ce.Name, Msg: ce.Message, Labels: ce.Labels,
			reply: ce.Raw, err: err}
	}
	return err
}

// opError names the command and host, as every error of this package does.
func opError(op, host string, err error) error {
	return fmt.Errorf("%s on %s: %w", op, host, err)
}
