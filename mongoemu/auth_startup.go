package mongoemu

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// newAuth builds the node's security state at startup. A bad key file is logged the way mongod
// 7.0 logs it before exiting with code 1: "Read security file failed" (20254) with the status,
// then the fatal "Error creating service context" (20575).
func (n *Node) newAuth() (*authState, error) {
	a, err := newAuthState(n.opts.Security)
	if err == nil {
		return a, nil
	}
	var ke *KeyFileError
	if errors.As(err, &ke) {
		n.events.info("ACCESS", 20254, "Read security file failed", "error", bson.D{
			{Key: "code", Value: int32(ke.Err.Code)}, {Key: "codeName", Value: ke.Err.Code.Name()}, {Key: "errmsg", Value: ke.Err.Msg}})
		n.events.errorf("CONTROL", 20575, "Error creating service context", "error", "Location5579201: Unable to acquire security key[s]")
	}
	return nil, err
}
