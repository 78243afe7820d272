package mongoemu

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/mongoemu/testcerts"
)

// TestPymongoAuthTLS runs testdata/pymongo_auth_tls.py against the binary started as a
// production mongod is: --auth with requireTLS. pymongo must log in with SCRAM-SHA-256, -1 and
// X.509 and see mongod's refusals (AuthenticationFailed 18, Unauthorized 13 with its message).
func TestPymongoAuthTLS(t *testing.T) {
	py, version := pythonWithPymongo()
	if py == "" {
		t.Skipf("pymongo is not importable (%s); install python3-pymongo to run this test", version)
	}
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "--port", "0", "--dbpath", t.TempDir(), "--auth", "--tlsMode", "requireTLS",
		"--tlsCertificateKeyFile", certs.ServerFile, "--tlsCAFile", certs.CAFile, "--tlsAllowConnectionsWithoutCertificates")
	addr := p.addr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "testdata/pymongo_auth_tls.py", addr, certs.CAFile, certs.ClientFile,
		certs.ClientSubject).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("pymongo auth/TLS test failed (pymongo %s): %v\n%s\nserver log:\n%s", version, err, out, p.output())
	}
}
