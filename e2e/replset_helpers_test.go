package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// Helpers shared by the replica-set acceptance tests (replset_*_test.go). They talk to the
// members only through the official Go driver, like any client of a real replica set.

// directColl is coll on h over a new direct connection with the given write concern and
// secondaryPreferred reads, so a count works on any data-bearing member. Retries are off: with
// a context deadline the driver retries a retryable error (e.g. NotWritablePrimary) until the
// deadline and then reports only the deadline, while these tests want each member's own answer.
func directColl(t testing.TB, h *harness.Host, db, coll string, wc *writeconcern.WriteConcern) *mongo.Collection {
	t.Helper()
	cl, err := mongo.Connect(h.ClientOptions().SetRetryWrites(false).SetRetryReads(false))
	if err != nil {
		t.Fatalf("connect %s: %v", h, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = cl.Disconnect(ctx)
	})
	return cl.Database(db).Collection(coll,
		options.Collection().SetWriteConcern(wc).SetReadPreference(readpref.SecondaryPreferred()))
}

// ids reads every _id of coll (on whatever member coll is bound to) as a sorted string list.
func ids(ctx context.Context, coll *mongo.Collection) ([]string, error) {
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out, nil
}

// missing lists the elements of want absent from have (have sorted).
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if _, ok := slices.BinarySearch(have, w); !ok {
			out = append(out, w)
		}
	}
	return out
}

// present lists the elements of unwanted found in have (have sorted).
func present(unwanted, have []string) []string {
	var out []string
	for _, u := range unwanted {
		if _, ok := slices.BinarySearch(have, u); ok {
			out = append(out, u)
		}
	}
	return out
}

// waitDocsOn polls every host (direct, secondaryPreferred) until each holds every id of want and
// none of unwanted. w:majority only promises a majority, so the last member may lag a little.
func waitDocsOn(t testing.TB, hosts []*harness.Host, db, coll string, want, unwanted []string, timeout time.Duration) {
	t.Helper()
	for _, h := range hosts {
		c := directColl(t, h, db, coll, writeconcern.W1())
		harness.WaitFor(t, timeout, fmt.Sprintf("%d acknowledged documents on %s", len(want), h), func(ctx context.Context) error {
			have, err := ids(ctx, c)
			if err != nil {
				return err
			}
			if m := missing(want, have); len(m) > 0 {
				return fmt.Errorf("%s lacks %d of %d acknowledged documents, e.g. %v", h, len(m), len(want), m[:min(len(m), 5)])
			}
			if p := present(unwanted, have); len(p) > 0 {
				return fmt.Errorf("%s still holds %d documents that must be gone, e.g. %v", h, len(p), p[:min(len(p), 5)])
			}
			return nil
		})
	}
}

// codeOf is the server error code of err (a command error or a write error), or 0.
func codeOf(err error) int {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		if codes := se.ErrorCodes(); len(codes) > 0 {
			return codes[0]
		}
	}
	return 0
}

// wantCode checks that err is a server error with code (and logs its message).
func wantCode(t testing.TB, what string, err error, code int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want error code %d", what, code)
		return
	}
	if got := codeOf(err); got != code {
		t.Errorf("%s: error %v (code %d), want code %d", what, err, got, code)
		return
	}
	t.Logf("%s: %v", what, err)
}

// errHolding is what a hold condition returns while the awaited state still holds.
var errHolding = errors.New("condition still holds")

// holdFor polls check for d and fails the test as soon as check reports a violation: the
// deadline-polling way to assert "stays so for d" (never a fixed sleep).
func holdFor(t testing.TB, d time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	err := harness.Poll(context.Background(), d, func(ctx context.Context) error {
		if err := check(ctx); err != nil {
			return harness.Abort(err)
		}
		return errHolding
	})
	if !errors.Is(err, errHolding) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s did not hold for %v: %v", what, d, err)
	}
}

// logEvent is one structured mongod log line (mongod 4.4+ JSON, which mongoemu writes too).
type logEvent struct {
	T struct {
		Date string `json:"$date"`
	} `json:"t"`
	ID   int            `json:"id"`
	Msg  string         `json:"msg"`
	Attr map[string]any `json:"attr"`
}

