package mongoemu

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// DefaultDBPath is mongod's storage.dbPath default.
const DefaultDBPath = "/data/db"

// CommandLine is a parsed mongod command line: the Options it configures plus the switches
// that only the binary acts on.
type CommandLine struct {
	Options   Options
	Args      []string // as given, without the program name (getCmdLineOpts argv)
	LogAppend bool
	Quiet     bool
	Help      bool
	Version   bool
}

// ArgError is a command line mongod refuses at parse time; the binary exits with code 2
// (mongod's EXIT_BADOPTIONS). Msg follows boost::program_options' wording, as mongod prints it.
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return "Error parsing command line: " + e.Msg }

func argErr(format string, args ...any) error { return &ArgError{Msg: fmt.Sprintf(format, args...)} }

// ParseArgs parses mongod flags (without the program name) into Options.
func ParseArgs(args []string) (Options, error) {
	cl, err := ParseCommandLine(args)
	if err != nil {
		return Options{}, err
	}
	return cl.Options, nil
}

// flagKind says how a flag takes its value.
type flagKind int

const (
	flagSwitch   flagKind = iota // no value
	flagValue                    // exactly one value, given once
	flagRepeated                 // one value per occurrence
)

type flagDef struct {
	kind flagKind
	set  func(cl *CommandLine, v string) error
}

func intFlag(name string, lo, hi int, dst func(cl *CommandLine) *int) flagDef {
	return flagDef{kind: flagValue, set: func(cl *CommandLine, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return argErr("the argument ('%s') for option '--%s' is invalid", v, name)
		}
		if n < lo || n > hi {
			return argErr("Bad value for --%s: %d is not in range [%d, %d]", name, n, lo, hi)
		}
		*dst(cl) = n
		return nil
	}}
}

func stringFlag(dst func(cl *CommandLine) *string) flagDef {
	return flagDef{kind: flagValue, set: func(cl *CommandLine, v string) error { *dst(cl) = v; return nil }}
}

func switchFlag(dst func(cl *CommandLine) *bool) flagDef {
	return flagDef{kind: flagSwitch, set: func(cl *CommandLine, _ string) error { *dst(cl) = true; return nil }}
}

// mongodFlags is the subset of mongod's options mongoemu honours. Options a real deployment or
// the e2e harness passes to mongod that mean nothing here (--nounixsocket,
// --wiredTigerCacheSizeGB) are accepted and ignored so the same command line runs both.
func mongodFlags() map[string]flagDef {
	defs := map[string]flagDef{
		"port":        intFlag("port", 0, 65535, func(cl *CommandLine) *int { return &cl.Options.Port }),
		"bind_ip":     stringFlag(func(cl *CommandLine) *string { return &cl.Options.BindIP }),
		"bind_ip_all": {kind: flagSwitch, set: func(cl *CommandLine, _ string) error { cl.Options.BindIP = "0.0.0.0"; return nil }},
		"dbpath":      stringFlag(func(cl *CommandLine) *string { return &cl.Options.DBPath }),
		"replSet": {kind: flagValue, set: func(cl *CommandLine, v string) error {
			// mongod accepts the legacy "name/seed1,seed2" form and uses the name.
			name, _, _ := strings.Cut(v, "/")
			if name == "" {
				return argErr("the argument ('%s') for option '--replSet' is invalid", v)
			}
			cl.Options.ReplSet = name
			return nil
		}},
		"oplogSizeMB":  intFlag("oplogSizeMB", 1, 1024*1024*1024, func(cl *CommandLine) *int { return &cl.Options.OplogSizeMB }),
		"setParameter": {kind: flagRepeated, set: setParameterFlag},
		"logpath":      stringFlag(func(cl *CommandLine) *string { return &cl.Options.LogPath }),
		"logappend":    switchFlag(func(cl *CommandLine) *bool { return &cl.LogAppend }),
		"quiet":        switchFlag(func(cl *CommandLine) *bool { return &cl.Quiet }),
		"version":      switchFlag(func(cl *CommandLine) *bool { return &cl.Version }),
		"help":         switchFlag(func(cl *CommandLine) *bool { return &cl.Help }),
		"fork": {kind: flagSwitch, set: func(*CommandLine, string) error {
			return &ArgError{Msg: "--fork is not supported by mongoemu; run it in the foreground under a process supervisor"}
		}},
		"nounixsocket":          {kind: flagSwitch, set: func(*CommandLine, string) error { return nil }},
		"wiredTigerCacheSizeGB": {kind: flagValue, set: func(_ *CommandLine, v string) error { return checkFloat("wiredTigerCacheSizeGB", v) }},
	}
	for name, def := range securityFlags() { // auth_options.go
		defs[name] = def
	}
	return defs
}

func checkFloat(name, v string) error {
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		return argErr("the argument ('%s') for option '--%s' is invalid", v, name)
	}
	return nil
}

