package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"
)

// mongodLogHandler renders slog records as mongod 4.4+ structured log lines:
// {"t":{"$date":..},"s":"I","c":"NETWORK","id":23016,"ctx":"main","msg":..,"attr":{..}}.
// The node mirrors its events to slog with "component" and "id" attributes; they become c and id.
type mongodLogHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs []slog.Attr
}

func newMongodLogHandler(w io.Writer) *mongodLogHandler {
	return &mongodLogHandler{mu: &sync.Mutex{}, w: w}
}

func (h *mongodLogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *mongodLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &mongodLogHandler{mu: h.mu, w: h.w, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *mongodLogHandler) WithGroup(string) slog.Handler { return h }

func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError+4:
		return "F"
	case l >= slog.LevelError:
		return "E"
	case l >= slog.LevelWarn:
		return "W"
	case l >= slog.LevelInfo:
		return "I"
	}
	return "D1"
}

func (h *mongodLogHandler) Handle(_ context.Context, r slog.Record) error {
	component, id := "STORAGE", int64(0)
	var attr bytes.Buffer
	n := 0
	add := func(a slog.Attr) bool {
		switch a.Key {
		case "component":
			component = a.Value.String()
			return true
		case "id":
			if a.Value.Kind() == slog.KindInt64 {
				id = a.Value.Int64()
			}
			return true
		}
		b, err := json.Marshal(a.Value.Resolve().Any())
		if err != nil {
			b, _ = json.Marshal(a.Value.String())
		}
		if n > 0 {
			attr.WriteByte(',')
		}
		k, _ := json.Marshal(a.Key)
		attr.Write(k)
		attr.WriteByte(':')
		attr.Write(b)
		n++
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	var line bytes.Buffer
	line.WriteString(`{"t":{"$date":"` + t.UTC().Format("2006-01-02T15:04:05.000+00:00") + `"},"s":"` + severity(r.Level) + `","c":`)
	c, _ := json.Marshal(component)
	line.Write(c)
	line.WriteString(`,"id":`)
	idb, _ := json.Marshal(id)
	line.Write(idb)
	line.WriteString(`,"ctx":"main","msg":`)
	m, _ := json.Marshal(r.Message)
	line.Write(m)
	if n > 0 {
		line.WriteString(`,"attr":{`)
		line.Write(attr.Bytes())
		line.WriteByte('}')
	}
	line.WriteString("}\n")
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(line.Bytes())
	return err
}

// logEvent writes one mongod-style line through logger.
func logEvent(logger *slog.Logger, level slog.Level, component string, id int, msg string, kv ...any) {
	logger.Log(context.Background(), level, msg, append([]any{"component", component, "id", id}, kv...)...)
}
