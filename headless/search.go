package headless

import (
	"context"

	"parley/node"
)

// Searcher is the part of the node that searches the message history. It is
// separate from Node so skins and fakes without a history still satisfy Node.
type Searcher interface {
	Search(query string, limit int) ([]node.Message, error)
}

var messageSearch = capability{
	has:     func(n Node) bool { _, ok := n.(Searcher); return ok },
	missing: "this node cannot search messages",
}

// runSearch answers {"cmd":"search","text":"…","limit":n} with the messages
// found, newest first, and the text searched for.
func runSearch(_ context.Context, s *Session, c Command) (any, error) {
	ms, err := s.node.(Searcher).Search(c.Text, c.Limit)
	return map[string]any{"text": c.Text, "messages": ms}, err
}
