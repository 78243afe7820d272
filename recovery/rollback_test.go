package recovery

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const testUUID = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"

// writeRollbackFile writes docs as mongod does: <dbpath>/rollback/<dir>/removed.<stamp>.0.bson.
func writeRollbackFile(t *testing.T, dbpath, dir string, at time.Time, docs ...bson.D) string {
	t.Helper()
	var buf bytes.Buffer
	for _, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(raw)
	}
	path := filepath.Join(dbpath, "rollback", dir, "removed."+at.UTC().Format(rollbackStampLayout)+".0.bson")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScanRollbackWithoutDirectory(t *testing.T) {
	files, err := ScanRollback(t.TempDir())
	if err != nil || len(files) != 0 {
		t.Fatalf("got %v, %v; want nothing", files, err)
	}
}

func TestArchiveMovesFilesAndDescribesThem(t *testing.T) {
	dbpath, archive := t.TempDir(), t.TempDir()
	t1 := time.Date(2026, 12, 2, 17, 1, 2, 0, time.UTC)
	oid1 := bson.NewObjectIDFromTimestamp(t1.Add(-time.Minute))
	oid2 := bson.NewObjectIDFromTimestamp(t1.Add(-10 * time.Second))
	a := writeRollbackFile(t, dbpath, testUUID, t1, bson.D{{Key: "_id", Value: oid1}, {Key: "n", Value: 1}}, bson.D{{Key: "_id", Value: oid2}, {Key: "n", Value: 2}})
	b := writeRollbackFile(t, dbpath, "shop.orders", t1.Add(time.Second), bson.D{{Key: "_id", Value: 7}, {Key: "sku", Value: "x"}})

	files, err := ScanRollback(dbpath)
	if err != nil || len(files) != 2 {
		t.Fatalf("scan: %v, %v", files, err)
	}
	m, err := Archive(archive, files, ArchiveMeta{Set: "rs0", Member: "127.0.0.2:27017", Term: 4, SyncSource: "127.0.0.3:27017",
		Namespaces: map[string]string{testUUID: "app.users"}, Now: t1.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || m.Documents != 3 || len(m.Files) != 2 || m.Term != 4 || m.SyncSource != "127.0.0.3:27017" {
		t.Fatalf("manifest %+v", m)
	}
	if !m.RolledBackFrom.Equal(t1) || !m.RolledBackTo.Equal(t1.Add(time.Second)) {
		t.Errorf("time range %s .. %s", m.RolledBackFrom, m.RolledBackTo)
	}
	f0, f1 := m.Files[0], m.Files[1]
	if f0.Namespace != "app.users" || f0.Documents != 2 || !f0.OldestID.Equal(t1.Add(-time.Minute)) || !f0.NewestID.Equal(t1.Add(-10*time.Second)) {
		t.Errorf("file 0: %+v", f0)
	}
	if f1.Namespace != "shop.orders" || f1.Documents != 1 || !f1.OldestID.IsZero() {
		t.Errorf("file 1 (pre-4.4 layout, int _id): %+v", f1)
	}
	for _, p := range []string{a, b} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still in the dbpath: %v", p, err)
		}
	}
	if left, _ := ScanRollback(dbpath); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}

	ms, err := List(archive)
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID {
		t.Fatalf("list: %+v, %v", ms, err)
	}
	got, err := Find(archive, m.ID[:8])
	if err != nil || got.ID != m.ID {
		t.Fatalf("find by prefix: %v, %v", got.ID, err)
	}
	var out bytes.Buffer
	n, err := Export(archive, got, "app.users", &out)
	if err != nil || n != 2 {
		t.Fatalf("export: %d, %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var doc map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &doc) != nil || doc["n"] != float64(2) {
		t.Errorf("export lines: %q", lines)
	}
	if !strings.Contains(lines[0], `"$oid":"`+oid1.Hex()+`"`) {
		t.Errorf("the ObjectId is not relaxed extended JSON: %s", lines[0])
	}
	if _, err := Export(archive, got, "nope.nothing", &out); err == nil || !strings.Contains(err.Error(), `"nope.nothing"`) {
		t.Errorf("unknown namespace: %v", err)
	}
}

