package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/config"
)

// TestLoggerDurations: both formats write durations as "1.5s", in groups too.
func TestLoggerDurations(t *testing.T) {
	var b bytes.Buffer
	newLogger(&b, config.LogJSON, slog.LevelInfo).Info("took", "elapsed", 1500*time.Millisecond,
		slog.Group("probe", slog.Duration("latency", 3*time.Millisecond)), "n", 7)
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	probe, _ := rec["probe"].(map[string]any)
	if rec["elapsed"] != "1.5s" || probe["latency"] != "3ms" || rec["n"] != float64(7) {
		t.Errorf("JSON log %s", b.String())
	}
	b.Reset()
	newLogger(&b, config.LogText, slog.LevelInfo).Info("took", "elapsed", 90*time.Second)
	if !strings.Contains(b.String(), "elapsed=1m30s") {
		t.Errorf("text log %s", b.String())
	}
}
