//go:build !linux

package files

import "os"

// preallocate sizes the partial file (sparse where the file system allows).
func preallocate(f *os.File, size int64) error { return f.Truncate(size) }

// startWriteback is a no-op here: the final fsync does all the work.
func startWriteback(*os.File) error { return nil }
