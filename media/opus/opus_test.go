package opus

import (
	"math"
	"math/rand/v2"
	"testing"

	"parley/media/audio"
	"parley/media/signal"
)

// chirp makes frames of a tone sweeping between 200 Hz and 2 kHz and back, so no two
// frames are alike (concealment cannot just repeat the last one).
func chirp(frames int) []int16 {
	out := make([]int16, frames*audio.FrameSamples)
	phase := 0.0
	for i := range out {
		t := float64(i) / audio.SampleRate
		hz := 1100 + 900*math.Sin(2*math.Pi*0.7*t)
		phase += 2 * math.Pi * hz / audio.SampleRate
		out[i] = int16(8000 * math.Sin(phase))
	}
	return out
}

func frame(pcm []int16, i int) []int16 {
	return pcm[i*audio.FrameSamples : (i+1)*audio.FrameSamples]
}

func mustEncoder(t testing.TB, o Options) *Encoder {
	t.Helper()
	e, err := NewEncoder(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// encodeAll encodes every frame of pcm.
func encodeAll(t testing.TB, e *Encoder, pcm []int16) [][]byte {
	t.Helper()
	var pkts [][]byte
	buf := make([]byte, MaxPacket)
	for i := range len(pcm) / audio.FrameSamples {
		n, err := e.Encode(frame(pcm, i), buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	return pkts
}

func tone(frames int, hz float64) []int16 {
	out := make([]int16, frames*audio.FrameSamples)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/audio.SampleRate))
	}
	return out
}

// roundTrip encodes and decodes pcm, returning the output and the bytes sent.
func roundTrip(t *testing.T, o Options, in []int16) (out []int16, bytes int) {
	e := mustEncoder(t, o)
	d := mustDecoder(t)
	pcm := make([]int16, audio.FrameSamples)
	for _, p := range encodeAll(t, e, in) {
		bytes += len(p)
		n, err := d.Decode(p, pcm)
		if err != nil || n != audio.FrameSamples {
			t.Fatalf("decode: %d samples, %v", n, err)
		}
		out = append(out, pcm...)
	}
	return out, bytes
}

func TestRoundTripQuality(t *testing.T) {
	// A sweep has one best alignment: it gives the codec's delay.
	sweep := chirp(150)
	out, _ := roundTrip(t, Options{}, sweep)
	lag, corr := signal.Align(sweep, out, audio.SampleRate/10)
	t.Logf("codec delay %d samples (%.1f ms), corr %.3f", lag, float64(lag)/48, corr)
	if lag < audio.SampleRate*5/1000 || lag > audio.SampleRate*8/1000 || corr < 0.95 {
		t.Errorf("sweep: delay %d samples, corr %.3f; want Opus's 6.5 ms and a close match", lag, corr)
	}
	// A steady tone is reproduced closely enough for a waveform SNR to mean something
	// (Opus, a perceptual codec, does not keep a sweep's exact waveform).
	in := tone(150, 440)
	for _, bitrate := range []int{16000, 24000, 48000} {
		out, total := roundTrip(t, Options{Bitrate: bitrate}, in)
		lag, _ := signal.Align(in, out, audio.SampleRate/100)
		snr := signal.SNR(in, out, lag)
		kbps := float64(total*8) / (150 * 0.02) / 1000
		t.Logf("%d bit/s: %.1f kbit/s actual, SNR %.1f dB", bitrate, kbps, snr)
		if snr < 20 {
			t.Errorf("%d bit/s: SNR %.1f dB", bitrate, snr)
		}
		if kbps > float64(bitrate)/1000*1.3 {
			t.Errorf("asked %d bit/s, got %.1f kbit/s", bitrate, kbps)
		}
		if f := signal.DominantFrequency(out, audio.SampleRate); math.Abs(f-440) > 2 {
			t.Errorf("440 Hz came out at %.1f Hz", f)
		}
	}
}

func TestFECBeatsConcealment(t *testing.T) {
	in := chirp(100)
	pkts := encodeAll(t, mustEncoder(t, Options{FEC: true, ExpectedLossPercent: 20}), in)
	const lost = 60
	// Two decoders with the same history up to the loss.
	withFEC, withPLC := mustDecoder(t), mustDecoder(t)
	pcm := make([]int16, audio.FrameSamples)
	for i := range lost {
		for _, d := range []*Decoder{withFEC, withPLC} {
			if _, err := d.Decode(pkts[i], pcm); err != nil {
				t.Fatal(err)
			}
		}
	}
	fec := make([]int16, audio.FrameSamples)
	plc := make([]int16, audio.FrameSamples)
	if err := withFEC.DecodeFEC(pkts[lost+1], fec); err != nil {
		t.Fatal(err)
	}
	if err := withPLC.DecodePLC(plc); err != nil {
		t.Fatal(err)
	}
	// Compare both guesses with what a decoder that got the packet produced.
	ref := mustDecoder(t)
	for i := range lost + 1 {
		if _, err := ref.Decode(pkts[i], pcm); err != nil {
			t.Fatal(err)
		}
	}
	want := append([]int16(nil), pcm...)
	snrFEC, snrPLC := signal.SNR(want, fec, 0), signal.SNR(want, plc, 0)
	t.Logf("lost frame rebuilt: FEC %.1f dB, concealment %.1f dB", snrFEC, snrPLC)
	if snrFEC < snrPLC+3 || snrFEC < 5 {
		t.Fatalf("FEC %.1f dB is no better than concealment %.1f dB", snrFEC, snrPLC)
	}
	// Without FEC in the encoder, DecodeFEC can only conceal.
	plain := encodeAll(t, mustEncoder(t, Options{}), in)
	d := mustDecoder(t)
	for i := range lost {
		if _, err := d.Decode(plain[i], pcm); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.DecodeFEC(plain[lost+1], fec); err != nil {
		t.Fatal(err)
	}
	if s := signal.SNR(want, fec, 0); s > snrFEC-3 {
		t.Fatalf("FEC from a stream without FEC scored %.1f dB", s)
	}
}

func TestDTXShrinksSilence(t *testing.T) {
	silence := make([]int16, 50*audio.FrameSamples)
	for _, dtx := range []bool{false, true} {
		pkts := encodeAll(t, mustEncoder(t, Options{DTX: dtx}), silence)
		small := 0
		for _, p := range pkts[10:] {
			if len(p) <= 2 {
				small++
			}
		}
		t.Logf("DTX %v: %d of 40 silent frames encoded in ≤ 2 bytes", dtx, small)
		if dtx && small < 30 {
			t.Errorf("DTX on: only %d of 40 silent frames were DTX packets", small)
		}
		if !dtx && small != 0 {
			t.Errorf("DTX off: %d DTX-sized packets", small)
		}
	}
	// A DTX packet decodes to a frame (comfort noise or silence), not an error.
	pkts := encodeAll(t, mustEncoder(t, Options{DTX: true}), silence)
	d := mustDecoder(t)
	pcm := make([]int16, audio.FrameSamples)
	for _, p := range pkts {
		if _, err := d.Decode(p, pcm); err != nil {
			t.Fatalf("decode %d-byte packet: %v", len(p), err)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewEncoder(Options{ExpectedLossPercent: 101}); err == nil {
		t.Error("loss 101% accepted")
	}
	if _, err := NewEncoder(Options{Bitrate: -5}); err == nil {
		t.Error("negative bitrate accepted")
	}
	e := mustEncoder(t, Options{})
	if _, err := e.Encode(make([]int16, 100), make([]byte, MaxPacket)); err == nil {
		t.Error("short frame encoded")
	}
	d := mustDecoder(t)
	pcm := make([]int16, audio.FrameSamples)
	if _, err := d.Decode(nil, pcm); err == nil {
		t.Error("empty packet decoded")
	}
	// TOC code 3 (arbitrary frame count) with a count byte of 0 is invalid.
	if _, err := d.Decode([]byte{0x03, 0x00}, pcm); err == nil {
		t.Error("invalid packet decoded")
	}
	if err := d.DecodeFEC(nil, pcm); err == nil {
		t.Error("FEC from an empty packet")
	}
}

// BenchmarkEncode is one 20 ms frame of speech-like sound at the call's
// settings (FEC on, no loss reported, so no FEC bits; DTX), at libopus's default
// complexity and at Parley's, and with 10 % loss reported (FEC bits spent).
func BenchmarkEncode(b *testing.B) {
	in := speechLike(10)
	frames := len(in) / audio.FrameSamples
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"complexity9", Options{Complexity: 9, FEC: true, DTX: true}},
		{"complexity7", Options{FEC: true, DTX: true}},
		{"complexity7-loss10", Options{FEC: true, DTX: true, ExpectedLossPercent: 10}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := mustEncoder(b, c.o)
			buf := make([]byte, MaxPacket)
			i := 0
			for b.Loop() {
				if _, err := e.Encode(frame(in, i%frames), buf); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportCore(b)
		})
	}
}

// speechLike is a crude voice: a glottal pulse train (pitch drifting around
// 120 Hz) through two moving formant resonators, in syllables of about 3 Hz with
// a pause every 2 s, over a little noise. It is what the encoder's cost should be
// measured on: libopus picks its coding mode from the signal, and a pure tone or
// chirp takes other paths than speech does.
func speechLike(seconds float64) []int16 {
	n := int(seconds * audio.SampleRate)
	out := make([]int16, n)
	rng := rand.New(rand.NewPCG(1, 2))
	phase := 0.0
	var y1, y2, z1, z2 float64
	res := func(f, bw float64) (a1, a2 float64) {
		r := math.Exp(-math.Pi * bw / audio.SampleRate)
		return 2 * r * math.Cos(2*math.Pi*f/audio.SampleRate), -r * r
	}
	for i := range out {
		t := float64(i) / audio.SampleRate
		pitch := 120 + 30*math.Sin(2*math.Pi*0.5*t)
		phase += pitch / audio.SampleRate
		src := 0.0
		if phase >= 1 {
			phase -= 1
			src = 1
		}
		syl := math.Max(0, math.Sin(2*math.Pi*3*t))
		if math.Mod(t, 2) > 1.6 {
			syl = 0
		}
		f1 := 500 + 300*math.Sin(2*math.Pi*1.3*t)
		f2 := 1500 + 700*math.Sin(2*math.Pi*0.9*t)
		a1, a2 := res(f1, 80)
		b1, b2 := res(f2, 120)
		y := src*3000 + a1*y1 + a2*y2
		y2, y1 = y1, y
		z := src*2000 + b1*z1 + b2*z2
		z2, z1 = z1, z
		v := syl*(y+z)*0.6 + rng.NormFloat64()*30
		out[i] = int16(math.Max(-32000, math.Min(32000, v)))
	}
	return out
}

func BenchmarkDecode(b *testing.B) {
	in := chirp(50)
	pkts := encodeAll(b, mustEncoder(b, Options{FEC: true, ExpectedLossPercent: 10}), in)
	d := mustDecoder(b)
	pcm := make([]int16, audio.FrameSamples)
	i := 0
	for b.Loop() {
		if _, err := d.Decode(pkts[i%50], pcm); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCore(b)
}

func BenchmarkConceal(b *testing.B) {
	in := chirp(50)
	pkts := encodeAll(b, mustEncoder(b, Options{}), in)
	d := mustDecoder(b)
	pcm := make([]int16, audio.FrameSamples)
	i := 0
	for b.Loop() {
		// Alternate so concealment always follows a real frame, as it does in a call.
		var err error
		if i%2 == 0 {
			_, err = d.Decode(pkts[i%50], pcm)
		} else {
			err = d.DecodePLC(pcm)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCore(b)
}

// reportCore turns time per frame into the share of one core a call costs (one
// frame per 20 ms).
func reportCore(b *testing.B) {
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(100*perOp/float64(audio.FrameDuration.Nanoseconds()), "%core")
}
