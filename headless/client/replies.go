package client

import "parley/node"

// The replies reuse node's view types, the one place their JSON tags live;
// TestRepliesDecodeGolden pins them to the protocol's bytes.

// Message is one message of a history page.
type Message = node.Message

// Page is the history reply: messages oldest first, and the cursor of the page
// before them ("" at the start of the conversation). The reply names the
// conversation it pages, which node.Page leaves to the caller.
type Page struct {
	Peer     string         `json:"peer"`
	Room     string         `json:"room"`
	Messages []node.Message `json:"messages"`
	Next     string         `json:"next"`
}

// Room is one room.
type Room = node.Room

// Link is one direct link and its measured quality.
type (
	Link        = node.Link
	LinkQuality = node.LinkQuality
)

// Transfer is one file transfer.
type Transfer = node.Transfer
