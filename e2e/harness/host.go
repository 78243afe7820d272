package harness

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/lab"
)

// Host is one machine of the test deployment (lab.Host: address, mongod, sidecars; every lab
// method and field is promoted), plus driver clients for tests.
type Host struct {
	*lab.Host
}

// ClientOptions are driver options for this host: a direct connection with short timeouts so a
// dead or frozen host fails calls fast, over TLS and as root when the cluster has them.
func (h *Host) ClientOptions() *options.ClientOptions {
	o := options.Client().ApplyURI(h.URI()).
		SetServerSelectionTimeout(2 * time.Second).
		SetConnectTimeout(time.Second).
		SetHeartbeatInterval(500 * time.Millisecond).
		SetAppName("rsguard-e2e")
	return withSecurity(o, h.TLSConfig(), h.Credential)
}

// Client returns a new direct driver client, disconnected when the test ends.
func (h *Host) Client(t testing.TB) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(h.ClientOptions())
	if err != nil {
		t.Fatalf("connect %s: %v", h, err)
	}
	t.Cleanup(func() { disconnect(c) })
	return c
}

func disconnect(c *mongo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = c.Disconnect(ctx)
}
