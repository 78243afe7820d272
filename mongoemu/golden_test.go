package mongoemu

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

// Golden "shape" files pin every field of a reply: its path, its order, its BSON type and, for
// stable scalars, its value (spec §2.1 hello, §6.10 serverStatus, §6.14 buildInfo). A driver
// that decodes strictly (int32 vs int64, date vs timestamp) breaks on any of these, so the
// files were written from the spec and reviewed line by line; -update rewrites them.
var updateGolden = flag.Bool("update", false, "rewrite testdata/golden/*.shape from the emulator's replies")

// volatilePrefixes are paths whose values change per run; only their types are pinned.
var volatilePrefixes = []string{
	"host", "pid", "uptime", "uptimeMillis", "uptimeEstimate", "connectionId", "topologyVersion.counter",
	"connections.", "extra_info.", "mem.resident", "mem.virtual", "opcounters.", "repl.rbid",
	"repl.topologyVersion.counter",
}

func isVolatile(path string, extra []string) bool {
	for _, p := range append(volatilePrefixes, extra...) {
		if path == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}

// shape renders doc as one "path type [= value]" line per field, recursing into documents and
// arrays (array elements share the path "name[]").
func shape(doc bson.Raw, prefix string, volatile []string, out *[]string) {
	elems, _ := doc.Elements()
	for _, e := range elems {
		shapeValue(prefix+e.Key(), e.Value(), volatile, out)
	}
}

func shapeValue(path string, v bson.RawValue, volatile []string, out *[]string) {
	line := path + " " + typeName(v.Type)
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		*out = append(*out, line)
		shape(v.Document(), path+".", volatile, out)
		return
	case bson.TypeArray:
		*out = append(*out, line)
		vals, _ := v.Array().Values()
		seen := map[string]bool{}
		for _, ev := range vals {
			var sub []string
			shapeValue(path+"[]", ev, volatile, &sub)
			for _, s := range sub {
				if !seen[s] {
					seen[s] = true
					*out = append(*out, s)
				}
			}
		}
		return
	case bson.TypeBoolean, bson.TypeString, bson.TypeInt32, bson.TypeInt64, bson.TypeDouble:
		if !isVolatile(path, volatile) {
			line += " = " + scalarText(v)
		}
	}
	*out = append(*out, line)
}

func scalarText(v bson.RawValue) string {
	switch v.Type {
	case bson.TypeInt32:
		return fmt.Sprint(v.Int32())
	case bson.TypeInt64:
		return fmt.Sprint(v.Int64())
	case bson.TypeDouble:
		return strconv.FormatFloat(v.Double(), 'f', -1, 64)
	}
	return v.String()
}

