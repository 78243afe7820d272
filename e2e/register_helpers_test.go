package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// dialRegisters is a register client on hosts' set (the checkers' broken clients: w:1,
// secondary reads), closed when the test ends.
func dialRegisters(t testing.TB, hosts []*harness.Host, o mongo.RegisterOptions) *mongo.RegisterClient {
	t.Helper()
	o.Set = hosts[0].ReplSet
	for _, h := range hosts {
		o.Hosts = append(o.Hosts, h.HostPort())
	}
	rc, err := mongo.DialRegisters(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close(context.Background()) })
	return rc
}

// readBackInserts reads the inserted ids with readConcern majority, retrying while the set
// settles.
func readBackInserts(t testing.TB, rc *mongo.RegisterClient) map[string]bool {
	t.Helper()
	var present map[string]bool
	harness.WaitFor(t, 30*time.Second, "reading the inserted ids back (majority)", func(ctx context.Context) error {
		var err error
		present, err = rc.InsertedIDs(ctx)
		return err
	})
	return present
}

// artifactPath is where a porcupine visualization goes: $RSGUARD_ARTIFACTS when set, else the
// test's temporary directory.
func artifactPath(t testing.TB, name string) string {
	dir := os.Getenv("RSGUARD_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir %s: %v", dir, err)
	}
	return filepath.Join(dir, name)
}

// secondaryValue reads key's v over cl, a direct connection (readConcern local).
func secondaryValue(ctx context.Context, cl *mongodrv.Client, key string) (int64, error) {
	raw, err := cl.Database("rsguard_drill").RunCommand(ctx, bson.D{{Key: "find", Value: "registers"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: key}}}}).Raw()
	if err != nil {
		return 0, err
	}
	docs, err := raw.Lookup("cursor", "firstBatch").Array().Values()
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	v, _ := docs[0].Document().Lookup("v").AsInt64OK()
	return v, nil
}

func setFailPoint(t testing.TB, h *harness.Host, name, mode string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Command(ctx, bson.D{{Key: "configureFailPoint", Value: name}, {Key: "mode", Value: mode}}); err != nil {
		t.Fatalf("%s: configureFailPoint %s %s: %v", h, name, mode, err)
	}
}
