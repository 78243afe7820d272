package mongoemu

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BenchmarkInternalDialKeyFile is one internal connection (votes and the stepUp handoff open
// one each): TCP, the internalClient hello and SCRAM-SHA-256 as __system. The client's derived
// keys are cached, so after the first dial no PBKDF2 runs, as with mongod's secrets cache.
func BenchmarkInternalDialKeyFile(b *testing.B) {
	key := filepath.Join(b.TempDir(), "key")
	if err := os.WriteFile(key, []byte("YmVuY2htYXJrLWtleQ=="), 0o600); err != nil {
		b.Fatal(err)
	}
	sec := Security{KeyFile: key}
	a := startTestNode(b, Options{ReplSet: "rs0", Security: sec})
	peer := startTestNode(b, Options{ReplSet: "rs0", Security: sec})
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		c, err := a.dialPeer(ctx, peer.Addr(), 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}

// BenchmarkDriverSCRAMLogin is a new driver client logging in (speculative SCRAM-SHA-256 in
// the handshake: the client runs 15000 PBKDF2 iterations) and pinging.
func BenchmarkDriverSCRAMLogin(b *testing.B) {
	tn := startTestNode(b, Options{Security: Security{Auth: true}})
	anon := tn.client(b)
	ctx := context.Background()
	if err := anon.Database("admin").RunCommand(ctx, bson.D{{Key: "createUser", Value: "u"}, {Key: "pwd", Value: "p"},
		{Key: "roles", Value: bson.A{"root"}}}).Err(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		c, err := mongo.Connect(options.Client().ApplyURI(tn.uri()).SetAuth(options.Credential{Username: "u", Password: "p"}))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Ping(ctx, nil); err != nil {
			b.Fatal(err)
		}
		_ = c.Disconnect(ctx)
	}
}
