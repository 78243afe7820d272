package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/config"
)

// apiFlags are the flags of every verb that talks to a sidecar's /v1 API.
type apiFlags struct {
	Addr      string        `default:"${default_addr}" env:"RSGUARD_ADDR" placeholder:"HOST:PORT|URL" help:"The sidecar's HTTP address (its http.listen): host:port, http://... or https://... (default ${default})."`
	TokenFile string        `name:"token-file" placeholder:"FILE" help:"File holding the API token (http.admin_token_file for actions, the read token for reads); else env RSGUARD_TOKEN."`
	CAFile    string        `name:"ca-file" placeholder:"FILE" help:"CA certificate (PEM) to verify the sidecar's certificate; implies https."`
	CertFile  string        `name:"cert-file" placeholder:"FILE" help:"Client certificate (PEM), for sidecars that require one; implies https."`
	KeyFile   string        `name:"key-file" placeholder:"FILE" help:"The client certificate's private key (PEM)."`
	Timeout   time.Duration `default:"10s" help:"How long to wait for each answer."`
	Output    string        `short:"o" enum:"table,json" default:"table" help:"Output format: table or json."`
}

// tokenEnv is where the token is read from when no --token-file is given.
const tokenEnv = "RSGUARD_TOKEN"

// client builds the API client; a bad flag is a usage error naming it.
func (f *apiFlags) client() (*apiclient.Client, error) {
	token := os.Getenv(tokenEnv)
	if f.TokenFile != "" {
		b, err := os.ReadFile(f.TokenFile)
		if err != nil {
			return nil, fail(exitUsage, "supervisor: --token-file: %v", err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return nil, fail(exitUsage, "supervisor: --token-file %s is empty", f.TokenFile)
		}
	}
	addr := f.Addr
	if strings.TrimSpace(addr) == "" { // RSGUARD_ADDR set but empty
		addr = config.DefaultHTTPListen
	}
	c, err := apiclient.New(apiclient.Options{Addr: addr, Token: token, CAFile: f.CAFile, CertFile: f.CertFile,
		KeyFile: f.KeyFile, Timeout: f.Timeout})
	if err != nil {
		return nil, fail(exitUsage, "supervisor: %s", flagNames(err.Error()))
	}
	return c, nil
}

// flagNames says the client's option names as the flags that set them.
func flagNames(msg string) string {
	return strings.NewReplacer("apiclient: ", "", "Addr ", "--addr ", "Addr is", "--addr is", "CAFile", "--ca-file",
		"CertFile", "--cert-file", "KeyFile", "--key-file").Replace(msg)
}

func (f *apiFlags) json() bool { return f.Output == "json" }

// apiError turns a failed call into the exit code the CLI documents: 2 when the sidecar cannot
// be reached or refuses the token or the request (400, 401, 403, 404), 1 otherwise. With
// -o json a problem document is printed on stdout too.
func (f *apiFlags) apiError(e *env, verb string, err error) error {
	code := exitFailed
	var te *apiclient.TransportError
	pe := apiclient.AsProblem(err)
	switch {
	case errors.As(err, &te):
		code = exitUsage
	case pe != nil && (pe.StatusCode == 400 || pe.StatusCode == 401 || pe.StatusCode == 403 || pe.StatusCode == 404):
		code = exitUsage
	}
	if pe != nil && f.json() {
		_ = writeJSON(e.stdout, pe.Problem)
	}
	return fail(code, "supervisor %s: %v", verb, err)
}

// printJSON writes v indented, or raw JSON bytes re-indented.
func printJSON(w io.Writer, v any) error {
	if raw, ok := v.([]byte); ok {
		var out bytes.Buffer
		if json.Indent(&out, raw, "", "  ") != nil {
			out.Reset()
			out.Write(raw)
		}
		_, err := w.Write(append(bytes.TrimRight(out.Bytes(), "\n"), '\n'))
		return err
	}
	return writeJSON(w, v)
}