// checkGolden compares doc's shape with testdata/golden/<name>.shape; volatile adds paths (or
// "prefix." subtrees) whose values are not pinned.
func checkGolden(t *testing.T, name string, doc bson.Raw, volatile ...string) {
	t.Helper()
	var lines []string
	shape(doc, "", volatile, &lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "golden", name+".shape")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden: %v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from %s\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

func wireClient(t *testing.T, tn *testNode) *wire.Client {
	t.Helper()
	c, err := wire.Dial(context.Background(), tn.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func wireCommand(t *testing.T, c *wire.Client, cmd bson.D) bson.Raw {
	t.Helper()
	reply, err := c.Command(context.Background(), cmd, 5*time.Second)
	if err != nil {
		t.Fatalf("%v: %v", cmd[0].Key, err)
	}
	return reply
}

// legacyHandshake sends the driver's first message, OP_QUERY isMaster on admin.$cmd, and
// checks the OP_REPLY framing mongod uses (flags AwaitCapable, one document).
func legacyHandshake(t *testing.T, addr string, cmd bson.D) bson.Raw {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nc.Close() }()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	body, _ := bson.Marshal(cmd)
	if _, err := nc.Write(wire.AppendQuery(nil, 7, "admin.$cmd", body)); err != nil {
		t.Fatal(err)
	}
	h, rb, err := wire.ReadMessage(nc, wire.DefaultMaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	if h.OpCode != wire.OpReply || h.ResponseTo != 7 {
		t.Fatalf("legacy handshake answered with opcode %d responseTo %d", h.OpCode, h.ResponseTo)
	}
	if flags := int32(binary.LittleEndian.Uint32(rb)); flags != wire.ReplyFlagAwaitCapable {
		t.Fatalf("OP_REPLY flags %d, want AwaitCapable (8)", flags)
	}
	doc, err := wire.ParseReply(rb)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestGoldenStandalone(t *testing.T) {
	tn := startTestNode(t, Options{})
	c := wireClient(t, tn)
	checkGolden(t, "hello_standalone", wireCommand(t, c, bson.D{{Key: "hello", Value: 1}, {Key: "helloOk", Value: true}, {Key: "$db", Value: "admin"}}))
	checkGolden(t, "ismaster_legacy_standalone", legacyHandshake(t, tn.Addr(), bson.D{{Key: "isMaster", Value: 1}, {Key: "helloOk", Value: true}}))
	checkGolden(t, "serverstatus_standalone", wireCommand(t, c, bson.D{{Key: "serverStatus", Value: 1}, {Key: "$db", Value: "admin"}}))
	checkGolden(t, "buildinfo", wireCommand(t, c, bson.D{{Key: "buildInfo", Value: 1}, {Key: "$db", Value: "admin"}}))
}

func TestGoldenUninitializedReplSet(t *testing.T) {
	tn := startTestNode(t, Options{ReplSet: "rs0"})
	c := wireClient(t, tn)
	checkGolden(t, "hello_replset_uninitialized", wireCommand(t, c, bson.D{{Key: "hello", Value: 1}, {Key: "helloOk", Value: true}, {Key: "$db", Value: "admin"}}))
	checkGolden(t, "ismaster_legacy_replset_uninitialized", legacyHandshake(t, tn.Addr(), bson.D{{Key: "isMaster", Value: 1}, {Key: "helloOk", Value: true}}))
	checkGolden(t, "serverstatus_replset_uninitialized", wireCommand(t, c, bson.D{{Key: "serverStatus", Value: 1}, {Key: "$db", Value: "admin"}}))
}

// TestServerStatusCountersMove checks the live values the golden files leave out.
func TestServerStatusCountersMove(t *testing.T) {
	tn := startTestNode(t, Options{})
	c := wireClient(t, tn)
	ss := func() bson.Raw {
		return wireCommand(t, c, bson.D{{Key: "serverStatus", Value: 1}, {Key: "$db", Value: "admin"}})
	}
	first := ss()
	second := ss()
	cmd1, _ := first.Lookup("opcounters", "command").Int64OK()
	cmd2, _ := second.Lookup("opcounters", "command").Int64OK()
	if cmd2 <= cmd1 {
		t.Fatalf("opcounters.command did not grow: %d then %d", cmd1, cmd2)
	}
	if cur := second.Lookup("connections", "current").Int32(); cur < 1 {
		t.Fatalf("connections.current = %d", cur)
	}
	if pid := second.Lookup("pid").Int64(); pid != int64(os.Getpid()) {
		t.Fatalf("pid = %d, want %d", pid, os.Getpid())
	}
	if up := second.Lookup("uptime").Double(); up <= 0 {
		t.Fatalf("uptime = %v", up)
	}
	if lt := second.Lookup("localTime").Time(); time.Since(lt) > time.Minute {
		t.Fatalf("localTime %v is not now", lt)
	}
	if host := second.Lookup("host").StringValue(); !strings.HasSuffix(host, fmt.Sprintf(":%d", tn.Port())) {
		t.Fatalf("host %q lacks the non-default port", host)
	}
}

// TestGoldenPrimary pins hello and serverStatus of a single-node replica-set primary: the
// replication block of spec §2.1 (hosts, setName, setVersion, primary, me, electionId,
// lastWrite with majority fields) and the envelope's $clusterTime/operationTime (§1.8).
func TestGoldenPrimary(t *testing.T) {
	tn := initiateSet(t, 1, 1000, func(nodes []*testNode) bool {
		st, writable := memberStateOf(nodes[0])
		return st == statePrimary && writable
	})[0]
	c := wireClient(t, tn)
	var hello bson.Raw
	eventually(t, 10*time.Second, "a majority commit point", func() bool {
		hello = wireCommand(t, c, bson.D{{Key: "hello", Value: 1}, {Key: "helloOk", Value: true}, {Key: "$db", Value: "admin"}})
		_, err := hello.LookupErr("lastWrite", "majorityOpTime")
		return err == nil
	})
	volatile := []string{"hosts[]", "primary", "me", "lastWrite.opTime.t", "lastWrite.majorityOpTime.t"}
	checkGolden(t, "hello_primary", hello, volatile...)
	if str(hello, "me") != tn.Addr() || str(hello, "primary") != tn.Addr() {
		t.Fatalf("primary hello me/primary = %q/%q, want %q", str(hello, "me"), str(hello, "primary"), tn.Addr())
	}
	ss := wireCommand(t, c, bson.D{{Key: "serverStatus", Value: 1}, {Key: "$db", Value: "admin"}})
	repl, err := ss.LookupErr("repl")
	if err != nil {
		t.Fatalf("serverStatus of a member lacks repl: %v", ss)
	}
	prefixed := make([]string, 0, len(volatile))
	for _, v := range volatile {
		prefixed = append(prefixed, "repl."+v)
	}
	section, err := bson.Marshal(bson.D{{Key: "repl", Value: repl}})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "serverstatus_repl_primary", section, prefixed...)
}
