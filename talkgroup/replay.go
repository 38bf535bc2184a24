package talkgroup

// maxReplay bounds the last transmission kept for ptt_replay: 60 s of
// 20 ms frames (MaxTalk), at most 1 MiB of Opus (24 kbit/s speech is
// ~180 KiB a minute; the byte bound stops a member sending 1,000-byte
// frames from pinning more).
const (
	maxReplayFrames = int(MaxTalk / (20 * 1e6))
	maxReplayBytes  = 1 << 20
)

// recording is one room's last transmission.
type recording struct {
	claim  Claim
	frames [][]byte
	bytes  int
}

// add appends a frame of c, starting over when c is a new transmission;
// false when the bounds are reached.
func (r *recording) add(c Claim, opus []byte) bool {
	if r.claim != c {
		*r = recording{claim: c}
	}
	if len(r.frames) >= maxReplayFrames || r.bytes+len(opus) > maxReplayBytes {
		return false
	}
	r.frames = append(r.frames, append([]byte(nil), opus...))
	r.bytes += len(opus)
	return true
}
