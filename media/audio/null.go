package audio

// Null is a source of endless silence and a sink that discards everything. It is what
// a headless node uses when it has no audio to send or nowhere to play it.
type Null struct{}

// NewNull returns a Null; it is both a Source and a Sink.
func NewNull() Null { return Null{} }

// ReadFrame fills dst with silence, unpaced.
func (Null) ReadFrame(dst []int16) error {
	if err := checkFrame(dst); err != nil {
		return err
	}
	clear(dst)
	return nil
}

// WriteFrame discards src.
func (Null) WriteFrame(src []int16) error { return checkFrame(src) }

// Close does nothing.
func (Null) Close() error { return nil }
