package mongoemu

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pythonWithPymongo finds an interpreter that can import pymongo: python3 on PATH first, then
// the system one (Debian's python3-pymongo installs there, and CI uses it).
func pythonWithPymongo() (string, string) {
	var tried []string
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			tried = append(tried, py+": not found")
			continue
		}
		out, err := exec.Command(path, "-c", "import pymongo; print(pymongo.version)").CombinedOutput()
		if err == nil {
			return path, strings.TrimSpace(string(out))
		}
		tried = append(tried, path+": "+strings.TrimSpace(lastLine(string(out))))
	}
	return "", strings.Join(tried, "; ")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestPymongoAgainstBinary runs testdata/pymongo_smoke.py against the real binary: a second,
// independent driver must not be able to tell mongoemu from mongod either.
func TestPymongoAgainstBinary(t *testing.T) {
	py, version := pythonWithPymongo()
	if py == "" {
		t.Skipf("pymongo is not importable (%s); install python3-pymongo to run this test", version)
	}
	t.Logf("using %s with pymongo %s", py, version)
	p := startProc(t, "--port", "0", "--dbpath", t.TempDir())
	addr := p.addr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "testdata/pymongo_smoke.py", addr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("pymongo smoke test failed: %v\n%s\nserver log:\n%s", err, out, p.output())
	}
}
