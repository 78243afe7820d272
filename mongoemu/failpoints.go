package mongoemu

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Fail point names the emulator knows (spec §6.12). failCommand is mongod's; the disk-stall ones
// are the emulator's stand-in for a stalled disk: every storage write takes delayMS, or blocks
// until the fail point is turned off.
const (
	fpFailCommand      = "failCommand"
	fpDiskStall        = "mongoemuDiskStall"
	fpStopReplProducer = "stopReplProducer"
	fpRsSyncApplyStop  = "rsSyncApplyStop"
	fpVoteNo           = "voteNoInElection"
)

var knownFailPoints = []string{fpFailCommand, fpDiskStall, fpStopReplProducer, fpRsSyncApplyStop, fpVoteNo}

type fpMode int

const (
	fpOff fpMode = iota
	fpAlwaysOn
	fpTimes
	fpSkip
	fpProbability
)

type failPoint struct {
	mode    fpMode
	n       int64 // remaining times, or skips left
	prob    float64
	data    bson.Raw
	entered int64
}

type failPoints struct {
	mu sync.Mutex
	m  map[string]*failPoint
	// onChange is called (outside the lock) when a fail point is configured, so storage stalls
	// can follow mongoemuDiskStall.
	onChange func(name string)
}

func newFailPoints() *failPoints { return &failPoints{m: map[string]*failPoint{}} }

// configure applies {configureFailPoint, mode, data} and returns the previous entered count.
func (f *failPoints) configure(name string, mode bson.RawValue, data bson.Raw) (int64, error) {
	if !slices.Contains(knownFailPoints, name) {
		return 0, mongoerr.New(mongoerr.BadValue, "Failpoint %s does not exist", name)
	}
	fp := &failPoint{data: data}
	switch mode.Type {
	case bson.TypeString:
		switch mode.StringValue() {
		case "alwaysOn":
			fp.mode = fpAlwaysOn
		case "off":
			fp.mode = fpOff
		default:
			return 0, mongoerr.New(mongoerr.BadValue, "unknown mode: %s", mode.StringValue())
		}
	case bson.TypeEmbeddedDocument:
		d := mode.Document()
		switch {
		case d.Lookup("times").Type != 0:
			n, ok := numberAsInt64(d.Lookup("times"))
			if !ok || n < 0 {
				return 0, mongoerr.New(mongoerr.BadValue, "'times' option to 'mode' must be positive")
			}
			fp.mode, fp.n = fpTimes, n
			if n == 0 {
				fp.mode = fpOff
			}
		case d.Lookup("skip").Type != 0:
			n, ok := numberAsInt64(d.Lookup("skip"))
			if !ok || n < 0 {
				return 0, mongoerr.New(mongoerr.BadValue, "'skip' option to 'mode' must be positive")
			}
			fp.mode, fp.n = fpSkip, n
		case d.Lookup("activationProbability").Type != 0:
			p, ok := numberAsFloat(d.Lookup("activationProbability"))
			if !ok || p < 0 || p > 1 {
				return 0, mongoerr.New(mongoerr.BadValue, "'activationProbability' option to 'mode' must be a double between 0 and 1")
			}
			fp.mode, fp.prob = fpProbability, p
		default:
			return 0, mongoerr.New(mongoerr.BadValue, "invalid mode object")
		}
	default:
		return 0, mongoerr.New(mongoerr.TypeMismatch, "'mode' must be a string or JSON object")
	}
	f.mu.Lock()
	prev := int64(0)
	if old := f.m[name]; old != nil {
		prev = old.entered
	}
	f.m[name] = fp
	cb := f.onChange
	f.mu.Unlock()
	if cb != nil {
		cb(name)
	}
	return prev, nil
}

// active reports whether the fail point fires now, consuming one activation, and returns its data.
func (f *failPoints) active(name string) (bson.Raw, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := f.m[name]
	if fp == nil {
		return nil, false
	}
	return fp.data, f.fireLocked(fp)
}

func (f *failPoints) fireLocked(fp *failPoint) bool {
	switch fp.mode {
	case fpAlwaysOn:
	case fpTimes:
		if fp.n <= 0 {
			return false
		}
		fp.n--
		if fp.n == 0 {
			fp.mode = fpOff
		}
	case fpSkip:
		if fp.n > 0 {
			fp.n--
			return false
		}
	case fpProbability:
		if rand.Float64() >= fp.prob {
			return false
		}
	default:
		return false
	}
	fp.entered++
	return true
}

// peek returns the data of an enabled fail point without consuming an activation.
func (f *failPoints) peek(name string) (bson.Raw, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := f.m[name]
	if fp == nil || fp.mode == fpOff || (fp.mode == fpTimes && fp.n <= 0) {
		return nil, false
	}
	return fp.data, true
}

// failCommandHit is what failCommand does to one matching command.
type failCommandHit struct {
	err               error
	closeConnection   bool
	blockFor          time.Duration
	writeConcernError bson.Raw
}

