package mongoemu

import "testing"

// TestSetParameterFailPoint: --setParameter failpoint.<name>=<json> is accepted like mongod's
// startup fail points, and a value that is not a document is refused at parse time.
func TestSetParameterFailPoint(t *testing.T) {
	o, err := ParseArgs([]string{"--replSet", "rs0", "--setParameter", `failpoint.rsSyncApplyStop={"mode":"alwaysOn"}`})
	if err != nil {
		t.Fatal(err)
	}
	if o.Parameters["failpoint.rsSyncApplyStop"] != `{"mode":"alwaysOn"}` {
		t.Fatalf("parameters: %v", o.Parameters)
	}
	if _, err := ParseArgs([]string{"--setParameter", "failpoint.rsSyncApplyStop=on"}); err == nil {
		t.Fatal("a fail point value that is not a document was accepted")
	}
	f := newFailPoints()
	if err := f.startupFailPoints(o.Parameters); err != nil {
		t.Fatal(err)
	}
	if _, on := f.peek(fpRsSyncApplyStop); !on {
		t.Fatal("failpoint.rsSyncApplyStop did not turn the fail point on")
	}
	if err := newFailPoints().startupFailPoints(map[string]string{"failpoint.noSuchFailPoint": `{"mode":"alwaysOn"}`}); err == nil {
		t.Fatal("an unknown fail point was accepted at startup")
	}
}
