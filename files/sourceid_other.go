//go:build !linux

package files

import "os"

// idOf: no inode or change time through os.FileInfo here (Windows keeps a
// ChangeTime, but only behind GetFileInformationByHandleEx), so every served
// chunk is hashed again, as before the stamps were used.
func idOf(os.FileInfo) (fileID, bool) { return fileID{}, false }
