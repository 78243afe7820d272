package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Fixture lets the external tests (package mongo_test, which may import mongotest) read testdata.
func Fixture(t *testing.T, name string) bson.Raw { return fixture(t, name) }
