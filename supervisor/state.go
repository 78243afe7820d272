package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
)

// stateFile is kept in state_dir: the anti-flap memory (last failover, acknowledgement) survives
// a restart of the sidecar, which is exactly when a flapping set would otherwise fail over again.
const stateFile = "supervisor-state.json"

func statePath(cfg *config.Config) string {
	if cfg.StateDir == "" {
		return ""
	}
	return filepath.Join(cfg.StateDir, stateFile)
}

func loadState(path string) (election.State, error) {
	if path == "" {
		return election.State{}, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return election.State{}, nil
	}
	if err != nil {
		return election.State{}, fmt.Errorf("supervisor: read state: %w", err)
	}
	var st election.State
	if err := json.Unmarshal(b, &st); err != nil {
		return election.State{}, fmt.Errorf("supervisor: state file %s: %w", path, err)
	}
	st.Pending = election.Pending{}
	return st, nil
}

// saveState writes the durable part of the state (a pending action does not survive a restart)
// atomically: a temporary file renamed over the old one.
func saveState(path string, st election.State) error {
	if path == "" {
		return nil
	}
	st.Pending = election.Pending{}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("supervisor: encode state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("supervisor: state directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("supervisor: write state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("supervisor: write state: %w", err)
	}
	return nil
}
