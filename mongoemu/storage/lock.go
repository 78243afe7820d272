package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// LockFileName is mongod's lock file in the dbpath.
const LockFileName = "mongod.lock"

// lockRetryEvery is how often a waiting Open retries the flock within Options.LockTimeout.
const lockRetryEvery = 20 * time.Millisecond

// dbpathLock is the held mongod.lock: an exclusive flock on an open file description.
type dbpathLock struct {
	f *os.File
	// unclean: the file was not empty when we took it, so the last process to hold it did not
	// shut down cleanly (StorageEngineLockFile::createdByUncleanShutdown).
	unclean bool
}

// lockDBPath takes <dir>/mongod.lock, waiting up to wait for another holder to go away, and
// writes our pid into it. A conflict is DBPathInUse with mongod's wording.
func lockDBPath(dir string, wait time.Duration) (*dbpathLock, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("flock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			_ = f.Close()
			return nil, mongoerr.New(mongoerr.DBPathInUse,
				"Unable to lock the lock file: %s (Resource temporarily unavailable). "+
					"Another mongod instance is already running on the dbpath, %s", path, dir)
		}
		time.Sleep(lockRetryEvery)
	}
	unclean := false
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		unclean = true
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("truncate lock file %s: %w", path, err)
	}
	if _, err := f.WriteAt(pid, 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write lock file %s: %w", path, err)
	}
	return &dbpathLock{f: f, unclean: unclean}, nil
}

// release empties the lock file (mongod leaves an empty mongod.lock after a clean shutdown) and
// drops the flock.
func (l *dbpathLock) release() error {
	terr := l.f.Truncate(0)
	uerr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	cerr := l.f.Close()
	if err := errors.Join(terr, uerr, cerr); err != nil {
		return fmt.Errorf("release %s: %w", l.f.Name(), err)
	}
	return nil
}
