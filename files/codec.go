package files

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"parley/identity"
	"parley/internal/wire"
)

// Frame types on the overlay (see the package doc for the layouts).
const (
	TypeOffer  = wire.FrameFileOffer // control, SendTo
	TypeAnswer = wire.FrameFileAnswer
	TypeQuery  = wire.FrameFileQuery
	TypeHave   = wire.FrameFileHave
	TypeReq    = wire.FrameFileReq
	TypeSealed = wire.FrameFileSealed // a sealed control frame, routed
	// Bulk lane (overlay.FirstBulkType and up).
	TypeChunk       = wire.FrameFileChunk
	TypeSealedChunk = wire.FrameFileSealedChunk
)

// Limits on what a peer can make us hold.
const (
	offerVersion  = 1
	IDLen         = 16
	HashLen       = sha256.Size
	MinChunk      = 16 << 10
	MaxChunk      = 512 << 10
	DefaultChunk  = 256 << 10
	MaxChunks     = 16384 // 512 KiB of hashes: an offer stays under the 1 MiB frame limit
	MaxName       = 255   // bytes of a file name
	maxMediaType  = 127
	maxReqIndices = 64
)

// Verdicts in an answer frame.
const (
	VerdictAccept  uint8 = 1
	VerdictDecline uint8 = 2
	VerdictCancel  uint8 = 3
	VerdictDone    uint8 = 4
)

// Audience kinds.
const (
	toPeer uint8 = 1
	toRoom uint8 = 2
)

// OfferID names one offer.
type OfferID [IDLen]byte

func (id OfferID) String() string { return fmt.Sprintf("%x", id[:]) }

// ParseOfferID parses the hex form String writes (either letter case). It uses
// encoding/hex, not fmt.Sscanf: Sscanf skips spaces and stops at the first non-hex
// digit, so "0x…", " f…" or "…8g" parsed as some other ID.
func ParseOfferID(s string) (OfferID, error) {
	var id OfferID
	if len(s) != 2*IDLen {
		return id, fmt.Errorf("file id %q: want %d hex digits", s, 2*IDLen)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return OfferID{}, fmt.Errorf("file id %q: %w", s, err)
	}
	return id, nil
}

// Hash is a SHA-256 digest.
type Hash [HashLen]byte

func (h Hash) String() string { return fmt.Sprintf("%x", h[:]) }

// Offer is a signed file offer with its chunk manifest.
type Offer struct {
	ID        OfferID
	Author    ed25519.PublicKey
	Peer      identity.PeerID // audience: one peer, or
	Room      string          // a room
	Created   time.Time
	Name      string
	MediaType string
	Size      uint64
	ChunkSize uint32
	Root      Hash   // SHA-256 over the chunk hashes in order
	Chunks    []Hash // SHA-256 of each chunk
}

// From is the author's peer ID.
func (o *Offer) From() identity.PeerID { return identity.IDFromPublicKey(o.Author) }

// ChunkLen is the length of chunk i.
func (o *Offer) ChunkLen(i int) int {
	if i == len(o.Chunks)-1 {
		if r := o.Size % uint64(o.ChunkSize); r != 0 {
			return int(r)
		}
	}
	return int(o.ChunkSize)
}

// RootOf hashes a manifest's chunk hashes into the whole-file hash.
func RootOf(chunks []Hash) Hash {
	h := sha256.New()
	for i := range chunks {
		h.Write(chunks[i][:])
	}
	var r Hash
	h.Sum(r[:0])
	return r
}

func chunkCount(size uint64, chunk uint32) uint64 {
	return (size + uint64(chunk) - 1) / uint64(chunk)
}

func (o *Offer) encodeUnsigned() []byte {
	var w wire.Writer
	w.B = make([]byte, 0, 200+len(o.Name)+len(o.Chunks)*HashLen+ed25519.SignatureSize)
	w.U8(offerVersion)
	w.Raw(o.ID[:])
	w.Raw(o.Author)
	if o.Room != "" {
		w.U8(toRoom)
		w.Str8(o.Room)
	} else {
		w.U8(toPeer)
		w.Raw(o.Peer[:])
	}
	w.U64(uint64(o.Created.UnixMilli()))
	w.Str16(o.Name)
	w.Str8(o.MediaType)
	w.U64(o.Size)
	w.U32(o.ChunkSize)
	w.Raw(o.Root[:])
	for i := range o.Chunks {
		w.Raw(o.Chunks[i][:])
	}
	return w.B
}

// SignOffer encodes o as written by author (whatever o.Author says) and signs it.
func SignOffer(o *Offer, author *identity.Identity) []byte {
	c := *o
	c.Author = author.Public
	b := c.encodeUnsigned()
	return append(b, author.SignContext(identity.ContextFileOffer, b)...)
}

