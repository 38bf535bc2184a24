package main

import "path/filepath"

// userInstance says whether the data dir is the user's own Parley (the
// default folder or the one chosen in the settings, which `make run` also
// passes as --data) rather than another instance given its own folder (a
// second profile, the tests' nodes), which keeps DATA/downloads.
func userInstance(dataDir string, byFlag bool) bool {
	return !byFlag || filepath.Clean(dataDir) == filepath.Clean(defaultDataDir())
}
