package headless

import (
	"errors"
	"fmt"

	"parley/files"
)

// FileSharer is the part of the node that shares files. It is separate from Node
// so skins and fakes without file sharing still satisfy Node.
type FileSharer interface {
	SendFile(to, room string, paths ...string) ([]string, error)
	AcceptFile(id string) error
	DeclineFile(id string) error
	CancelFile(id string) error
	Transfers() []files.Info
}

// AutoAccepter is the optional part of a FileSharer that takes offers from
// verified peers without asking.
type AutoAccepter interface {
	AutoAcceptVerified() bool
	SetAutoAcceptVerified(on bool) error
}

// parseFile validates a file command (c.Cmd is one of fileCommands).
func parseFile(c Command) error {
	switch c.Cmd {
	case "send_file":
		if (c.To == "") == (c.Room == "") {
			return errors.New(`send_file: give exactly one of "to" or "room"`)
		}
		if c.Path == "" && len(c.Paths) == 0 {
			return errors.New(`send_file: missing field "path" (or "paths")`)
		}
	case "accept_file", "decline_file", "cancel_file":
		if c.ID == "" {
			return fmt.Errorf(`%s: missing field "id"`, c.Cmd)
		}
	}
	return nil
}

// handleFile runs a file command (validated by parseFile).
func (s *Session) handleFile(c Command) {
	fs, ok := s.node.(FileSharer)
	if !ok {
		s.fail(c.Req, errors.New(c.Cmd+": this node does not share files"))
		return
	}
	switch c.Cmd {
	case "send_file":
		paths := c.Paths
		if c.Path != "" {
			paths = append([]string{c.Path}, paths...)
		}
		// Hashing a large file takes a while; other commands keep flowing.
		go func() {
			ids, err := fs.SendFile(c.To, c.Room, paths...)
			if err != nil {
				s.fail(c.Req, fmt.Errorf("send_file: %w", err))
				return
			}
			s.write("file_sent", c.Req, map[string]any{"ids": ids, "to": c.To, "room": c.Room})
		}()
	case "accept_file":
		s.reply(c, fs.AcceptFile(c.ID), map[string]any{"id": c.ID})
	case "decline_file":
		s.reply(c, fs.DeclineFile(c.ID), map[string]any{"id": c.ID})
	case "cancel_file":
		s.reply(c, fs.CancelFile(c.ID), map[string]any{"id": c.ID})
	case "transfers":
		s.write("transfers", c.Req, map[string]any{"transfers": fs.Transfers()})
	case "auto_accept":
		aa, ok := s.node.(AutoAccepter)
		if !ok {
			s.fail(c.Req, errors.New("auto_accept: this node cannot accept files by itself"))
			return
		}
		var err error
		if c.On != nil {
			err = aa.SetAutoAcceptVerified(*c.On)
		}
		s.reply(c, err, map[string]any{"verified": aa.AutoAcceptVerified()})
	}
}
