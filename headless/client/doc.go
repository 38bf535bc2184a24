// Package client is a typed Go client of the headless protocol (docs/headless.md):
// the one way itest/ and cmd/ drive a parley process.
//
// The protocol is JSON lines. The client writes one command object per line,
//
//	{"cmd":"send","to":"<peer id>","text":"hi","req":"client/7"}\n
//
// and the process answers each with one event line carrying the same "req",
//
//	{"event":"sent","id":"<message id>","to":"<peer id>","req":"client/7","time":"…"}\n
//
// or with {"event":"error","reason":"…","req":"client/7",…}. Events the node
// reports on its own (a message arrived, a peer came up) carry no "req".
//
// A Client only writes; whoever reads the process's output hands each line to
// Deliver, which routes the answers to the waiting command methods and reports
// every other line as not its own (Serve does that loop for a plain reader).
// Requests are matched by their "req" id, never by event name, so an unrelated
// "ok" or "error" can never be taken for the answer. The "req" ids the client
// makes start with ReqPrefix; lines with such an id are the client's even when
// the waiter gave up, so a late answer is not mistaken for a fresh event.
//
// Every command of the headless command table has a method here (commands.go;
// TestCommandsMatchHeadless fails when one is added without the other), and
// Decode turns any event line into the node's event type
// (TestDecodeEveryNodeEvent fails when the node gains an event Decode does not
// know). Raw and Do stay for tests that send malformed or hand-made lines.
//
// Commands are headless.Command values and replies decode into node's view
// types (replies.go), so the client imports headless and node and nothing of
// the core behind them.
package client
