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
