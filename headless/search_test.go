package headless

import (
	"errors"
	"strings"
	"time"

	"parley/node"
)

// Search on the full fake: "none" finds nothing, "long…" is refused as the node
// refuses it, anything else finds one message.
func (f *fullNode) Search(query string, limit int) ([]node.Message, error) {
	switch {
	case len(query) > node.SearchMaxQuery:
		return nil, errors.New("search query too long")
	case query == "none":
		return []node.Message{}, nil
	}
	return []node.Message{{ID: "M1", Conv: node.RoomConv("r-ops"), From: "p1", Room: "r-ops",
		Text: "Café " + strings.ToUpper(query), HLC: 1 << 16, Time: time.Unix(1700000000, 0).UTC(), State: "received"}}, nil
}
