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
	if name == fpFailCommand && fp.mode != fpOff {
		if err := validateFailCommandData(data); err != nil {
			return 0, err
		}
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

func validateFailCommandData(data bson.Raw) error {
	if data == nil {
		return mongoerr.New(mongoerr.BadValue, "failCommand fail point requires 'data'")
	}
	_, hasList := data.Lookup("failCommands").ArrayOK()
	all, _ := data.Lookup("failAllCommands").BooleanOK()
	if !hasList && !all {
		return mongoerr.New(mongoerr.BadValue, "'failCommands' must be an array of command names")
	}
	if b, _ := data.Lookup("blockConnection").BooleanOK(); b {
		if _, ok := numberAsInt64(data.Lookup("blockTimeMS")); !ok {
			return mongoerr.New(mongoerr.BadValue, "'blockTimeMS' must be set when 'blockConnection' is true")
		}
	}
	return nil
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

// matchFailCommand evaluates failCommand for a request (spec §6.12): configureFailPoint itself is
// never failed, internal clients are exempt unless failInternalCommands, appName and namespace
// filter. Only a matching command consumes an activation.
func (f *failPoints) matchFailCommand(r *request) *failCommandHit {
	if r.name == "configureFailPoint" {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := f.m[fpFailCommand]
	if fp == nil || fp.mode == fpOff || fp.data == nil {
		return nil
	}
	d := fp.data
	if all, _ := d.Lookup("failAllCommands").BooleanOK(); !all {
		arr, _ := d.Lookup("failCommands").ArrayOK()
		vals, _ := arr.Values()
		found := false
		for _, v := range vals {
			if s, ok := v.StringValueOK(); ok && s == r.name {
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	}
	if internal, _ := d.Lookup("failInternalCommands").BooleanOK(); !internal && r.c.internal.Load() {
		return nil
	}
	if app, ok := d.Lookup("appName").StringValueOK(); ok && app != r.c.appName.Load().(string) {
		return nil
	}
	if ns, ok := d.Lookup("namespace").StringValueOK(); ok {
		coll, _ := r.firstValue().StringValueOK()
		if ns != r.db+"."+coll {
			return nil
		}
	}
	if !f.fireLocked(fp) {
		return nil
	}
	hit := &failCommandHit{}
	if b, _ := d.Lookup("blockConnection").BooleanOK(); b {
		ms, _ := numberAsInt64(d.Lookup("blockTimeMS"))
		hit.blockFor = time.Duration(ms) * time.Millisecond
	}
	if c, _ := d.Lookup("closeConnection").BooleanOK(); c {
		hit.closeConnection = true
		return hit
	}
	if wce, ok := d.Lookup("writeConcernError").DocumentOK(); ok {
		hit.writeConcernError = wce
	}
	if code, ok := numberAsInt64(d.Lookup("errorCode")); ok {
		e := &mongoerr.Error{Code: mongoerr.Code(code), Msg: "Failing command via 'failCommand' failpoint"}
		if labels, ok := d.Lookup("errorLabels").ArrayOK(); ok {
			vals, _ := labels.Values()
			e.Labels = []string{}
			for _, v := range vals {
				if s, ok := v.StringValueOK(); ok {
					e.Labels = append(e.Labels, s)
				}
			}
		}
		if extra, ok := d.Lookup("errorExtraInfo").DocumentOK(); ok {
			elems, _ := extra.Elements()
			for _, el := range elems {
				e.Extra = append(e.Extra, mongoerr.Field{Key: el.Key(), Value: el.Value()})
			}
		}
		hit.err = e
	}
	return hit
}
