package mongoemu

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// testNode is an in-process node for package tests.
type testNode struct {
	*Node
	errc chan error
}

// startTestNode starts a node on 127.0.0.1 with a free port and a temp dbpath. Set
// MONGOEMU_TEST_LOG=1 to see its log on stderr.
func startTestNode(t testing.TB, opts Options) *testNode {
	t.Helper()
	if opts.DBPath == "" {
		opts.DBPath = t.TempDir()
	}
	if opts.BindIP == "" {
		opts.BindIP = "127.0.0.1"
	}
	if opts.Logger == nil && os.Getenv("MONGOEMU_TEST_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	n, err := New(opts)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	tn := &testNode{Node: n, errc: make(chan error, 1)}
	go func() { tn.errc <- n.Serve(context.Background()) }()
	t.Cleanup(func() { n.Stop(nil) })
	return tn
}

// uri is a direct-connection URI for the official driver.
func (tn *testNode) uri() string {
	return fmt.Sprintf("mongodb://%s/?directConnection=true&serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=500", tn.Addr())
}

// client connects the official Go driver and disconnects at cleanup.
func (tn *testNode) client(t testing.TB, extra ...*options.ClientOptions) *mongo.Client {
	t.Helper()
	o := options.Client().ApplyURI(tn.uri())
	all := append([]*options.ClientOptions{o}, extra...)
	c, err := mongo.Connect(all...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