// failCommandMatches is CommandHelpers::shouldActivateFailCommandFailPoint (commands.cpp):
// configureFailPoint is never failed; threadName ("conn<id>"), appName and namespace filter;
// internal clients are exempt unless failInternalCommands; then failAllCommands or the
// command's name in failCommands. The caller holds f.mu.
func failCommandMatches(d bson.Raw, r *request) bool {
	if r.name == "configureFailPoint" || d == nil {
		return false
	}
	if th, ok := d.Lookup("threadName").StringValueOK(); ok && th != "conn"+itoa(int(r.c.id)) {
		return false
	}
	if app, ok := d.Lookup("appName").StringValueOK(); ok && app != r.c.appName.Load().(string) {
		return false
	}
	if ns, ok := d.Lookup("namespace").StringValueOK(); ok {
		coll, _ := r.firstValue().StringValueOK()
		if ns != r.db+"."+coll {
			return false
		}
	}
	if internal, _ := d.Lookup("failInternalCommands").BooleanOK(); !internal && r.c.internal.Load() {
		return false
	}
	if _, err := d.LookupErr("failAllCommands"); err == nil {
		return true
	}
	arr, _ := d.Lookup("failCommands").ArrayOK()
	vals, _ := arr.Values()
	for _, v := range vals {
		if s, ok := v.StringValueOK(); ok && s == r.name {
			return true
		}
	}
	return false
}

// matchFailCommand is CommandHelpers::evaluateFailCommandFailPoint, run before the command
// (spec §6.12). It activates only when the data asks for closeConnection, blockConnection or
// errorCode (a writeConcernError-only fail point is evaluated after the write, see
// matchFailCommandWCE); only an activation consumes a {times: n}. blockConnection sleeps
// first; then closeConnection hangs up; then errorCode (with errorExtraInfo, errorLabels).
func (f *failPoints) matchFailCommand(r *request) *failCommandHit {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := f.m[fpFailCommand]
	if fp == nil || fp.mode == fpOff || fp.data == nil {
		return nil
	}
	d := fp.data
	closeConn, _ := d.Lookup("closeConnection").BooleanOK()
	block, _ := d.Lookup("blockConnection").BooleanOK()
	code, hasCode := numberAsInt64(d.Lookup("errorCode"))
	if !(closeConn || block || hasCode) || !failCommandMatches(d, r) || !f.fireLocked(fp) {
		return nil
	}
	hit := &failCommandHit{}
	if block {
		ms, ok := numberAsInt64(d.Lookup("blockTimeMS"))
		switch {
		case !ok:
			hit.err = mongoerr.New(mongoerr.InvalidOptions, "must specify 'blockTimeMS' when 'blockConnection' is true")
			return hit
		case ms < 0:
			hit.err = mongoerr.New(mongoerr.InvalidOptions, "'blockTimeMS' must be non-negative")
			return hit
		}
		hit.blockFor = time.Duration(ms) * time.Millisecond
	}
	if closeConn {
		hit.closeConnection = true
		return hit
	}
	if !hasCode {
		return hit
	}
	e := &mongoerr.Error{Code: mongoerr.Code(code), Msg: "Failing command via 'failCommand' failpoint"}
	e.Labels = failCommandLabels(d)
	if extra, ok := d.Lookup("errorExtraInfo").DocumentOK(); ok {
		elems, _ := extra.Elements()
		for _, el := range elems {
			e.Extra = append(e.Extra, mongoerr.Field{Key: el.Key(), Value: el.Value()})
		}
	}
	hit.err = e
	return hit
}

// failCommandLabels is the errorLabels override: present (even empty) replaces the server's
// own labels; absent (nil) leaves them alone.
func failCommandLabels(d bson.Raw) []string {
	labels, ok := d.Lookup("errorLabels").ArrayOK()
	if !ok {
		return nil
	}
	vals, _ := labels.Values()
	out := []string{}
	for _, v := range vals {
		if s, ok := v.StringValueOK(); ok {
			out = append(out, s)
		}
	}
	return out
}

// matchFailCommandWCE is the write-concern half of failCommand (service_entry_point_common.cpp
// _waitForWriteConcern): for a command that takes a write concern, a matching fail point with
// writeConcernError replaces the wait for the write concern with that error, and its
// errorLabels replace the reply's labels.
func (f *failPoints) matchFailCommandWCE(r *request) (wce bson.Raw, labels []string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := f.m[fpFailCommand]
	if fp == nil || fp.mode == fpOff || fp.data == nil {
		return nil, nil, false
	}
	wce, has := fp.data.Lookup("writeConcernError").DocumentOK()
	if !has || !failCommandMatches(fp.data, r) || !f.fireLocked(fp) {
		return nil, nil, false
	}
	return wce, failCommandLabels(fp.data), true
}
