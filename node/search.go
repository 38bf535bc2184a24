package node

import (
	"fmt"

	"parley/store"
)

// Search finds messages in every conversation whose text has every word of
// query, ignoring case and accents, newest first (store.DB.Search says how and
// BenchmarkSearch100k how fast). A limit outside 1–500 means 50; a query over
// 256 bytes is refused; a blank one finds nothing.
func (n *Node) Search(query string, limit int) ([]Message, error) {
	ms, err := n.db.Search(query, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := views(ms, messageView)
	if out == nil {
		out = []Message{} // the protocol says "no results" as [], not null
	}
	return out, nil
}

// SearchLimits are Search's bounds, for the skins' documentation and tests.
const (
	SearchMaxQuery     = store.MaxQueryBytes
	SearchDefaultLimit = store.DefaultSearchLimit
	SearchMaxLimit     = store.MaxSearchLimit
)

// FoldText is the folding Search compares by (store.Fold: no case, no
// accents), so a skin can find where a result matched to show that part.
func FoldText(s string) string { return store.Fold(s) }