// logEvents are h's log lines with the given id, in order.
func logEvents(h *harness.Host, id int) ([]logEvent, error) {
	f, err := os.Open(h.LogPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	needle := fmt.Sprintf(`"id":%d,`, id)
	var out []logEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), needle) {
			continue
		}
		var ev logEvent
		if json.Unmarshal(line, &ev) == nil && ev.ID == id {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

// lastLogTime is the time of h's last log line with id after since (mongod logs milliseconds).
func lastLogTime(h *harness.Host, id int, since time.Time) (time.Time, bool) {
	evs, err := logEvents(h, id)
	if err != nil {
		return time.Time{}, false
	}
	for i := len(evs) - 1; i >= 0; i-- {
		at, err := time.Parse("2006-01-02T15:04:05.000-07:00", evs[i].T.Date)
		if err == nil && !at.Before(since.Truncate(time.Millisecond)) {
			return at, true
		}
	}
	return time.Time{}, false
}

// stateTransitions lists h's own state changes from its log (id 21358, "Replica set state
// transition"), as "OLD->NEW".
func stateTransitions(h *harness.Host) ([]string, error) {
	evs, err := logEvents(h, 21358)
	var out []string
	for _, ev := range evs {
		out = append(out, fmt.Sprintf("%v->%v", ev.Attr["oldState"], ev.Attr["newState"]))
	}
	return out, err
}

// rollbackFiles parses every dbpath/rollback/<dir>/removed.*.bson of h: the documents by
// directory name (the collection UUID since 4.4, spec §7.7).
func rollbackFiles(h *harness.Host) (map[string][]bson.Raw, error) {
	paths, err := filepath.Glob(filepath.Join(h.DBPath, "rollback", "*", "removed.*.bson"))
	if err != nil {
		return nil, err
	}
	out := map[string][]bson.Raw{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		dir := filepath.Base(filepath.Dir(p))
		for len(data) > 0 {
			doc, rest, ok := bsoncoreDoc(data)
			if !ok {
				return nil, fmt.Errorf("%s: truncated or invalid BSON at offset %d", p, len(data))
			}
			if err := doc.Validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			out[dir] = append(out[dir], doc)
			data = rest
		}
	}
	return out, nil
}

// bsoncoreDoc splits the first length-prefixed BSON document off data.
func bsoncoreDoc(data []byte) (bson.Raw, []byte, bool) {
	if len(data) < 5 {
		return nil, nil, false
	}
	n := int(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24)
	if n < 5 || n > len(data) {
		return nil, nil, false
	}
	return bson.Raw(data[:n]), data[n:], true
}

// collectionUUID is the UUID of db.coll on h (listCollections info.uuid) in the
// 8-4-4-4-12 form mongod uses for rollback directory names.
func collectionUUID(ctx context.Context, h *harness.Host, db, coll string) (string, error) {
	cl, err := mongo.Connect(h.ClientOptions())
	if err != nil {
		return "", err
	}
	defer func() { _ = cl.Disconnect(context.Background()) }()
	specs, err := cl.Database(db).ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: coll}})
	if err != nil {
		return "", err
	}
	if len(specs) != 1 {
		return "", fmt.Errorf("%s: listCollections %s.%s returned %d collections", h, db, coll, len(specs))
	}
	u := specs[0].UUID
	if u == nil || len(u.Data) != 16 {
		return "", fmt.Errorf("%s: %s.%s has no UUID: %+v", h, db, coll, specs[0])
	}
	d := u.Data
	return fmt.Sprintf("%x-%x-%x-%x-%x", d[0:4], d[4:6], d[6:8], d[8:10], d[10:16]), nil
}

// rsConfig is replSetGetConfig's config on h.
func rsConfig(ctx context.Context, h *harness.Host) (bson.M, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}})
	if err != nil {
		return nil, err
	}
	cfg, ok := raw.Lookup("config").DocumentOK()
	if !ok {
		return nil, fmt.Errorf("%s: replSetGetConfig without config: %s", h, raw)
	}
	// Nested documents as bson.M too (the driver's default is bson.D), so a test can edit
	// settings and members in place.
	dec := bson.NewDecoder(bson.NewDocumentReader(bytes.NewReader(cfg)))
	dec.DefaultDocumentM()
	var m bson.M
	return m, dec.Decode(&m)
}

// setVersion is hello.setVersion on h.
func setVersion(ctx context.Context, h *harness.Host) (int64, error) {
	hello, err := h.Hello(ctx)
	if err != nil {
		return 0, err
	}
	return asInt64(hello["setVersion"])
}

func asInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("not a number: %T %v", v, v)
}

// rbid is replSetGetRBID on h (the rollback id, bumped by every rollback).
func rbid(ctx context.Context, h *harness.Host) (int64, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "replSetGetRBID", Value: 1}})
	if err != nil {
		return 0, err
	}
	v, ok := raw.Lookup("rbid").AsInt64OK()
	if !ok {
		return 0, fmt.Errorf("%s: replSetGetRBID without rbid: %s", h, raw)
	}
	return v, nil
}

// mustCommand runs cmd on h and fails the test on error.
func mustCommand(t testing.TB, h *harness.Host, cmd bson.D) bson.Raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := h.Command(ctx, cmd)
	if err != nil {
		t.Fatalf("%s on %s: %v", cmd[0].Key, h, err)
	}
	return raw
}
