package config

import (
	"strings"
	"testing"
	"time"
)

func TestRecoveryDefaults(t *testing.T) {
	c := mustParse(t, baseYAML, newFakeSys())
	if c.Recovery.DBPath != "" || c.Recovery.RollbackArchive != "/var/lib/rsguard/rollback-archive" || c.Recovery.RollbackRetention != 0 {
		t.Errorf("recovery defaults: %+v", c.Recovery)
	}
}

func TestRecoveryDBPathFromExecArgs(t *testing.T) {
	for _, args := range []string{`[--port, "27017", --dbpath, /data/db]`, `[--dbpath=/data/db, --port, "27017"]`} {
		c := mustParse(t, baseYAML+"process:\n  controller: exec\n  exec:\n    path: /usr/bin/mongod\n    args: "+args+"\n", newFakeSys())
		if c.Recovery.DBPath != "/data/db" {
			t.Errorf("args %s: dbpath %q", args, c.Recovery.DBPath)
		}
	}
	c := mustParse(t, baseYAML+"recovery:\n  dbpath: /srv/mongo\n  rollback_retention: 720h\nprocess:\n  controller: exec\n  exec:\n    path: /usr/bin/mongod\n    args: [--dbpath, /data/db]\n", newFakeSys())
	if c.Recovery.DBPath != "/srv/mongo" || c.Recovery.RollbackRetention != 720*time.Hour {
		t.Errorf("an explicit dbpath wins: %+v", c.Recovery)
	}
}

func TestRecoveryErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, key, msg string }{
		{"archive inside dbpath", baseYAML + "recovery:\n  dbpath: /data/db\n  rollback_archive: /data/db/archive\n", "recovery.rollback_archive", "outside the dbpath"},
		{"negative retention", baseYAML + "recovery:\n  rollback_retention: -1h\n", "recovery.rollback_retention", "at least"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseText(tc.text, newFakeSys())
			if err == nil || !strings.Contains(err.Error(), tc.key+": ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want %s: ...%s", err, tc.key, tc.msg)
			}
		})
	}
}

func TestResyncSettings(t *testing.T) {
	c := mustParse(t, baseYAML, newFakeSys())
	if c.Recovery.Resync != ResyncAuto || c.Recovery.ResyncKeep != 1 || !c.Recovery.InResyncWindow(time.Now()) {
		t.Errorf("defaults: %+v", c.Recovery)
	}
	c = mustParse(t, baseYAML+"recovery:\n  resync: dry_run\n  resync_windows: [\"22:00-04:00\", \"12:00-12:30\"]\n", newFakeSys())
	day := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		at time.Time
		in bool
	}{{day(23, 0), true}, {day(3, 59), true}, {day(4, 0), false}, {day(12, 15), true}, {day(12, 30), false}, {day(9, 0), false}} {
		if got := c.Recovery.InResyncWindow(tc.at); got != tc.in {
			t.Errorf("%s: in window %v, want %v", tc.at.Format("15:04"), got, tc.in)
		}
	}
	_, err := parseText(baseYAML+"recovery:\n  resync_windows: [\"2am-4am\"]\n", newFakeSys())
	if err == nil || !strings.Contains(err.Error(), "recovery.resync_windows[0]: ") || !strings.Contains(err.Error(), "HH:MM-HH:MM") {
		t.Errorf("bad window: %v", err)
	}
	_, err = parseText(baseYAML+"recovery:\n  resync: always\n", newFakeSys())
	if err == nil || !strings.Contains(err.Error(), "recovery.resync: ") {
		t.Errorf("bad mode: %v", err)
	}
}
