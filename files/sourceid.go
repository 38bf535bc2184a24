package files

import (
	"os"
	"time"
)

// Serving a file without hashing every chunk again.
//
// The receiver checks every chunk against the signed manifest before it keeps
// it (processChunk), so what a recipient accepts is guaranteed end to end
// whatever a source sends. The sender's own check only keeps it from sending
// bytes that are no longer what it signed (the user edited the file after
// offering it): the recipient would blame it for corruption. Hashing every
// served chunk for that cost 0.36 s of the sender's 1.0 s of CPU for two
// 256 MiB transfers (cmd/benchfiles, docs/benchmarks.md, "Next to scp,
// Syncthing and plain TCP"). Instead, a source's identity — device, inode,
// size, mtime and ctime — is taken when its chunks are hashed and compared
// (fstat on the open descriptor, after the read) before each chunk goes out.
// ctime is what makes this hold against a user who restores mtime after
// editing in place: no user call sets it, every write, truncate, chmod or
// utimes moves it to the current time.
//
// What it does not see: a write into a shared mmap of the file (tmpfs updates
// no time stamp for those; ext4 only on the first write to a clean page), and a
// single write(2) call still copying data when the chunk is read more than
// racyMargin after it began (the time stamp moves once, at its start). Both
// are caught by the receiver's check, as any bad chunk is.

// fileID is what identifies a source file's contents without reading them.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns since the epoch
}

// racyMargin is how long after a file's last change its time stamps are
// trusted to move on the next change. A file system stamps changes with a
// clock that advances in steps (a kernel tick, ≤ 10 ms, on ext4 and tmpfs
// before Linux 6.13's fine-grained stamps; 2 s for mtime on FAT), so a second
// write in the same step as the one before a snapshot leaves every stamp as
// the snapshot saw it. Chunks hashed within that window of the last change
// are not trusted to the stamps (Git's "racily clean" entries, same reason):
// they are hashed again when served, once; after that the stamps alone tell.
// 2 s covers the coarsest step; a file sent seconds after it was written (the
// benchmark's, and most users') has passed it.
const racyMargin = 2 * time.Second

// sourceState is what a seed knows of its file (guarded by Service.mu).
type sourceState struct {
	id    fileID
	known bool // id was taken (at the offer's hashing, or the first serve)
	all   bool // every chunk was hashed under id, outside the racy window
	// trusted: chunk i was hashed under id outside the racy window (bit i);
	// nil until the first one is.
	trusted []byte
}

// chunkTrusted says whether chunk i may be served on the stamps alone.
func (st *sourceState) chunkTrusted(i int) bool {
	return st.all || st.trusted != nil && hasBit(st.trusted, i)
}

// settled says whether a read that began at t0 of a file last changed at
// id.ctime falls outside the racy window of length margin (Service.racy:
// racyMargin, shortened by tests).
func (st *sourceState) settled(t0 time.Time, margin time.Duration) bool {
	return t0.UnixNano()-st.id.ctime > margin.Nanoseconds()
}

// identify returns the identity of the open file f; false where the platform
// gives no inode and change time (then every chunk is hashed when served).
func identify(f *os.File) (fileID, bool, error) {
	fi, err := f.Stat() // fstat(2) on the descriptor, not the path
	if err != nil {
		return fileID{}, false, err
	}
	id, ok := idOf(fi)
	return id, ok, nil
}