// A sidecar killed between the manifest and the moves: the next Archive finishes the entry, and
// moves nothing twice.
func TestArchiveFinishesAnIncompleteEntry(t *testing.T) {
	dbpath, archive := t.TempDir(), t.TempDir()
	t1 := time.Date(2026, 12, 2, 17, 1, 2, 0, time.UTC)
	p1 := writeRollbackFile(t, dbpath, testUUID, t1, bson.D{{Key: "_id", Value: 1}})
	p2 := writeRollbackFile(t, dbpath, testUUID, t1.Add(time.Second), bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 3}})
	files, _ := ScanRollback(dbpath)
	m := &Manifest{ID: entryID(t1, "m"), Member: "m", ArchivedAt: t1}
	for _, f := range files {
		m.Files = append(m.Files, ManifestFile{Dir: f.Dir, File: filepath.Join(f.Dir, f.Name), Source: f.Path, RolledBackAt: f.At})
	}
	entry := filepath.Join(archive, m.ID)
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeManifest(entry, m); err != nil {
		t.Fatal(err)
	}
	if err := moveFile(p1, filepath.Join(entry, m.Files[0].File)); err != nil { // the crash came after one move
		t.Fatal(err)
	}

	again, err := Archive(archive, nil, ArchiveMeta{Member: "m", Now: t1.Add(time.Hour)})
	if err != nil || again != nil {
		t.Fatalf("archive of nothing new: %+v, %v", again, err)
	}
	ms, err := List(archive)
	if err != nil || len(ms) != 1 || !ms[0].Complete || ms[0].Documents != 3 {
		t.Fatalf("after the restart: %+v, %v", ms, err)
	}
	if _, err := os.Stat(p2); !os.IsNotExist(err) {
		t.Errorf("the second file was not moved: %v", err)
	}
}

func TestPruneKeepsEverythingWithoutRetention(t *testing.T) {
	dbpath, archive := t.TempDir(), t.TempDir()
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeRollbackFile(t, dbpath, testUUID, t1, bson.D{{Key: "_id", Value: 1}})
	files, _ := ScanRollback(dbpath)
	if _, err := Archive(archive, files, ArchiveMeta{Member: "m", Now: t1}); err != nil {
		t.Fatal(err)
	}
	later := t1.Add(365 * 24 * time.Hour)
	if gone, err := Prune(archive, 0, later); err != nil || len(gone) != 0 {
		t.Fatalf("prune without retention removed %v (%v)", gone, err)
	}
	if gone, err := Prune(archive, 30*24*time.Hour, later); err != nil || len(gone) != 1 {
		t.Fatalf("prune with 30 days: %v, %v", gone, err)
	}
	if ms, _ := List(archive); len(ms) != 0 {
		t.Errorf("left: %+v", ms)
	}
}

// A damaged rollback file is archived as it is, with the documents before the damage counted and
// the damage named: nothing is lost, and the archive does not stall on it.
func TestArchiveKeepsADamagedFileAndSaysWhere(t *testing.T) {
	dbpath, archive := t.TempDir(), t.TempDir()
	t1 := time.Date(2026, 12, 2, 17, 1, 2, 0, time.UTC)
	p := writeRollbackFile(t, dbpath, testUUID, t1, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}})
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := ScanRollback(dbpath)
	m, err := Archive(archive, files, ArchiveMeta{Member: "m", Now: t1})
	if err != nil {
		t.Fatal(err)
	}
	f := m.Files[0]
	if !m.Complete || f.Documents != 1 || !strings.Contains(f.Damaged, "offset 14") {
		t.Fatalf("manifest file %+v", f)
	}
	var out bytes.Buffer
	n, err := Export(archive, *m, "", &out)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "offset 14") {
		t.Errorf("export of a damaged file: %d documents, %v; want the one before the damage and an error naming it", n, err)
	}
}

// Archived while the member could not list its collections: a later pass names them.
func TestResolveNamespacesLater(t *testing.T) {
	dbpath, archive := t.TempDir(), t.TempDir()
	t1 := time.Date(2026, 12, 2, 17, 1, 2, 0, time.UTC)
	writeRollbackFile(t, dbpath, testUUID, t1, bson.D{{Key: "_id", Value: 1}})
	files, _ := ScanRollback(dbpath)
	if _, err := Archive(archive, files, ArchiveMeta{Member: "m", Now: t1}); err != nil {
		t.Fatal(err)
	}
	ms, _ := List(archive)
	if !Unresolved(ms) {
		t.Fatalf("unresolved UUID not reported: %+v", ms)
	}
	if n, err := ResolveNamespaces(archive, map[string]string{testUUID: "app.users"}); err != nil || n != 1 {
		t.Fatalf("resolve: %d, %v", n, err)
	}
	ms, _ = List(archive)
	if Unresolved(ms) || ms[0].Files[0].Namespace != "app.users" || !ms[0].Complete {
		t.Errorf("after resolving: %+v", ms[0])
	}
}
