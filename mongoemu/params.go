package mongoemu

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// parameters are the server parameters of spec §6.13 that the emulator honours. Values are kept
// as BSON-typed Go values so getParameter answers with mongod's types.
type parameters struct {
	mu     sync.Mutex
	values map[string]any
}

// paramSpec: default value and whether it can change at runtime (startup-only otherwise).
type paramSpec struct {
	def     any
	runtime bool
}

func paramSpecs() map[string]paramSpec {
	return map[string]paramSpec{
		"enableTestCommands":                       {def: false, runtime: false},
		"replElectionTimeoutOffsetLimitFraction":   {def: 0.15, runtime: true},
		"priorityTakeoverFreshnessWindowSeconds":   {def: int32(2), runtime: true},
		"enableElectionHandoff":                    {def: true, runtime: true},
		"periodicNoopIntervalSecs":                 {def: int32(10), runtime: false},
		"writePeriodicNoops":                       {def: true, runtime: true},
		"maxSyncSourceLagSecs":                     {def: int32(30), runtime: false},
		"createRollbackDataFiles":                  {def: true, runtime: true},
		"rollbackTimeLimitSecs":                    {def: int64(86400), runtime: true},
		"shutdownTimeoutMillisForSignaledShutdown": {def: int32(15000), runtime: true},
		"numInitialSyncAttempts":                   {def: int32(10), runtime: true},
		"initialSyncMethod":                        {def: "logical", runtime: false},
		"oplogInitialFindMaxSeconds":               {def: int32(60), runtime: true},
		"logLevel":                                 {def: int32(0), runtime: true},
		// Seconds a stepdown or stepup may wait for the RSTL before the node aborts; 0 disables
		// (repl/repl_server_parameters.idl, set_at startup and runtime).
		"fassertOnLockTimeoutForStepUpDown": {def: int32(15), runtime: true},
		// Emulator-only: documents cloned per second during initial sync (0 = unlimited), so drills
		// can watch STARTUP2 progress (issue: "a settable copy rate").
		"mongoemuInitialSyncDocsPerSecond": {def: int32(0), runtime: true},
	}
}

func newParameters(startup map[string]string) (*parameters, error) {
	p := &parameters{values: map[string]any{}}
	specs := paramSpecs()
	for name, s := range specs {
		p.values[name] = s.def
	}
	for name, raw := range startup {
		if strings.HasPrefix(name, "failpoint.") {
			continue // failPoints.startupFailPoints (repl_startup.go)
		}
		s, ok := specs[name]
		if !ok {
			return nil, fmt.Errorf("--setParameter: unknown parameter %q", name)
		}
		v, err := parseParamString(s.def, raw)
		if err != nil {
			return nil, fmt.Errorf("--setParameter %s=%s: %w", name, raw, err)
		}
		p.values[name] = v
	}
	return p, nil
}

func parseParamString(def any, raw string) (any, error) {
	switch def.(type) {
	case bool:
		switch raw {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, fmt.Errorf("expected true/false or 1/0")
	case int32:
		v, err := strconv.ParseInt(raw, 10, 32)
		return int32(v), err
	case int64:
		return strconv.ParseInt(raw, 10, 64)
	case float64:
		return strconv.ParseFloat(raw, 64)
	default:
		return raw, nil
	}
}

func (p *parameters) get(name string) (any, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.values[name]
	return v, ok
}

func (p *parameters) names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.values))
	for k := range p.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// set changes a runtime parameter from a command value, returning the previous value.
func (p *parameters) set(name string, v bson.RawValue) (any, error) {
	s, ok := paramSpecs()[name]
	if !ok {
		return nil, mongoerr.New(mongoerr.InvalidOptions, "attempted to set unrecognized parameter [%s], use help:true to see options ", name)
	}
	if !s.runtime {
		return nil, mongoerr.New(mongoerr.IllegalOperation, "not allowed to change [%s] at runtime", name)
	}
	var nv any
	switch s.def.(type) {
	case bool:
		b, ok := v.BooleanOK()
		if !ok {
			f, isNum := numberAsFloat(v)
			if !isNum {
				return nil, mongoerr.New(mongoerr.BadValue, "Invalid value for parameter %s: expected bool", name)
			}
			b = f != 0
		}
		nv = b
	case int32:
		n, ok := numberAsInt64(v)
		if !ok {
			return nil, mongoerr.New(mongoerr.BadValue, "Invalid value for parameter %s: expected a number", name)
		}
		nv = int32(n)
	case int64:
		n, ok := numberAsInt64(v)
		if !ok {
			return nil, mongoerr.New(mongoerr.BadValue, "Invalid value for parameter %s: expected a number", name)
		}
		nv = n
	case float64:
		f, ok := numberAsFloat(v)
		if !ok {
			return nil, mongoerr.New(mongoerr.BadValue, "Invalid value for parameter %s: expected a number", name)
		}
		nv = f
	default:
		str, ok := v.StringValueOK()
		if !ok {
			return nil, mongoerr.New(mongoerr.BadValue, "Invalid value for parameter %s: expected a string", name)
		}
		nv = str
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.values[name]
	p.values[name] = nv
	return old, nil
}

func (p *parameters) testCommandsEnabled() bool { return p.boolValue("enableTestCommands") }

func (p *parameters) boolValue(name string) bool {
	v, _ := p.get(name)
	b, _ := v.(bool)
	return b
}

func (p *parameters) intValue(name string) int64 {
	v, _ := p.get(name)
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	return 0
}

func (p *parameters) floatValue(name string) float64 {
	v, _ := p.get(name)
	f, _ := v.(float64)
	return f
}

func (p *parameters) duration(name string, unit time.Duration) time.Duration {
	return time.Duration(p.intValue(name)) * unit
}
