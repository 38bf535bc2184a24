package opus

/*
#cgo pkg-config: opus
#include <opus.h>

// opus_encoder_ctl is variadic, which cgo cannot call; one fixed-signature
// wrapper per control Parley sets.
static int parley_enc_set_bitrate(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_BITRATE(v)); }
static int parley_enc_set_fec(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_INBAND_FEC(v)); }
static int parley_enc_set_dtx(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_DTX(v)); }
static int parley_enc_set_loss(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_PACKET_LOSS_PERC(v)); }
static int parley_enc_set_complexity(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_COMPLEXITY(v)); }
static int parley_enc_set_signal_voice(OpusEncoder *st) { return opus_encoder_ctl(st, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
*/
import "C"

import (
	"fmt"
	"runtime"

	"parley/media/audio"
)

// libEncoder is libopus's encoder, created by libopus (opus_encoder_create) and
// freed with the Encoder. Parley binds the encoder itself rather than through
// hraban/opus, whose encoder cannot set the signal type (see Options.Complexity
// and NewEncoder for why both matter).
type libEncoder struct {
	st *C.OpusEncoder
}

func newLibEncoder() (*libEncoder, error) {
	var errno C.int
	st := C.opus_encoder_create(C.opus_int32(audio.SampleRate), C.int(audio.Channels), C.OPUS_APPLICATION_VOIP, &errno)
	if errno != C.OPUS_OK || st == nil {
		return nil, fmt.Errorf("opus_encoder_create: %s", C.GoString(C.opus_strerror(errno)))
	}
	e := &libEncoder{st: st}
	runtime.SetFinalizer(e, (*libEncoder).free)
	return e, nil
}

func (e *libEncoder) free() {
	if e.st != nil {
		C.opus_encoder_destroy(e.st)
		e.st = nil
	}
}

// ctl turns a control's return code into an error naming the control.
func ctl(name string, rc C.int) error {
	if rc != C.OPUS_OK {
		return fmt.Errorf("opus: set %s: %s", name, C.GoString(C.opus_strerror(rc)))
	}
	return nil
}

func boolInt(b bool) C.opus_int32 {
	if b {
		return 1
	}
	return 0
}

func (e *libEncoder) setBitrate(bps int) error {
	return ctl(fmt.Sprintf("bitrate %d", bps), C.parley_enc_set_bitrate(e.st, C.opus_int32(bps)))
}
func (e *libEncoder) setFEC(on bool) error {
	return ctl("FEC", C.parley_enc_set_fec(e.st, boolInt(on)))
}
func (e *libEncoder) setDTX(on bool) error {
	return ctl("DTX", C.parley_enc_set_dtx(e.st, boolInt(on)))
}
func (e *libEncoder) setLoss(pct int) error {
	return ctl("expected loss", C.parley_enc_set_loss(e.st, C.opus_int32(pct)))
}
func (e *libEncoder) setComplexity(c int) error {
	return ctl(fmt.Sprintf("complexity %d", c), C.parley_enc_set_complexity(e.st, C.opus_int32(c)))
}
func (e *libEncoder) setVoice() error { return ctl("signal", C.parley_enc_set_signal_voice(e.st)) }

// encode compresses one frame of pcm into out.
func (e *libEncoder) encode(pcm []int16, out []byte) (int, error) {
	n := C.opus_encode(e.st, (*C.opus_int16)(&pcm[0]), C.int(len(pcm)/audio.Channels), (*C.uchar)(&out[0]), C.opus_int32(len(out)))
	runtime.KeepAlive(e)
	if n < 0 {
		return 0, fmt.Errorf("opus: encode: %s", C.GoString(C.opus_strerror(n)))
	}
	return int(n), nil
}
