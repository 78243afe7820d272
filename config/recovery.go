package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Recovery is what a data sidecar does for its own member after a failover (the recovery issue):
// today the rollback archive.
type Recovery struct {
	// DBPath is the local mongod's dbpath, where mongod leaves rollback files. Default: the
	// --dbpath of process.exec.args; empty otherwise, which disables the archive.
	DBPath string `yaml:"dbpath" json:"dbpath"`
	// RollbackArchive is the directory rollback files are moved into. Default
	// <state_dir>/rollback-archive.
	RollbackArchive string `yaml:"rollback_archive" json:"rollback_archive"`
	// RollbackRetention: archive entries older than this are deleted. 0 (the default) keeps them
	// forever: nothing rsguard archived is deleted unless the operator says so.
	RollbackRetention time.Duration `yaml:"rollback_retention" json:"rollback_retention"`
}

// DefaultRollbackArchiveName is the archive directory inside state_dir.
const DefaultRollbackArchiveName = "rollback-archive"

// deriveRecovery fills the defaults that depend on other keys.
func (c *Config) deriveRecovery() {
	r := &c.Recovery
	if c.Mode != ModeData {
		return
	}
	if r.DBPath == "" && c.Process.Controller == ControllerExec && c.Process.Exec != nil {
		r.DBPath = argValue(c.Process.Exec.Args, "--dbpath")
		if r.DBPath != "" && !filepath.IsAbs(r.DBPath) && c.Process.Exec.Dir != "" {
			r.DBPath = filepath.Join(c.Process.Exec.Dir, r.DBPath) // mongod runs in exec.dir
		}
	}
	if r.RollbackArchive == "" && c.StateDir != "" {
		r.RollbackArchive = filepath.Join(c.StateDir, DefaultRollbackArchiveName)
	}
}

// argValue is the value of flag in args: "--flag value" or "--flag=value"; "" if absent.
func argValue(args []string, flag string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func validateRecovery(k checker, c *Config) {
	r := c.Recovery
	if c.Mode == ModeArbiter && (r.DBPath != "" || r.RollbackRetention != 0) {
		k.errf("recovery", "dbpath and rollback_retention must be absent in mode arbiter: an arbiter sidecar has no local mongod")
		return
	}
	if r.DBPath != "" && r.RollbackArchive != "" && within(r.RollbackArchive, r.DBPath) {
		k.errf("recovery.rollback_archive", "must be outside the dbpath %s, got %s: a resync moves the dbpath aside", quote(r.DBPath), quote(r.RollbackArchive))
	}
	k.durRange("recovery.rollback_retention", r.RollbackRetention, 0, 100*365*24*time.Hour)
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
