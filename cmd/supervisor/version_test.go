package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/rsguard/rsguard", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "ac8f04b1"}, {Key: "vcs.time", Value: "2026-12-03T06:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	if got, want := versionText(info, true), "supervisor v0.4.0 (revision ac8f04b1, 2026-12-03T06:00:00Z, modified), go1.26.8"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	info.Main.Version, info.Settings = "", nil
	if got, want := versionText(info, true), "supervisor (devel), go1.26.8"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := versionText(nil, false); got != "supervisor (no build information)" {
		t.Errorf("no build info: %q", got)
	}
}
