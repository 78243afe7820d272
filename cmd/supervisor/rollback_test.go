package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/recovery"
)

// testArchive archives one rollback file of two documents and returns the archive and its entry.
func testArchive(t *testing.T) (string, recovery.Manifest) {
	t.Helper()
	dbpath, archive := t.TempDir(), t.TempDir()
	var buf bytes.Buffer
	for _, d := range []bson.D{{{Key: "_id", Value: 1}, {Key: "sku", Value: "a"}}, {{Key: "_id", Value: 2}, {Key: "sku", Value: "b"}}} {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(raw)
	}
	p := filepath.Join(dbpath, "rollback", "shop.orders", "removed.2026-12-02T17-01-02.0.bson")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := recovery.ScanRollback(dbpath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := recovery.Archive(archive, files, recovery.ArchiveMeta{Set: "rs0", Member: "127.0.0.2:27017", Term: 5,
		SyncSource: "127.0.0.3:27017", Now: time.Date(2026, 12, 2, 17, 2, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return archive, *m
}

func TestRollbackListShowExport(t *testing.T) {
	archive, m := testArchive(t)
	code, out, errs := runMain(t, "rollback", "list", "--archive", archive)
	if code != exitOK || !strings.Contains(out, m.ID) || !strings.Contains(out, "shop.orders") || !strings.Contains(out, "127.0.0.2:27017") {
		t.Fatalf("list: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runMain(t, "rollback", "show", "--archive", archive, m.ID[:10])
	if code != exitOK || !strings.Contains(out, "term         5") || !strings.Contains(out, "2 in 1 files") {
		t.Fatalf("show: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runMain(t, "rollback", "export", "--archive", archive, m.ID, "--ns", "shop.orders")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 2 || !strings.Contains(lines[1], `"sku":"b"`) || !strings.Contains(errs, "2 documents exported") {
		t.Fatalf("export: %d\n%s\n%s", code, out, errs)
	}
}

func TestRollbackErrorsNameWhat(t *testing.T) {
	archive, _ := testArchive(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"rollback", "list"}, exitUsage, "--config FILE or --archive DIR"},
		{[]string{"rollback", "show", "--archive", archive, "nosuch"}, exitFailed, `no rollback archive entry "nosuch"`},
		{[]string{"rollback", "list", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, exitUsage, "missing.yaml"},
	} {
		code, _, errs := runMain(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}
