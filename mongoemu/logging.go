package mongoemu

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// eventLog writes mongod 4.4+ structured log lines ({"t":{"$date":..},"s":"I","c":"REPL","id":..,
// "ctx":..,"msg":..,"attr":{..}}) to --logpath, keeps the last 1024 in RAM for getLog (spec §6.11),
// and mirrors each event to slog.
type eventLog struct {
	mu      sync.Mutex
	file    *os.File
	ring    []string
	next    int
	total   int64
	slogger *slog.Logger
}

const logRingSize = 1024

func newEventLog(path string, logger *slog.Logger) (*eventLog, error) {
	l := &eventLog{ring: make([]string, 0, logRingSize), slogger: logger}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open --logpath %s: %w", path, err)
		}
		l.file = f
	}
	return l, nil
}

type logLine struct {
	T    map[string]string `json:"t"`
	S    string            `json:"s"`
	C    string            `json:"c"`
	ID   int               `json:"id"`
	Ctx  string            `json:"ctx"`
	Msg  string            `json:"msg"`
	Attr map[string]any    `json:"attr,omitempty"`
}

func (l *eventLog) emit(sev, component string, id int, msg string, kv []any) {
	attr := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		attr[k] = kv[i+1]
	}
	line := logLine{
		T: map[string]string{"$date": time.Now().UTC().Format("2006-01-02T15:04:05.000+00:00")},
		S: sev, C: component, ID: id, Ctx: "conn", Msg: msg,
	}
	if len(attr) > 0 {
		line.Attr = attr
	}
	b, err := json.Marshal(line)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"s":"E","msg":"unencodable log line: %q"}`, msg))
	}
	l.mu.Lock()
	if len(l.ring) < logRingSize {
		l.ring = append(l.ring, string(b))
	} else {
		l.ring[l.next] = string(b)
		l.next = (l.next + 1) % logRingSize
	}
	l.total++
	if l.file != nil {
		_, _ = l.file.Write(append(b, '\n'))
	}
	l.mu.Unlock()
	level := slog.LevelInfo
	switch sev {
	case "W":
		level = slog.LevelWarn
	case "E", "F":
		level = slog.LevelError
	case "D1", "D2":
		level = slog.LevelDebug
	}
	l.slogger.Log(context.Background(), level, msg, append([]any{"component", component, "id", id}, kv...)...)
}

func (l *eventLog) info(component string, id int, msg string, kv ...any) {
	l.emit("I", component, id, msg, kv)
}
func (l *eventLog) warn(component string, id int, msg string, kv ...any) {
	l.emit("W", component, id, msg, kv)
}
func (l *eventLog) errorf(component string, id int, msg string, kv ...any) {
	l.emit("E", component, id, msg, kv)
}

// lines returns the ring in chronological order and the total written.
func (l *eventLog) lines() ([]string, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	out = append(out, l.ring[:l.next]...)
	return out, l.total
}

func (l *eventLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		_ = l.file.Close()
		l.file = nil
	}
}
