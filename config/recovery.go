package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Recovery is what a data sidecar does for its own member after a failover: the rollback
// archive, resync, PSA mitigation and re-adding lost members. Not reloadable.
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
	// Resync is what the sidecar does when its member needs a resync (too stale, an
	// unrecoverable rollback, a stalled initial sync): "auto" (default) runs it, "dry_run" only
	// decides and audits, "off" never.
	Resync ResyncMode `yaml:"resync" json:"resync"`
	// ResyncKeep is how many old dbpath copies a resync keeps (moved aside, never deleted
	// beyond this count). Default 1.
	ResyncKeep int `yaml:"resync_keep" json:"resync_keep"`
	// ResyncMaxLag: a resynced member within this lag of the primary is done. Default 10s.
	ResyncMaxLag time.Duration `yaml:"resync_max_lag" json:"resync_max_lag"`
	// ResyncWindows are the times (UTC, "HH:MM-HH:MM", may wrap midnight) a resync may start;
	// empty: any time.
	ResyncWindows []string `yaml:"resync_windows" json:"resync_windows"`
	// PSAMitigation: "auto" (default) lets the primary's sidecar reconfigure a PSA set's lost
	// secondary to votes 0 / priority 0 after PSALostAfter, and restore it once caught up;
	// "off" never.
	PSAMitigation string `yaml:"psa_mitigation" json:"psa_mitigation"`
	// PSALostAfter is how long a PSA set's secondary must be lost before psa_mitigation acts, 5s..24h.
	PSALostAfter time.Duration `yaml:"psa_lost_after" json:"psa_lost_after"`
	// ReAdd: "auto" (default) lets the primary's sidecar add back a member the sidecars' members
	// list but the replica set config lost (a force reconfig); "off" never.
	ReAdd string `yaml:"re_add" json:"re_add"`
}

// ResyncMode is recovery.resync.
type ResyncMode string

// Resync modes.
const (
	ResyncAuto   ResyncMode = "auto"
	ResyncDryRun ResyncMode = "dry_run"
	ResyncOff    ResyncMode = "off"
)

// InResyncWindow reports whether t is inside one of the windows (always, without any). The
// windows are validated at load.
func (r Recovery) InResyncWindow(t time.Time) bool {
	if len(r.ResyncWindows) == 0 {
		return true
	}
	m := t.UTC().Hour()*60 + t.UTC().Minute()
	for _, w := range r.ResyncWindows {
		from, to, err := parseWindow(w)
		if err != nil {
			continue
		}
		if from <= to && m >= from && m < to || from > to && (m >= from || m < to) {
			return true
		}
	}
	return false
}

// parseWindow reads "HH:MM-HH:MM" as minutes of the day.
func parseWindow(w string) (from, to int, err error) {
	a, b, ok := strings.Cut(w, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM (UTC), got %s", quote(w))
	}
	fa, err := time.Parse("15:04", strings.TrimSpace(a))
	if err != nil {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM (UTC), got %s", quote(w))
	}
	fb, err := time.Parse("15:04", strings.TrimSpace(b))
	if err != nil {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM (UTC), got %s", quote(w))
	}
	from, to = fa.Hour()*60+fa.Minute(), fb.Hour()*60+fb.Minute()
	if from == to {
		return 0, 0, fmt.Errorf("an empty window %s", quote(w))
	}
	return from, to, nil
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
	k.enum("recovery.resync", string(r.Resync), string(ResyncAuto), string(ResyncDryRun), string(ResyncOff))
	k.intRange("recovery.resync_keep", r.ResyncKeep, 0, 100)
	k.durRange("recovery.resync_max_lag", r.ResyncMaxLag, time.Second, time.Hour)
	k.enum("recovery.psa_mitigation", r.PSAMitigation, "auto", "off")
	k.enum("recovery.re_add", r.ReAdd, "auto", "off")
	k.durRange("recovery.psa_lost_after", r.PSALostAfter, 5*time.Second, 24*time.Hour)
	for i, w := range r.ResyncWindows {
		if _, _, err := parseWindow(w); err != nil {
			k.errf(fmt.Sprintf("recovery.resync_windows[%d]", i), "%v", err)
		}
	}
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
