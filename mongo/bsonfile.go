package mongo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxBSONDocument is mongod's largest document (16 MiB) plus the slack its internal documents
// may use; a length beyond it means the file is not a sequence of BSON documents.
const maxBSONDocument = 16*1024*1024 + 16*1024

// ErrBSONFile is wrapped by every error of ReadBSONDocs about the file's contents (truncated,
// malformed), as opposed to errors reading it or returned by the callback.
var ErrBSONFile = errors.New("not a valid BSON file")

// BSONDoc is one document of a BSON file (a rollback file, spec §7.7 step 5, is a plain
// concatenation of the rolled-back documents).
type BSONDoc struct {
	// Raw is the document as stored.
	Raw []byte
	// Offset is where it starts in the file.
	Offset int64
}

// ID is the document's _id as relaxed extended JSON, "" without one.
func (d BSONDoc) ID() string {
	v, err := bson.Raw(d.Raw).LookupErr("_id")
	if err != nil {
		return ""
	}
	return v.String()
}

// IDTime is the creation time of an ObjectId _id (its first four bytes); zero for other _ids.
func (d BSONDoc) IDTime() time.Time {
	v, err := bson.Raw(d.Raw).LookupErr("_id")
	if err != nil {
		return time.Time{}
	}
	oid, ok := v.ObjectIDOK()
	if !ok {
		return time.Time{}
	}
	return oid.Timestamp()
}

// JSON is the document as relaxed extended JSON on one line (the format mongoexport writes), so
// that a DBA can read it and re-insert it with mongoimport.
func (d BSONDoc) JSON() ([]byte, error) {
	out, err := bson.MarshalExtJSON(bson.Raw(d.Raw), false, false)
	if err != nil {
		return nil, fmt.Errorf("mongo: document at offset %d: %w", d.Offset, err)
	}
	return out, nil
}

// ReadBSONDocs calls f for every document of r in order. It stops at the first error, f's
// included; a truncated or malformed file is an error naming the offset.
func ReadBSONDocs(r io.Reader, f func(BSONDoc) error) error {
	br := bufio.NewReader(r)
	var off int64
	for {
		var head [4]byte
		n, err := io.ReadFull(br, head[:])
		if errors.Is(err, io.EOF) && n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mongo: %w: truncated at offset %d (%v)", ErrBSONFile, off, err)
		}
		size := int64(binary.LittleEndian.Uint32(head[:]))
		if size < 5 || size > maxBSONDocument {
			return fmt.Errorf("mongo: %w: no BSON document at offset %d (length %d)", ErrBSONFile, off, size)
		}
		doc := make([]byte, size)
		copy(doc, head[:])
		if _, err := io.ReadFull(br, doc[4:]); err != nil {
			return fmt.Errorf("mongo: %w: document at offset %d truncated (length %d, %v)", ErrBSONFile, off, size, err)
		}
		if err := bson.Raw(doc).Validate(); err != nil {
			return fmt.Errorf("mongo: %w: malformed document at offset %d (%v)", ErrBSONFile, off, err)
		}
		if err := f(BSONDoc{Raw: doc, Offset: off}); err != nil {
			return err
		}
		off += size
	}
}
