package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func TestSecondOpenRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db") // Open creates it
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := os.ReadFile(filepath.Join(dir, LockFileName))
	if strings.TrimSpace(string(pid)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("mongod.lock holds %q", pid)
	}
	start := time.Now()
	_, err = Open(dir, Options{})
	me := wantCode(t, err, mongoerr.DBPathInUse)
	want := "Unable to lock the lock file: " + filepath.Join(dir, LockFileName) +
		" (Resource temporarily unavailable). Another mongod instance is already running on the dbpath, " + dir
	if me.Msg != want {
		t.Errorf("msg = %q\nwant  %q", me.Msg, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Error() = %q", err)
	}
	// With a LockTimeout Open waits, then gives up the same way.
	_, err = Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	wantCode(t, err, mongoerr.DBPathInUse)
	t.Logf("refusals took %v", time.Since(start))

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.View(func(*Tx) error { return nil }); err != ErrClosed {
		t.Errorf("View after Close = %v", err)
	}
}

// TestLastShutdownUnclean: a non-empty mongod.lock at open means the previous holder did not
// shut down cleanly (StorageEngineLockFile::createdByUncleanShutdown); a clean Close empties it.
func TestLastShutdownUnclean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.LastShutdownUnclean() {
		t.Fatal("a fresh dbpath reports an unclean shutdown")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if s.LastShutdownUnclean() {
		t.Fatal("a clean Close reported as unclean")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What a SIGKILL leaves: the pid still in the lock file.
	if err := os.WriteFile(filepath.Join(dir, LockFileName), []byte("12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.LastShutdownUnclean() {
		t.Fatal("a non-empty mongod.lock not reported as an unclean shutdown")
	}
}
