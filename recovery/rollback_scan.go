package recovery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RollbackFile is one file mongod wrote while rolling back (spec §7.7 step 5):
// <dbpath>/rollback/<collectionUUID>/removed.<timestamp>.bson since 4.4, or
// <dbpath>/rollback/<db>.<collection>/removed.<timestamp>.bson before. Each holds the documents
// of one collection as they were before the rollback undid the writes no majority had.
type RollbackFile struct {
	// Dir is the directory under rollback/: a collection UUID or a namespace.
	Dir  string
	Name string
	Path string
	// Bytes is the file's size.
	Bytes int64
	// At is when mongod wrote it: the timestamp in its name, else its modification time.
	At time.Time
	// Modified is the file's modification time: a file written a moment ago may still be
	// growing.
	Modified time.Time
}

// rollbackStampLayout is mongod's terseCurrentTimeForFilename (UTC, dashes for colons), followed
// in the file name by a counter: removed.2026-12-02T17-01-02.0.bson.
const rollbackStampLayout = "2006-01-02T15-04-05"

// ScanRollback lists the rollback files under dbpath, oldest first; none (and no error) when
// there is no rollback directory.
func ScanRollback(dbpath string) ([]RollbackFile, error) {
	root := filepath.Join(dbpath, "rollback")
	dirs, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recovery: rollback files: %w", err)
	}
	var out []RollbackFile
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			return nil, fmt.Errorf("recovery: rollback files: %w", err)
		}
		for _, f := range files {
			if f.IsDir() || !strings.HasSuffix(f.Name(), ".bson") {
				continue
			}
			info, err := f.Info()
			if err != nil {
				return nil, fmt.Errorf("recovery: rollback files: %w", err)
			}
			out = append(out, RollbackFile{Dir: d.Name(), Name: f.Name(), Path: filepath.Join(root, d.Name(), f.Name()),
				Bytes: info.Size(), At: stampOf(f.Name(), info.ModTime()), Modified: info.ModTime()})
		}
	}
	slices.SortFunc(out, func(a, b RollbackFile) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	return out, nil
}

// stampOf reads the time in removed.<stamp>.<n>.bson; mtime when the name carries none.
func stampOf(name string, mtime time.Time) time.Time {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "removed."), ".bson")
	if len(s) >= len(rollbackStampLayout) {
		if t, err := time.Parse(rollbackStampLayout, s[:len(rollbackStampLayout)]); err == nil {
			return t
		}
	}
	return mtime.UTC()
}