// DecodeOffer parses and verifies a signed offer: structure, limits, the manifest
// against the root, and the author's signature.
func DecodeOffer(b []byte) (*Offer, error) {
	if len(b) < ed25519.SignatureSize {
		return nil, errors.New("offer: too short")
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	r := wire.NewReader(body)
	o := &Offer{}
	if v := r.U8(); v != offerVersion && r.Err == nil {
		return nil, fmt.Errorf("offer: version %d", v)
	}
	copy(o.ID[:], r.Raw(IDLen))
	o.Author = ed25519.PublicKey(append([]byte(nil), r.Raw(ed25519.PublicKeySize)...))
	switch kind := r.U8(); kind {
	case toPeer:
		copy(o.Peer[:], r.Raw(identity.IDLen))
	case toRoom:
		o.Room = r.Str8()
	default:
		r.Fail("offer: audience kind %d", kind)
	}
	o.Created = time.UnixMilli(int64(r.U64()))
	o.Name = r.Str16()
	o.MediaType = r.Str8()
	o.Size = r.U64()
	o.ChunkSize = r.U32()
	copy(o.Root[:], r.Raw(HashLen))
	if r.Err != nil {
		return nil, fmt.Errorf("offer: %w", r.Err)
	}
	switch {
	case o.ChunkSize < MinChunk || o.ChunkSize > MaxChunk || o.ChunkSize&(o.ChunkSize-1) != 0:
		return nil, fmt.Errorf("offer: chunk size %d", o.ChunkSize)
	case o.Size > uint64(MaxChunks)*uint64(o.ChunkSize):
		return nil, fmt.Errorf("offer: size %d over the limit for chunk size %d", o.Size, o.ChunkSize)
	case len(o.Name) == 0 || len(o.Name) > MaxName || !utf8.ValidString(o.Name):
		return nil, errors.New("offer: name empty, too long or not UTF-8")
	case len(o.MediaType) > maxMediaType:
		return nil, errors.New("offer: media type too long")
	case o.Room == "" && o.Peer.IsZero():
		return nil, errors.New("offer: no audience")
	}
	n := chunkCount(o.Size, o.ChunkSize)
	if uint64(r.Len()) != n*HashLen {
		return nil, fmt.Errorf("offer: %d manifest bytes for %d chunks", r.Len(), n)
	}
	o.Chunks = make([]Hash, n)
	for i := range o.Chunks {
		copy(o.Chunks[i][:], r.Raw(HashLen))
	}
	if RootOf(o.Chunks) != o.Root {
		return nil, errors.New("offer: manifest does not match its root hash")
	}
	if !identity.VerifyContext(o.Author, identity.ContextFileOffer, body, sig) {
		return nil, errors.New("offer: bad signature")
	}
	return o, nil
}

// Answer is a recipient's (or the offerer's) word on an offer.
type Answer struct {
	ID      OfferID
	Verdict uint8
}

func EncodeAnswer(a Answer) []byte {
	return append(append(make([]byte, 0, IDLen+1), a.ID[:]...), a.Verdict)
}

func DecodeAnswer(b []byte) (Answer, error) {
	var a Answer
	if len(b) != IDLen+1 {
		return a, fmt.Errorf("answer: %d bytes", len(b))
	}
	copy(a.ID[:], b)
	a.Verdict = b[IDLen]
	if a.Verdict < VerdictAccept || a.Verdict > VerdictDone {
		return a, fmt.Errorf("answer: verdict %d", a.Verdict)
	}
	return a, nil
}

// Query asks whether the receiver holds a file (TypeQuery), or says it does
// (TypeHave): both are just the root.
func EncodeRoot(root Hash) []byte { return append([]byte(nil), root[:]...) }

func DecodeRoot(b []byte) (Hash, error) {
	var h Hash
	if len(b) != HashLen {
		return h, fmt.Errorf("query: %d bytes", len(b))
	}
	copy(h[:], b)
	return h, nil
}

// Request asks a source for chunks of a file.
type Request struct {
	Root    Hash
	Indices []uint32
}

func EncodeRequest(r Request) []byte {
	var w wire.Writer
	w.Raw(r.Root[:])
	w.U8(uint8(len(r.Indices)))
	for _, i := range r.Indices {
		w.U32(i)
	}
	return w.B
}

func DecodeRequest(b []byte) (Request, error) {
	r := wire.NewReader(b)
	var q Request
	copy(q.Root[:], r.Raw(HashLen))
	n := int(r.U8())
	if n == 0 || n > maxReqIndices {
		r.Fail("request: %d indices", n)
	}
	if r.Err == nil && r.Len() != 4*n {
		r.Fail("request: %d bytes for %d indices", r.Len(), n)
	}
	if r.Err != nil {
		return Request{}, fmt.Errorf("request: %w", r.Err)
	}
	q.Indices = make([]uint32, n)
	for i := range q.Indices {
		q.Indices[i] = r.U32()
	}
	return q, nil
}

// chunkHeaderLen is [root 32][index u32].
const chunkHeaderLen = HashLen + 4

// Chunk is one piece of file data.
type Chunk struct {
	Root  Hash
	Index uint32
	Data  []byte // aliases the frame
}

func AppendChunk(dst []byte, root Hash, index uint32, data []byte) []byte {
	var w wire.Writer
	w.B = dst
	w.Raw(root[:])
	w.U32(index)
	w.Raw(data)
	return w.B
}

func DecodeChunk(b []byte) (Chunk, error) {
	if len(b) < chunkHeaderLen+1 || len(b) > chunkHeaderLen+MaxChunk {
		return Chunk{}, fmt.Errorf("chunk: %d bytes", len(b))
	}
	var c Chunk
	copy(c.Root[:], b)
	r := wire.NewReader(b[HashLen:])
	c.Index = r.U32()
	c.Data = b[chunkHeaderLen:]
	return c, nil
}

// sealedTypes are the control frames a files envelope (TypeSealed) may carry;
// chunks travel in envelopes of their own (TypeSealedChunk, no inner type).
var sealedTypes = []uint8{TypeOffer, TypeAnswer, TypeQuery, TypeHave, TypeReq}
