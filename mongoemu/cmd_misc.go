package mongoemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The MongoDB release the emulator answers as (buildInfo, serverStatus, --version).
const (
	serverVersion = "7.0.14"
	gitVersion    = "ce59cfc6a3c5e5c067dca0d30697edd68d4f5188"
)

// ServerVersion is the mongod version mongoemu reports.
const ServerVersion = serverVersion

// registerMisc adds the server-information and session commands drivers and shells send on
// their own (spec §6.14). isdbgrid is deliberately absent: it exists only on mongos, so
// CommandNotFound is mongod's answer.
func (n *Node) registerMisc(t commandTable) {
	ok := func(context.Context, *request) (bson.D, error) { return bson.D{}, nil }
	t["ping"] = &command{fn: ok}
	t["buildInfo"] = &command{fn: n.cmdBuildInfo}
	t["buildinfo"] = t["buildInfo"]
	t["serverStatus"] = &command{fn: n.cmdServerStatus}
	// Sessions are tracked client-side by the drivers; the server only acknowledges them.
	t["endSessions"] = &command{fn: ok}
	t["killAllSessions"] = &command{fn: ok}
	t["killSessions"] = &command{fn: ok}
	t["refreshSessions"] = &command{fn: ok}
	t["startSession"] = &command{fn: cmdStartSession}
	t["listCommands"] = &command{fn: n.cmdListCommands}
	t["whatsmyuri"] = &command{fn: cmdWhatsMyURI}
	t["connectionStatus"] = &command{fn: cmdConnectionStatus}
	t["hostInfo"] = &command{fn: cmdHostInfo}
	t["getCmdLineOpts"] = &command{fn: n.cmdGetCmdLineOpts, adminOnly: true}
}

