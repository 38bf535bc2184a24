package files

import (
	"crypto/sha256"
	"testing"

	"parley/identity"
	"parley/internal/seal"
)

// Per-chunk costs: what a routed (sealed) chunk adds to a direct one.

func benchIDs(b *testing.B) (*identity.Identity, *identity.Identity) {
	a, err := identity.Generate()
	if err != nil {
		b.Fatal(err)
	}
	c, err := identity.Generate()
	if err != nil {
		b.Fatal(err)
	}
	return a, c
}

func BenchmarkChunkVerify(b *testing.B) {
	data := make([]byte, DefaultChunk)
	frame := AppendChunk(nil, Hash{}, 1, data)
	want := sha256.Sum256(data)
	b.SetBytes(DefaultChunk)
	for b.Loop() {
		c, err := DecodeChunk(frame)
		if err != nil || sha256.Sum256(c.Data) != want {
			b.Fatal("verify")
		}
	}
}

func BenchmarkSealChunk(b *testing.B) {
	from, to := benchIDs(b)
	frame := AppendChunk(nil, Hash{}, 1, make([]byte, DefaultChunk))
	b.SetBytes(DefaultChunk)
	for b.Loop() {
		if _, err := seal.Seal(from, to.Public, frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenChunk(b *testing.B) {
	from, to := benchIDs(b)
	env, err := seal.Seal(from, to.Public, AppendChunk(nil, Hash{}, 1, make([]byte, DefaultChunk)))
	if err != nil {
		b.Fatal(err)
	}
	op, err := seal.NewOpener(to)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(DefaultChunk)
	for b.Loop() {
		if _, err := op.Open(env); err != nil {
			b.Fatal(err)
		}
	}
}
