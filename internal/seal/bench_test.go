package seal

import (
	"testing"
)

const benchSize = 256

func BenchmarkSeal(b *testing.B) {
	from, to := testIdentity(b, "a"), testIdentity(b, "b")
	pt := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(from, to.Public, pt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	from, to := testIdentity(b, "a"), testIdentity(b, "b")
	env, err := Seal(from, to.Public, make([]byte, benchSize))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(to, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenerOpen uses a precomputed recipient key.
func BenchmarkOpenerOpen(b *testing.B) {
	from, to := testIdentity(b, "a"), testIdentity(b, "b")
	env, err := Seal(from, to.Public, make([]byte, benchSize))
	if err != nil {
		b.Fatal(err)
	}
	o, err := NewOpener(to)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Open(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspect is the per-envelope cost for a relay or custodian.
func BenchmarkInspect(b *testing.B) {
	from, to := testIdentity(b, "a"), testIdentity(b, "b")
	env, err := Seal(from, to.Public, make([]byte, benchSize))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Inspect(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenForgery is the cost of rejecting an envelope with a bad
// signature: no Diffie-Hellman or decryption is done.
func BenchmarkOpenForgery(b *testing.B) {
	from, to := testIdentity(b, "a"), testIdentity(b, "b")
	env, err := Seal(from, to.Public, make([]byte, benchSize))
	if err != nil {
		b.Fatal(err)
	}
	env[len(env)-1] ^= 1
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(to, env); err == nil {
			b.Fatal("forgery accepted")
		}
	}
}