// buildInfoDoc is buildInfo's reply in mongod 7.0's field order.
func buildInfoDoc() bson.D {
	return bson.D{
		{Key: "version", Value: serverVersion},
		{Key: "gitVersion", Value: gitVersion},
		{Key: "modules", Value: bson.A{}},
		{Key: "allocator", Value: "tcmalloc"},
		{Key: "javascriptEngine", Value: "mozjs"},
		{Key: "sysInfo", Value: "deprecated"},
		{Key: "versionArray", Value: bson.A{int32(7), int32(0), int32(14), int32(0)}},
		{Key: "openssl", Value: bson.D{
			{Key: "running", Value: "OpenSSL 3.0.11 19 Sep 2023"},
			{Key: "compiled", Value: "OpenSSL 3.0.9 30 May 2023"},
		}},
		{Key: "buildEnvironment", Value: bson.D{
			{Key: "distmod", Value: "debian12"},
			{Key: "distarch", Value: "x86_64"},
			{Key: "cc", Value: "/opt/mongodbtoolchain/v4/bin/gcc: gcc (GCC) 11.3.0"},
			{Key: "cxx", Value: "/opt/mongodbtoolchain/v4/bin/g++: g++ (GCC) 11.3.0"},
			{Key: "target_arch", Value: "x86_64"},
			{Key: "target_os", Value: "linux"},
		}},
		{Key: "bits", Value: int32(64)},
		{Key: "debug", Value: false},
		{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
		{Key: "storageEngines", Value: bson.A{"devnull", "wiredTiger"}},
	}
}

func (n *Node) cmdBuildInfo(context.Context, *request) (bson.D, error) { return buildInfoDoc(), nil }

// VersionText is what `mongod --version` prints.
func VersionText() string {
	b, err := bson.MarshalExtJSON(buildInfoDoc(), false, false)
	if err != nil {
		return "db version v" + serverVersion + "\n"
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "    "); err != nil {
		pretty.Reset()
		pretty.Write(b)
	}
	return fmt.Sprintf("db version v%s\nBuild Info: %s\n", serverVersion, pretty.Bytes())
}

func cmdStartSession(context.Context, *request) (bson.D, error) {
	id := bson.NewObjectID()
	uuid := make([]byte, 16)
	copy(uuid, id[:])
	uuid[6] = (uuid[6] & 0x0f) | 0x40
	uuid[8] = (uuid[8] & 0x3f) | 0x80
	return bson.D{
		{Key: "id", Value: bson.D{{Key: "id", Value: bson.Binary{Subtype: bson.TypeBinaryUUID, Data: uuid}}}},
		{Key: "timeoutMinutes", Value: int32(30)},
	}, nil
}

// cmdListCommands lists the command table; test-only commands appear only when enabled.
func (n *Node) cmdListCommands(context.Context, *request) (bson.D, error) {
	names := make([]string, 0, len(n.cmds))
	for name, c := range n.cmds {
		if c.testOnly && !n.params.testCommandsEnabled() {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	cmds := make(bson.D, 0, len(names))
	for _, name := range names {
		c := n.cmds[name]
		cmds = append(cmds, bson.E{Key: name, Value: bson.D{
			{Key: "help", Value: "no help defined"},
			{Key: "requiresAuth", Value: !noAuthCommand(name)},
			{Key: "secondaryOk", Value: c.kind != kindWrite},
			{Key: "adminOnly", Value: c.adminOnly},
			{Key: "apiVersions", Value: bson.A{}},
			{Key: "deprecatedApiVersions", Value: bson.A{}},
		}})
	}
	return bson.D{{Key: "commands", Value: cmds}}, nil
}

// noAuthCommand: commands an auth-enabled mongod runs without authentication.
func noAuthCommand(name string) bool {
	switch name {
	case "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo", "saslStart", "saslContinue",
		"authenticate", "logout", "getnonce", "whatsmyuri", "connectionStatus", "listCommands",
		"endSessions", "startSession":
		return true
	}
	return false
}

func cmdWhatsMyURI(_ context.Context, r *request) (bson.D, error) {
	return bson.D{{Key: "you", Value: r.c.nc.RemoteAddr().String()}}, nil
}

// cmdConnectionStatus: the emulator runs without access control, so nobody is authenticated.
func cmdConnectionStatus(_ context.Context, r *request) (bson.D, error) {
	info := bson.D{{Key: "authenticatedUsers", Value: bson.A{}}, {Key: "authenticatedUserRoles", Value: bson.A{}}}
	if show, _ := r.boolArg("showPrivileges"); show {
		info = append(info, bson.E{Key: "authenticatedUserPrivileges", Value: bson.A{}})
	}
	return bson.D{{Key: "authInfo", Value: info}}, nil
}

// cmdHostInfo is hostInfo with the Linux fields mongod fills from /proc and uname.
func cmdHostInfo(context.Context, *request) (bson.D, error) {
	hostname, _ := os.Hostname()
	memMB := procMemTotalMB()
	kernel := strings.TrimSpace(readFileString("/proc/sys/kernel/osrelease"))
	return bson.D{
		{Key: "system", Value: bson.D{
			{Key: "currentTime", Value: bson.DateTime(time.Now().UnixMilli())},
			{Key: "hostname", Value: hostname},
			{Key: "cpuAddrSize", Value: int32(64)},
			{Key: "memSizeMB", Value: memMB},
			{Key: "memLimitMB", Value: memMB},
			{Key: "numCores", Value: int32(runtime.NumCPU())},
			{Key: "numCoresAvailableToProcess", Value: int32(runtime.GOMAXPROCS(0))},
			{Key: "cpuArch", Value: cpuArch()},
			{Key: "numaEnabled", Value: false},
		}},
		{Key: "os", Value: bson.D{
			{Key: "type", Value: "Linux"},
			{Key: "name", Value: osPrettyName()},
			{Key: "version", Value: kernel},
		}},
		{Key: "extra", Value: bson.D{
			{Key: "versionString", Value: strings.TrimSpace(readFileString("/proc/version"))},
			{Key: "kernelVersion", Value: kernel},
			{Key: "pageSize", Value: int64(os.Getpagesize())},
			{Key: "maxOpenFiles", Value: int32(maxOpenFiles())},
		}},
	}, nil
}

func maxOpenFiles() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<31-1 {
		return 1 << 20
	}
	return rl.Cur
}

func cpuArch() string {
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	if runtime.GOARCH == "arm64" {
		return "aarch64"
	}
	return runtime.GOARCH
}

func readFileString(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func procMemTotalMB() int64 {
	for _, line := range strings.Split(readFileString("/proc/meminfo"), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			_, _ = fmt.Sscan(strings.TrimSpace(rest), &kb)
			return kb / 1024
		}
	}
	return 0
}

func osPrettyName() string {
	for _, line := range strings.Split(readFileString("/etc/os-release"), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}

// cmdGetCmdLineOpts reports the options in mongod's shape. The node keeps Options, not the
// original argv, so argv is rebuilt from them.
func (n *Node) cmdGetCmdLineOpts(context.Context, *request) (bson.D, error) {
	o := n.opts
	o.Port = n.Port()
	argv := synthesizedArgv(o)
	return bson.D{{Key: "argv", Value: argv}, {Key: "parsed", Value: parsedOptions(o)}}, nil
}
