package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsEmulator(t *testing.T) {
	for path, want := range map[string]bool{
		"/usr/bin/mongod":           false,
		"/tmp/x/mongoemu":           true,
		"/opt/mongoemu-7.0":         true,
		"mongoemu":                  true,
		"/tmp/mongoemu/bin/mongod":  false, // the rule reads the file name, not the directory
		"/usr/local/bin/mongod-7.0": false,
	} {
		if got := IsEmulator(path); got != want {
			t.Errorf("IsEmulator(%q) = %v, want %v", path, got, want)
		}
	}
}

// $RSGUARD_MONGOD wins over building, and must name an executable.
func TestFindBinariesEnv(t *testing.T) {
	dir := t.TempDir()
	emu := filepath.Join(dir, "mongoemu-prebuilt")
	if err := os.WriteFile(emu, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvMongod, emu)
	b, err := FindBinaries(context.Background(), BinOptions{NoSupervisor: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Mongod != emu || !b.Emulated || b.Supervisor != "" {
		t.Errorf("got %+v", b)
	}
	t.Setenv(EnvMongod, filepath.Join(dir, "missing-mongod"))
	_, err = FindBinaries(context.Background(), BinOptions{NoSupervisor: true})
	if err == nil || !strings.Contains(err.Error(), "missing-mongod") || !strings.Contains(err.Error(), EnvMongod) {
		t.Errorf("missing $%s binary: %v", EnvMongod, err)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "mongoemu")); err != nil {
		t.Errorf("module root %s has no cmd/mongoemu: %v", root, err)
	}
}