// setParameterFlag validates name=value against the parameters the node knows (spec §6.13),
// as mongod does at startup.
func setParameterFlag(cl *CommandLine, v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return argErr("Illegal option assignment: \"%s\"", v)
	}
	if strings.HasPrefix(name, "failpoint.") { // applied by failPoints.startupFailPoints
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(value), false, &doc); err != nil {
			return argErr("Bad value for parameter \"%s\": %s", name, value)
		}
		if cl.Options.Parameters == nil {
			cl.Options.Parameters = map[string]string{}
		}
		cl.Options.Parameters[name] = value
		return nil
	}
	spec, known := paramSpecs()[name]
	if !known {
		return argErr("Unknown --setParameter '%s'", name)
	}
	if _, err := parseParamString(spec.def, value); err != nil {
		return argErr("Bad value for parameter \"%s\": %s", name, value)
	}
	if cl.Options.Parameters == nil {
		cl.Options.Parameters = map[string]string{}
	}
	cl.Options.Parameters[name] = value
	return nil
}

// ParseCommandLine parses mongod flags: "--name value" or "--name=value"; "-h" is --help.
func ParseCommandLine(args []string) (*CommandLine, error) {
	defs := mongodFlags()
	cl := &CommandLine{Args: append([]string(nil), args...), Options: Options{
		Port: 27017, BindIP: "127.0.0.1", DBPath: DefaultDBPath,
	}}
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-h" {
			arg = "--help"
		}
		if !strings.HasPrefix(arg, "--") || arg == "--" {
			if strings.HasPrefix(arg, "-") {
				return nil, argErr("unrecognised option '%s'", arg)
			}
			return nil, argErr("too many positional options have been specified on the command line")
		}
		name, value, hasValue := strings.Cut(arg[2:], "=")
		def, ok := defs[name]
		if !ok {
			return nil, argErr("unrecognised option '--%s'", name)
		}
		if def.kind != flagRepeated && seen[name] {
			return nil, argErr("option '--%s' cannot be specified more than once", name)
		}
		seen[name] = true
		if name == "bind_ip" && seen["bind_ip_all"] || name == "bind_ip_all" && seen["bind_ip"] {
			return nil, argErr("net.bindIp and net.bindIpAll are mutually exclusive")
		}
		switch {
		case def.kind == flagSwitch && hasValue:
			return nil, argErr("option '--%s' does not take any arguments", name)
		case def.kind != flagSwitch && !hasValue:
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				return nil, argErr("the required argument for option '--%s' is missing", name)
			}
			i++
			value = args[i]
		}
		if err := def.set(cl, value); err != nil {
			return nil, err
		}
	}
	if err := cl.Options.Security.validate(); err != nil {
		return nil, err
	}
	return cl, nil
}

// parsedOptions is getCmdLineOpts' "parsed" document: the options in mongod's YAML-config
// shape (net, replication, setParameter, storage, systemLog, in that order).
func parsedOptions(o Options) bson.D {
	net := bson.D{{Key: "bindIp", Value: o.BindIP}, {Key: "port", Value: int32(o.Port)}}
	d := bson.D{{Key: "net", Value: net}}
	if o.ReplSet != "" || o.OplogSizeMB > 0 {
		repl := bson.D{}
		if o.OplogSizeMB > 0 {
			repl = append(repl, bson.E{Key: "oplogSizeMB", Value: int32(o.OplogSizeMB)})
		}
		if o.ReplSet != "" {
			repl = append(repl, bson.E{Key: "replSet", Value: o.ReplSet})
		}
		d = append(d, bson.E{Key: "replication", Value: repl})
	}
	if len(o.Parameters) > 0 {
		names := make([]string, 0, len(o.Parameters))
		for k := range o.Parameters {
			names = append(names, k)
		}
		sort.Strings(names)
		sp := bson.D{}
		for _, k := range names {
			sp = append(sp, bson.E{Key: k, Value: o.Parameters[k]})
		}
		d = append(d, bson.E{Key: "setParameter", Value: sp})
	}
	d = append(d, bson.E{Key: "storage", Value: bson.D{{Key: "dbPath", Value: o.DBPath}}})
	if o.LogPath != "" {
		d = append(d, bson.E{Key: "systemLog", Value: bson.D{{Key: "destination", Value: "file"}, {Key: "path", Value: o.LogPath}}})
	}
	return d
}

// synthesizedArgv rebuilds a mongod argv from Options for getCmdLineOpts when the node was not
// started from a command line (tests, embedding).
func synthesizedArgv(o Options) []string {
	argv := []string{"mongod", "--port", strconv.Itoa(o.Port), "--bind_ip", o.BindIP, "--dbpath", o.DBPath}
	if o.ReplSet != "" {
		argv = append(argv, "--replSet", o.ReplSet)
	}
	if o.OplogSizeMB > 0 {
		argv = append(argv, "--oplogSizeMB", strconv.Itoa(o.OplogSizeMB))
	}
	names := make([]string, 0, len(o.Parameters))
	for k := range o.Parameters {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		argv = append(argv, "--setParameter", k+"="+o.Parameters[k])
	}
	if o.LogPath != "" {
		argv = append(argv, "--logpath", o.LogPath)
	}
	return append(argv, securityArgv(o.Security)...)
}
