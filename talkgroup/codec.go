package talkgroup

import (
	"encoding/binary"
	"errors"

	"parley/identity"
)

// Kind is the first byte of a PTT frame.
type Kind uint8

const (
	KindAudio   Kind = 1 // one 20 ms Opus frame of a transmission
	KindEnd     Kind = 2 // the speaker let go: the transmission is over
	KindRequest Kind = 3 // a member asks for the floor (queued)
	KindCancel  Kind = 4 // a member leaves the queue
	KindTree    Kind = 5 // the speaker's fan-out tree for its transmission
)

// Bounds of a frame; doc.go says why each is what it is.
const (
	MaxRoom    = 64   // room ID bytes (chat room IDs are shorter)
	MaxOpus    = 1000 // Opus bytes in one audio frame
	MaxTree    = 255  // members named in a tree frame
	headerLen  = 1 + 1 + identity.IDLen + 8 + 4
	sigLen     = 64
	minFrame   = headerLen + sigLen
	MaxFrameSz = headerLen + MaxRoom + MaxTree*identity.IDLen + 1 + sigLen
)

// Frame is one decoded PTT frame.
type Frame struct {
	Kind    Kind
	Room    string
	Speaker identity.PeerID // the signer: speaker, or the requester of a request/cancel
	TX      uint64          // transmission: speaker's clock (unix ms) at its start; request: time asked
	Seq     uint32          // audio: frame number within the transmission, from 0
	Opus    []byte          // audio only
	Tree    []identity.PeerID
}

var (
	errShort = errors.New("talkgroup: frame too short")
	errKind  = errors.New("talkgroup: unknown frame kind")
	errRoom  = errors.New("talkgroup: bad room")
	errBody  = errors.New("talkgroup: bad body")
	errSig   = errors.New("talkgroup: bad signature")
)

// encodeUnsigned lays out everything the signature covers.
func encodeUnsigned(f Frame) ([]byte, error) {
	if len(f.Room) == 0 || len(f.Room) > MaxRoom {
		return nil, errRoom
	}
	b := make([]byte, 0, headerLen+len(f.Room)+len(f.Opus)+1+len(f.Tree)*identity.IDLen+sigLen)
	b = append(b, byte(f.Kind), byte(len(f.Room)))
	b = append(b, f.Room...)
	b = append(b, f.Speaker[:]...)
	b = binary.BigEndian.AppendUint64(b, f.TX)
	b = binary.BigEndian.AppendUint32(b, f.Seq)
	switch f.Kind {
	case KindAudio:
		if len(f.Opus) == 0 || len(f.Opus) > MaxOpus {
			return nil, errBody
		}
		b = append(b, f.Opus...)
	case KindTree:
		if len(f.Tree) > MaxTree {
			return nil, errBody
		}
		b = append(b, byte(len(f.Tree)))
		for _, id := range f.Tree {
			b = append(b, id[:]...)
		}
	case KindEnd, KindRequest, KindCancel:
	default:
		return nil, errKind
	}
	return b, nil
}

// Encode signs f with id (whose peer ID must be f.Speaker) and returns the frame.
func Encode(id *identity.Identity, f Frame) ([]byte, error) {
	f.Speaker = id.ID
	b, err := encodeUnsigned(f)
	if err != nil {
		return nil, err
	}
	return append(b, id.SignContext(identity.ContextPTT, b)...), nil
}

// Decode parses a frame without checking its signature (Verify does).
func Decode(p []byte) (Frame, error) {
	var f Frame
	if len(p) < minFrame || len(p) > MaxFrameSz+MaxOpus {
		return f, errShort
	}
	f.Kind = Kind(p[0])
	rl := int(p[1])
	if rl == 0 || rl > MaxRoom || len(p) < minFrame+rl {
		return f, errRoom
	}
	f.Room = string(p[2 : 2+rl])
	q := p[2+rl : len(p)-sigLen]
	copy(f.Speaker[:], q)
	q = q[identity.IDLen:]
	f.TX = binary.BigEndian.Uint64(q)
	f.Seq = binary.BigEndian.Uint32(q[8:])
	body := q[12:]
	switch f.Kind {
	case KindAudio:
		if len(body) == 0 || len(body) > MaxOpus {
			return f, errBody
		}
		f.Opus = body
	case KindTree:
		if len(body) < 1 || len(body) != 1+int(body[0])*identity.IDLen {
			return f, errBody
		}
		f.Tree = make([]identity.PeerID, body[0])
		set := make(map[identity.PeerID]bool, len(f.Tree))
		for i := range f.Tree {
			copy(f.Tree[i][:], body[1+i*identity.IDLen:])
			// A member named twice would get each frame from two parents:
			// a list of one target repeated is an amplifier.
			if set[f.Tree[i]] || f.Tree[i] == f.Speaker {
				return f, errBody
			}
			set[f.Tree[i]] = true
		}
	case KindEnd, KindRequest, KindCancel:
		if len(body) != 0 {
			return f, errBody
		}
	default:
		return f, errKind
	}
	return f, nil
}

// Verify checks p's signature by pub (the key of the frame's Speaker).
func Verify(p []byte, pub []byte) error {
	if len(p) < minFrame || !identity.VerifyContext(pub, identity.ContextPTT, p[:len(p)-sigLen], p[len(p)-sigLen:]) {
		return errSig
	}
	return nil
}
