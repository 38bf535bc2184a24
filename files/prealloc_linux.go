package files

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// preallocate reserves the partial file's blocks up front: the disk being full
// shows at accept time, not half-way, and ext4 writes into allocated blocks
// several times faster than into holes (a large share of a fast transfer's CPU).
// Data already in the file is kept. Where the file system cannot, a sparse file
// of the right size does.
func preallocate(f *os.File, size int64) error {
	if size == 0 {
		return f.Truncate(0)
	}
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return f.Truncate(size)
	}
	if err != nil {
		return err
	}
	return f.Truncate(size) // a longer leftover file is cut to size
}

// startWriteback asks the kernel to begin writing the file's dirty pages
// without waiting for them, so the final fsync has little left to do and the
// disk works while the network does. Pages already under writeback are
// skipped, so calling it often costs little. It goes through SyscallConn so
// that a Close on another goroutine cannot free (and let the system reuse)
// the descriptor while it runs.
func startWriteback(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SyncFileRange(int(fd), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	}); err != nil {
		return err
	}
	return serr
}
