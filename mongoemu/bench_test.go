package mongoemu

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// benchCollection is a collection on a fresh in-process node, reached by the official driver
// over loopback, with write concern {w: 1}.
func benchCollection(b *testing.B) *mongo.Collection {
	b.Helper()
	c := startTestNode(b, Options{}).client(b, options.Client().SetMaxPoolSize(64))
	return c.Database("bench").Collection("c", options.Collection().SetWriteConcern(writeconcern.W1()))
}

func reportOps(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

func BenchmarkInsertW1(b *testing.B) {
	coll := benchCollection(b)
	ctx := context.Background()
	doc := bson.D{{Key: "name", Value: "benchmark"}, {Key: "n", Value: 42}, {Key: "tags", Value: bson.A{"a", "b"}}}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := coll.InsertOne(ctx, doc); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, start)
}

func BenchmarkInsertW1Parallel(b *testing.B) {
	coll := benchCollection(b)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		doc := bson.D{{Key: "name", Value: "benchmark"}, {Key: "n", Value: 42}}
		for pb.Next() {
			if _, err := coll.InsertOne(ctx, doc); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportOps(b, start)
}

const benchDocs = 10000

func seedBench(b *testing.B, coll *mongo.Collection) {
	b.Helper()
	docs := make([]any, benchDocs)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "name", Value: "doc"}, {Key: "n", Value: i}}
	}
	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkFindByID(b *testing.B) {
	coll := benchCollection(b)
	seedBench(b, coll)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: i % benchDocs}}).Err(); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, start)
}

func BenchmarkFindByIDParallel(b *testing.B) {
	coll := benchCollection(b)
	seedBench(b, coll)
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := int(next.Add(1) % benchDocs)
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportOps(b, start)
}
