// Package signal measures audio for tests and integration tests: how far one
// recording lags another (Align), how much a codec and a lossy path distorted it
// (SNR), what pitch it carries (DominantFrequency) and how loud it is (RMS).
//
// It works on the pipeline's 16-bit PCM and uses its own small FFT, so a test of
// ten seconds of audio aligns in a fraction of a second without any dependency.
package signal
