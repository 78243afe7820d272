package recovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// logTailBytes is how much of the end of mongod's log is read after an exit.
const logTailBytes = 64 << 10

// lastLogError is the last error ("s":"E") or fatal ("s":"F") line of mongod's structured log
// (spec: mongod 4.4+ logs JSON lines {"t","s","c","id","ctx","msg","attr"}) as
// "msg (id N): attr.error", or "" when there is none or the log cannot be read. mongod says why it
// could not start there, not on stderr: a corrupt data file (WiredTiger error, a fassert), a
// rollback it gave up.
func lastLogError(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > logTailBytes {
		if _, err := f.Seek(info.Size()-logTailBytes, io.SeekStart); err != nil {
			return ""
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var l struct {
			S    string         `json:"s"`
			ID   int            `json:"id"`
			Msg  string         `json:"msg"`
			Attr map[string]any `json:"attr"`
		}
		if json.Unmarshal(lines[i], &l) != nil || (l.S != "E" && l.S != "F") {
			continue
		}
		out := fmt.Sprintf("%s (id %d)", l.Msg, l.ID)
		for _, k := range []string{"error", "message", "reason"} {
			if v, ok := l.Attr[k]; ok {
				out += fmt.Sprintf(": %v", v)
				break
			}
		}
		return out
	}
	return ""
}
